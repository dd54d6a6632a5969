/* health.c - the monitor thread; probes read its results and never wait on the request path. */
#include "health.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "app.h"
#include "cache.h"
#include "clock.h"
#include "db.h"
#include "log.h"

struct dep_state {
	atomic_int up;
	atomic_int latency_us;
};

struct health {
	struct app *app;
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t wake;
	int stopping; /* under lock */
	int interval_ms;
	atomic_int schema_ready;
	struct dep_state db;
	struct dep_state redis;
};

/* Sleep up to ms, returning early (1) when asked to stop. */
static int nap(struct health *h, int ms)
{
	struct timespec until = clock_deadline(ms);
	int stop;
	pthread_mutex_lock(&h->lock);
	while (!h->stopping && pthread_cond_timedwait(&h->wake, &h->lock, &until) == 0)
		;
	stop = h->stopping;
	pthread_mutex_unlock(&h->lock);
	return stop;
}

/* Record a dependency check and log only the transitions, once each. */
static void record(struct dep_state *s, const char *name, int ok, double ms, const char *err)
{
	int was = atomic_exchange(&s->up, ok);
	atomic_store(&s->latency_us, (int)(ms * 1000));
	if (was == ok)
		return;
	if (ok)
		log_event(LOG_INFO, "dependency.up", json_pack("{s:s}", "dependency", name));
	else
		log_event(LOG_WARN, "dependency.down",
		          json_pack("{s:s, s:s}", "dependency", name, "error", err));
}

static void *monitor(void *arg)
{
	struct health *h = arg;
	char err[512];
	double ms;
	int backoff = 250;

	/* Start as "up" so that a first failure is logged as a transition. */
	atomic_store(&h->db.up, 1);
	atomic_store(&h->redis.up, 1);
	for (;;) {
		if (!atomic_load(&h->schema_ready)) {
			if (db_migrate(h->app->db, err, sizeof(err)) == 0) {
				atomic_store(&h->schema_ready, 1);
				log_msg(LOG_INFO, "db.migrated", "schema is up to date");
				backoff = 250;
			} else {
				record(&h->db, "database", 0, 0, err);
				int ms_wait = backoff;
				backoff = backoff * 2 > 5000 ? 5000 : backoff * 2;
				if (cache_ping(h->app->cache, &ms, err, sizeof(err)) == 0)
					record(&h->redis, "redis", 1, ms, NULL);
				else
					record(&h->redis, "redis", 0, ms, err);
				if (nap(h, ms_wait))
					break;
				continue;
			}
		}
		int db_ok = db_ping(h->app->db, &ms, err, sizeof(err)) == 0;
		record(&h->db, "database", db_ok, ms, err);
		int redis_ok = cache_ping(h->app->cache, &ms, err, sizeof(err)) == 0;
		record(&h->redis, "redis", redis_ok, ms, err);
		if (nap(h, h->interval_ms))
			break;
	}
	return NULL;
}

struct health *health_start(struct app *app, int interval_ms, char *err, size_t errlen)
{
	struct health *h = calloc(1, sizeof(*h));
	pthread_condattr_t attr;
	if (h == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	h->app = app;
	h->interval_ms = interval_ms;
	pthread_mutex_init(&h->lock, NULL);
	pthread_condattr_init(&attr);
	pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
	pthread_cond_init(&h->wake, &attr);
	pthread_condattr_destroy(&attr);
	if (pthread_create(&h->thread, NULL, monitor, h) != 0) {
		snprintf(err, errlen, "cannot start the health monitor thread");
		free(h);
		return NULL;
	}
	return h;
}

void health_stop(struct health *h)
{
	if (h == NULL)
		return;
	pthread_mutex_lock(&h->lock);
	h->stopping = 1;
	pthread_cond_signal(&h->wake);
	pthread_mutex_unlock(&h->lock);
	pthread_join(h->thread, NULL);
	pthread_mutex_destroy(&h->lock);
	pthread_cond_destroy(&h->wake);
	free(h);
}

int health_schema_ready(const struct health *h)
{
	return atomic_load(&h->schema_ready);
}

void health_read(const struct health *h, struct health_status *st)
{
	st->schema_ready = atomic_load(&h->schema_ready);
	st->db.up = atomic_load(&h->db.up);
	st->db.latency_us = atomic_load(&h->db.latency_us);
	st->redis.up = atomic_load(&h->redis.up);
	st->redis.latency_us = atomic_load(&h->redis.latency_us);
}
