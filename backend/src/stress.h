/* stress.h - /api/stress: burn CPU in a bounded number of slots so the HPA has work to see. */
#ifndef STRESS_H
#define STRESS_H

#include <stdint.h>

#include "request.h"

#define STRESS_DEFAULT_MS 200
#define STRESS_MAX_MS 5000
#define STRESS_MAX_ITERATIONS 500000000LL

struct stress;

/* slots: the burns that may run at once (STRESS_SLOTS). NULL on ENOMEM. */
struct stress *stress_create(int slots);
void stress_free(struct stress *s); /* NULL-safe */

/* The result of one burn. */
struct stress_run {
	uint64_t iterations;
	double result;
	double duration_ms;
	double cpu_ms;
};

/*
 * Burn until max_iterations are done or max_cpu_ms of this thread's CPU time is used
 * (0 = no limit; one of them must be set). The loop is a dependent chain of square roots
 * seeded at run time, so the compiler cannot fold it away; result is its final value.
 */
void stress_burn(uint64_t max_iterations, double max_cpu_ms, struct stress_run *run);

/*
 * GET /api/stress?ms=|iterations=: the parameters on the event thread, the burn on a CPU
 * worker; 429 with Retry-After when no slot came free within STRESS_WAIT_MS.
 */
extern const struct handler stress_handler;

#endif
