/* autoscaler-view settings: defaults, bounds, cluster mode from KUBERNETES_SERVICE_HOST. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "unit.h"
#include "view_config.h"

static int load(const char *const *env, struct view_config *cfg, char *err)
{
	unit_fake_env = env;
	return view_config_load(cfg, unit_env_lookup, err, 256);
}

START_TEST(test_defaults_are_local_mode)
{
	struct view_config cfg;
	char err[256];
	const char *const env[] = {NULL};
	ck_assert_int_eq(load(env, &cfg, err), 0);
	ck_assert_int_eq(cfg.cluster, 0);
	ck_assert_int_eq(cfg.server_port, 8080);
	ck_assert_int_eq(cfg.kube_timeout_ms, 2000);
	ck_assert_int_eq(cfg.poll_ms, 2000);
	ck_assert_int_eq(cfg.idle_s, 10);
	ck_assert_str_eq(cfg.hpa_name, "backend-hpa");
	ck_assert_str_eq(cfg.pod_selector,
	                 "app.kubernetes.io/name=backend,app.kubernetes.io/part-of=webapp");
	ck_assert_str_eq(cfg.sa_dir, "/var/run/secrets/kubernetes.io/serviceaccount");
	ck_assert_str_eq(cfg.namespace, "local");
}
END_TEST

START_TEST(test_cluster_mode_reads_the_namespace)
{
	struct view_config cfg;
	char err[256], dir[] = "/tmp/check_view_config_XXXXXX", path[300];
	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/namespace", dir);
	FILE *f = fopen(path, "w");
	fputs("webapp\n", f);
	fclose(f);
	const char *const env[] = {"KUBERNETES_SERVICE_HOST", "10.96.0.1", "KUBE_SA_DIR", dir,
	                           NULL};
	ck_assert_int_eq(load(env, &cfg, err), 0);
	ck_assert_int_eq(cfg.cluster, 1);
	ck_assert_str_eq(cfg.api_url, "https://10.96.0.1:443");
	ck_assert_str_eq(cfg.namespace, "webapp");
	const char *const v6[] = {"KUBERNETES_SERVICE_HOST",
	                          "fd00::1",
	                          "KUBERNETES_SERVICE_PORT",
	                          "6443",
	                          "KUBE_SA_DIR",
	                          dir,
	                          NULL};
	ck_assert_int_eq(load(v6, &cfg, err), 0);
	ck_assert_str_eq(cfg.api_url, "https://[fd00::1]:6443");
	/* A namespace that could not go into a URL path is refused. */
	f = fopen(path, "w");
	fputs("web/app", f);
	fclose(f);
	ck_assert_int_eq(load(env, &cfg, err), -1);
	ck_assert_ptr_nonnull(strstr(err, "KUBE_SA_DIR"));
	unlink(path);
	ck_assert_int_eq(load(env, &cfg, err), -1);
	rmdir(dir);
}
END_TEST

static const char *const invalid[][2] = {
    {"VIEW_POLL_MS", "50"},    {"VIEW_POLL_MS", "2s"},   {"VIEW_IDLE_SECONDS", "0"},
    {"KUBE_TIMEOUT_MS", "-1"}, {"SERVER_PORT", "70000"}, {"LOG_LEVEL", "loud"},
    {"HPA_NAME", "a/b"},       {"HPA_NAME", "Backend"},  {"KUBERNETES_SERVICE_PORT", "x"},
};

START_TEST(test_invalid_values_name_the_variable)
{
	struct view_config cfg;
	char err[256];
	const char *const env[] = {
	    invalid[_i][0], invalid[_i][1], "KUBERNETES_SERVICE_HOST",
	    strcmp(invalid[_i][0], "KUBERNETES_SERVICE_PORT") == 0 ? "10.96.0.1" : "", NULL};
	ck_assert_int_eq(load(env, &cfg, err), -1);
	ck_assert_msg(strstr(err, invalid[_i][0]) != NULL, "%s", err);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("view_config");
	TCase *tc = tcase_create("core");
	tcase_add_test(tc, test_defaults_are_local_mode);
	tcase_add_test(tc, test_cluster_mode_reads_the_namespace);
	tcase_add_loop_test(tc, test_invalid_values_name_the_variable, 0,
	                    (int)(sizeof(invalid) / sizeof(invalid[0])));
	suite_add_tcase(s, tc);
	return unit_run(s);
}
