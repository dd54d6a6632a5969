/* ops.h - the operational endpoints: liveness, readiness, the health report and /metrics. */
#ifndef OPS_H
#define OPS_H

struct app;
struct request;
struct response;

/* Always 200 while the process can answer at all. */
void ops_live(struct app *app, const struct request *req, struct response *res);

/* 503 while shutting down, or while PostgreSQL or the schema is not ready (the monitor's view). */
void ops_ready(struct app *app, const struct request *req, struct response *res);

/* Every dependency with its latency, the version and the uptime; 503 without PostgreSQL. */
void ops_health(struct app *app, const struct request *req, struct response *res);

/* The counters, the pools and the process in Prometheus text format. */
void ops_metrics(struct app *app, const struct request *req, struct response *res);

#endif
