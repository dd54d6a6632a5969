/* http.h - the HTTP server: libmicrohttpd's daemon, its event threads and the workers. */
#ifndef HTTP_H
#define HTTP_H

#include <stddef.h>

struct app;
struct http_server;

/* Start the daemon (threads are created here: block signals before). NULL + err on failure. */
struct http_server *http_start(struct app *app, char *err, size_t errlen);

/* Stop accepting new connections; in-flight requests continue. */
void http_quiesce(struct http_server *srv);

/* Requests being processed right now. */
long http_in_flight(struct http_server *srv);

/* Close every connection and stop the threads. NULL-safe. */
void http_stop(struct http_server *srv);

/* Pure: 1 when a client-supplied X-Request-ID may be echoed back (1-64 of [A-Za-z0-9._-]). */
int http_request_id_valid(const char *id);

#endif
