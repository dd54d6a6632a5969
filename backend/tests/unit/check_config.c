/* Configuration: defaults, bounds, names in error messages, *_FILE secrets. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "unit.h"

static int load(const char *const *env, struct config *cfg, char *err)
{
	unit_fake_env = env;
	return config_load(cfg, unit_env_lookup, err, 256);
}

START_TEST(test_defaults)
{
	struct config cfg;
	char err[256];
	const char *const env[] = {NULL};
	ck_assert_int_eq(load(env, &cfg, err), 0);
	ck_assert_int_eq(cfg.server_port, 8080);
	ck_assert_str_eq(cfg.bind_address, "0.0.0.0");
	ck_assert_str_eq(cfg.db_host, "localhost");
	ck_assert_int_eq(cfg.db_port, 5432);
	ck_assert_str_eq(cfg.db_user, "postgres");
	ck_assert_str_eq(cfg.db_name, "webapp");
	ck_assert_int_eq(cfg.redis_port, 6379);
	ck_assert_int_eq(cfg.cache_ttl_s, 300);
	ck_assert_int_eq(cfg.db_pool_size, 4);
	ck_assert_int_eq(cfg.db_statement_timeout_ms, 2000);
	ck_assert_int_eq(cfg.redis_timeout_ms, 200);
	ck_assert_int_eq(cfg.max_body_bytes, 65536);
	ck_assert_int_eq(cfg.shutdown_drain_s, 5);
	ck_assert_int_eq(cfg.log_level, LOG_INFO);
	ck_assert_int_eq(cfg.access_log, 1);
	ck_assert_int_ge(cfg.stress_slots, 1);
	ck_assert_int_eq(cfg.stress_wait_ms, 2500);
	ck_assert_str_eq(cfg.cors_allow_origin, "");
	ck_assert(cfg.pod_name[0] != '\0');
}
END_TEST

START_TEST(test_values_are_read)
{
	struct config cfg;
	char err[256];
	const char *const env[] = {
	    "SERVER_PORT",    "9090",  "DB_HOST",  "postgres-service", "LOG_LEVEL",    "WARN",
	    "ACCESS_LOG",     "false", "POD_NAME", "backend-7d9f",     "STRESS_SLOTS", "3",
	    "STRESS_WAIT_MS", "0",     NULL};
	ck_assert_int_eq(load(env, &cfg, err), 0);
	ck_assert_int_eq(cfg.server_port, 9090);
	ck_assert_str_eq(cfg.db_host, "postgres-service");
	ck_assert_int_eq(cfg.log_level, LOG_WARN);
	ck_assert_int_eq(cfg.access_log, 0);
	ck_assert_str_eq(cfg.pod_name, "backend-7d9f");
	ck_assert_int_eq(cfg.stress_slots, 3);
	ck_assert_int_eq(cfg.stress_wait_ms, 0);
}
END_TEST

struct bad_case {
	const char *name;
	const char *value;
};

static const struct bad_case bad[] = {
    {"SERVER_PORT", "0"},          {"SERVER_PORT", "65536"},
    {"SERVER_PORT", "80a"},        {"SERVER_PORT", "-1"},
    {"DB_POOL_SIZE", "0"},         {"CACHE_TTL_SECONDS", "x"},
    {"LOG_LEVEL", "verbose"},      {"ACCESS_LOG", "maybe"},
    {"REDIS_TIMEOUT_MS", "99999"}, {"STRESS_WAIT_MS", "-1"},
    {"STRESS_WAIT_MS", "60001"},   {"DB_PASSWORD_FILE", "/nonexistent/secret"},
};

START_TEST(test_invalid_values_name_the_variable)
{
	struct config cfg;
	char err[256];
	const char *const env[] = {bad[_i].name, bad[_i].value, NULL};
	ck_assert_int_eq(load(env, &cfg, err), -1);
	ck_assert_msg(strncmp(err, bad[_i].name, strlen(bad[_i].name)) == 0, "%s", err);
}
END_TEST

START_TEST(test_too_long_string_is_refused)
{
	struct config cfg;
	char err[256], host[400];
	memset(host, 'h', sizeof(host) - 1);
	host[sizeof(host) - 1] = '\0';
	const char *const env[] = {"DB_HOST", host, NULL};
	ck_assert_int_eq(load(env, &cfg, err), -1);
	ck_assert_ptr_nonnull(strstr(err, "DB_HOST"));
}
END_TEST

START_TEST(test_password_file_overrides_and_is_trimmed)
{
	struct config cfg;
	char err[256], path[] = "/tmp/check_config_XXXXXX";
	int fd = mkstemp(path);
	ck_assert_int_ge(fd, 0);
	FILE *f = fdopen(fd, "w");
	fputs("s3cret-from-file\n", f);
	fclose(f);
	const char *const env[] = {"DB_PASSWORD", "plain", "DB_PASSWORD_FILE", path, NULL};
	ck_assert_int_eq(load(env, &cfg, err), 0);
	ck_assert_str_eq(cfg.db_password, "s3cret-from-file");
	unlink(path);
}
END_TEST

START_TEST(test_help_lists_every_variable)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	config_print_help(f);
	fclose(f);
	const char *names[] = {"SERVER_PORT",
	                       "BIND_ADDRESS",
	                       "DB_HOST",
	                       "DB_PORT",
	                       "DB_USER",
	                       "DB_PASSWORD",
	                       "DB_PASSWORD_FILE",
	                       "DB_NAME",
	                       "REDIS_HOST",
	                       "REDIS_PORT",
	                       "REDIS_PASSWORD",
	                       "REDIS_PASSWORD_FILE",
	                       "CACHE_TTL_SECONDS",
	                       "DB_POOL_SIZE",
	                       "DB_STATEMENT_TIMEOUT_MS",
	                       "HTTP_THREADS",
	                       "STRESS_SLOTS",
	                       "STRESS_WAIT_MS",
	                       "SHUTDOWN_DRAIN_SECONDS",
	                       "LOG_LEVEL",
	                       "CORS_ALLOW_ORIGIN",
	                       "POD_NAME",
	                       "ACCESS_LOG_FLUSH_MS"};
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		ck_assert_msg(strstr(buf, names[i]) != NULL, "%s missing", names[i]);
	free(buf);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("config");
	TCase *tc = tcase_create("core");
	tcase_add_test(tc, test_defaults);
	tcase_add_test(tc, test_values_are_read);
	tcase_add_loop_test(tc, test_invalid_values_name_the_variable, 0,
	                    (int)(sizeof(bad) / sizeof(bad[0])));
	tcase_add_test(tc, test_too_long_string_is_refused);
	tcase_add_test(tc, test_password_file_overrides_and_is_trimmed);
	tcase_add_test(tc, test_help_lists_every_variable);
	suite_add_tcase(s, tc);
	return unit_run(s);
}
