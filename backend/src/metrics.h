/* metrics.h - Prometheus counters and histograms, text exposition format 0.0.4. */
#ifndef METRICS_H
#define METRICS_H

#include <stdatomic.h>
#include <stddef.h>

#include "cache.h"
#include "router.h"

#define METRICS_STATUS_COUNT 16
#define METRICS_BUCKET_COUNT 12

struct metrics {
	atomic_ulong requests[R_COUNT][M_COUNT][METRICS_STATUS_COUNT];
	atomic_ulong duration_bucket[R_COUNT][METRICS_BUCKET_COUNT]; /* not cumulative */
	atomic_ulong duration_count[R_COUNT];
	atomic_ulong duration_sum_ns[R_COUNT];
	atomic_long in_flight;
	atomic_ulong cache[4]; /* by enum cache_result; CACHE_NONE unused */
	atomic_long stress_in_flight;
	atomic_ulong stress_cpu_ns;
	atomic_long stress_waiting; /* waiting for a slot now */
	atomic_ulong stress_wait_bucket[METRICS_BUCKET_COUNT]; /* not cumulative */
	atomic_ulong stress_wait_count;
	atomic_ulong stress_wait_sum_ns;
	atomic_ulong stress_refused; /* waited STRESS_WAIT_MS in vain */
};

/* Values read at scrape time from elsewhere (pools, /proc). */
struct metrics_gauges {
	int db_busy, db_idle;
	int redis_busy, redis_idle;
	double process_cpu_seconds;
	double resident_bytes;
	double start_time_seconds;
	const char *version;
	const char *revision;
};

void metrics_init(struct metrics *m);

/* Count one finished request. */
void metrics_observe(struct metrics *m, enum route_id route, enum http_method method, int status,
		     double seconds);

void metrics_cache(struct metrics *m, enum cache_result r);

/* A stress request starts waiting for a slot; then it got one, or was refused, after seconds. */
void metrics_stress_queued(struct metrics *m);
void metrics_stress_waited(struct metrics *m, double seconds, int refused);

/* Render everything; caller frees. *lenp gets the length. NULL on ENOMEM. */
char *metrics_render(const struct metrics *m, const struct metrics_gauges *g, size_t *lenp);

/* Read utime+stime and RSS of this process from /proc/self. */
void metrics_read_process(double *cpu_seconds, double *resident_bytes);

struct app;
struct request;
struct response;
void metrics_handle(struct app *app, const struct request *req, struct response *res);

#endif
