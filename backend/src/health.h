/* health.h - liveness, readiness and the full health report; a monitor thread keeps them fresh. */
#ifndef HEALTH_H
#define HEALTH_H

struct app;
struct request;
struct response;
struct health;

#include <stddef.h>

/*
 * Start the monitor thread: it migrates the schema (retrying with backoff until PostgreSQL
 * answers), then checks PostgreSQL and Redis every interval_ms. Probes read its results, so
 * they never wait for a pooled connection. NULL + err on failure.
 */
struct health *health_start(struct app *app, int interval_ms, char *err, size_t errlen);
void health_stop(struct health *h); /* joins the thread; NULL-safe */

/* True once the schema is in place (requests that need the database wait for it). */
int health_schema_ready(const struct health *h);

void health_live(struct app *app, const struct request *req, struct response *res);
void health_ready(struct app *app, const struct request *req, struct response *res);
void health_full(struct app *app, const struct request *req, struct response *res);

#endif
