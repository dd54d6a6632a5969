/* hello.c - the floor for bench/bench.sh: libmicrohttpd answering every request with
 * 200 {"status":"alive"} and doing nothing else. Whatever the backend spends per request
 * above this is its own work (routing, logging, metrics, Redis, PostgreSQL, JSON).
 *
 *   cc -O2 -o hello hello.c -lmicrohttpd && ./hello PORT THREADS   (binds 127.0.0.1)
 *
 * Same daemon flavour as the backend's pool mode: epoll, a pool of THREADS threads (default 2).
 * The response is queued on the second call of the handler, as in the backend: queueing on
 * the first call makes libmicrohttpd 0.9.75 close the connection after the response.
 */
#include <microhttpd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

static const char body[] = "{\"status\":\"alive\"}";

static enum MHD_Result handle(void *cls, struct MHD_Connection *con, const char *url,
			      const char *method, const char *version, const char *upload_data,
			      size_t *upload_size, void **req_cls)
{
	static int started;
	struct MHD_Response *response = cls; /* shared and never changed after start */
	(void)url;
	(void)method;
	(void)version;
	(void)upload_data;
	if (*req_cls == NULL) {
		*req_cls = &started;
		return MHD_YES;
	}
	if (*upload_size != 0) {
		*upload_size = 0;
		return MHD_YES;
	}
	return MHD_queue_response(con, MHD_HTTP_OK, response);
}

static long arg(int argc, char **argv, int i, long def, long min, long max)
{
	char *end = NULL;
	if (argc <= i)
		return def;
	long v = strtol(argv[i], &end, 10);
	if (end == argv[i] || *end != '\0' || v < min || v > max) {
		fprintf(stderr, "usage: hello PORT [THREADS]\n");
		exit(2);
	}
	return v;
}

int main(int argc, char **argv)
{
	long port = arg(argc, argv, 1, 8080, 1, 65535);
	long threads = arg(argc, argv, 2, 2, 1, 64);
	struct sockaddr_in addr = {.sin_family = AF_INET};
	sigset_t set;
	int sig;

	addr.sin_port = htons((uint16_t)port);
	addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	struct MHD_Response *response =
		MHD_create_response_from_buffer(sizeof(body) - 1, (void *)body, MHD_RESPMEM_PERSISTENT);
	if (response == NULL ||
	    MHD_add_response_header(response, "Content-Type", "application/json") != MHD_YES)
		return 1;
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	struct MHD_Daemon *d = MHD_start_daemon(
		MHD_USE_EPOLL_INTERNAL_THREAD, (uint16_t)port, NULL, NULL, handle, response,
		MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&addr, MHD_OPTION_THREAD_POOL_SIZE,
		(unsigned int)threads, MHD_OPTION_CONNECTION_LIMIT, (unsigned int)4096,
		MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int)30, MHD_OPTION_END);
	if (d == NULL) {
		fprintf(stderr, "hello: cannot listen on 127.0.0.1:%ld\n", port);
		return 1;
	}
	sigwait(&set, &sig);
	MHD_stop_daemon(d);
	MHD_destroy_response(response);
	return 0;
}
