/*
 * workers.c - one mutex, an intrusive FIFO: no allocation per job. With a bound on the wait,
 * a reaper thread sleeps until the head's deadline; the queue is in submission order, so the
 * head is always the job that must be expired first.
 */
#include "workers.h"

#include <pthread.h>
#include <stdlib.h>

#include "clock.h"

struct workers {
	pthread_mutex_t lock;
	pthread_cond_t queued;    /* for the workers: a job was queued, or stopping */
	pthread_cond_t changed;   /* for the reaper: a new head, a job taken, or stopping */
	struct work *head, *tail; /* under lock */
	int idle;                 /* under lock: threads not running a job (started or not) */
	int stopping;             /* under lock */
	int max_wait_ms;          /* WORKERS_NO_BOUND: no reaper */
	int reaping;              /* the reaper thread runs */
	pthread_t reaper;
	int n;
	pthread_t threads[];
};

static struct work *pop(struct workers *ws)
{
	struct work *w = ws->head;
	ws->head = w->next;
	if (ws->head == NULL)
		ws->tail = NULL;
	return w;
}

static void *loop(void *arg)
{
	struct workers *ws = arg;
	pthread_mutex_lock(&ws->lock);
	for (;;) {
		while (ws->head == NULL && !ws->stopping)
			pthread_cond_wait(&ws->queued, &ws->lock);
		if (ws->head == NULL)
			break; /* stopping, and the queue is empty */
		struct work *w = pop(ws);
		ws->idle--;
		if (ws->reaping)
			pthread_cond_signal(&ws->changed);
		pthread_mutex_unlock(&ws->lock);
		w->run(w); /* may free w: not touched again */
		pthread_mutex_lock(&ws->lock);
		ws->idle++;
	}
	pthread_mutex_unlock(&ws->lock);
	return NULL;
}

/*
 * A head whose deadline has passed is expired only while every worker is busy: an idle one
 * has been woken for it and takes it as soon as it gets the lock, however late that is.
 */
static void *reap(void *arg)
{
	struct workers *ws = arg;
	pthread_mutex_lock(&ws->lock);
	while (!ws->stopping) {
		struct work *w = ws->head;
		if (w == NULL || ws->idle > 0) {
			pthread_cond_wait(&ws->changed, &ws->lock);
			continue;
		}
		if (clock_ms_since(&w->deadline) < 0) {
			pthread_cond_timedwait(&ws->changed, &ws->lock, &w->deadline);
			continue;
		}
		pop(ws);
		pthread_mutex_unlock(&ws->lock);
		w->expire(w); /* may free w */
		pthread_mutex_lock(&ws->lock);
	}
	pthread_mutex_unlock(&ws->lock);
	return NULL;
}

struct workers *workers_start(int n, int max_wait_ms)
{
	struct workers *ws = calloc(1, sizeof(*ws) + (size_t)n * sizeof(pthread_t));
	pthread_condattr_t attr;
	if (ws == NULL)
		return NULL;
	ws->max_wait_ms = max_wait_ms;
	ws->idle = n;
	pthread_mutex_init(&ws->lock, NULL);
	pthread_cond_init(&ws->queued, NULL);
	pthread_condattr_init(&attr);
	pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
	pthread_cond_init(&ws->changed, &attr);
	pthread_condattr_destroy(&attr);
	if (max_wait_ms >= 0) {
		if (pthread_create(&ws->reaper, NULL, reap, ws) != 0) {
			workers_stop(ws);
			return NULL;
		}
		ws->reaping = 1;
	}
	for (; ws->n < n; ws->n++)
		if (pthread_create(&ws->threads[ws->n], NULL, loop, ws) != 0) {
			workers_stop(ws);
			return NULL;
		}
	return ws;
}

int workers_submit(struct workers *ws, struct work *w)
{
	int rc = -1;
	w->next = NULL;
	pthread_mutex_lock(&ws->lock);
	if (!ws->stopping) {
		/* Taken under the lock, so deadlines grow along the queue. */
		if (ws->max_wait_ms >= 0)
			w->deadline = clock_deadline(ws->max_wait_ms);
		if (ws->tail != NULL) {
			ws->tail->next = w;
		} else {
			ws->head = w;
			if (ws->reaping)
				pthread_cond_signal(&ws->changed);
		}
		ws->tail = w;
		pthread_cond_signal(&ws->queued);
		rc = 0;
	}
	pthread_mutex_unlock(&ws->lock);
	return rc;
}

void workers_stop(struct workers *ws)
{
	struct work *expired = NULL;
	if (ws == NULL)
		return;
	pthread_mutex_lock(&ws->lock);
	ws->stopping = 1;
	if (ws->max_wait_ms >= 0) {
		expired = ws->head; /* refused now rather than run: they were only waiting */
		ws->head = ws->tail = NULL;
	}
	pthread_cond_broadcast(&ws->queued);
	pthread_cond_broadcast(&ws->changed);
	pthread_mutex_unlock(&ws->lock);
	if (ws->reaping)
		pthread_join(ws->reaper, NULL);
	while (expired != NULL) {
		struct work *w = expired;
		expired = w->next;
		w->expire(w); /* may free w */
	}
	for (int i = 0; i < ws->n; i++)
		pthread_join(ws->threads[i], NULL);
	pthread_cond_destroy(&ws->changed);
	pthread_cond_destroy(&ws->queued);
	pthread_mutex_destroy(&ws->lock);
	free(ws);
}
