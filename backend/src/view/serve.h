/* serve.h - the view's HTTP server: GET /api/autoscaler, /health/live, /health/ready. */
#ifndef VIEW_SERVE_H
#define VIEW_SERVE_H

#include <stddef.h>

#include "reader.h"
#include "view_config.h"

struct serve;

/* Listen on cfg's address and port. cfg and reader are borrowed until serve_stop. */
struct serve *serve_start(const struct view_config *cfg, struct reader *reader, char *err,
                          size_t errlen);

/* Readiness turns 503 (SIGTERM: the endpoints controller takes the pod out of rotation). */
void serve_drain(struct serve *s);

void serve_stop(struct serve *s); /* NULL-safe */

#endif
