/* server.h - the process's modules assembled once, in order, and torn down in reverse. */
#ifndef SERVER_H
#define SERVER_H

#include <stddef.h>

struct app;

/*
 * With app->cfg loaded (and signals blocked: threads start here), create the counters, the
 * PostgreSQL pool, the Redis cache and the stress slots, then start the health monitor and the
 * HTTP server, which serves from here on. -1 with err filled on failure; call server_close
 * either way.
 */
int server_open(struct app *app, char *err, size_t errlen);

/* Stop the HTTP server, then the monitor, then free the modules. Safe after a failed open. */
void server_close(struct app *app);

#endif
