/*
 * http.c - the only file that includes <microhttpd.h>: the request lifecycle, limits, headers,
 * the access log, and the phases of each route.
 *
 * DESIGN. HTTP_THREADS event threads (libmicrohttpd's thread pool, epoll) accept connections,
 * read requests and send every response. One event thread serves many connections, so nothing
 * that runs on it may block. A request goes:
 *
 *   on_uri (request line) -> on_headers (method, request id, framing and size checks)
 *   -> on_request (body pieces) -> routes_find -> run_phases:
 *        the route's event phase, on the event thread (request.h: parse, check, cache);
 *        if it leaves work: MHD_suspend_connection (the event thread goes on with its other
 *        connections) and the work phase queued for a worker of the route's kind, one of
 *        DB_POOL_SIZE database threads or of STRESS_SLOTS burn threads (workers.c); the worker
 *        runs it and calls MHD_resume_connection
 *   -> on_request again, on the event thread: send_response -> on_completed (counters, access
 *      log, free).
 *
 * A request that waits longer than STRESS_WAIT_MS for a burn thread gets the route's expired
 * phase instead, on the queue's reaper thread. With HTTP_THREADS=0 every connection has a thread
 * of its own and there are no workers: the phases run one after the other on that thread.
 * Routes never see libmicrohttpd, suspension or the workers; they declare phases.
 */
#include "http.h"

#include <arpa/inet.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "app.h"
#include "clock.h"
#include "log.h"
#include "metrics.h"
#include "request.h"
#include "router.h"
#include "routes.h"
#include "workers.h"

#define PATH_LOG_MAX 200
/*
 * An oversized body is read and dropped up to this much (at least 4 MiB: more than the 1 MiB
 * nginx lets through) before the 413, so that a proxy still sending it gets the answer instead
 * of a broken pipe; a body announced or found larger than that is cut off.
 */
#define DRAIN_MIN (4 * 1024 * 1024)
/*
 * libmicrohttpd keeps the request line and headers in a per-connection pool and answers 414 or
 * 431 itself, in HTML, when they overflow it. Our own limits sit well inside the pool, so that up
 * to its size the JSON answers below are the ones sent. The pool stays at libmicrohttpd's default
 * 32 KiB: 0.9.75 zeroes all of it after every request, so a larger pool costs CPU per request and
 * resident memory per keep-alive connection (128 KiB: 133 MiB with 1 000 connections, above the
 * pod's 128 MiB limit, against 41 MiB).
 */
#define MHD_POOL_BYTES (32 * 1024)
#define TARGET_MAX (8 * 1024)   /* request target, query included: 414 beyond (nginx's too) */
#define HEADERS_MAX (8 * 1024)  /* all header names and values: 431 beyond */
#define STACK_SIZE (256 * 1024) /* per connection thread; handlers recurse little */
#define container_of(ptr, type, member) ((type *)(void *)((char *)(ptr)-offsetof(type, member)))

struct http_server {
	struct MHD_Daemon *daemon;
	struct app *app;
	struct workers *workers[WORKER_KINDS]; /* NULL in thread-per-connection mode */
	atomic_long in_flight;
	atomic_int connections; /* admitted and not yet closed */
	atomic_ulong next_id;
	MHD_socket listen_fd; /* ours to close once quiesced */
	char id_prefix[9];
};

/* Per-request state, created in on_uri, freed in on_completed. */
struct req_ctx {
	struct http_server *srv;
	struct MHD_Connection *con;
	struct timespec t0;
	int too_large;
	size_t discarded;     /* body bytes dropped after the limit */
	size_t target_len;    /* request target as received, up to the first NUL byte */
	uintptr_t target_end; /* where that NUL is, to tell a raw NUL from the end */
	enum http_method method;
	enum route_id route;
	int status;
	enum cache_result cache;
	char *body;
	size_t body_len;
	size_t body_cap;
	char request_id[65];
	char path[PATH_LOG_MAX + 1];
	/* Kept here, not on the stack: the route's work phase may run on a worker thread. */
	struct route_match match;
	struct request req; /* req.state: the route's, freed with the request */
	struct response res;
	struct work work;
	int done; /* the work phase has answered on a worker: send res */
};

static const char *const cache_header[] = {NULL, "HIT", "MISS", "MISS"};
static const char *const cache_log[] = {NULL, "hit", "miss", "error"};

