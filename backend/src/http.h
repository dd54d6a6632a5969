/* http.h - the request/response seen by handlers; http.c alone talks to libmicrohttpd. */
#ifndef HTTP_H
#define HTTP_H

#include <stddef.h>
#include <time.h>
#include <jansson.h>

#include "cache.h"
#include "router.h"

struct app;
struct http_server;

struct request {
	enum http_method method;
	const char *path;     /* borrowed until the handler returns */
	const char *param;    /* the {id} segment or NULL */
	int param_too_long;   /* the {id} segment was too long to be an id */
	const char *body;     /* NULL when empty; not NUL-terminated */
	size_t body_len;
	const char *request_id;
	struct timespec started; /* CLOCK_MONOTONIC: when the handler was first called */
	int offloaded;        /* this call runs on a worker thread (see request_offload) */
	void *conn;           /* opaque, for request_query */
};

struct response {
	int status;
	char *body;            /* owned; freed by http.c */
	size_t body_len;
	const char *static_body; /* instead of body: a literal, never freed */
	const char *content_type; /* NULL: application/json; charset=utf-8 */
	enum cache_result cache;
	int retry_after_s;     /* > 0: Retry-After header */
	char location[64];     /* non-empty: Location header */
	char link[160];        /* non-empty: Link header */
	int close;             /* send Connection: close and end the connection */
	struct cache_gen gen;  /* read with the cache lookup, for the store after a miss */
};

/*
 * Handlers start on an event thread, which serves many connections and must never block.
 * Before anything that can (PostgreSQL, a CPU burn) a handler calls request_offload. When it
 * returns 1, the handler returns at once and is called again with the same req and res on a
 * worker thread, with req->offloaded set; there (and in thread-per-connection mode, where every
 * connection has its own thread) request_offload returns 0 and the handler goes on.
 * OFFLOAD_DB runs on one of DB_POOL_SIZE threads, so none of them waits for a pooled
 * connection; OFFLOAD_CPU on one of STRESS_SLOTS threads, so burns never delay queries.
 */
enum offload { OFFLOAD_DB, OFFLOAD_CPU, OFFLOAD_KINDS };
int request_offload(const struct request *req, enum offload kind);

/* A query parameter's value (first occurrence), or NULL. Borrowed until the handler returns. */
const char *request_query(const struct request *req, const char *key);

/* Set the body to JSON (compact) and the status. json is stolen. */
void response_json(struct response *res, int status, json_t *json);

/* Set the body to a string literal (nothing to encode or free: the probes' fast path). */
void response_static(struct response *res, int status, const char *body);

/* Set the body to bytes already encoded; body is stolen (must come from malloc). */
void response_body(struct response *res, int status, char *body, size_t len);

/* {"error": message, "request_id": .., "field": field (when not NULL)} */
void response_error(struct response *res, const struct request *req, int status,
		    const char *message, const char *field);

/* Start the daemon (threads are created here: block signals before). NULL + err on failure. */
struct http_server *http_start(struct app *app, char *err, size_t errlen);

/* Stop accepting new connections; in-flight requests continue. */
void http_quiesce(struct http_server *srv);

/* Requests being processed right now. */
long http_in_flight(struct http_server *srv);

/* Close every connection and stop the threads. NULL-safe. */
void http_stop(struct http_server *srv);

/* Pure: returns 1 when a client-supplied X-Request-ID may be echoed back (1-64 of [A-Za-z0-9._-]). */
int http_request_id_valid(const char *id);

#endif
