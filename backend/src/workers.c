/* workers.c - one mutex, one condition variable, an intrusive FIFO: no allocation per job. */
#include "workers.h"

#include <pthread.h>
#include <stdlib.h>

struct workers {
	pthread_mutex_t lock;
	pthread_cond_t queued;
	struct work *head, *tail; /* under lock */
	int stopping;             /* under lock */
	int n;
	pthread_t threads[];
};

static void *loop(void *arg)
{
	struct workers *ws = arg;
	pthread_mutex_lock(&ws->lock);
	for (;;) {
		while (ws->head == NULL && !ws->stopping)
			pthread_cond_wait(&ws->queued, &ws->lock);
		struct work *w = ws->head;
		if (w == NULL)
			break; /* stopping, and the queue is empty */
		ws->head = w->next;
		if (ws->head == NULL)
			ws->tail = NULL;
		pthread_mutex_unlock(&ws->lock);
		w->run(w); /* may free w: not touched again */
		pthread_mutex_lock(&ws->lock);
	}
	pthread_mutex_unlock(&ws->lock);
	return NULL;
}

struct workers *workers_start(int n)
{
	struct workers *ws = calloc(1, sizeof(*ws) + (size_t)n * sizeof(pthread_t));
	if (ws == NULL)
		return NULL;
	pthread_mutex_init(&ws->lock, NULL);
	pthread_cond_init(&ws->queued, NULL);
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
		if (ws->tail != NULL)
			ws->tail->next = w;
		else
			ws->head = w;
		ws->tail = w;
		pthread_cond_signal(&ws->queued);
		rc = 0;
	}
	pthread_mutex_unlock(&ws->lock);
	return rc;
}

void workers_stop(struct workers *ws)
{
	if (ws == NULL)
		return;
	pthread_mutex_lock(&ws->lock);
	ws->stopping = 1;
	pthread_cond_broadcast(&ws->queued);
	pthread_mutex_unlock(&ws->lock);
	for (int i = 0; i < ws->n; i++)
		pthread_join(ws->threads[i], NULL);
	pthread_cond_destroy(&ws->queued);
	pthread_mutex_destroy(&ws->lock);
	free(ws);
}
