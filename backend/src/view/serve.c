/* serve.c - the only file of the view that includes <microhttpd.h>; answers never wait on the API.
 */
#include "serve.h"

#include <arpa/inet.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "log.h"

#define THREADS 2
#define MAX_CONNECTIONS 512
#define IDLE_TIMEOUT_S 30

struct serve {
	struct MHD_Daemon *daemon;
	const struct view_config *cfg;
	struct reader *reader;
	atomic_int draining;
	atomic_ulong next_id;
};

enum route { R_NONE, R_AUTOSCALER, R_LIVE, R_READY };

static const struct {
	const char *path;
	enum route route;
	const char *name;
} routes[] = {
    {"/api/autoscaler", R_AUTOSCALER, "autoscaler"},
    {"/health/live", R_LIVE, "health.live"},
    {"/health/ready", R_READY, "health.ready"},
};

/* Per request: the first call only records the start (see STYLE: queue on a later call). */
struct req {
	struct timespec t0;
	const char *route;
	int status;
};

static enum MHD_Result reply(struct MHD_Connection *con, struct req *rq, int status, char *body,
                             size_t len, int must_free)
{
	struct MHD_Response *r = MHD_create_response_from_buffer(
	    len, body, must_free ? MHD_RESPMEM_MUST_FREE : MHD_RESPMEM_PERSISTENT);
	if (r == NULL) {
		if (must_free)
			free(body);
		return MHD_NO;
	}
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, "application/json; charset=utf-8");
	MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
	if (status == 405)
		MHD_add_response_header(r, MHD_HTTP_HEADER_ALLOW, "GET, HEAD");
	rq->status = status;
	enum MHD_Result ok = MHD_queue_response(con, (unsigned int)status, r);
	MHD_destroy_response(r);
	return ok;
}

static enum MHD_Result send_error(struct serve *s, struct MHD_Connection *con, struct req *rq,
                                  int status, const char *message)
{
	char id[32];
	snprintf(id, sizeof(id), "view-%06lx", atomic_fetch_add(&s->next_id, 1));
	json_t *err = json_pack("{s:s, s:s}", "error", message, "request_id", id);
	char *text = err ? json_dumps(err, JSON_COMPACT) : NULL;
	json_decref(err);
	if (text == NULL)
		return MHD_NO;
	return reply(con, rq, status, text, strlen(text), 1);
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *con, const char *url,
                                  const char *method, const char *version, const char *upload_data,
                                  size_t *upload_size, void **req_cls)
{
	struct serve *s = cls;
	struct req *rq = *req_cls;
	enum route route = R_NONE;
	static char live[] = "{\"status\":\"alive\"}";
	static char ready[] = "{\"status\":\"ready\"}";
	static char draining[] = "{\"status\":\"not ready\",\"reason\":\"shutting down\"}";
	(void)version;
	(void)upload_data;

	if (rq == NULL) {
		if ((*req_cls = rq = calloc(1, sizeof(*rq))) == NULL)
			return MHD_NO;
		rq->t0 = clock_now();
		return MHD_YES;
	}
	if (*upload_size != 0) { /* a body nobody asked for: drop it */
		*upload_size = 0;
		return MHD_YES;
	}
	for (size_t i = 0; i < sizeof(routes) / sizeof(routes[0]); i++)
		if (strcmp(url, routes[i].path) == 0) {
			route = routes[i].route;
			rq->route = routes[i].name;
		}
	if (route == R_NONE)
		return send_error(s, con, rq, 404, "not found");
	if (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0)
		return send_error(s, con, rq, 405, "method not allowed");
	switch (route) {
	case R_LIVE:
		return reply(con, rq, 200, live, strlen(live), 0);
	case R_READY:
		if (atomic_load(&s->draining))
			return reply(con, rq, 503, draining, strlen(draining), 0);
		return reply(con, rq, 200, ready, strlen(ready), 0);
	default:
		break;
	}
	size_t len = 0;
	char *body = reader_latest(s->reader, &len);
	if (body == NULL)
		return send_error(s, con, rq, 500, "out of memory");
	return reply(con, rq, 200, body, len, 1);
}

static void on_completed(void *cls, struct MHD_Connection *con, void **req_cls,
                         enum MHD_RequestTerminationCode toe)
{
	struct req *rq = *req_cls;
	(void)cls;
	(void)con;
	if (rq == NULL)
		return;
	/* Every browser polls: access lines only when asked for (LOG_LEVEL=debug). */
	if (log_enabled(LOG_DEBUG)) {
		struct access_entry e = {
		    .method = NULL,
		    .path = NULL,
		    .route = rq->route ? rq->route : "none",
		    .status = rq->status,
		    .ms = clock_ms_since(&rq->t0),
		    .aborted = toe != MHD_REQUEST_TERMINATED_COMPLETED_OK,
		};
		log_access(&e);
	}
	free(rq);
	*req_cls = NULL;
}

struct serve *serve_start(const struct view_config *cfg, struct reader *reader, char *err,
                          size_t errlen)
{
	struct serve *s = calloc(1, sizeof(*s));
	struct sockaddr_in addr = {.sin_family = AF_INET};
	if (s == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	s->cfg = cfg;
	s->reader = reader;
	if (inet_pton(AF_INET, cfg->bind_address, &addr.sin_addr) != 1) {
		snprintf(err, errlen, "BIND_ADDRESS: not an IPv4 address: %s", cfg->bind_address);
		free(s);
		return NULL;
	}
	addr.sin_port = htons((uint16_t)cfg->server_port);
	s->daemon = MHD_start_daemon(
	    MHD_USE_EPOLL_INTERNAL_THREAD | MHD_USE_ITC | MHD_USE_ERROR_LOG, 0, NULL, NULL,
	    on_request, s, MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&addr,
	    MHD_OPTION_CONNECTION_LIMIT, (unsigned int)MAX_CONNECTIONS * THREADS,
	    MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int)IDLE_TIMEOUT_S,
	    MHD_OPTION_NOTIFY_COMPLETED, on_completed, s, MHD_OPTION_EXTERNAL_LOGGER,
	    log_library_message, s, MHD_OPTION_STRICT_FOR_CLIENT, (int)1,
	    MHD_OPTION_THREAD_POOL_SIZE, (unsigned int)THREADS, MHD_OPTION_END);
	if (s->daemon == NULL) {
		snprintf(err, errlen, "cannot listen on %s:%d (in use, or not allowed)",
		         cfg->bind_address, cfg->server_port);
		free(s);
		return NULL;
	}
	return s;
}

void serve_drain(struct serve *s)
{
	atomic_store(&s->draining, 1);
}

void serve_stop(struct serve *s)
{
	if (s == NULL)
		return;
	MHD_stop_daemon(s->daemon);
	free(s);
}
