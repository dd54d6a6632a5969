/* config.h - the server's settings, read once from the environment at startup. */
#ifndef CONFIG_H
#define CONFIG_H

#include <stdio.h>
#include <stddef.h>

#include "log.h"

struct config {
	/* HTTP */
	char bind_address[64];
	int server_port;
	int http_threads; /* 0: a thread per connection */
	int http_max_connections;
	int http_idle_timeout_s;
	int max_body_bytes;
	char cors_allow_origin[256];
	/* PostgreSQL */
	char db_host[256];
	int db_port;
	char db_user[64];
	char db_password[256];
	char db_name[64];
	int db_pool_size;
	int db_statement_timeout_ms;
	/* Redis */
	char redis_host[256];
	int redis_port;
	char redis_password[256];
	int redis_timeout_ms;
	int redis_pool_size;
	int cache_ttl_s;
	/* Behaviour */
	int stress_slots;
	int stress_wait_ms;
	int shutdown_drain_s;
	int shutdown_timeout_s;
	int log_level; /* enum log_level (log.h) */
	int access_log;
	int access_log_flush_ms;
	char pod_name[256];
};

/*
 * Fill cfg from getenv-like lookup (NULL: the process environment). On an invalid value
 * returns -1 and writes a message naming the variable into err. *_FILE variables
 * (DB_PASSWORD_FILE, REDIS_PASSWORD_FILE) are read from disk.
 */
int config_load(struct config *cfg, const char *(*lookup)(const char *name), char *err,
                size_t errlen);

/* Print every variable with its default and meaning, one per line, for --help. */
void config_print_help(FILE *out);

#endif
