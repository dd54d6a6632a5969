/* stress.c - the CPU burner and its slots. */
#include "stress.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "app.h"
#include "clock.h"
#include "metrics.h"
#include "params.h"
#include "pool.h"
#include "request.h"

#define CHECK_EVERY 4096 /* iterations between clock reads: ~20 us of work */

/* With a thread per connection, that thread waits for one of these slots itself. */
struct stress {
	struct pool *slots;
};

struct stress *stress_create(int slots)
{
	struct stress *s = calloc(1, sizeof(*s));
	if (s != NULL && (s->slots = pool_create(slots, NULL)) == NULL) {
		free(s);
		s = NULL;
	}
	return s;
}

void stress_free(struct stress *s)
{
	if (s == NULL)
		return;
	pool_free(s->slots);
	free(s);
}

void stress_burn(uint64_t max_iterations, double max_cpu_ms, struct stress_run *run)
{
	struct timespec wall0, wall1, cpu0, cpu1;
	uint64_t i = 0;
	double x;

	clock_gettime(CLOCK_MONOTONIC, &wall0);
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &cpu0);
	x = 1.0 + (double)(wall0.tv_nsec & 0xff); /* unknown until run time */
	for (;;) {
		uint64_t stop = i + CHECK_EVERY;
		if (max_iterations != 0 && stop > max_iterations)
			stop = max_iterations;
		for (; i < stop; i++)
			x = sqrt(x * 1.0000001 + (double)(i & 1023));
		if (max_iterations != 0 && i >= max_iterations)
			break;
		clock_gettime(CLOCK_THREAD_CPUTIME_ID, &cpu1);
		if (max_cpu_ms > 0 && clock_ms_between(&cpu0, &cpu1) >= max_cpu_ms)
			break;
	}
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &cpu1);
	clock_gettime(CLOCK_MONOTONIC, &wall1);
	run->iterations = i;
	run->result = x;
	run->duration_ms = clock_ms_between(&wall0, &wall1);
	run->cpu_ms = clock_ms_between(&cpu0, &cpu1);
}

void stress_handle(struct app *app, const struct request *req, struct response *res)
{
	const char *ms_s = request_query(req, "ms");
	const char *it_s = request_query(req, "iterations");
	long long ms = STRESS_DEFAULT_MS, iterations = 0;
	struct stress_run run;
	struct stress *s = app->stress;
	void *item = NULL;
	int slot = -1;

	if (ms_s != NULL && it_s != NULL) {
		response_error(res, req, 400, "give either ms or iterations, not both", "ms");
		return;
	}
	if (ms_s != NULL && params_int(ms_s, 1, STRESS_MAX_MS, &ms) != 0) {
		response_error(res, req, 400, "ms must be an integer from 1 to 5000", "ms");
		return;
	}
	if (it_s != NULL && params_int(it_s, 1, STRESS_MAX_ITERATIONS, &iterations) != 0) {
		response_error(res, req, 400, "iterations must be an integer from 1 to 500000000",
			       "iterations");
		return;
	}
	/*
	 * With event threads the burn runs on one of STRESS_SLOTS worker threads, and the wait
	 * for one is their queue, which refuses what waited STRESS_WAIT_MS (req->expired) without
	 * ever holding up a burn or an event thread. With a thread per connection, this thread
	 * waits for a slot itself.
	 */
	if (!req->offloaded) {
		metrics_stress_queued(app->metrics);
		if (request_offload(req, OFFLOAD_CPU))
			return; /* queued */
		slot = pool_acquire(s->slots, app->cfg.stress_wait_ms, &item);
	}
	int refused = req->expired || (!req->offloaded && slot < 0);
	metrics_stress_waited(app->metrics, clock_ms_since(&req->started) / 1e3, refused);
	if (refused) {
		char msg[96];
		snprintf(msg, sizeof(msg), "every stress slot stayed busy for %d ms, retry later",
			 app->cfg.stress_wait_ms);
		res->retry_after_s = 1;
		response_error(res, req, 429, msg, NULL);
		return;
	}
	metrics_stress_started(app->metrics);
	stress_burn((uint64_t)iterations, iterations ? 0 : (double)ms, &run);
	metrics_stress_finished(app->metrics, run.cpu_ms);
	if (slot >= 0)
		pool_release(s->slots, slot, NULL);

	response_json(res, 200,
		      json_pack("{s:s, s:I, s:f, s:f, s:f, s:s}", "message",
				"Stress test completed", "iterations", (json_int_t)run.iterations,
				"result", run.result, "duration_ms", run.duration_ms, "cpu_ms",
				run.cpu_ms, "served_by", app->cfg.pod_name));
}
