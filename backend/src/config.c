/* config.c - environment -> struct config, driven by one table row per setting. */
#include "config.h"

#include <string.h>
#include <unistd.h>

#include "settings.h"

#define INT(n, field, lo, hi, d, h) SETTING_INT_ROW(struct config, n, field, lo, hi, d, h)
#define STR(n, field, d, h) SETTING_STR_ROW(struct config, n, field, d, h)
#define SECRET_FILE(n, field, h) SETTING_SECRET_FILE_ROW(struct config, n, field, h)

/* Order matters only for *_FILE rows, which override the plain variable above them. */
static const struct setting settings[] = {
    INT("SERVER_PORT", server_port, 1, 65535, "8080", "HTTP port"),
    STR("BIND_ADDRESS", bind_address, "0.0.0.0", "IPv4 address to listen on"),
    INT("HTTP_THREADS", http_threads, 0, 256, "4",
        "event-loop threads (blocking work runs on workers); 0 = a thread per connection"),
    INT("HTTP_MAX_CONNECTIONS", http_max_connections, 16, 100000, "1024",
        "concurrent connections; more are refused"),
    INT("HTTP_IDLE_TIMEOUT_SECONDS", http_idle_timeout_s, 1, 3600, "30",
        "close a connection idle (or sending nothing) for this long"),
    INT("MAX_BODY_BYTES", max_body_bytes, 1024, 16777216, "65536",
        "largest request body accepted; larger gets 413"),
    STR("CORS_ALLOW_ORIGIN", cors_allow_origin, "",
        "value of Access-Control-Allow-Origin; empty = no CORS headers"),
    STR("DB_HOST", db_host, "localhost", "PostgreSQL host"),
    INT("DB_PORT", db_port, 1, 65535, "5432", "PostgreSQL port"),
    STR("DB_USER", db_user, "postgres", "PostgreSQL user"),
    STR("DB_PASSWORD", db_password, "", "PostgreSQL password"),
    SECRET_FILE("DB_PASSWORD_FILE", db_password, "file holding the PostgreSQL password"),
    STR("DB_NAME", db_name, "webapp", "PostgreSQL database"),
    INT("DB_POOL_SIZE", db_pool_size, 1, 64, "4", "PostgreSQL connections in the pool"),
    INT("DB_STATEMENT_TIMEOUT_MS", db_statement_timeout_ms, 100, 60000, "2000",
        "statement timeout, also the longest wait for a pooled connection"),
    STR("REDIS_HOST", redis_host, "localhost", "Redis host"),
    INT("REDIS_PORT", redis_port, 1, 65535, "6379", "Redis port"),
    STR("REDIS_PASSWORD", redis_password, "", "Redis password (AUTH); empty = none"),
    SECRET_FILE("REDIS_PASSWORD_FILE", redis_password, "file holding the Redis password"),
    INT("REDIS_TIMEOUT_MS", redis_timeout_ms, 10, 10000, "200",
        "Redis connect and command timeout; slower counts as a cache miss"),
    INT("REDIS_POOL_SIZE", redis_pool_size, 1, 256, "16", "Redis connections in the pool"),
    INT("CACHE_TTL_SECONDS", cache_ttl_s, 1, 86400, "300", "lifetime of cached responses"),
    INT("STRESS_SLOTS", stress_slots, 1, 256, NULL,
        "concurrent /api/stress burns (default: number of CPUs); more wait for a slot"),
    INT("STRESS_WAIT_MS", stress_wait_ms, 0, 60000, "2500",
        "longest wait for a stress slot, then 429; 0 = 429 at once when all are busy"),
    INT("SHUTDOWN_DRAIN_SECONDS", shutdown_drain_s, 0, 300, "5",
        "after SIGTERM: seconds of serving with readiness 503 before closing"),
    INT("SHUTDOWN_TIMEOUT_SECONDS", shutdown_timeout_s, 1, 300, "10",
        "after the drain: longest wait for in-flight requests"),
    SETTING_LEVEL_ROW(struct config, "LOG_LEVEL", log_level, "info", "debug | info | warn | error"),
    SETTING_BOOL_ROW(struct config, "ACCESS_LOG", access_log, "true",
                     "one log line per request (true | false)"),
    INT("ACCESS_LOG_FLUSH_MS", access_log_flush_ms, 0, 1000, "50",
        "write access lines in batches at least this often; 0 = each at once"),
    STR("POD_NAME", pod_name, NULL, "name in X-Served-By (default: the hostname)"),
};

static void apply_derived_defaults(struct config *cfg)
{
	if (cfg->stress_slots == 0) {
		long n = sysconf(_SC_NPROCESSORS_ONLN);
		cfg->stress_slots = n > 0 ? (int)(n > 256 ? 256 : n) : 1;
	}
	if (cfg->pod_name[0] == '\0' && gethostname(cfg->pod_name, sizeof(cfg->pod_name)) != 0)
		settings_copy_str(cfg->pod_name, sizeof(cfg->pod_name), "unknown");
	cfg->pod_name[sizeof(cfg->pod_name) - 1] = '\0';
}

int config_load(struct config *cfg, const char *(*lookup)(const char *name), char *err,
                size_t errlen)
{
	memset(cfg, 0, sizeof(*cfg));
	if (settings_load(cfg, settings, sizeof(settings) / sizeof(settings[0]), lookup, err,
	                  errlen) != 0)
		return -1;
	apply_derived_defaults(cfg);
	return 0;
}

void config_print_help(FILE *out)
{
	settings_print_help(out, settings, sizeof(settings) / sizeof(settings[0]));
}
