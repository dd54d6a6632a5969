/* main.c - arguments, signals blocked before any thread, sigwait, drain; server.c does the rest. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "app.h"
#include "http.h"
#include "log.h"
#include "routes.h"
#include "server.h"

static void usage(FILE *out)
{
	fprintf(out, "usage: backend [--help | --version | --routes]\n\n"
	             "The users API server of the webapp autoscaling demo. Settings come from the\n"
	             "environment (name, default, meaning):\n\n");
	config_print_help(out);
}

static void sleep_ms(int ms)
{
	struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
	nanosleep(&ts, NULL);
}

/*
 * SIGTERM: readiness turns 503 at once, serving continues for the drain period so the
 * endpoints controller can take the pod out of rotation, then new connections are refused
 * and in-flight requests finish. SIGINT (or a second signal) skips the drain.
 */
static void shut_down(struct app *app, int sig, const sigset_t *set)
{
	struct http_server *srv = app->http;
	struct timespec drain = {app->cfg.shutdown_drain_s, 0};
	atomic_store(&app->shutting_down, 1);
	log_event(LOG_INFO, "server.draining",
	          json_pack("{s:s, s:i}", "signal", sig == SIGTERM ? "SIGTERM" : "SIGINT",
	                    "drain_seconds", sig == SIGTERM ? app->cfg.shutdown_drain_s : 0));
	if (sig == SIGTERM && drain.tv_sec > 0)
		sigtimedwait(set, NULL, &drain);
	http_quiesce(srv);
	int waited = 0, limit = app->cfg.shutdown_timeout_s * 1000;
	while (http_in_flight(srv) > 0 && waited < limit) {
		sleep_ms(10);
		waited += 10;
	}
	if (http_in_flight(srv) > 0)
		log_event(LOG_WARN, "server.shutdown_timeout",
		          json_pack("{s:I}", "in_flight", (json_int_t)http_in_flight(srv)));
}

int main(int argc, char **argv)
{
	static struct app app; /* large (config buffers); lives for the whole process */
	char err[512];
	sigset_t set;
	int sig = 0, rc = 1;

	if (argc > 1 && strcmp(argv[1], "--version") == 0) {
		printf("backend %s (revision %s)\n", APP_VERSION, APP_REVISION);
		return 0;
	}
	if (argc > 1 && strcmp(argv[1], "--routes") == 0) {
		routes_print(stdout);
		return 0;
	}
	if (argc > 1) {
		int help = strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0;
		usage(help ? stdout : stderr);
		return help ? 0 : 2;
	}
	if (config_load(&app.cfg, NULL, err, sizeof(err)) != 0) {
		fprintf(stderr, "backend: invalid configuration: %s\n", err);
		return 2;
	}
	log_set_level(app.cfg.log_level);

	/* Block before any thread starts, so every thread inherits the mask and sigwait gets them.
	 */
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	signal(SIGPIPE, SIG_IGN);
	if (log_start(app.cfg.access_log_flush_ms) != 0)
		log_msg(LOG_WARN, "log.unbuffered",
		        "cannot start the log flusher: writing each line");

	if (server_open(&app, err, sizeof(err)) != 0) {
		log_msg(LOG_ERROR, "server.failed", err);
		goto out;
	}
	log_event(LOG_INFO, "server.started",
	          json_pack("{s:s, s:i, s:s, s:s, s:i, s:i, s:i}", "address", app.cfg.bind_address,
	                    "port", app.cfg.server_port, "version", APP_VERSION, "served_by",
	                    app.cfg.pod_name, "http_threads", app.cfg.http_threads, "db_pool",
	                    app.cfg.db_pool_size, "stress_slots", app.cfg.stress_slots));

	while (sigwait(&set, &sig) != 0)
		;
	shut_down(&app, sig, &set);
	rc = 0;
out:
	server_close(&app);
	if (rc == 0)
		log_msg(LOG_INFO, "server.stopped", "bye");
	log_stop();
	return rc;
}
