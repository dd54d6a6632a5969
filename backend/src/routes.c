/*
 * routes.c - the route table: every (method, path pattern) the server answers, and the handler
 * whose phases answer it (request.h). A request is followed from here into the handler's
 * module: the phase on the event thread, then, for what needs PostgreSQL or a CPU burn, the
 * phase on a worker of the kind it names. The patterns of the route ids are in router.c.
 */
#include "routes.h"

#include "ops.h"
#include "stress.h"
#include "users.h"

static const struct route routes[] = {
    /* method, route, handler               event thread            worker */
    {M_GET, R_HEALTH_LIVE, &ops_live},   /* answer                  -              */
    {M_GET, R_HEALTH_READY, &ops_ready}, /* the monitor's view      -              */
    {M_GET, R_HEALTH, &ops_health},      /* the monitor's view      -              */
    {M_GET, R_API_HEALTH, &ops_health},  /* the monitor's view      -              */
    {M_GET, R_USERS, &users_list},       /* limit, before; cache    DB: page, store */
    {M_POST, R_USERS, &users_create},    /* body                    DB: insert      */
    {M_GET, R_USER, &users_get},         /* id; cache               DB: row, store  */
    {M_PUT, R_USER, &users_update},      /* id, body                DB: update      */
    {M_DELETE, R_USER, &users_delete},   /* id                      DB: delete      */
    {M_GET, R_STRESS, &stress_handler},  /* ms or iterations        CPU: burn       */
    {M_GET, R_METRICS, &ops_metrics},    /* counters, pools         -              */
};

#define ROUTES (sizeof(routes) / sizeof(routes[0]))

enum route_result routes_find(const char *path, enum http_method method, struct route_match *m)
{
	return router_find(routes, ROUTES, path, method, m);
}

void routes_print(FILE *out)
{
	router_print(routes, ROUTES, out);
}

const struct route *routes_table(size_t *n)
{
	*n = ROUTES;
	return routes;
}
