/* cache.c - the only file that includes <hiredis.h>. */
#include "cache.h"

#include <hiredis/hiredis.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "clock.h"
#include "pool.h"

/* Generation keys by scope: lists follow every write, single users only updates and deletes. */
static const char *const gen_keys[] = {
    [CACHE_SCOPE_USER] = "users:gen:user", [CACHE_SCOPE_LIST] = "users:gen"};
#define BACKOFF_MS 1000

/*
 * A missing generation (first start, Redis restarted or evicted it) is seeded from Redis's
 * clock in microseconds, far above any generation used before, so entries written under an
 * older generation can never become current again.
 */
static const char seed_script[] =
    "local t = redis.call('TIME') "
    "redis.call('SET', KEYS[1], t[1] .. string.format('%06d', t[2]), 'NX') "
    "return redis.call('GET', KEYS[1])";
static const char bump_script[] =
    "for i = 1, #KEYS do "
    "if redis.call('EXISTS', KEYS[i]) == 0 then "
    "local t = redis.call('TIME') "
    "redis.call('SET', KEYS[i], t[1] .. string.format('%06d', t[2])) end "
    "redis.call('INCR', KEYS[i]) end "
    "return #KEYS";

/*
 * A pooled connection remembers how many replies it still owes for commands sent without
 * waiting (cache_put): they are read before the next command's.
 */
struct conn {
	redisContext *ctx;
	int owed;
};

struct cache {
	struct pool *slots;       /* told of every failure: every older connection is suspect */
	const struct config *cfg; /* borrowed; outlives the cache */
	struct timeval timeout;
	char ttl[16];
	/* Per scope, "MGET <generation key>" RESP-encoded: the head of every lookup. */
	char get_head[2][48];
	pthread_mutex_t scripts_lock;
	atomic_int scripts_ready; /* the two SHA1s below are set, and never change again */
	char seed_sha[41];
	char bump_sha[41];
	atomic_llong down_until_ms; /* skip Redis until then after a failure */
	atomic_int bump_pending;    /* a write's invalidation could not reach Redis: bump all */
	redisContext *monitor;
};

