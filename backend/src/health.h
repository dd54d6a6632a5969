/* health.h - the monitor thread: schema migration and dependency checks, read by the probes. */
#ifndef HEALTH_H
#define HEALTH_H

struct app;
struct health;

#include <stddef.h>

/*
 * Start the monitor thread: it migrates the schema (retrying with backoff until PostgreSQL
 * answers), then checks PostgreSQL and Redis every interval_ms. Probes read its results, so
 * they never wait for a pooled connection. NULL + err on failure.
 */
struct health *health_start(struct app *app, int interval_ms, char *err, size_t errlen);
void health_stop(struct health *h); /* joins the thread; NULL-safe */

/* True once the schema is in place (until then, requests that need the database get 503). */
int health_schema_ready(const struct health *h);

/* The monitor's last results (each field read on its own: they may come from two checks). */
struct health_dep {
	int up;
	int latency_us; /* of the last successful check */
};
struct health_status {
	int schema_ready;
	struct health_dep db;
	struct health_dep redis;
};
void health_read(const struct health *h, struct health_status *st);

#endif
