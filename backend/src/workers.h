/* workers.h - a fixed set of threads running the jobs that would block an event thread. */
#ifndef WORKERS_H
#define WORKERS_H

#include <time.h>

#define WORKERS_NO_BOUND (-1)

struct workers;

/*
 * A job is embedded in the caller's own state (no allocation here): exactly one of run and
 * expire is called, once, with the job itself; the job must stay valid until then.
 */
struct work {
	void (*run)(struct work *w);    /* on one of the worker threads */
	void (*expire)(struct work *w); /* the wait was too long (see workers_start) */
	struct work *next;              /* the queue's */
	struct timespec deadline;       /* the queue's */
};

/*
 * Start n threads (signals should be blocked before, as for every thread). NULL on failure.
 * max_wait_ms >= 0 bounds the time a job waits in the queue: one still waiting max_wait_ms
 * after it was submitted while every thread is busy is taken off the queue and given to
 * expire instead of run, at that moment, by a thread of its own (never by a busy worker).
 * So 0 refuses a job at once when no thread is free. WORKERS_NO_BOUND: jobs wait their turn.
 */
struct workers *workers_start(int n, int max_wait_ms);

/* Queue w, first in first out. Returns -1 (and calls nothing) once workers_stop has begun. */
int workers_submit(struct workers *ws, struct work *w);

/*
 * Stop: with a bound, the jobs still queued are expired at once; without one, every queued
 * job runs. Then join the threads and free. NULL-safe.
 */
void workers_stop(struct workers *ws);

#endif
