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
	void (*free_item)(void *item);
	int size;
	long epoch; /* under lock: bumped by pool_failed */
	void **items;
	long *opened; /* per slot: the epoch its item was opened in */
	char *busy;
};

struct pool *pool_create(int size, void (*free_item)(void *item))
{
	struct pool *p = calloc(1, sizeof(*p));
	pthread_condattr_t attr;
	if (p == NULL)
		return NULL;
	p->size = size;
	p->free_item = free_item;
	p->items = calloc((size_t)size, sizeof(*p->items));
	p->opened = calloc((size_t)size, sizeof(*p->opened));
	p->busy = calloc((size_t)size, 1);
	if (p->items == NULL || p->opened == NULL || p->busy == NULL) {
		free(p->items);
		free(p->opened);
		free(p->busy);
		free(p);
		return NULL;
	}
	pthread_mutex_init(&p->lock, NULL);
	pthread_condattr_init(&attr);
	pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
	pthread_cond_init(&p->returned, &attr);
	pthread_condattr_destroy(&attr);
	return p;
}

void pool_free(struct pool *p)
{
	if (p == NULL)
		return;
	for (int i = 0; i < p->size && p->free_item != NULL; i++)
		if (p->items[i] != NULL)
			p->free_item(p->items[i]);
	pthread_mutex_destroy(&p->lock);
	pthread_cond_destroy(&p->returned);
	free(p->items);
	free(p->opened);
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
	void *stale = NULL;
	int slot;

	pthread_mutex_lock(&p->lock);
	while ((slot = find_free(p)) < 0)
		if (pthread_cond_timedwait(&p->returned, &p->lock, &deadline) == ETIMEDOUT) {
			slot = find_free(p);
			break;
		}
	if (slot >= 0) {
		p->busy[slot] = 1;
		if (p->items[slot] != NULL && p->opened[slot] != p->epoch) {
			stale = p->items[slot];
			p->items[slot] = NULL;
		}
		if (p->items[slot] == NULL)
			p->opened[slot] = p->epoch; /* the borrower opens one now */
		*itemp = p->items[slot];
	}
	pthread_mutex_unlock(&p->lock);
	if (stale != NULL && p->free_item != NULL)
		p->free_item(stale); /* outside the lock: closing may talk to the server */
	return slot;
}

void pool_failed(struct pool *p, int slot)
{
	pthread_mutex_lock(&p->lock);
	p->opened[slot] = ++p->epoch;
	pthread_mutex_unlock(&p->lock);
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
