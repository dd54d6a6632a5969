/* workers.h - a fixed set of threads running the jobs that would block an event thread. */
#ifndef WORKERS_H
#define WORKERS_H

struct workers;

/*
 * A job is embedded in the caller's own state (no allocation here): run is called once, on
 * one of the worker threads, with the job itself; the job must stay valid until then.
 */
struct work {
	void (*run)(struct work *w);
	struct work *next; /* the queue's */
};

/* Start n threads (signals should be blocked before, as for every thread). NULL on failure. */
struct workers *workers_start(int n);

/* Queue w, first in first out. Returns -1 (and runs nothing) once workers_stop has begun. */
int workers_submit(struct workers *ws, struct work *w);

/* Run every job already queued, then join the threads and free. NULL-safe. */
void workers_stop(struct workers *ws);

#endif
