/* db.h - a pool of libpq connections with timeouts, reconnects and the schema migration. */
#ifndef DB_H
#define DB_H

#include <stddef.h>
#include <time.h>
#include <libpq-fe.h>

#include "config.h"

struct db_pool;

/* A statement prepared lazily on each connection the first time it is used there. */
struct db_statement {
	int id; /* unique, 0..63: bit in the per-connection "prepared" mask */
	const char *name;
	const char *sql;
	int nparams;
	int read_only; /* safe to retry once on a fresh connection after a broken one */
};

enum db_status {
	DB_OK,
	DB_CONFLICT,    /* unique violation (SQLSTATE 23505) */
	DB_UNAVAILABLE, /* down, unreachable, timed out, no free connection: answer 503 */
	DB_ERROR,       /* anything else: a bug or a schema problem: answer 500 */
};

/* No connection is opened here: connections are made on first use and after failures. */
struct db_pool *db_pool_create(const struct config *cfg);
void db_pool_free(struct db_pool *pool); /* NULL-safe */

/*
 * Run st with text parameters, within the statement timeout counted from since (when the
 * request began to run, so that time spent waiting for a worker or a connection counts).
 * DB_OK: *resp holds the result (caller frees with PQclear).
 * Otherwise *resp is NULL and err holds a message for the log (never for the client).
 */
enum db_status db_exec(struct db_pool *pool, const struct db_statement *st,
                       const char *const *params, const struct timespec *since, PGresult **resp,
                       char *err, size_t errlen);

/*
 * Create or upgrade the schema, idempotent and serialised across replicas by an advisory lock.
 * Uses the pool's monitor connection: call from the health monitor thread only.
 */
int db_migrate(struct db_pool *pool, char *err, size_t errlen);

/* SELECT 1 on the monitor connection; fills *ms with the round trip. Monitor thread only. */
int db_ping(struct db_pool *pool, double *ms, char *err, size_t errlen);

void db_pool_stats(struct db_pool *pool, int *busy, int *idle);

#endif
