/* request.h - what a handler sees: the request, the response it fills, and the helpers. */
#ifndef REQUEST_H
#define REQUEST_H

#include <stddef.h>
#include <time.h>
#include <jansson.h>

#include "cache.h"
#include "router.h"

/* Worker kinds a handler may hand its blocking part to (see request_offload). */
enum offload { OFFLOAD_DB, OFFLOAD_CPU, OFFLOAD_KINDS };

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
	int expired;          /* ... or not: the wait for a worker was too long (ditto) */
	/* Filled by the server: */
	unsigned can_offload;   /* bit per enum offload: workers of that kind exist */
	int *offload_to;        /* request_offload stores kind + 1 here */
	const char *(*query)(void *conn, const char *key); /* for request_query */
	void *conn;
};

struct response {
	int status;
	char *body;            /* owned; freed by the server */
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
 * An OFFLOAD_CPU request waits at most STRESS_WAIT_MS for its thread while all of them are
 * busy; past that it is called again with req->offloaded and req->expired set, on a thread
 * that must not be held up (answer at once), and its connection stays suspended till then.
 */
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

#endif
