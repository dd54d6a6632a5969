/* request.h - what a route sees: the request, the phases it declares, the response it fills. */
#ifndef REQUEST_H
#define REQUEST_H

#include <stddef.h>
#include <time.h>
#include <jansson.h>

#include "cache.h"
#include "router.h"

struct app;

struct request {
	enum http_method method;
	const char *path;   /* borrowed until the request ends */
	const char *param;  /* the {id} segment or NULL */
	int param_too_long; /* the {id} segment was too long to be an id */
	const char *body;   /* NULL when empty; not NUL-terminated */
	size_t body_len;
	const char *request_id;
	struct timespec started; /* CLOCK_MONOTONIC, when routed: time budgets count from here */
	void *state; /* the route's state_size bytes (struct handler), zeroed at first */
	/* Filled by the server, for request_query: */
	const char *(*query)(void *conn, const char *key);
	void *conn;
};

struct response {
	int status;
	char *body; /* owned; freed by the server */
	size_t body_len;
	const char *static_body;  /* instead of body: a literal, never freed */
	const char *content_type; /* NULL: application/json; charset=utf-8 */
	enum cache_result cache;  /* X-Cache and the access log */
	int retry_after_s;        /* > 0: Retry-After header */
	char location[64];        /* non-empty: Location header */
	char link[160];           /* non-empty: Link header */
	int close;                /* send Connection: close and end the connection */
};

/*
 * What a route does, in phases; the route table (routes.c) points at one struct handler per
 * method and path, and http.c runs its phases in this order:
 *
 *   event    on an event thread, which serves many connections and must never block: parse
 *            and check the request, look the answer up in the cache. Returns PHASE_DONE when
 *            res is the answer, PHASE_WORK to go on with work. NULL: straight to work.
 *   work     on a worker thread of kind `worker` while the connection sleeps: the query, the
 *            burn. With a thread per connection (HTTP_THREADS=0), on the connection's thread.
 *            Answers in every case. NULL: event answers every request.
 *   expired  instead of work, when the request waited for a worker longer than the kind
 *            allows (WORKER_CPU: STRESS_WAIT_MS), or the workers are stopping. It runs where
 *            nothing may wait, so it answers at once. Required for WORKER_CPU; elsewhere NULL
 *            means that work runs even then.
 *
 * One phase ends before the next begins, and every hand-over between threads goes through a
 * lock (the workers' queue, libmicrohttpd's resume), so the phases share req->state
 * (state_size bytes, zeroed before the first phase, freed with the request) without locks of
 * their own: whatever a later phase needs from an earlier one goes there.
 */
enum phase_next { PHASE_DONE, PHASE_WORK };

enum worker_kind {
	WORKER_DB,  /* one of DB_POOL_SIZE threads: none of them waits for a pooled connection */
	WORKER_CPU, /* one of STRESS_SLOTS threads: burns never delay queries */
	WORKER_KINDS
};

struct handler {
	size_t state_size;
	enum phase_next (*event)(struct app *app, const struct request *req, struct response *res);
	enum worker_kind worker;
	void (*work)(struct app *app, const struct request *req, struct response *res);
	void (*expired)(struct app *app, const struct request *req, struct response *res);
};

/* A query parameter's value (first occurrence), or NULL. Borrowed until the request ends. */
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
