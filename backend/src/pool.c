/* pool.c - mutex + condition variable; waits use CLOCK_MONOTONIC so clock changes don't matter. */
#include "pool.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <time.h>

#include "clock.h"

struct pool {
	pthread_mutex_t lock;
	pthread_cond_t returned;
	int size;
	void **items;
	char *busy;
};

struct pool *pool_create(int size)
{
	struct pool *p = calloc(1, sizeof(*p));
	pthread_condattr_t attr;
	if (p == NULL)
		return NULL;
	p->size = size;
	p->items = calloc((size_t)size, sizeof(*p->items));
	p->busy = calloc((size_t)size, 1);
	if (p->items == NULL || p->busy == NULL) {
		pool_free(p, NULL);
		return NULL;
	}
	pthread_mutex_init(&p->lock, NULL);
	pthread_condattr_init(&attr);
	pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
	pthread_cond_init(&p->returned, &attr);
	pthread_condattr_destroy(&attr);
	return p;
}

void pool_free(struct pool *p, void (*free_item)(void *item))
{
	if (p == NULL)
		return;
	if (p->items != NULL && free_item != NULL)
		for (int i = 0; i < p->size; i++)
			if (p->items[i] != NULL)
				free_item(p->items[i]);
	if (p->items != NULL && p->busy != NULL) {
		pthread_mutex_destroy(&p->lock);
		pthread_cond_destroy(&p->returned);
	}
	free(p->items);
	free(p->busy);
	free(p);
}

static int find_free(const struct pool *p)
{
	int empty = -1;
	for (int i = 0; i < p->size; i++) {
		if (p->busy[i])
			continue;
		if (p->items[i] != NULL)
			return i;
		if (empty < 0)
			empty = i;
	}
	return empty;
}

int pool_acquire(struct pool *p, int timeout_ms, void **itemp)
{
	struct timespec deadline = clock_deadline(timeout_ms);
	int slot;

	pthread_mutex_lock(&p->lock);
	while ((slot = find_free(p)) < 0)
		if (pthread_cond_timedwait(&p->returned, &p->lock, &deadline) == ETIMEDOUT) {
			slot = find_free(p);
			break;
		}
	if (slot >= 0) {
		p->busy[slot] = 1;
		*itemp = p->items[slot];
	}
	pthread_mutex_unlock(&p->lock);
	return slot;
}

void pool_release(struct pool *p, int slot, void *item)
{
	pthread_mutex_lock(&p->lock);
	p->items[slot] = item;
	p->busy[slot] = 0;
	pthread_cond_signal(&p->returned);
	pthread_mutex_unlock(&p->lock);
}

void pool_stats(struct pool *p, int *busy, int *idle)
{
	*busy = 0;
	*idle = 0;
	pthread_mutex_lock(&p->lock);
	for (int i = 0; i < p->size; i++) {
		if (p->busy[i])
			(*busy)++;
		else if (p->items[i] != NULL)
			(*idle)++;
	}
	pthread_mutex_unlock(&p->lock);
}
