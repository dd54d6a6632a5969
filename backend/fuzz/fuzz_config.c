/*
 * fuzz_config.c - config_load with a lookup fed from the input: lines "NAME=VALUE". For the
 * *_FILE variables the value becomes the content of a file the harness writes ("!" names a
 * file that does not exist), so secret files are fuzzed without touching the real filesystem.
 *
 * Invariants: on success every number is within its documented bounds and every string is
 * NUL-terminated inside its buffer; on failure the message is "<VARIABLE>: <fixed text>",
 * so it names the variable and can never echo a value (a password) back.
 */
#include <unistd.h>

#include "config.h"
#include "fuzz_common.h"

#define MAX_VARS 64

static struct {
	char *name;
	char *value;
} vars[MAX_VARS];
static int nvars;
static char file_path[64];
static char missing_path[80];

static const char *const names[] = {"SERVER_PORT",
                                    "BIND_ADDRESS",
                                    "HTTP_THREADS",
                                    "HTTP_MAX_CONNECTIONS",
                                    "HTTP_IDLE_TIMEOUT_SECONDS",
                                    "MAX_BODY_BYTES",
                                    "CORS_ALLOW_ORIGIN",
                                    "DB_HOST",
                                    "DB_PORT",
                                    "DB_USER",
                                    "DB_PASSWORD",
                                    "DB_PASSWORD_FILE",
                                    "DB_NAME",
                                    "DB_POOL_SIZE",
                                    "DB_STATEMENT_TIMEOUT_MS",
                                    "REDIS_HOST",
                                    "REDIS_PORT",
                                    "REDIS_PASSWORD",
                                    "REDIS_PASSWORD_FILE",
                                    "REDIS_TIMEOUT_MS",
                                    "REDIS_POOL_SIZE",
                                    "CACHE_TTL_SECONDS",
                                    "STRESS_SLOTS",
                                    "STRESS_WAIT_MS",
                                    "SHUTDOWN_DRAIN_SECONDS",
                                    "SHUTDOWN_TIMEOUT_SECONDS",
                                    "LOG_LEVEL",
                                    "ACCESS_LOG",
                                    "ACCESS_LOG_FLUSH_MS",
                                    "POD_NAME"};

static const char *const reasons[] = {
    "expected an integer in ", "longer than ", "cannot read the file, or it is too long",
    "expected true or false", "expected debug, info, warn or error"};

static const char *find(const char *name)
{
	for (int i = nvars - 1; i >= 0; i--) /* the last assignment wins */
		if (strcmp(vars[i].name, name) == 0)
			return vars[i].value;
	return NULL;
}

static const char *lookup(const char *name)
{
	const char *v = find(name);
	size_t n = strlen(name);
	if (v == NULL || n < 5 || strcmp(name + n - 5, "_FILE") != 0 || v[0] == '\0')
		return v;
	if (strcmp(v, "!") == 0)
		return missing_path;
	FILE *f = fopen(file_path, "w");
	CHECK(f != NULL);
	fputs(v, f);
	fclose(f);
	return file_path;
}

static int known(const char *name, size_t len)
{
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (strlen(names[i]) == len && strncmp(names[i], name, len) == 0)
			return 1;
	return 0;
}

static void check_error(const char *err)
{
	const char *colon = strstr(err, ": ");
	CHECK(colon != NULL && known(err, (size_t)(colon - err)));
	int ok = 0;
	for (size_t i = 0; i < sizeof(reasons) / sizeof(reasons[0]); i++)
		ok |= strncmp(colon + 2, reasons[i], strlen(reasons[i])) == 0;
	CHECK(ok);
	/* What follows a fixed prefix is numbers only ("1..65535", "255 bytes"). */
	CHECK(strspn(colon + 2, "abcdefghijklmnopqrstuvwxyz ,.0123456789") == strlen(colon + 2));
}

#define TERMINATED(field) CHECK(memchr(cfg.field, '\0', sizeof(cfg.field)) != NULL)
#define IN(field, lo, hi) CHECK(cfg.field >= (lo) && cfg.field <= (hi))

static void check_config(void)
{
	static struct config cfg;
	char err[512];

	memset(err, 0, sizeof(err));
	if (config_load(&cfg, lookup, err, sizeof(err)) != 0) {
		check_error(err);
		return;
	}
	TERMINATED(bind_address);
	TERMINATED(cors_allow_origin);
	TERMINATED(db_host);
	TERMINATED(db_user);
	TERMINATED(db_password);
	TERMINATED(db_name);
	TERMINATED(redis_host);
	TERMINATED(redis_password);
	TERMINATED(pod_name);
	IN(server_port, 1, 65535);
	IN(http_threads, 0, 256);
	IN(http_max_connections, 16, 100000);
	IN(http_idle_timeout_s, 1, 3600);
	IN(max_body_bytes, 1024, 16777216);
	IN(db_port, 1, 65535);
	IN(db_pool_size, 1, 64);
	IN(db_statement_timeout_ms, 100, 60000);
	IN(redis_port, 1, 65535);
	IN(redis_timeout_ms, 10, 10000);
	IN(redis_pool_size, 1, 256);
	IN(cache_ttl_s, 1, 86400);
	IN(stress_slots, 1, 256);
	IN(stress_wait_ms, 0, 60000);
	IN(shutdown_drain_s, 0, 300);
	IN(shutdown_timeout_s, 1, 300);
	IN(log_level, LOG_DEBUG, LOG_ERROR);
	IN(access_log, 0, 1);
	CHECK(cfg.pod_name[0] != '\0');
	/* A plain password is taken as given when no file overrides it. */
	const char *pw = find("DB_PASSWORD"), *pwf = find("DB_PASSWORD_FILE");
	if (pw != NULL && (pwf == NULL || pwf[0] == '\0'))
		CHECK(strcmp(cfg.db_password, pw) == 0);
	if (pw == NULL && (pwf == NULL || pwf[0] == '\0'))
		CHECK(cfg.db_password[0] == '\0');
}

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	snprintf(file_path, sizeof(file_path), "/tmp/fuzz_config.%ld", (long)getpid());
	snprintf(missing_path, sizeof(missing_path), "%s.missing", file_path);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = fuzz_cstr(data, size);
	char *save = NULL;

	nvars = 0;
	for (char *line = strtok_r(text, "\n", &save); line != NULL && nvars < MAX_VARS;
	     line = strtok_r(NULL, "\n", &save)) {
		char *eq = strchr(line, '=');
		if (eq == NULL)
			continue;
		*eq = '\0';
		vars[nvars].name = line;
		vars[nvars].value = eq + 1;
		nvars++;
	}
	check_config();
	unlink(file_path);
	free(text);
	return 0;
}
