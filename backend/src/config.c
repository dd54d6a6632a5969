/* config.c - environment -> struct config, driven by one table row per setting. */
#include "config.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

enum kind { K_INT, K_STR, K_BOOL, K_LEVEL, K_SECRET_FILE };

struct setting {
	const char *name;
	enum kind kind;
	size_t offset;
	size_t size;   /* K_STR: buffer size */
	long long min; /* K_INT bounds */
	long long max;
	const char *def; /* NULL: no default (empty, or derived at startup) */
	const char *help;
};

#define INT(n, field, lo, hi, d, h)                                                                \
	{                                                                                          \
		n, K_INT, offsetof(struct config, field), 0, lo, hi, d, h                          \
	}
#define STR(n, field, d, h)                                                                        \
	{                                                                                          \
		n, K_STR, offsetof(struct config, field), sizeof(((struct config *)0)->field), 0,  \
		    0, d, h                                                                        \
	}
#define SECRET_FILE(n, field, h)                                                                   \
	{                                                                                          \
		n, K_SECRET_FILE, offsetof(struct config, field),                                  \
		    sizeof(((struct config *)0)->field), 0, 0, NULL, h                             \
	}

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
    {"LOG_LEVEL", K_LEVEL, offsetof(struct config, log_level), 0, 0, 0, "info",
     "debug | info | warn | error"},
    {"ACCESS_LOG", K_BOOL, offsetof(struct config, access_log), 0, 0, 0, "true",
     "one log line per request (true | false)"},
    INT("ACCESS_LOG_FLUSH_MS", access_log_flush_ms, 0, 1000, "50",
        "write access lines in batches at least this often; 0 = each at once"),
    STR("POD_NAME", pod_name, NULL, "name in X-Served-By (default: the hostname)"),
};

static int parse_int(const char *s, long long min, long long max, long long *out)
{
	char *end = NULL;
	errno = 0;
	long long v = strtoll(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0' || v < min || v > max)
		return -1;
	*out = v;
	return 0;
}

static int parse_bool(const char *s)
{
	if (strcasecmp(s, "true") == 0 || strcmp(s, "1") == 0 || strcasecmp(s, "yes") == 0)
		return 1;
	if (strcasecmp(s, "false") == 0 || strcmp(s, "0") == 0 || strcasecmp(s, "no") == 0)
		return 0;
	return -1;
}

/* Copy with truncation detection: a value that does not fit is an error, not a surprise. */
static int copy_str(char *dst, size_t size, const char *src)
{
	size_t n = strlen(src);
	if (n >= size)
		return -1;
	memcpy(dst, src, n + 1);
	return 0;
}

static int read_secret_file(const char *path, char *dst, size_t size)
{
	FILE *f = fopen(path, "r");
	if (f == NULL)
		return -1;
	size_t n = fread(dst, 1, size, f);
	int bad = ferror(f) || n == size; /* unreadable, or too long to hold with a NUL */
	fclose(f);
	if (bad)
		return -1;
	while (n > 0 && (dst[n - 1] == '\n' || dst[n - 1] == '\r'))
		n--;
	dst[n] = '\0';
	return 0;
}

static const char *env_lookup(const char *name)
{
	return getenv(name);
}

static int apply(struct config *cfg, const struct setting *s, const char *v, char *err,
                 size_t errlen)
{
	char *base = (char *)cfg;
	long long n;
	int b;

	switch (s->kind) {
	case K_INT:
		if (parse_int(v, s->min, s->max, &n) != 0) {
			snprintf(err, errlen, "%s: expected an integer in %lld..%lld", s->name,
			         s->min, s->max);
			return -1;
		}
		*(int *)(base + s->offset) = (int)n;
		return 0;
	case K_STR:
		if (copy_str(base + s->offset, s->size, v) != 0) {
			snprintf(err, errlen, "%s: longer than %zu bytes", s->name, s->size - 1);
			return -1;
		}
		return 0;
	case K_SECRET_FILE:
		if (read_secret_file(v, base + s->offset, s->size) != 0) {
			snprintf(err, errlen, "%s: cannot read the file, or it is too long",
			         s->name);
			return -1;
		}
		return 0;
	case K_BOOL:
		b = parse_bool(v);
		if (b < 0) {
			snprintf(err, errlen, "%s: expected true or false", s->name);
			return -1;
		}
		*(int *)(base + s->offset) = b;
		return 0;
	case K_LEVEL:
		b = log_parse_level(v);
		if (b < 0) {
			snprintf(err, errlen, "%s: expected debug, info, warn or error", s->name);
			return -1;
		}
		*(int *)(base + s->offset) = b;
		return 0;
	}
	return -1;
}

static void apply_derived_defaults(struct config *cfg)
{
	if (cfg->stress_slots == 0) {
		long n = sysconf(_SC_NPROCESSORS_ONLN);
		cfg->stress_slots = n > 0 ? (int)(n > 256 ? 256 : n) : 1;
	}
	if (cfg->pod_name[0] == '\0' && gethostname(cfg->pod_name, sizeof(cfg->pod_name)) != 0)
		copy_str(cfg->pod_name, sizeof(cfg->pod_name), "unknown");
	cfg->pod_name[sizeof(cfg->pod_name) - 1] = '\0';
}

int config_load(struct config *cfg, const char *(*lookup)(const char *name), char *err,
                size_t errlen)
{
	if (lookup == NULL)
		lookup = env_lookup;
	memset(cfg, 0, sizeof(*cfg));
	for (size_t i = 0; i < sizeof(settings) / sizeof(settings[0]); i++) {
		const struct setting *s = &settings[i];
		const char *v = lookup(s->name);
		if (v == NULL || v[0] == '\0')
			v = s->def;
		if (v != NULL && apply(cfg, s, v, err, errlen) != 0)
			return -1;
	}
	apply_derived_defaults(cfg);
	return 0;
}

void config_print_help(FILE *out)
{
	for (size_t i = 0; i < sizeof(settings) / sizeof(settings[0]); i++) {
		const struct setting *s = &settings[i];
		fprintf(out, "  %-26s %-12s %s\n", s->name,
		        s->def != NULL && s->def[0] ? s->def : "-", s->help);
	}
}
