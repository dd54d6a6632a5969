/* metrics.c - lock-free counters (relaxed atomics); rendering walks them once per scrape. */
#include "metrics.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const int statuses[METRICS_STATUS_COUNT] = {200, 201, 204, 400, 404, 405, 408, 409,
                                                   413, 414, 415, 429, 431, 500, 503, 0};
static const double buckets[METRICS_BUCKET_COUNT] = {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025,
                                                     0.05,   0.1,   0.25,   0.5,   1,    2.5};
static const char *const cache_results[4] = {"none", "hit", "miss", "error"};

void metrics_init(struct metrics *m)
{
	memset(m, 0, sizeof(*m));
}

static int status_index(int status)
{
	for (int i = 0; i < METRICS_STATUS_COUNT - 1; i++)
		if (statuses[i] == status)
			return i;
	return METRICS_STATUS_COUNT - 1; /* rendered as "other" */
}

/* The first bucket that holds seconds; METRICS_BUCKET_COUNT: only +Inf. */
static int bucket_index(double seconds)
{
	int b = 0;
	while (b < METRICS_BUCKET_COUNT && seconds > buckets[b])
		b++;
	return b;
}

void metrics_observe(struct metrics *m, enum route_id route, enum http_method method, int status,
                     double seconds)
{
	int b = bucket_index(seconds);
	atomic_fetch_add_explicit(&m->requests[route][method][status_index(status)], 1,
	                          memory_order_relaxed);
	if (b < METRICS_BUCKET_COUNT)
		atomic_fetch_add_explicit(&m->duration_bucket[route][b], 1, memory_order_relaxed);
	atomic_fetch_add_explicit(&m->duration_count[route], 1, memory_order_relaxed);
	atomic_fetch_add_explicit(&m->duration_sum_ns[route], (unsigned long)(seconds * 1e9),
	                          memory_order_relaxed);
}

void metrics_request_started(struct metrics *m)
{
	atomic_fetch_add_explicit(&m->in_flight, 1, memory_order_relaxed);
}

void metrics_request_finished(struct metrics *m, enum route_id route, enum http_method method,
                              int status, double seconds)
{
	metrics_observe(m, route, method, status, seconds);
	atomic_fetch_sub_explicit(&m->in_flight, 1, memory_order_relaxed);
}

void metrics_cache(struct metrics *m, enum cache_result r)
{
	if (r != CACHE_NONE)
		atomic_fetch_add_explicit(&m->cache[r], 1, memory_order_relaxed);
}

void metrics_stress_started(struct metrics *m)
{
	atomic_fetch_add_explicit(&m->stress_in_flight, 1, memory_order_relaxed);
}

void metrics_stress_finished(struct metrics *m, double cpu_ms)
{
	atomic_fetch_sub_explicit(&m->stress_in_flight, 1, memory_order_relaxed);
	atomic_fetch_add_explicit(&m->stress_cpu_ns, (unsigned long)(cpu_ms * 1e6),
	                          memory_order_relaxed);
}

void metrics_stress_queued(struct metrics *m)
{
	atomic_fetch_add_explicit(&m->stress_waiting, 1, memory_order_relaxed);
}

void metrics_stress_waited(struct metrics *m, double seconds, int refused)
{
	int b = bucket_index(seconds);
	atomic_fetch_sub_explicit(&m->stress_waiting, 1, memory_order_relaxed);
	if (b < METRICS_BUCKET_COUNT)
		atomic_fetch_add_explicit(&m->stress_wait_bucket[b], 1, memory_order_relaxed);
	atomic_fetch_add_explicit(&m->stress_wait_count, 1, memory_order_relaxed);
	atomic_fetch_add_explicit(&m->stress_wait_sum_ns, (unsigned long)(seconds * 1e9),
	                          memory_order_relaxed);
	if (refused)
		atomic_fetch_add_explicit(&m->stress_refused, 1, memory_order_relaxed);
}

static unsigned long get(const atomic_ulong *v)
{
	return atomic_load_explicit(v, memory_order_relaxed);
}

static void render_requests(FILE *f, const struct metrics *m)
{
	fputs("# HELP http_requests_total HTTP requests by method, route pattern and status.\n"
	      "# TYPE http_requests_total counter\n",
	      f);
	for (int r = 0; r < R_COUNT; r++)
		for (int meth = 0; meth < M_COUNT; meth++)
			for (int s = 0; s < METRICS_STATUS_COUNT; s++) {
				unsigned long v = get(&m->requests[r][meth][s]);
				if (v == 0)
					continue;
				fprintf(f, "http_requests_total{method=\"%s\",route=\"%s\",",
				        router_method_name(meth), router_route_name(r));
				if (statuses[s] != 0)
					fprintf(f, "status=\"%d\"} %lu\n", statuses[s], v);
				else
					fprintf(f, "status=\"other\"} %lu\n", v);
			}
}

static void render_durations(FILE *f, const struct metrics *m)
{
	fputs("# HELP http_request_duration_seconds Time from request line to response sent.\n"
	      "# TYPE http_request_duration_seconds histogram\n",
	      f);
	for (int r = 0; r < R_COUNT; r++) {
		unsigned long count = get(&m->duration_count[r]), cumulative = 0;
		if (count == 0)
			continue;
		const char *route = router_route_name(r);
		for (int b = 0; b < METRICS_BUCKET_COUNT; b++) {
			cumulative += get(&m->duration_bucket[r][b]);
			fprintf(
			    f, "http_request_duration_seconds_bucket{route=\"%s\",le=\"%g\"} %lu\n",
			    route, buckets[b], cumulative);
		}
		fprintf(f,
		        "http_request_duration_seconds_bucket{route=\"%s\",le=\"+Inf\"} %lu\n"
		        "http_request_duration_seconds_sum{route=\"%s\"} %.9f\n"
		        "http_request_duration_seconds_count{route=\"%s\"} %lu\n",
		        route, count, route, (double)get(&m->duration_sum_ns[r]) / 1e9, route,
		        count);
	}
}

