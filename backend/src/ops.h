/* ops.h - the operational endpoints: liveness, readiness, the health report and /metrics. */
#ifndef OPS_H
#define OPS_H

#include "request.h"

/* Each answers on the event thread alone, from state kept by others: no worker phase. */

/* Always 200 while the process can answer at all. */
extern const struct handler ops_live;

/* 503 while shutting down, or while PostgreSQL or the schema is not ready (the monitor's view). */
extern const struct handler ops_ready;

/* Every dependency with its latency, the version and the uptime; 503 without PostgreSQL. */
extern const struct handler ops_health;

/* The counters, the pools and the process in Prometheus text format. */
extern const struct handler ops_metrics;

#endif
