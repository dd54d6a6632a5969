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
	ck_assert_ptr_eq(m.handler, users_create);
	ck_assert_int_eq(routes_find("/metrics", M_GET, &m), ROUTE_FOUND);
}
END_TEST

START_TEST(test_param_route)
{
	struct route_match m;
	ck_assert_int_eq(routes_find("/api/users/42", M_DELETE, &m), ROUTE_FOUND);
	ck_assert_int_eq(m.route, R_USER);
	ck_assert_str_eq(m.param, "42");
	ck_assert_ptr_eq(m.handler, users_delete);
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
	const char *paths[] = {"/", "/api", "/api/users/", "/api/users/1/x", "/api/userss",
			       "/health/", "/api/users//1", ""};
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
	ck_assert_ptr_eq(m.handler, users_list);
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
	suite_add_tcase(s, tc);
	return unit_run(s);
}
