/* server.c - the one place that builds struct app: main and the HTTP fuzz harness share it. */
#include "server.h"

#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "app.h"
#include "cache.h"
#include "clock.h"
#include "db.h"
#include "health.h"
#include "http.h"
#include "metrics.h"
#include "stress.h"

#define HEALTH_INTERVAL_MS 1000

int server_open(struct app *app, char *err, size_t errlen)
{
	app->started = clock_now();
	app->started_wall = time(NULL);
	app->metrics = calloc(1, sizeof(*app->metrics));
	app->db = db_pool_create(&app->cfg);
	app->cache = cache_create(&app->cfg);
	app->stress = stress_create(app->cfg.stress_slots);
	if (app->metrics == NULL || app->db == NULL || app->cache == NULL || app->stress == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	metrics_init(app->metrics);
	if ((app->health = health_start(app, HEALTH_INTERVAL_MS, err, errlen)) == NULL ||
	    (app->http = http_start(app, err, errlen)) == NULL)
		return -1;
	return 0;
}

void server_close(struct app *app)
{
	http_stop(app->http);
	health_stop(app->health);
	stress_free(app->stress);
	cache_free(app->cache);
	db_pool_free(app->db);
	free(app->metrics);
	app->http = NULL;
	app->health = NULL;
	app->stress = NULL;
	app->cache = NULL;
	app->db = NULL;
	app->metrics = NULL;
}