static long long now_ms(void)
{
	struct timespec ts = clock_now();
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void ctx_free(redisContext *ctx)
{
	if (ctx != NULL)
		redisFree(ctx);
}

static void conn_free(void *item)
{
	struct conn *c = item;
	if (c == NULL)
		return;
	ctx_free(c->ctx);
	free(c);
}

static redisReply *command(redisContext *ctx, int argc, const char **argv, const size_t *lens)
{
	return redisCommandArgv(ctx, argc, argv, lens);
}

/* The reply to the command just appended, after the ones owed; NULL on failure. */
static redisReply *reply(struct conn *conn)
{
	redisReply *r = NULL;
	for (; conn->owed > 0; conn->owed--) {
		if (redisGetReply(conn->ctx, (void **)&r) != REDIS_OK)
			return NULL;
		freeReplyObject(r); /* a failed SET only means "not cached" */
		r = NULL;
	}
	if (redisGetReply(conn->ctx, (void **)&r) != REDIS_OK)
		return NULL;
	return r;
}

static redisReply *conn_command(struct conn *conn, int argc, const char **argv, const size_t *lens)
{
	if (redisAppendCommandArgv(conn->ctx, argc, argv, lens) != REDIS_OK)
		return NULL;
	return reply(conn);
}

/* Load a script into this Redis; sha gets its SHA1 (the same for every connection). */
static int load_script(redisContext *ctx, const char *script, char *sha)
{
	const char *argv[] = {"SCRIPT", "LOAD", script};
	redisReply *r = command(ctx, 3, argv, NULL);
	int ok = r != NULL && r->type == REDIS_REPLY_STRING && r->len == 40;
	if (ok)
		memcpy(sha, r->str, 41);
	freeReplyObject(r);
	return ok ? 0 : -1;
}

static redisContext *ctx_open(struct cache *c, int load_scripts)
{
	redisContext *ctx =
	    redisConnectWithTimeout(c->cfg->redis_host, c->cfg->redis_port, c->timeout);
	if (ctx == NULL || ctx->err || redisSetTimeout(ctx, c->timeout) != REDIS_OK)
		goto fail;
	if (c->cfg->redis_password[0] != '\0') {
		const char *argv[] = {"AUTH", c->cfg->redis_password};
		redisReply *r = command(ctx, 2, argv, NULL);
		int ok = r != NULL && r->type == REDIS_REPLY_STATUS;
		freeReplyObject(r);
		if (!ok)
			goto fail;
	}
	if (load_scripts) {
		char seed_sha[41], bump_sha[41];
		if (load_script(ctx, seed_script, seed_sha) != 0 ||
		    load_script(ctx, bump_script, bump_sha) != 0)
			goto fail;
		/* Published once; every later connection computes the same values. */
		pthread_mutex_lock(&c->scripts_lock);
		if (!atomic_load(&c->scripts_ready)) {
			memcpy(c->seed_sha, seed_sha, sizeof(seed_sha));
			memcpy(c->bump_sha, bump_sha, sizeof(bump_sha));
			atomic_store(&c->scripts_ready, 1);
		}
		pthread_mutex_unlock(&c->scripts_lock);
	}
	return ctx;
fail:
	ctx_free(ctx);
	return NULL;
}

struct cache *cache_create(const struct config *cfg)
{
	struct cache *c = calloc(1, sizeof(*c));
	if (c == NULL)
		return NULL;
	c->slots = pool_create(cfg->redis_pool_size, conn_free);
	if (c->slots == NULL) {
		free(c);
		return NULL;
	}
	c->cfg = cfg;
	pthread_mutex_init(&c->scripts_lock, NULL);
	c->timeout.tv_sec = cfg->redis_timeout_ms / 1000;
	c->timeout.tv_usec = (cfg->redis_timeout_ms % 1000) * 1000;
	snprintf(c->ttl, sizeof(c->ttl), "%d", cfg->cache_ttl_s);
	for (int i = 0; i < 2; i++)
		snprintf(c->get_head[i], sizeof(c->get_head[i]),
		         "*3\r\n$4\r\nMGET\r\n$%zu\r\n%s\r\n", strlen(gen_keys[i]), gen_keys[i]);
	return c;
}

void cache_free(struct cache *c)
{
	if (c == NULL)
		return;
	pool_free(c->slots);
	ctx_free(c->monitor);
	pthread_mutex_destroy(&c->scripts_lock);
	free(c);
}

static void mark_failed(struct cache *c, int slot)
{
	pool_failed(c->slots, slot);
	atomic_store(&c->down_until_ms, now_ms() + BACKOFF_MS);
}

/*
 * Borrow a connected context, or -1 while Redis is known to be down. The pool replaces a
 * connection older than the last failure: after a Redis restart they are all dead, and finding
 * that out one request at a time would cost a backoff period each.
 */
static int borrow(struct cache *c, struct conn **connp)
{
	void *item = NULL;
	if (now_ms() < atomic_load(&c->down_until_ms))
		return -1;
	int slot = pool_acquire(c->slots, c->cfg->redis_timeout_ms, &item);
	struct conn *conn = item;
	if (slot < 0)
		return -1;
	if (conn == NULL && (conn = calloc(1, sizeof(*conn))) != NULL)
		conn->ctx = ctx_open(c, 1);
	if (conn == NULL || conn->ctx == NULL) {
		conn_free(conn);
		mark_failed(c, slot);
		pool_release(c->slots, slot, NULL);
		return -1;
	}
	*connp = conn;
	return slot;
}

/* Give the connection back; a failed one is dropped and Redis is skipped for a while. */
static void give_back(struct cache *c, int slot, struct conn *conn, int failed)
{
	if (failed || conn->ctx->err) {
		conn_free(conn);
		conn = NULL;
		mark_failed(c, slot);
	}
	pool_release(c->slots, slot, conn);
}

/* Bump the list generation, and the user generation too when users_changed. */
static int bump(struct cache *c, struct conn *conn, int users_changed)
{
	const char *argv[] = {"EVALSHA", c->bump_sha, users_changed ? "2" : "1",
	                      gen_keys[CACHE_SCOPE_LIST], gen_keys[CACHE_SCOPE_USER]};
	redisReply *r = conn_command(conn, users_changed ? 5 : 4, argv, NULL);
	int ok = r != NULL && r->type == REDIS_REPLY_INTEGER;
	freeReplyObject(r);
	return ok ? 0 : -1;
}

/* The generation, seeded if missing. */
static int seed(struct cache *c, struct conn *conn, enum cache_scope scope, struct cache_gen *gen)
{
	const char *argv[] = {"EVALSHA", c->seed_sha, "1", gen_keys[scope]};
	redisReply *r = conn_command(conn, 4, argv, NULL);
	int ok = r != NULL && r->type == REDIS_REPLY_STRING && r->len < sizeof(gen->value);
	if (ok)
		memcpy(gen->value, r->str, r->len + 1);
	freeReplyObject(r);
	return ok ? 0 : -1;
}

/*
 * An entry is "<generation>\n<body>", current while its generation is: it is overwritten in
 * place, so Redis holds one entry per key, not one per generation that saw a read.
 */
static int entry_current(const redisReply *entry, const struct cache_gen *gen, size_t *skip)
{
	size_t n = strlen(gen->value);
	if (entry->type != REDIS_REPLY_STRING || entry->len <= n || entry->str[n] != '\n' ||
	    memcmp(entry->str, gen->value, n) != 0)
		return 0;
	*skip = n + 1;
	return 1;
}

enum cache_result cache_get(struct cache *c, enum cache_scope scope, const char *key, char **body,
                            size_t *lenp, struct cache_gen *gen)
{
	struct conn *conn = NULL;
	redisReply *r = NULL;
	enum cache_result result = CACHE_ERROR;
	char cmd[256];
	size_t skip;
	int slot = borrow(c, &conn);

	*body = NULL;
	if (slot < 0)
		return CACHE_ERROR;
	if (atomic_load(&c->bump_pending)) {
		if (bump(c, conn, 1) != 0)
			goto out;
		atomic_store(&c->bump_pending, 0);
	}
	/* The hot path: one MGET of the generation and the entry, its head formatted once. */
	int n = snprintf(cmd, sizeof(cmd), "%s$%zu\r\nusers:%s\r\n", c->get_head[scope],
	                 strlen(key) + 6, key);
	if (n < 0 || n >= (int)sizeof(cmd) ||
	    redisAppendFormattedCommand(conn->ctx, cmd, (size_t)n) != REDIS_OK ||
	    (r = reply(conn)) == NULL)
		goto out;
	if (r->type != REDIS_REPLY_ARRAY || r->elements != 2)
		goto out;
	if (r->element[0]->type != REDIS_REPLY_STRING) {
		/* No generation yet: nothing cached can be current. */
		if (seed(c, conn, scope, gen) == 0)
			result = CACHE_MISS;
		goto out;
	}
	if (r->element[0]->len >= sizeof(gen->value))
		goto out;
	memcpy(gen->value, r->element[0]->str, r->element[0]->len + 1);
	result = CACHE_MISS;
	if (entry_current(r->element[1], gen, &skip)) {
		/* Take the reply's bytes instead of copying them. */
		redisReply *e = r->element[1];
		*lenp = e->len - skip;
		memmove(e->str, e->str + skip, *lenp + 1);
		*body = e->str;
		e->str = NULL;
		result = CACHE_HIT;
	}
out:
	give_back(c, slot, conn, result == CACHE_ERROR);
	freeReplyObject(r);
	return result;
}

void cache_put(struct cache *c, const struct cache_gen *gen, const char *key, const char *body,
               size_t len)
{
	struct conn *conn = NULL;
	char full[96];
	size_t glen = strlen(gen->value);
	char *entry = NULL;
	int slot;

	if (snprintf(full, sizeof(full), "users:%s", key) >= (int)sizeof(full) ||
	    (entry = malloc(glen + 1 + len)) == NULL)
		goto out;
	memcpy(entry, gen->value, glen);
	entry[glen] = '\n';
	memcpy(entry + glen + 1, body, len);
	if ((slot = borrow(c, &conn)) < 0)
		goto out;
	/* Sent without waiting for the reply: the connection's next user reads it. */
	const char *argv[] = {"SET", full, entry, "EX", c->ttl};
	size_t lens[] = {3, strlen(full), glen + 1 + len, 2, strlen(c->ttl)};
	int done = 0, ok = redisAppendCommandArgv(conn->ctx, 5, argv, lens) == REDIS_OK;
	while (ok && !done)
		ok = redisBufferWrite(conn->ctx, &done) == REDIS_OK;
	conn->owed += ok;
	give_back(c, slot, conn, !ok);
out:
	free(entry);
}

void cache_invalidate(struct cache *c, int users_changed)
{
	struct conn *conn = NULL;
	/* Pending first: if the bump below fails, the flag must already be set. */
	atomic_store(&c->bump_pending, 1);
	int slot = borrow(c, &conn);
	if (slot < 0)
		return;
	int failed = bump(c, conn, users_changed) != 0;
	if (!failed)
		atomic_store(&c->bump_pending, 0);
	give_back(c, slot, conn, failed);
}

int cache_ping(struct cache *c, double *ms, char *err, size_t errlen)
{
	struct timespec start = clock_now();
	redisReply *r = NULL;
	int ok = 0;

	if (c->monitor == NULL)
		c->monitor = ctx_open(c, 0);
	if (c->monitor != NULL) {
		const char *argv[] = {"PING"};
		r = command(c->monitor, 1, argv, NULL);
		ok = r != NULL && r->type == REDIS_REPLY_STATUS;
	}
	*ms = clock_ms_since(&start);
	if (!ok) {
		snprintf(err, errlen, "redis %s:%d: %s", c->cfg->redis_host, c->cfg->redis_port,
		         c->monitor && c->monitor->errstr[0] ? c->monitor->errstr : "unreachable");
		ctx_free(c->monitor);
		c->monitor = NULL;
	} else {
		atomic_store(&c->down_until_ms, 0); /* back: let requests try again now */
	}
	freeReplyObject(r);
	return ok ? 0 : -1;
}

void cache_pool_stats(struct cache *c, int *busy, int *idle)
{
	pool_stats(c->slots, busy, idle);
}
