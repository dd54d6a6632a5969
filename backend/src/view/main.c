/*
 * main.c - autoscaler-view: the HorizontalPodAutoscaler, the backend pods and the scaling
 * events, read from the Kubernetes API by one thread and served as one JSON document to every
 * browser (through nginx at /api/autoscaler). The only pod of the app that holds an API token.
 */
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "kube.h"
#include "log.h"
#include "reader.h"
#include "serve.h"
#include "view_config.h"

static void usage(FILE *out)
{
	fprintf(
	    out,
	    "usage: autoscaler-view [--help | --version]\n\n"
	    "Serves GET /api/autoscaler: the backend's HorizontalPodAutoscaler, pods and scaling\n"
	    "events from the Kubernetes API (cluster mode, when KUBERNETES_SERVICE_HOST is set),\n"
	    "or the local backend process (local mode). Settings come from the environment\n"
	    "(name, default, meaning):\n\n");
	view_config_print_help(out);
}

int main(int argc, char **argv)
{
	static struct view_config cfg;
	char err[512];
	sigset_t set;
	int sig = 0, rc = 1;
	struct reader *reader = NULL;
	struct serve *srv = NULL;

	if (argc > 1 && strcmp(argv[1], "--version") == 0) {
		printf("autoscaler-view %s (revision %s)\n", APP_VERSION, APP_REVISION);
		return 0;
	}
	if (argc > 1) {
		int help = strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0;
		usage(help ? stdout : stderr);
		return help ? 0 : 2;
	}
	if (view_config_load(&cfg, NULL, err, sizeof(err)) != 0) {
		fprintf(stderr, "autoscaler-view: invalid configuration: %s\n", err);
		return 2;
	}
	log_set_level(cfg.log_level);

	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	signal(SIGPIPE, SIG_IGN);
	if (kube_global_init() != 0) {
		log_msg(LOG_ERROR, "server.failed", "cannot initialise libcurl");
		return 1;
	}
	if ((reader = reader_start(&cfg, err, sizeof(err))) == NULL ||
	    (srv = serve_start(&cfg, reader, err, sizeof(err))) == NULL) {
		log_msg(LOG_ERROR, "server.failed", err);
		goto out;
	}
	log_event(LOG_INFO, "server.started",
	          json_pack("{s:s, s:i, s:s, s:s, s:s, s:s, s:i, s:i}", "address", cfg.bind_address,
	                    "port", cfg.server_port, "version", APP_VERSION, "mode",
	                    cfg.cluster ? "cluster" : "local", "namespace", cfg.namespace, "api",
	                    cfg.cluster ? cfg.api_url : cfg.local_backend_url, "poll_ms",
	                    cfg.poll_ms, "idle_seconds", cfg.idle_s));

	while (sigwait(&set, &sig) != 0)
		;
	/* Readiness 503 for a moment so that the Service stops sending here, then close. */
	serve_drain(srv);
	if (sig == SIGTERM && cfg.drain_s > 0) {
		struct timespec drain = {cfg.drain_s, 0};
		sigtimedwait(&set, NULL, &drain);
	}
	rc = 0;
out:
	serve_stop(srv);
	reader_stop(reader);
	kube_global_cleanup();
	if (rc == 0)
		log_msg(LOG_INFO, "server.stopped", "bye");
	return rc;
}
