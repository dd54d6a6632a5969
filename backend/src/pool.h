/* pool.h - a fixed set of slots lent to one thread at a time (PGconn, redisContext). */
#ifndef POOL_H
#define POOL_H

struct pool;

/* size slots, each holding a NULL item until the borrower stores one. NULL on ENOMEM. */
struct pool *pool_create(int size);

/* Free the pool; free_item (may be NULL) is called on every non-NULL item. NULL-safe. */
void pool_free(struct pool *p, void (*free_item)(void *item));

/*
 * Borrow a slot, waiting at most timeout_ms for one to be returned. Returns the slot index
 * (>= 0) or -1 on timeout. *itemp is the slot's item (NULL: the borrower must create it).
 * Slots holding an item are preferred, so connections are reused before new ones are opened.
 */
int pool_acquire(struct pool *p, int timeout_ms, void **itemp);

/* Return the slot, storing item in it (NULL when the borrower dropped a broken item). */
void pool_release(struct pool *p, int slot, void *item);

/* Counts for metrics: items lent out, and items idle in the pool. */
void pool_stats(struct pool *p, int *busy, int *idle);

#endif
