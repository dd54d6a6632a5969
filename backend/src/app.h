/* app.h - struct app: the only shared state, passed to every handler; server.c builds it. */
#ifndef APP_H
#define APP_H

#include <stdatomic.h>
#include <time.h>

#include "config.h"

struct db_pool;
struct cache;
struct metrics;
struct health;
struct stress;
struct http_server;

struct app {
	struct config cfg;
	struct db_pool *db;
	struct cache *cache;
	struct metrics *metrics;
	struct health *health;
	struct stress *stress;
	struct http_server *http; /* for main's shutdown; handlers leave it alone */
	atomic_int shutting_down; /* set on SIGTERM: readiness 503, Connection: close */
	struct timespec started;  /* CLOCK_MONOTONIC, for uptime */
	time_t started_wall;      /* for process_start_time_seconds */
};

#endif