int http_request_id_valid(const char *id)
{
	size_t n = 0;
	if (id == NULL)
		return 0;
	for (; id[n] != '\0'; n++) {
		char c = id[n];
		if (n >= 64 || !((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
		                 (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-'))
			return 0;
	}
	return n > 0;
}

static const char *query_value(void *conn, const char *key)
{
	return MHD_lookup_connection_value(conn, MHD_GET_ARGUMENT_KIND, key);
}

/* ---- libmicrohttpd callbacks ---- */

/*
 * The request a connection has in progress. libmicrohttpd calls the completion callback only
 * for requests that reached the access handler: one it drops earlier (its pool overflowing
 * while it parses many query arguments, say) would keep its context and its in-flight count.
 * The connection remembers its request, and on_connection completes it when it closes.
 */
struct conn_slot {
	struct req_ctx *pending;
};

static struct conn_slot *conn_slot(struct MHD_Connection *con)
{
	const union MHD_ConnectionInfo *info =
	    MHD_get_connection_info(con, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
	return info != NULL ? info->socket_context : NULL;
}

/*
 * Created in the URI callback, once the request line is in and before anything decodes it, and
 * freed by the completion callback, or by on_connection if libmicrohttpd never calls it.
 */
static void *on_uri(void *cls, const char *uri, struct MHD_Connection *con)
{
	struct http_server *srv = cls;
	struct req_ctx *ctx = calloc(1, sizeof(*ctx));
	struct conn_slot *slot = conn_slot(con);
	if (ctx == NULL)
		return NULL;
	if (slot != NULL)
		slot->pending = ctx;
	ctx->srv = srv;
	ctx->t0 = clock_now();
	ctx->route = R_NONE;
	ctx->method = M_OTHER;
	ctx->target_len = strlen(uri);
	ctx->target_end = (uintptr_t)(uri + ctx->target_len);
	atomic_fetch_add(&srv->in_flight, 1);
	metrics_request_started(srv->app->metrics);
	return ctx;
}

/*
 * The path for the access log. The request line lies in one buffer, the target ending where
 * libmicrohttpd cut off the version: a NUL before that was sent by the client, and the log
 * shows it as %00 followed by what came after it, never the shorter path alone.
 */
static int set_path(struct req_ctx *ctx, const char *url, const char *version)
{
	size_t n = strlen(url);
	int raw_nul = version[0] != '\0' && ctx->target_end + 1 != (uintptr_t)version;
	memcpy(ctx->path, url, n > PATH_LOG_MAX ? PATH_LOG_MAX : n);
	if (raw_nul) {
		const char *rest = (const char *)ctx->target_end + 1;
		snprintf(ctx->path + strlen(ctx->path), sizeof(ctx->path) - strlen(ctx->path),
		         "%%00%.*s", (int)strnlen(rest, PATH_LOG_MAX), rest);
	}
	return raw_nul;
}

/*
 * Percent-decoding can produce a NUL byte, which would silently cut a C string short
 * ("/api/users/1%00x" read as "/api/users/1"). Turn it into DEL instead, so that the path or
 * parameter no longer matches and is refused.
 */
static size_t unescape(void *cls, struct MHD_Connection *con, char *s)
{
	(void)cls;
	(void)con;
	size_t n = MHD_http_unescape(s);
	for (size_t i = 0; i < n; i++)
		if (s[i] == '\0')
			s[i] = 0x7f;
	return n;
}

static void on_completed(void *cls, struct MHD_Connection *con, void **req_cls,
                         enum MHD_RequestTerminationCode toe)
{
	struct http_server *srv = cls;
	struct req_ctx *ctx = *req_cls;
	struct app *app = srv->app;
	struct conn_slot *slot = conn_slot(con);
	if (ctx == NULL)
		return;
	if (slot != NULL && slot->pending == ctx)
		slot->pending = NULL;
	double ms = clock_ms_since(&ctx->t0);
	/* A request that never got an answer from us (bad HTTP, client gone) counts as 0. */
	int status = ctx->status;
	metrics_request_finished(app->metrics, ctx->route, ctx->method, status, ms / 1e3);
	if (app->cfg.access_log) {
		struct access_entry e = {
		    .method = router_method_name(ctx->method),
		    .path = ctx->path,
		    .route = router_route_name(ctx->route),
		    .status = status,
		    .ms = ms,
		    .cache = cache_log[ctx->cache],
		    .request_id = ctx->request_id,
		    .aborted = toe != MHD_REQUEST_TERMINATED_COMPLETED_OK,
		};
		log_access(&e);
	}
	free(ctx->body);
	free(ctx->req.state);
	free(ctx->res.body);
	free(ctx);
	*req_cls = NULL;
	atomic_fetch_sub(&srv->in_flight, 1);
}

/*
 * HTTP_MAX_CONNECTIONS over the whole server. libmicrohttpd's own limit is split evenly between
 * the event threads and, once reached, leaves new connections waiting unaccepted in the
 * kernel's backlog; this one is global and closes them at once, so clients learn now and can
 * go elsewhere. A connection takes its place here and gives it back in on_connection.
 */
static enum MHD_Result accept_policy(void *cls, const struct sockaddr *addr, socklen_t len)
{
	struct http_server *srv = cls;
	(void)addr;
	(void)len;
	if (atomic_fetch_add(&srv->connections, 1) < srv->app->cfg.http_max_connections)
		return MHD_YES;
	atomic_fetch_sub(&srv->connections, 1);
	return MHD_NO;
}

static void on_connection(void *cls, struct MHD_Connection *con, void **socket_ctx,
                          enum MHD_ConnectionNotificationCode code)
{
	struct http_server *srv = cls;
	struct conn_slot *slot = *socket_ctx;
	if (code == MHD_CONNECTION_NOTIFY_STARTED) {
		*socket_ctx =
		    calloc(1, sizeof(struct conn_slot)); /* NULL: no slot, nothing worse */
		return;
	}
	if (slot != NULL && slot->pending != NULL) {
		void *pending = slot->pending;
		on_completed(srv, con, &pending, MHD_REQUEST_TERMINATED_WITH_ERROR);
	}
	free(slot);
	*socket_ctx = NULL;
	atomic_fetch_sub(&srv->connections, 1);
}

static void add_header(struct MHD_Response *r, const char *name, const char *value)
{
	MHD_add_response_header(r, name, value);
}

static void set_cors(struct MHD_Response *r, const struct app *app, enum http_method method,
                     const char *allow)
{
	const char *origin = app->cfg.cors_allow_origin;
	if (origin[0] == '\0')
		return;
	add_header(r, "Access-Control-Allow-Origin", origin);
	add_header(r, "Access-Control-Expose-Headers",
	           "X-Request-ID, X-Served-By, X-Cache, Location, Link, Retry-After");
	if (strcmp(origin, "*") != 0)
		add_header(r, "Vary", "Origin");
	if (method == M_OPTIONS && allow[0] != '\0') {
		add_header(r, "Access-Control-Allow-Methods", allow);
		add_header(r, "Access-Control-Allow-Headers", "Content-Type, X-Request-ID");
		add_header(r, "Access-Control-Max-Age", "600");
	}
}

static enum MHD_Result send_response(struct MHD_Connection *con, struct app *app,
                                     struct req_ctx *ctx, struct response *res, const char *allow)
{
	struct MHD_Response *r;
	char num[16];

	if (res->body != NULL)
		r = MHD_create_response_from_buffer(res->body_len, res->body,
		                                    MHD_RESPMEM_MUST_FREE);
	else if (res->static_body != NULL)
		r = MHD_create_response_from_buffer(
		    strlen(res->static_body), (void *)res->static_body, MHD_RESPMEM_PERSISTENT);
	else
		r = MHD_create_response_from_buffer(0, NULL, MHD_RESPMEM_PERSISTENT);
	if (r == NULL) {
		free(res->body);
		return MHD_NO;
	}
	res->body = NULL; /* owned by the response now */
	if (res->status != 204)
		add_header(r, MHD_HTTP_HEADER_CONTENT_TYPE,
		           res->content_type ? res->content_type
		                             : "application/json; charset=utf-8");
	add_header(r, "X-Request-ID", ctx->request_id);
	add_header(r, "X-Served-By", app->cfg.pod_name);
	if (res->cache != CACHE_NONE)
		add_header(r, "X-Cache", cache_header[res->cache]);
	if (res->location[0] != '\0')
		add_header(r, MHD_HTTP_HEADER_LOCATION, res->location);
	if (res->link[0] != '\0')
		add_header(r, "Link", res->link);
	if (allow != NULL && allow[0] != '\0' && (res->status == 405 || ctx->method == M_OPTIONS))
		add_header(r, MHD_HTTP_HEADER_ALLOW, allow);
	if (res->retry_after_s > 0) {
		snprintf(num, sizeof(num), "%d", res->retry_after_s);
		add_header(r, MHD_HTTP_HEADER_RETRY_AFTER, num);
	}
	set_cors(r, app, ctx->method, allow ? allow : "");
	/* While draining, move keep-alive clients to other replicas. */
	if (atomic_load(&app->shutting_down) || res->close)
		add_header(r, MHD_HTTP_HEADER_CONNECTION, "close");
	ctx->status = res->status;
	ctx->cache = res->cache;
	enum MHD_Result ok = MHD_queue_response(con, (unsigned int)res->status, r);
	MHD_destroy_response(r);
	return ok;
}

static void assign_request_id(struct http_server *srv, struct MHD_Connection *con,
                              struct req_ctx *ctx)
{
	static const char hex[] = "0123456789abcdef";
	const char *given = MHD_lookup_connection_value(con, MHD_HEADER_KIND, "X-Request-ID");
	if (http_request_id_valid(given)) {
		snprintf(ctx->request_id, sizeof(ctx->request_id), "%s", given);
		return;
	}
	/* "<pod prefix>-<counter in hex, at least 6 digits>", formatted by hand: every request. */
	unsigned long n = atomic_fetch_add(&srv->next_id, 1);
	char digits[2 * sizeof(n)];
	int len = 0;
	do {
		digits[len++] = hex[n & 15];
		n >>= 4;
	} while (n != 0 || len < 6);
	char *out = ctx->request_id;
	memcpy(out, srv->id_prefix, 8);
	out[8] = '-';
	for (int i = 0; i < len; i++)
		out[9 + i] = digits[len - 1 - i];
	out[9 + len] = '\0';
}

static size_t drain_limit(const struct app *app)
{
	size_t four = 4 * (size_t)app->cfg.max_body_bytes;
	return four > DRAIN_MIN ? four : DRAIN_MIN;
}

struct framing {
	int content_lengths; /* Content-Length headers seen */
	int lengths_differ;
	int transfer_encodings; /* Transfer-Encoding headers seen */
	size_t header_bytes;
	const char *content_length;
	const char *transfer_encoding;
	const char *expect;
};

static enum MHD_Result collect_framing(void *cls, enum MHD_ValueKind kind, const char *key,
                                       const char *value)
{
	struct framing *f = cls;
	(void)kind;
	f->header_bytes += strlen(key) + strlen(value) + 4;
	if (strcasecmp(key, MHD_HTTP_HEADER_CONTENT_LENGTH) == 0) {
		if (f->content_lengths++ > 0 && strcmp(value, f->content_length) != 0)
			f->lengths_differ = 1;
		f->content_length = value;
	} else if (strcasecmp(key, MHD_HTTP_HEADER_TRANSFER_ENCODING) == 0) {
		f->transfer_encodings++;
		f->transfer_encoding = value;
	} else if (strcasecmp(key, MHD_HTTP_HEADER_EXPECT) == 0) {
		f->expect = value;
	}
	return MHD_YES;
}

/*
 * First call for a request: the headers are in. Refuse what libmicrohttpd would read another
 * way than a proxy might (it frames by the first Transfer-Encoding or Content-Length header:
 * the raw material of request smuggling), targets and headers over our limits, and announced
 * oversized bodies (413; *drain says whether to read and drop the body first).
 * Returns the status to answer with, or 0 to go on.
 */
static int check_framing(struct MHD_Connection *con, const struct app *app,
                         const struct req_ctx *ctx, const char **msg, int *drain)
{
	struct framing f = {0};
	MHD_get_connection_values(con, MHD_HEADER_KIND, collect_framing, &f);
	if (ctx->target_len > TARGET_MAX) {
		*msg = "request target too long";
		return 414;
	}
	if (f.header_bytes > HEADERS_MAX) {
		*msg = "request headers too large";
		return 431;
	}
	if (f.transfer_encodings > 1) {
		*msg = "repeated Transfer-Encoding headers";
		return 400;
	}
	if (f.transfer_encoding != NULL && f.content_length != NULL) {
		*msg = "Content-Length and Transfer-Encoding must not both be sent";
		return 400;
	}
	if (f.lengths_differ) {
		*msg = "conflicting Content-Length headers";
		return 400;
	}
	if (f.transfer_encoding != NULL && strcasecmp(f.transfer_encoding, "chunked") != 0) {
		*msg = "only the chunked transfer coding is supported";
		return 501;
	}
	unsigned long long length =
	    f.content_length != NULL ? strtoull(f.content_length, NULL, 10) : 0;
	if (length > (unsigned long long)app->cfg.max_body_bytes) {
		*msg = NULL; /* the 413 message names the limit */
		/* A client waiting for 100 Continue has not sent the body: answer now. */
		*drain = length <= drain_limit(app) && f.expect == NULL;
		return 413;
	}
	return 0;
}

static int append_body(struct req_ctx *ctx, const char *data, size_t len, size_t max)
{
	if (ctx->body_len + len > max)
		return -1;
	if (ctx->body_len + len > ctx->body_cap) {
		size_t cap = ctx->body_cap ? ctx->body_cap * 2 : 1024;
		while (cap < ctx->body_len + len)
			cap *= 2;
		char *p = realloc(ctx->body, cap);
		if (p == NULL)
			return -1;
		ctx->body = p;
		ctx->body_cap = cap;
	}
	memcpy(ctx->body + ctx->body_len, data, len);
	ctx->body_len += len;
	return 0;
}

static enum MHD_Result reject_too_large(struct MHD_Connection *con, struct app *app,
                                        struct req_ctx *ctx, const struct request *req)
{
	struct response res = {0};
	char msg[64];
	snprintf(msg, sizeof(msg), "request body exceeds %d bytes", app->cfg.max_body_bytes);
	response_error(&res, req, 413, msg, NULL);
	res.close = 1;
	return send_response(con, app, ctx, &res, NULL);
}

/* ---- a route's phases (request.h) ---- */

/* On a worker: the work phase, then the connection goes back to its event thread. */
static void run_work(struct work *w)
{
	struct req_ctx *ctx = container_of(w, struct req_ctx, work);
	ctx->match.handler->work(ctx->srv->app, &ctx->req, &ctx->res);
	ctx->done = 1;
	MHD_resume_connection(ctx->con); /* ctx may be gone from here on */
}

/* On the reaper: no worker came free in time, the expired phase answers at once. */
static void run_expired(struct work *w)
{
	struct req_ctx *ctx = container_of(w, struct req_ctx, work);
	ctx->match.handler->expired(ctx->srv->app, &ctx->req, &ctx->res);
	ctx->done = 1;
	MHD_resume_connection(ctx->con); /* ctx may be gone from here on */
}

/*
 * The event phase runs here, on the event thread. If it leaves work, the connection is
 * suspended (its event thread serves the others) and the work goes to a worker of the route's
 * kind, which resumes it when done; libmicrohttpd then calls on_request again, which sends
 * res. With a thread per connection there are no workers: this thread does the work itself.
 */
static enum MHD_Result run_phases(struct MHD_Connection *con, struct req_ctx *ctx)
{
	struct app *app = ctx->srv->app;
	const struct handler *h = ctx->match.handler;
	struct workers *ws = ctx->srv->workers[h->worker];

	if (h->state_size > 0 && (ctx->req.state = calloc(1, h->state_size)) == NULL) {
		response_error(&ctx->res, &ctx->req, 500, "internal error", NULL);
		goto send;
	}
	if ((h->event != NULL && h->event(app, &ctx->req, &ctx->res) == PHASE_DONE) ||
	    h->work == NULL)
		goto send;
	if (ws == NULL) { /* a thread per connection: this thread does the work */
		h->work(app, &ctx->req, &ctx->res);
		goto send;
	}
	ctx->con = con;
	ctx->work.run = run_work;
	ctx->work.expire = run_expired;
	MHD_suspend_connection(con);
	if (workers_submit(ws, &ctx->work) == 0)
		return MHD_YES; /* the worker resumes the connection, on_request sends */
	/* Stopping: no worker takes it. A route that can refuse it does; the others work here. */
	MHD_resume_connection(con);
	(h->expired != NULL ? h->expired : h->work)(app, &ctx->req, &ctx->res);
send:
	return send_response(con, app, ctx, &ctx->res, ctx->match.allow);
}

/*
 * First call for a request: the headers are in. Method, request id, the path for the log, and
 * the checks that come before any body: a refusal is answered now, with Connection: close.
 */
static enum MHD_Result on_headers(struct MHD_Connection *con, struct req_ctx *ctx, const char *url,
                                  const char *method, const char *version)
{
	struct http_server *srv = ctx->srv;
	struct app *app = srv->app;
	struct response res = {0};
	const char *msg = "request target contains a NUL byte";
	int drain = 0;

	ctx->method = router_method(method);
	assign_request_id(srv, con, ctx);
	struct request first = {.path = url, .request_id = ctx->request_id, .conn = con};
	int status = set_path(ctx, url, version) ? 400 : 0;
	if (status == 0)
		status = check_framing(con, app, ctx, &msg, &drain);
	if (status == 413 && drain) {
		ctx->too_large = 1; /* read and drop the body, then answer */
		return MHD_YES;
	}
	if (status == 413)
		return reject_too_large(con, app, ctx, &first);
	if (status != 0) {
		response_error(&res, &first, status, msg, NULL);
		res.close = 1;
		return send_response(con, app, ctx, &res, NULL);
	}
	return MHD_YES; /* queue on a later call: keeps the connection alive */
}

/*
 * libmicrohttpd's access handler, called on an event thread: once with the headers, once per
 * piece of body, once when the body is complete (the request is routed and its phases run),
 * and once more after a worker resumed the connection (the answer is sent).
 */
static enum MHD_Result on_request(void *cls, struct MHD_Connection *con, const char *url,
                                  const char *method, const char *version, const char *upload_data,
                                  size_t *upload_size, void **req_cls)
{
	struct http_server *srv = cls;
	struct app *app = srv->app;
	struct req_ctx *ctx = *req_cls;

	if (ctx == NULL) /* the URI callback could not allocate */
		return MHD_NO;
	if (ctx->method == M_OTHER && ctx->request_id[0] == '\0')
		return on_headers(con, ctx, url, method, version);
	if (ctx->done) /* resumed: the worker has answered */
		return send_response(con, app, ctx, &ctx->res, ctx->match.allow);
	struct request req = {.path = url, .request_id = ctx->request_id, .conn = con};
	if (*upload_size != 0) {
		/*
		 * Past the limit (announced, or found while reading a chunked body), keep reading
		 * and dropping so that the 413 can be sent once the body ends (libmicrohttpd
		 * queues no answer in the middle of a body); a client that goes on beyond the
		 * drain limit is cut off.
		 */
		if (!ctx->too_large && append_body(ctx, upload_data, *upload_size,
		                                   (size_t)app->cfg.max_body_bytes) != 0)
			ctx->too_large = 1;
		if (ctx->too_large && (ctx->discarded += *upload_size) > drain_limit(app))
			return MHD_NO;
		*upload_size = 0;
		return MHD_YES;
	}
	if (ctx->too_large)
		return reject_too_large(con, app, ctx, &req);

	enum route_result rr = routes_find(url, ctx->method, &ctx->match);
	ctx->route = ctx->match.route;
	req.method = ctx->method;
	req.param = ctx->match.param;
	req.param_too_long = ctx->match.param_too_long;
	req.body = ctx->body;
	req.body_len = ctx->body_len;
	req.started = clock_now();
	req.query = query_value;
	ctx->req = req;
	if (rr == ROUTE_FOUND && ctx->method != M_OPTIONS)
		return run_phases(con, ctx);
	if (rr == ROUTE_NOT_FOUND)
		response_error(&ctx->res, &ctx->req, 404, "not found", NULL);
	else if (rr == ROUTE_METHOD_NOT_ALLOWED)
		response_error(&ctx->res, &ctx->req, 405, "method not allowed", NULL);
	else
		ctx->res.status = 204; /* OPTIONS */
	return send_response(con, app, ctx, &ctx->res, ctx->match.allow);
}

static void stop_workers(struct http_server *srv)
{
	for (int i = 0; i < WORKER_KINDS; i++)
		workers_stop(srv->workers[i]);
}

struct http_server *http_start(struct app *app, char *err, size_t errlen)
{
	struct http_server *srv = calloc(1, sizeof(*srv));
	struct sockaddr_in addr = {.sin_family = AF_INET};
	unsigned char rnd[4] = {0};
	const struct config *cfg = &app->cfg;
	unsigned int flags = MHD_USE_ITC | MHD_USE_ERROR_LOG;

	if (srv == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	srv->app = app;
	srv->listen_fd = MHD_INVALID_SOCKET;
	if (getrandom(rnd, sizeof(rnd), 0) != (ssize_t)sizeof(rnd)) {
		struct timespec now; /* no entropy yet: ids only need to differ between pods */
		clock_gettime(CLOCK_REALTIME, &now);
		memcpy(rnd, &now.tv_nsec, sizeof(rnd));
	}
	snprintf(srv->id_prefix, sizeof(srv->id_prefix), "%02x%02x%02x%02x", rnd[0], rnd[1], rnd[2],
	         rnd[3]);
	if (inet_pton(AF_INET, cfg->bind_address, &addr.sin_addr) != 1) {
		snprintf(err, errlen, "BIND_ADDRESS: not an IPv4 address: %s", cfg->bind_address);
		free(srv);
		return NULL;
	}
	addr.sin_port = htons((uint16_t)cfg->server_port);
	if (cfg->http_threads == 0) {
		flags |= MHD_USE_THREAD_PER_CONNECTION | MHD_USE_POLL_INTERNAL_THREAD;
	} else {
		flags |= MHD_USE_EPOLL_INTERNAL_THREAD | MHD_ALLOW_SUSPEND_RESUME;
		srv->workers[WORKER_DB] = workers_start(cfg->db_pool_size, WORKERS_NO_BOUND);
		srv->workers[WORKER_CPU] = workers_start(cfg->stress_slots, cfg->stress_wait_ms);
		if (srv->workers[WORKER_DB] == NULL || srv->workers[WORKER_CPU] == NULL) {
			snprintf(err, errlen, "cannot start the worker threads");
			stop_workers(srv);
			free(srv);
			return NULL;
		}
	}

	/*
	 * libmicrohttpd divides its limit between the event threads: give it the limit times their
	 * number, so that any one of them may take the whole limit; accept_policy keeps the total.
	 */
	unsigned int mhd_limit = (unsigned int)cfg->http_max_connections *
	                         (unsigned int)(cfg->http_threads > 1 ? cfg->http_threads : 1);
	srv->daemon = MHD_start_daemon(
	    flags, 0, accept_policy, srv, on_request, srv, MHD_OPTION_SOCK_ADDR,
	    (struct sockaddr *)&addr, MHD_OPTION_CONNECTION_LIMIT, mhd_limit,
	    MHD_OPTION_NOTIFY_CONNECTION, on_connection, srv, MHD_OPTION_CONNECTION_TIMEOUT,
	    (unsigned int)cfg->http_idle_timeout_s, MHD_OPTION_UNESCAPE_CALLBACK, unescape, srv,
	    MHD_OPTION_URI_LOG_CALLBACK, on_uri, srv, MHD_OPTION_CONNECTION_MEMORY_LIMIT,
	    (size_t)MHD_POOL_BYTES, MHD_OPTION_NOTIFY_COMPLETED, on_completed, srv,
	    MHD_OPTION_EXTERNAL_LOGGER, log_library_message, srv, MHD_OPTION_STRICT_FOR_CLIENT,
	    (int)1, MHD_OPTION_THREAD_STACK_SIZE, (size_t)(cfg->http_threads == 0 ? STACK_SIZE : 0),
	    MHD_OPTION_THREAD_POOL_SIZE,
	    (unsigned int)(cfg->http_threads > 1 ? cfg->http_threads : 0), MHD_OPTION_END);
	if (srv->daemon == NULL) {
		snprintf(err, errlen, "cannot listen on %s:%d (in use, or not allowed)",
		         cfg->bind_address, cfg->server_port);
		stop_workers(srv);
		free(srv);
		return NULL;
	}
	return srv;
}

void http_quiesce(struct http_server *srv)
{
	srv->listen_fd = MHD_quiesce_daemon(srv->daemon);
	/* Refuse what still arrives (a client retries elsewhere) rather than hold it unanswered. */
	if (srv->listen_fd != MHD_INVALID_SOCKET)
		shutdown(srv->listen_fd, SHUT_RDWR);
}

long http_in_flight(struct http_server *srv)
{
	return atomic_load(&srv->in_flight);
}

void http_stop(struct http_server *srv)
{
	if (srv == NULL)
		return;
	/*
	 * First: every suspended connection is resumed by its job (run, or expired if it was still
	 * waiting for a burn thread), as MHD_stop_daemon requires.
	 */
	stop_workers(srv);
	MHD_stop_daemon(srv->daemon);
	if (srv->listen_fd != MHD_INVALID_SOCKET)
		close(srv->listen_fd);
	free(srv);
}