static void render_stress_wait(FILE *f, const struct metrics *m)
{
	unsigned long count = get(&m->stress_wait_count), cumulative = 0;
	fprintf(f,
	        "# HELP stress_waiting Stress requests waiting for a slot now.\n"
	        "# TYPE stress_waiting gauge\n"
	        "stress_waiting %ld\n"
	        "# HELP stress_wait_seconds Time stress requests waited for a slot (refused too).\n"
	        "# TYPE stress_wait_seconds histogram\n",
	        atomic_load(&m->stress_waiting));
	for (int b = 0; b < METRICS_BUCKET_COUNT; b++) {
		cumulative += get(&m->stress_wait_bucket[b]);
		fprintf(f, "stress_wait_seconds_bucket{le=\"%g\"} %lu\n", buckets[b], cumulative);
	}
	fprintf(f,
	        "stress_wait_seconds_bucket{le=\"+Inf\"} %lu\n"
	        "stress_wait_seconds_sum %.9f\n"
	        "stress_wait_seconds_count %lu\n"
	        "# HELP stress_refused_total Stress requests refused (429) after STRESS_WAIT_MS.\n"
	        "# TYPE stress_refused_total counter\n"
	        "stress_refused_total %lu\n",
	        count, (double)get(&m->stress_wait_sum_ns) / 1e9, count, get(&m->stress_refused));
}

char *metrics_render(const struct metrics *m, const struct metrics_gauges *g, size_t *lenp)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	if (f == NULL)
		return NULL;

	render_requests(f, m);
	render_durations(f, m);
	fprintf(f,
	        "# HELP http_requests_in_flight Requests being processed.\n"
	        "# TYPE http_requests_in_flight gauge\n"
	        "http_requests_in_flight %ld\n",
	        atomic_load(&m->in_flight));
	fputs("# HELP cache_requests_total Cache lookups by result.\n"
	      "# TYPE cache_requests_total counter\n",
	      f);
	for (int i = CACHE_HIT; i <= CACHE_ERROR; i++)
		fprintf(f, "cache_requests_total{result=\"%s\"} %lu\n", cache_results[i],
		        get(&m->cache[i]));
	fprintf(f,
	        "# HELP db_pool_connections PostgreSQL pool connections by state.\n"
	        "# TYPE db_pool_connections gauge\n"
	        "db_pool_connections{state=\"idle\"} %d\n"
	        "db_pool_connections{state=\"busy\"} %d\n"
	        "# HELP redis_pool_connections Redis pool connections by state.\n"
	        "# TYPE redis_pool_connections gauge\n"
	        "redis_pool_connections{state=\"idle\"} %d\n"
	        "redis_pool_connections{state=\"busy\"} %d\n"
	        "# HELP stress_in_flight Stress burns running now.\n"
	        "# TYPE stress_in_flight gauge\n"
	        "stress_in_flight %ld\n"
	        "# HELP stress_cpu_seconds_total CPU time spent in stress burns.\n"
	        "# TYPE stress_cpu_seconds_total counter\n"
	        "stress_cpu_seconds_total %.6f\n",
	        g->db_idle, g->db_busy, g->redis_idle, g->redis_busy,
	        atomic_load(&m->stress_in_flight), (double)get(&m->stress_cpu_ns) / 1e9);
	render_stress_wait(f, m);
	fprintf(f,
	        "# HELP process_cpu_seconds_total User and system CPU time of the process.\n"
	        "# TYPE process_cpu_seconds_total counter\n"
	        "process_cpu_seconds_total %.2f\n"
	        "# HELP process_resident_memory_bytes Resident memory size.\n"
	        "# TYPE process_resident_memory_bytes gauge\n"
	        "process_resident_memory_bytes %.0f\n"
	        "# HELP process_start_time_seconds Start time since the Unix epoch.\n"
	        "# TYPE process_start_time_seconds gauge\n"
	        "process_start_time_seconds %.0f\n"
	        "# HELP build_info Build version and revision; always 1.\n"
	        "# TYPE build_info gauge\n"
	        "build_info{version=\"%s\",revision=\"%s\"} 1\n",
	        g->process_cpu_seconds, g->resident_bytes, g->start_time_seconds, g->version,
	        g->revision);
	if (fclose(f) != 0) {
		free(buf);
		return NULL;
	}
	*lenp = len;
	return buf;
}

void metrics_read_process(double *cpu_seconds, double *resident_bytes)
{
	char buf[1024];
	unsigned long utime = 0, stime = 0;
	long pages = 0;
	FILE *f;

	*cpu_seconds = 0;
	*resident_bytes = 0;
	if ((f = fopen("/proc/self/stat", "r")) != NULL) {
		size_t n = fread(buf, 1, sizeof(buf) - 1, f);
		buf[n] = '\0';
		fclose(f);
		/* Fields after the command name, which may itself hold spaces or ')'. */
		const char *p = strrchr(buf, ')');
		if (p != NULL &&
		    sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu", &utime,
		           &stime) == 2)
			*cpu_seconds = (double)(utime + stime) / (double)sysconf(_SC_CLK_TCK);
	}
	if ((f = fopen("/proc/self/statm", "r")) != NULL) {
		if (fscanf(f, "%*d %ld", &pages) == 1)
			*resident_bytes = (double)pages * (double)sysconf(_SC_PAGESIZE);
		fclose(f);
	}
}
