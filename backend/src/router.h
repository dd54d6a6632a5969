/* router.h - methods, route ids and patterns, and matching against a route table. Pure. */
#ifndef ROUTER_H
#define ROUTER_H

#include <stddef.h>
#include <stdio.h>

enum http_method { M_GET, M_HEAD, M_POST, M_PUT, M_DELETE, M_OPTIONS, M_OTHER, M_COUNT };

/* Route ids double as metric label indexes; R_NONE is every unmatched path. */
enum route_id {
	R_HEALTH_LIVE,
	R_HEALTH_READY,
	R_HEALTH,
	R_API_HEALTH,
	R_USERS,
	R_USER,
	R_STRESS,
	R_METRICS,
	R_NONE,
	R_COUNT
};

struct handler; /* a route's phases (request.h); the router only passes it on */

/* One row of a route table (routes.c holds the server's). */
struct route {
	enum http_method method;
	enum route_id id;
	const struct handler *handler;
};

enum route_result { ROUTE_FOUND, ROUTE_NOT_FOUND, ROUTE_METHOD_NOT_ALLOWED };

struct route_match {
	enum route_id route;
	const struct handler *handler; /* NULL unless ROUTE_FOUND */
	char param[24];     /* the {id} segment, when the pattern has one (truncated if long) */
	int param_too_long; /* the segment did not fit: certainly not a valid id */
	char allow[64];     /* for 405 and OPTIONS: the methods the path accepts */
};

enum http_method router_method(const char *name);
const char *router_method_name(enum http_method m);

/* The route pattern for metrics and logs ("/api/users/{id}"), "unmatched" for R_NONE. */
const char *router_route_name(enum route_id r);

/*
 * Match path (no query string) and method against the n rows of table. OPTIONS is accepted on
 * every known path and HEAD wherever GET is; allow is filled for OPTIONS and
 * ROUTE_METHOD_NOT_ALLOWED.
 */
enum route_result router_find(const struct route *table, size_t n, const char *path,
                              enum http_method method, struct route_match *m);

/* Print "METHOD PATTERN" for every row of table, one per line. */
void router_print(const struct route *table, size_t n, FILE *out);

#endif
