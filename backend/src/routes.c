/* routes.c - the route table; the patterns of the route ids are in router.c. */
#include "routes.h"

#include "ops.h"
#include "stress.h"
#include "users.h"

static const struct route routes[] = {
	{M_GET, R_HEALTH_LIVE, ops_live},
	{M_GET, R_HEALTH_READY, ops_ready},
	{M_GET, R_HEALTH, ops_health},
	{M_GET, R_API_HEALTH, ops_health},
	{M_GET, R_USERS, users_list},
	{M_POST, R_USERS, users_create},
	{M_GET, R_USER, users_get},
	{M_PUT, R_USER, users_update},
	{M_DELETE, R_USER, users_delete},
	{M_GET, R_STRESS, stress_handle},
	{M_GET, R_METRICS, ops_metrics},
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
