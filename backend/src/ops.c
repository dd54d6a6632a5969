/* ops.c - answers from state others keep (the health monitor, the counters, the pools). */
#include "ops.h"

#include <stdatomic.h>
#include <time.h>

#include "app.h"
#include "cache.h"
#include "clock.h"
#include "db.h"
#include "health.h"
#include "metrics.h"

static enum phase_next live(struct app *app, const struct request *req, struct response *res)
{
	(void)app;
	(void)req;
	response_static(res, 200, "{\"status\":\"alive\"}");
	return PHASE_DONE;
}

static enum phase_next ready(struct app *app, const struct request *req, struct response *res)
{
	struct health_status st;
	const char *reason = NULL;
	(void)req;

	health_read(app->health, &st);
	if (atomic_load(&app->shutting_down))
		reason = "shutting down";
	else if (!st.db.up)
		reason = "database unavailable";
	else if (!st.schema_ready)
		reason = "database schema not ready";
	if (reason != NULL)
		response_json(res, 503,
		              json_pack("{s:s, s:s}", "status", "not ready", "reason", reason));
	else
		response_static(res, 200, "{\"status\":\"ready\"}");
	return PHASE_DONE;
}

static json_t *dep_json(const struct health_dep *d)
{
	if (!d->up)
		return json_pack("{s:s}", "status", "down");
	return json_pack("{s:s, s:f}", "status", "up", "latency_ms",
	                 (double)d->latency_us / 1000.0);
}

static enum phase_next health(struct app *app, const struct request *req, struct response *res)
{
	struct health_status st;
	struct timespec now = clock_now();
	(void)req;

	health_read(app->health, &st);
	int db_up = st.db.up && st.schema_ready;
	const char *status = !db_up ? "unhealthy" : st.redis.up ? "healthy" : "degraded";
	response_json(res, db_up ? 200 : 503,
	              json_pack("{s:s, s:{s:o, s:o}, s:s, s:I, s:s}", "status", status, "checks",
	                        "database", dep_json(&st.db), "redis", dep_json(&st.redis),
	                        "version", APP_VERSION, "uptime_seconds",
	                        (json_int_t)(now.tv_sec - app->started.tv_sec), "served_by",
	                        app->cfg.pod_name));
	return PHASE_DONE;
}

static enum phase_next metrics(struct app *app, const struct request *req, struct response *res)
{
	struct metrics_gauges g = {.version = APP_VERSION, .revision = APP_REVISION};
	size_t len = 0;
	char *text;

	db_pool_stats(app->db, &g.db_busy, &g.db_idle);
	cache_pool_stats(app->cache, &g.redis_busy, &g.redis_idle);
	metrics_read_process(&g.process_cpu_seconds, &g.resident_bytes);
	g.start_time_seconds = (double)app->started_wall;
	text = metrics_render(app->metrics, &g, &len);
	if (text == NULL) {
		response_error(res, req, 500, "internal error", NULL);
		return PHASE_DONE;
	}
	response_body(res, 200, text, len);
	res->content_type = "text/plain; version=0.0.4; charset=utf-8";
	return PHASE_DONE;
}

const struct handler ops_live = {.event = live};
const struct handler ops_ready = {.event = ready};
const struct handler ops_health = {.event = health};
const struct handler ops_metrics = {.event = metrics};
