/* cache.h - Redis read-through cache of response bodies. Fails open: an outage is a miss. */
#ifndef CACHE_H
#define CACHE_H

#include <stddef.h>

#include "config.h"

enum cache_result { CACHE_NONE, CACHE_HIT, CACHE_MISS, CACHE_ERROR };

/*
 * Every entry carries the generation number it was computed under ("users:<key>" =
 * "<gen>\n<body>"), and committed writes bump the generation. A reader gets the current
 * generation and the entry in one round trip (MGET) and serves the entry only when their
 * generations match; it stores a miss under the generation it read before querying, so a result
 * computed before a write can never be served after it: the classic read-miss / write /
 * stale-store race only leaves an entry that every reader ignores.
 *
 * Two generations: pages follow every write; single users only updates and deletes, since a
 * create cannot make a cached user stale (a new id was never cached: 404s are not, and ids are
 * never reused). So a steady trickle of creates does not empty the cache of users.
 */
enum cache_scope { CACHE_SCOPE_USER, CACHE_SCOPE_LIST };

struct cache_gen {
	char value[24];
};

struct cache;

struct cache *cache_create(const struct config *cfg);
void cache_free(struct cache *c); /* NULL-safe */

/*
 * CACHE_HIT: *body (caller frees) and *lenp hold the stored bytes.
 * CACHE_MISS: gen is filled; pass it to cache_put with the freshly computed body.
 * CACHE_ERROR: Redis is down, slow or backing off; serve from the database.
 */
enum cache_result cache_get(struct cache *c, enum cache_scope scope, const char *key, char **body,
                            size_t *lenp, struct cache_gen *gen);

/*
 * Store body under key in generation gen, with the configured TTL. Best effort, and it does not
 * wait for Redis: the reply is read by the next command on the same connection.
 */
void cache_put(struct cache *c, const struct cache_gen *gen, const char *key, const char *body,
               size_t len);

/*
 * Call after every committed write: users_changed = 0 for a create (pages only), 1 for an
 * update or delete. When Redis cannot be reached the bump is remembered and retried (both
 * generations) before this process serves any cached value again.
 */
void cache_invalidate(struct cache *c, int users_changed);

/* PING on a dedicated connection (health monitor thread only); clears the backoff on success. */
int cache_ping(struct cache *c, double *ms, char *err, size_t errlen);

void cache_pool_stats(struct cache *c, int *busy, int *idle);

#endif
