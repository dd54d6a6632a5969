/* Routing: 404 vs 405 + Allow, HEAD and OPTIONS, the {id} segment. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "routes.h"
#include "users.h"
#include "unit.h"

START_TEST(test_exact_routes)
{
	struct route_match m;
	ck_assert_int_eq(routes_find("/health/live", M_GET, &m), ROUTE_FOUND);
	ck_assert_int_eq(m.route, R_HEALTH_LIVE);
	ck_assert_ptr_nonnull(m.handler);
	ck_assert_int_eq(routes_find("/api/users", M_POST, &m), ROUTE_FOUND);
	ck_assert_int_eq(m.route, R_USERS);
	ck_assert_ptr_eq(m.handler, &users_create);
	ck_assert_int_eq(routes_find("/metrics", M_GET, &m), ROUTE_FOUND);
}
END_TEST

START_TEST(test_param_route)
{
	struct route_match m;
	ck_assert_int_eq(routes_find("/api/users/42", M_DELETE, &m), ROUTE_FOUND);
	ck_assert_int_eq(m.route, R_USER);
	ck_assert_str_eq(m.param, "42");
	ck_assert_ptr_eq(m.handler, &users_delete);
	ck_assert_int_eq(m.param_too_long, 0);
}
END_TEST

START_TEST(test_long_param_is_flagged)
{
	struct route_match m;
	ck_assert_int_eq(routes_find("/api/users/123456789012345678901234567890", M_GET, &m),
	                 ROUTE_FOUND);
	ck_assert_int_eq(m.param_too_long, 1);
}
END_TEST

START_TEST(test_not_found)
{
	struct route_match m;
	const char *paths[] = {"/",           "/api",     "/api/users/",   "/api/users/1/x",
	                       "/api/userss", "/health/", "/api/users//1", ""};
	for (size_t i = 0; i < sizeof(paths) / sizeof(paths[0]); i++) {
		ck_assert_msg(routes_find(paths[i], M_GET, &m) == ROUTE_NOT_FOUND, "%s", paths[i]);
		ck_assert_int_eq(m.route, R_NONE);
	}
}
END_TEST

START_TEST(test_method_not_allowed_lists_allow)
{
	struct route_match m;
	ck_assert_int_eq(routes_find("/api/users", M_DELETE, &m), ROUTE_METHOD_NOT_ALLOWED);
	ck_assert_str_eq(m.allow, "GET, HEAD, POST, OPTIONS");
	ck_assert_ptr_null(m.handler);
	ck_assert_int_eq(routes_find("/api/users/1", M_POST, &m), ROUTE_METHOD_NOT_ALLOWED);
	ck_assert_str_eq(m.allow, "GET, HEAD, PUT, DELETE, OPTIONS");
	ck_assert_int_eq(routes_find("/health/live", M_OTHER, &m), ROUTE_METHOD_NOT_ALLOWED);
}
END_TEST

START_TEST(test_head_and_options)
{
	struct route_match m;
	ck_assert_int_eq(routes_find("/api/users", M_HEAD, &m), ROUTE_FOUND);
	ck_assert_ptr_eq(m.handler, &users_list);
	ck_assert_int_eq(routes_find("/api/stress", M_OPTIONS, &m), ROUTE_FOUND);
	ck_assert_str_eq(m.allow, "GET, HEAD, OPTIONS");
	ck_assert_int_eq(routes_find("/nope", M_OPTIONS, &m), ROUTE_NOT_FOUND);
}
END_TEST

START_TEST(test_methods_and_names)
{
	ck_assert_int_eq(router_method("GET"), M_GET);
	ck_assert_int_eq(router_method("DELETE"), M_DELETE);
	ck_assert_int_eq(router_method("get"), M_OTHER);
	ck_assert_int_eq(router_method("BREW"), M_OTHER);
	ck_assert_str_eq(router_route_name(R_USER), "/api/users/{id}");
	ck_assert_str_eq(router_route_name(R_NONE), "unmatched");
}
END_TEST

/* Every handler in the table declares phases http.c can run (request.h). */
START_TEST(test_every_route_has_runnable_phases)
{
	size_t n = 0;
	const struct route *t = routes_table(&n);
	ck_assert_uint_gt(n, 0);
	for (size_t i = 0; i < n; i++) {
		const struct handler *h = t[i].handler;
		const char *name = router_route_name(t[i].id);
		ck_assert_msg(h != NULL, "%s: no handler", name);
		ck_assert_msg(h->event != NULL || h->work != NULL, "%s: no phase", name);
		ck_assert_msg(h->worker >= 0 && h->worker < WORKER_KINDS, "%s: worker kind", name);
		/* Workers with a bound on the wait hand a late request to expired. */
		if (h->work != NULL && h->worker == WORKER_CPU)
			ck_assert_msg(h->expired != NULL, "%s: no expired phase", name);
		if (h->work == NULL)
			ck_assert_msg(h->expired == NULL, "%s: expired without work", name);
	}
	/* The reads look the cache up on the event thread and query on a DB worker. */
	ck_assert(users_get.event != NULL && users_get.work != NULL);
	ck_assert_int_eq(users_get.worker, WORKER_DB);
	ck_assert(users_list.event != NULL && users_list.worker == WORKER_DB);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("router");
	TCase *tc = tcase_create("core");
	tcase_add_test(tc, test_exact_routes);
	tcase_add_test(tc, test_param_route);
	tcase_add_test(tc, test_long_param_is_flagged);
	tcase_add_test(tc, test_not_found);
	tcase_add_test(tc, test_method_not_allowed_lists_allow);
	tcase_add_test(tc, test_head_and_options);
	tcase_add_test(tc, test_methods_and_names);
	tcase_add_test(tc, test_every_route_has_runnable_phases);
	suite_add_tcase(s, tc);
	return unit_run(s);
}
