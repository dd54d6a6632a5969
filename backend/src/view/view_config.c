/* view_config.c - environment -> struct view_config, one table row per setting (as config.c). */
#include "view_config.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "params.h"
#include "settings.h"

#define INT(n, field, lo, hi, d, h) SETTING_INT_ROW(struct view_config, n, field, lo, hi, d, h)
#define STR(n, field, d, h) SETTING_STR_ROW(struct view_config, n, field, d, h)

static const struct setting settings[] = {
    INT("SERVER_PORT", server_port, 1, 65535, "8080", "HTTP port"),
    STR("BIND_ADDRESS", bind_address, "0.0.0.0", "IPv4 address to listen on"),
    INT("KUBE_TIMEOUT_MS", kube_timeout_ms, 100, 30000, "2000",
        "longest Kubernetes API call, connecting included"),
    INT("VIEW_POLL_MS", poll_ms, 200, 60000, "2000", "read the API this often while watched"),
    INT("VIEW_IDLE_SECONDS", idle_s, 1, 3600, "10",
        "stop reading the API when nobody asked for this long"),
    STR("HPA_NAME", hpa_name, "backend-hpa", "the HorizontalPodAutoscaler shown"),
    STR("POD_SELECTOR", pod_selector,
        "app.kubernetes.io/name=backend,app.kubernetes.io/part-of=webapp",
        "label selector of the pods shown"),
    SETTING_LEVEL_ROW(struct view_config, "LOG_LEVEL", log_level, "info",
                      "debug | info | warn | error"),
    INT("SHUTDOWN_DRAIN_SECONDS", drain_s, 0, 60, "2",
        "after SIGTERM: seconds of serving with readiness 503 before closing"),
    STR("KUBE_SA_DIR", sa_dir, "/var/run/secrets/kubernetes.io/serviceaccount",
        "ServiceAccount token, ca.crt and namespace (cluster mode)"),
    STR("LOCAL_PID_FILE", local_pid_file, "", "local mode: pid file of the backend process shown"),
    STR("LOCAL_BACKEND_URL", local_backend_url, "http://127.0.0.1:8080",
        "local mode: the backend's base URL (readiness, name)"),
};

static const char *env_lookup(const char *name)
{
	return getenv(name);
}

/* The first line of sa_dir/namespace: the namespace this pod runs in. */
static int read_namespace(struct view_config *cfg, char *err, size_t errlen)
{
	char path[300];
	snprintf(path, sizeof(path), "%s/namespace", cfg->sa_dir);
	FILE *f = fopen(path, "r");
	size_t n = 0;
	if (f != NULL) {
		n = fread(cfg->namespace, 1, sizeof(cfg->namespace) - 1, f);
		fclose(f);
	}
	cfg->namespace[n] = '\0';
	cfg->namespace[strcspn(cfg->namespace, "\r\n")] = '\0';
	/* A DNS label: also what keeps it safe to paste into API paths. */
	size_t len = strlen(cfg->namespace);
	if (len == 0 || strspn(cfg->namespace, "abcdefghijklmnopqrstuvwxyz0123456789-") != len) {
		snprintf(
		    err, errlen,
		    "KUBE_SA_DIR: cannot read a namespace from %s (is the ServiceAccount token "
		    "mounted?)",
		    path);
		return -1;
	}
	return 0;
}

/* In API paths unescaped: a DNS subdomain name only. */
static int valid_name(const char *s)
{
	size_t n = strlen(s);
	return n > 0 && strspn(s, "abcdefghijklmnopqrstuvwxyz0123456789-.") == n;
}

static int derive(struct view_config *cfg, const char *(*lookup)(const char *name), char *err,
                  size_t errlen)
{
	const char *host = lookup("KUBERNETES_SERVICE_HOST");
	const char *port = lookup("KUBERNETES_SERVICE_PORT");
	long long p = 443;

	if (gethostname(cfg->hostname, sizeof(cfg->hostname)) != 0)
		settings_copy_str(cfg->hostname, sizeof(cfg->hostname), "unknown");
	cfg->hostname[sizeof(cfg->hostname) - 1] = '\0';
	if (!valid_name(cfg->hpa_name)) {
		snprintf(err, errlen, "HPA_NAME: not a Kubernetes object name");
		return -1;
	}
	if (host == NULL || host[0] == '\0') {
		settings_copy_str(cfg->namespace, sizeof(cfg->namespace), "local");
		return 0;
	}
	cfg->cluster = 1;
	if (port != NULL && port[0] != '\0' && params_int(port, 1, 65535, &p) != 0) {
		snprintf(err, errlen, "KUBERNETES_SERVICE_PORT: expected an integer in 1..65535");
		return -1;
	}
	if (strpbrk(host, "/?#@ ") != NULL ||
	    (size_t)snprintf(cfg->api_url, sizeof(cfg->api_url),
	                     strchr(host, ':') ? "https://[%s]:%lld" : "https://%s:%lld", host,
	                     p) >= sizeof(cfg->api_url)) {
		snprintf(err, errlen, "KUBERNETES_SERVICE_HOST: not a host name or address");
		return -1;
	}
	return read_namespace(cfg, err, errlen);
}

int view_config_load(struct view_config *cfg, const char *(*lookup)(const char *name), char *err,
                     size_t errlen)
{
	memset(cfg, 0, sizeof(*cfg));
	if (settings_load(cfg, settings, sizeof(settings) / sizeof(settings[0]), lookup, err,
	                  errlen) != 0)
		return -1;
	return derive(cfg, lookup != NULL ? lookup : env_lookup, err, errlen);
}

void view_config_print_help(FILE *out)
{
	settings_print_help(out, settings, sizeof(settings) / sizeof(settings[0]));
	fprintf(out, "  %-26s %-12s %s\n", "KUBERNETES_SERVICE_HOST", "-",
	        "set (by Kubernetes): cluster mode; unset: local mode");
	fprintf(out, "  %-26s %-12s %s\n", "KUBERNETES_SERVICE_PORT", "443", "API server port");
}
