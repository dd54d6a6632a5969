/* pool.h - a fixed set of slots lent to one thread at a time (PGconn, redisContext). */
#ifndef POOL_H
#define POOL_H

struct pool;

/*
 * size slots, each holding a NULL item until the borrower stores one. free_item (may be NULL)
 * closes an item: the pool calls it on items it retires, and in pool_free. NULL on ENOMEM.
 */
struct pool *pool_create(int size, void (*free_item)(void *item));

/* Free the pool and close every item in it. NULL-safe. */
void pool_free(struct pool *p);

/*
 * Borrow a slot, waiting at most timeout_ms for one to be returned. Returns the slot index
 * (>= 0) or -1 on timeout. Slots holding an item are preferred, so connections are reused
 * before new ones are opened. *itemp is the slot's item, or NULL when the borrower must open
 * one: the slot was empty, or its item was opened before the last pool_failed and has been
 * closed here.
 */
int pool_acquire(struct pool *p, int timeout_ms, void **itemp);

/*
 * A connection of this pool broke, or could not be opened, while slot was lent: every item
 * opened before now is suspect (a server restart breaks them all) and is replaced when next
 * lent, instead of each one failing a request first. The borrower drops its own item; one
 * it opens from now on is current.
 */
void pool_failed(struct pool *p, int slot);

/* Return the slot, storing item in it (NULL when the borrower dropped a broken item). */
void pool_release(struct pool *p, int slot, void *item);

/* Counts for metrics: items lent out, and items idle in the pool. */
void pool_stats(struct pool *p, int *busy, int *idle);

#endif
