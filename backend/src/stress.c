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

/* A slot is held while a burn runs (see burn). */
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

/* ---- GET /api/stress ---- */

struct burn_state {
	long long ms, iterations; /* iterations 0: burn ms of CPU time */
};

/* Event thread: the parameters; then the request waits for a burn worker. */
static enum phase_next burn_params(struct app *app, const struct request *req, struct response *res)
{
	struct burn_state *st = req->state;
	const char *ms_s = request_query(req, "ms");
	const char *it_s = request_query(req, "iterations");

	st->ms = STRESS_DEFAULT_MS;
	if (ms_s != NULL && it_s != NULL) {
		response_error(res, req, 400, "give either ms or iterations, not both", "ms");
		return PHASE_DONE;
	}
	if (ms_s != NULL && params_int(ms_s, 1, STRESS_MAX_MS, &st->ms) != 0) {
		response_error(res, req, 400, "ms must be an integer from 1 to 5000", "ms");
		return PHASE_DONE;
	}
	if (it_s != NULL && params_int(it_s, 1, STRESS_MAX_ITERATIONS, &st->iterations) != 0) {
		response_error(res, req, 400, "iterations must be an integer from 1 to 500000000",
		               "iterations");
		return PHASE_DONE;
	}
	metrics_stress_queued(app->metrics);
	return PHASE_WORK;
}

static void refuse(struct app *app, const struct request *req, struct response *res)
{
	char msg[96];
	snprintf(msg, sizeof(msg), "every stress slot stayed busy for %d ms, retry later",
	         app->cfg.stress_wait_ms);
	res->retry_after_s = 1;
	response_error(res, req, 429, msg, NULL);
}

/*
 * CPU worker: the burn, in a slot. There are as many burn workers as slots, so a worker finds
 * one free at once; the wait for a worker is their queue's, which hands a request that waited
 * STRESS_WAIT_MS to burn_expired instead. With a thread per connection, this thread waits up to
 * STRESS_WAIT_MS for a slot itself.
 */
static void burn(struct app *app, const struct request *req, struct response *res)
{
	struct burn_state *st = req->state;
	struct stress *s = app->stress;
	struct stress_run run;
	void *item = NULL;
	int slot = pool_acquire(s->slots, app->cfg.stress_wait_ms, &item);

	metrics_stress_waited(app->metrics, clock_ms_since(&req->started) / 1e3, slot < 0);
	if (slot < 0) {
		refuse(app, req, res);
		return;
	}
	metrics_stress_started(app->metrics);
	stress_burn((uint64_t)st->iterations, st->iterations ? 0 : (double)st->ms, &run);
	metrics_stress_finished(app->metrics, run.cpu_ms);
	pool_release(s->slots, slot, NULL);

	response_json(res, 200,
	              json_pack("{s:s, s:I, s:f, s:f, s:f, s:s}", "message",
	                        "Stress test completed", "iterations", (json_int_t)run.iterations,
	                        "result", run.result, "duration_ms", run.duration_ms, "cpu_ms",
	                        run.cpu_ms, "served_by", app->cfg.pod_name));
}

/* The reaper: no burn worker came free within STRESS_WAIT_MS (or they are stopping). */
static void burn_expired(struct app *app, const struct request *req, struct response *res)
{
	metrics_stress_waited(app->metrics, clock_ms_since(&req->started) / 1e3, 1);
	refuse(app, req, res);
}

const struct handler stress_handler = {
    .state_size = sizeof(struct burn_state),
    .event = burn_params,
    .worker = WORKER_CPU,
    .work = burn,
    .expired = burn_expired,
};
