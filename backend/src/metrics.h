/* metrics.h - lock-free counters and histograms, Prometheus text exposition format 0.0.4. */
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
	atomic_long stress_waiting;                            /* waiting for a slot now */
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

/*
 * Events, named for what happened; the counters are changed here only. A request is counted
 * in flight from started to finished; finished also records its route, status and duration.
 */
void metrics_request_started(struct metrics *m);
void metrics_request_finished(struct metrics *m, enum route_id route, enum http_method method,
                              int status, double seconds);
void metrics_cache(struct metrics *m, enum cache_result r);
/* A stress request waits for a slot; then it got one, or was refused, after seconds. */
void metrics_stress_queued(struct metrics *m);
void metrics_stress_waited(struct metrics *m, double seconds, int refused);
/* A burn runs; finished adds the CPU time it used. */
void metrics_stress_started(struct metrics *m);
void metrics_stress_finished(struct metrics *m, double cpu_ms);

/* The part of metrics_request_finished that records the outcome (no in-flight change). */
void metrics_observe(struct metrics *m, enum route_id route, enum http_method method, int status,
                     double seconds);

/* Render everything; caller frees. *lenp gets the length. NULL on ENOMEM. */
char *metrics_render(const struct metrics *m, const struct metrics_gauges *g, size_t *lenp);

/* Read utime+stime and RSS of this process from /proc/self. */
void metrics_read_process(double *cpu_seconds, double *resident_bytes);

#endif
