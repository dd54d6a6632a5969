/* floor.h - what the floors of bench/bench.sh share (hello.c, redis-get.c): their arguments
 * and their daemon on 127.0.0.1, served until SIGTERM or SIGINT. Each floor is one .c file
 * built with one `cc`; this header is included by it, so everything here is static.
 */
#ifndef FLOOR_H
#define FLOOR_H

#include <microhttpd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>

/* floor_arg: argv[i] as a number in min..max, def when absent; exits 2 with USAGE otherwise. */
static long floor_arg(int argc, char **argv, int i, long def, long min, long max, const char *usage)
{
	char *end = NULL;
	if (argc <= i)
		return def;
	long v = strtol(argv[i], &end, 10);
	if (end == argv[i] || *end != '\0' || v < min || v > max) {
		fprintf(stderr, "usage: %s\n", usage);
		exit(2);
	}
	return v;
}

/*
 * floor_ready: true on the handler call where the response may be queued. Not the first call
 * (libmicrohttpd 0.9.75 closes the connection after a response queued there, as the backend
 * knows), nor one that brings body data (read and dropped).
 */
static int floor_ready(const char *url, const char *method, const char *version,
                       const char *upload_data, size_t *upload_size, void **req_cls)
{
	static int started;
	(void)url; /* the floors answer every request alike */
	(void)method;
	(void)version;
	(void)upload_data;
	if (*req_cls == NULL) {
		*req_cls = &started;
		return 0;
	}
	if (*upload_size != 0) {
		*upload_size = 0;
		return 0;
	}
	return 1;
}

/*
 * floor_serve: an epoll daemon with a pool of THREADS threads on 127.0.0.1:PORT (FLAGS added),
 * HANDLER called with CLS; returns 0 after SIGTERM or SIGINT, 1 when it cannot listen.
 * The signals are blocked before the threads start, so only sigwait sees them.
 */
static int floor_serve(const char *name, unsigned int flags, long port, long threads,
                       MHD_AccessHandlerCallback handler, void *cls)
{
	struct sockaddr_in addr = {.sin_family = AF_INET};
	sigset_t set;
	int sig;

	addr.sin_port = htons((uint16_t)port);
	addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	struct MHD_Daemon *d = MHD_start_daemon(
	    MHD_USE_EPOLL_INTERNAL_THREAD | flags, (uint16_t)port, NULL, NULL, handler, cls,
	    MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&addr, MHD_OPTION_THREAD_POOL_SIZE,
	    (unsigned int)threads, MHD_OPTION_CONNECTION_LIMIT, (unsigned int)4096,
	    MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int)30, MHD_OPTION_END);
	if (d == NULL) {
		fprintf(stderr, "%s: cannot listen on 127.0.0.1:%ld\n", name, port);
		return 1;
	}
	sigwait(&set, &sig);
	MHD_stop_daemon(d);
	return 0;
}

#endif
