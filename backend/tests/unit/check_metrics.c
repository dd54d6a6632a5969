/* Metrics exposition and the request-id rule. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "http.h"
#include "metrics.h"
#include "unit.h"

static char *render(struct metrics *m)
{
	struct metrics_gauges g = {.db_busy = 1,
	                           .db_idle = 3,
	                           .version = "1.2.3",
	                           .revision = "abc",
	                           .resident_bytes = 4096};
	size_t len = 0;
	char *text = metrics_render(m, &g, &len);
	ck_assert_ptr_nonnull(text);
	ck_assert_int_eq(len, strlen(text));
	return text;
}

START_TEST(test_counters_use_route_patterns)
{
	struct metrics *m = calloc(1, sizeof(*m));
	metrics_init(m);
	metrics_observe(m, R_USER, M_GET, 200, 0.0004);
	metrics_observe(m, R_USER, M_GET, 200, 0.003);
	metrics_observe(m, R_NONE, M_GET, 404, 0.0001);
	metrics_observe(m, R_USERS, M_POST, 999, 0.2);
	char *t = render(m);
	ck_assert_ptr_nonnull(strstr(
	    t, "http_requests_total{method=\"GET\",route=\"/api/users/{id}\",status=\"200\"} 2\n"));
	ck_assert_ptr_nonnull(strstr(
	    t, "http_requests_total{method=\"GET\",route=\"unmatched\",status=\"404\"} 1\n"));
	ck_assert_ptr_nonnull(strstr(
	    t, "http_requests_total{method=\"POST\",route=\"/api/users\",status=\"other\"} 1\n"));
	free(t);
	free(m);
}
END_TEST

START_TEST(test_histogram_is_cumulative)
{
	struct metrics *m = calloc(1, sizeof(*m));
	metrics_init(m);
	metrics_observe(m, R_HEALTH_LIVE, M_GET, 200, 0.0004); /* le 0.0005 */
	metrics_observe(m, R_HEALTH_LIVE, M_GET, 200, 0.003);  /* le 0.005 */
	metrics_observe(m, R_HEALTH_LIVE, M_GET, 200, 30);     /* only +Inf */
	char *t = render(m);
	ck_assert_ptr_nonnull(strstr(
	    t, "http_request_duration_seconds_bucket{route=\"/health/live\",le=\"0.0005\"} 1\n"));
	ck_assert_ptr_nonnull(strstr(
	    t, "http_request_duration_seconds_bucket{route=\"/health/live\",le=\"0.005\"} 2\n"));
	ck_assert_ptr_nonnull(strstr(
	    t, "http_request_duration_seconds_bucket{route=\"/health/live\",le=\"2.5\"} 2\n"));
	ck_assert_ptr_nonnull(strstr(
	    t, "http_request_duration_seconds_bucket{route=\"/health/live\",le=\"+Inf\"} 3\n"));
	ck_assert_ptr_nonnull(
	    strstr(t, "http_request_duration_seconds_count{route=\"/health/live\"} 3\n"));
	ck_assert_ptr_nonnull(
	    strstr(t, "http_request_duration_seconds_sum{route=\"/health/live\"} 30.0034"));
	free(t);
	free(m);
}
END_TEST

START_TEST(test_gauges_and_families_present)
{
	struct metrics *m = calloc(1, sizeof(*m));
	metrics_init(m);
	metrics_cache(m, CACHE_HIT);
	metrics_cache(m, CACHE_HIT);
	metrics_cache(m, CACHE_ERROR);
	metrics_cache(m, CACHE_NONE);
	char *t = render(m);
	const char *want[] = {
	    "cache_requests_total{result=\"hit\"} 2\n",
	    "cache_requests_total{result=\"miss\"} 0\n",
	    "cache_requests_total{result=\"error\"} 1\n",
	    "db_pool_connections{state=\"idle\"} 3\n",
	    "db_pool_connections{state=\"busy\"} 1\n",
	    "http_requests_in_flight 0\n",
	    "stress_in_flight 0\n",
	    "# TYPE stress_cpu_seconds_total counter\n",
	    "# TYPE process_cpu_seconds_total counter\n",
	    "process_resident_memory_bytes 4096\n",
	    "build_info{version=\"1.2.3\",revision=\"abc\"} 1\n",
	};
	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++)
		ck_assert_msg(strstr(t, want[i]) != NULL, "missing: %s", want[i]);
	free(t);
	free(m);
}
END_TEST

START_TEST(test_stress_queue)
{
	struct metrics *m = calloc(1, sizeof(*m));
	metrics_init(m);
	metrics_stress_queued(m);
	metrics_stress_queued(m);
	metrics_stress_queued(m);
	metrics_stress_waited(m, 0.003, 0); /* got a slot */
	metrics_stress_waited(m, 3.1, 1);   /* refused after the wait bound */
	char *t = render(m);
	const char *want[] = {
	    "# TYPE stress_waiting gauge\nstress_waiting 1\n",
	    "# TYPE stress_wait_seconds histogram\n",
	    "stress_wait_seconds_bucket{le=\"0.0025\"} 0\n",
	    "stress_wait_seconds_bucket{le=\"0.005\"} 1\n",
	    "stress_wait_seconds_bucket{le=\"2.5\"} 1\n",
	    "stress_wait_seconds_bucket{le=\"+Inf\"} 2\n",
	    "stress_wait_seconds_sum 3.103",
	    "stress_wait_seconds_count 2\n",
	    "# TYPE stress_refused_total counter\nstress_refused_total 1\n",
	};
	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++)
		ck_assert_msg(strstr(t, want[i]) != NULL, "missing: %s", want[i]);
	free(t);
	free(m);
}
END_TEST

START_TEST(test_request_id_rule)
{
	char max[65];
	memset(max, 'a', 64);
	max[64] = '\0';
	ck_assert(http_request_id_valid("abc-123_X.y"));
	ck_assert(http_request_id_valid(max));
	max[63] = '!';
	ck_assert(!http_request_id_valid(max));
	ck_assert(!http_request_id_valid(""));
	ck_assert(!http_request_id_valid(NULL));
	ck_assert(!http_request_id_valid("has space"));
	ck_assert(!http_request_id_valid("quote\""));
	ck_assert(!http_request_id_valid("new\nline"));
	char longer[66];
	memset(longer, 'b', 65);
	longer[65] = '\0';
	ck_assert(!http_request_id_valid(longer));
}
END_TEST

int main(void)
{
	Suite *s = suite_create("metrics");
	TCase *tc = tcase_create("core");
	tcase_add_test(tc, test_counters_use_route_patterns);
	tcase_add_test(tc, test_histogram_is_cumulative);
	tcase_add_test(tc, test_gauges_and_families_present);
	tcase_add_test(tc, test_stress_queue);
	tcase_add_test(tc, test_request_id_rule);
	suite_add_tcase(s, tc);
	return unit_run(s);
}
