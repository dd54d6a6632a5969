/* db.c - libpq pool. Every call is bounded: pool wait, connect and reply by one deadline. */
#include "db.h"

#include <errno.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "clock.h"
#include "pool.h"

/*
 * statement_timeout is enforced by the server; a server that is frozen or cut off by the
 * network enforces nothing, so every reply is also awaited with a deadline of our own.
 */
#define REPLY_MARGIN_MS 500

/* Shared with every implementation of this API, so they can migrate the same database. */
#define SCHEMA_LOCK_KEY "7346010"

static const char *const schema_sql =
    "BEGIN;"
    "SELECT pg_advisory_xact_lock(" SCHEMA_LOCK_KEY ");"
    "CREATE TABLE IF NOT EXISTS users ("
    "  id BIGSERIAL PRIMARY KEY,"
    "  name TEXT NOT NULL,"
    "  email TEXT NOT NULL,"
    "  created_at TIMESTAMPTZ NOT NULL DEFAULT now());"
    "CREATE UNIQUE INDEX IF NOT EXISTS users_email_lower_key ON users (lower(email));"
    "COMMIT;";

struct conn {
	PGconn *pg;
	uint64_t prepared; /* bit n: statement with id n is prepared on this connection */
	int broken;        /* timed out waiting for the server: never reuse */
};

struct db_pool {
	struct pool *slots;   /* replaces every connection older than the last broken one */
	int monitor_reply_ms; /* the monitor's bound: the server's own timeout plus a margin */
	int wait_ms;
	const char *keys[10];
	const char *values[10];
	char port[12];
	char options[64];
	struct conn *monitor;
};

static void conn_free(void *item)
{
	struct conn *c = item;
	if (c == NULL)
		return;
	PQfinish(c->pg);
	free(c);
}

struct db_pool *db_pool_create(const struct config *cfg)
{
	struct db_pool *pool = calloc(1, sizeof(*pool));
	if (pool == NULL)
		return NULL;
	pool->slots = pool_create(cfg->db_pool_size, conn_free);
	if (pool->slots == NULL) {
		free(pool);
		return NULL;
	}
	pool->wait_ms = cfg->db_statement_timeout_ms;
	pool->monitor_reply_ms = cfg->db_statement_timeout_ms + REPLY_MARGIN_MS;
	snprintf(pool->port, sizeof(pool->port), "%d", cfg->db_port);
	snprintf(pool->options, sizeof(pool->options), "-c statement_timeout=%d",
	         cfg->db_statement_timeout_ms);
	/* Borrowed from cfg, which outlives the pool. */
	const char *kv[][2] = {
	    {"host", cfg->db_host},
	    {"port", pool->port},
	    {"user", cfg->db_user},
	    {"password", cfg->db_password},
	    {"dbname", cfg->db_name},
	    {"options", pool->options},
	    {"application_name", "webapp-backend"},
	    {"keepalives_idle", "10"},
	};
	for (size_t i = 0; i < sizeof(kv) / sizeof(kv[0]); i++) {
		pool->keys[i] = kv[i][0];
		pool->values[i] = kv[i][1];
	}
	return pool;
}

void db_pool_free(struct db_pool *pool)
{
	if (pool == NULL)
		return;
	pool_free(pool->slots);
	conn_free(pool->monitor);
	free(pool);
}

/*
 * Connect without blocking past deadline. PQconnectdbParams would wait out libpq's own
 * connect_timeout (2 s at least) whatever the request has left, and a SYN that goes
 * unanswered while a server restarts costs a retransmission of a second or more.
 */
static PGconn *connect_until(struct db_pool *pool, const struct timespec *deadline)
{
	PGconn *pg = PQconnectStartParams(pool->keys, pool->values, 0);
	PostgresPollingStatusType st = PGRES_POLLING_WRITING;
	if (pg == NULL || PQstatus(pg) == CONNECTION_BAD)
		return pg;
	while (st != PGRES_POLLING_OK && st != PGRES_POLLING_FAILED) {
		struct pollfd p = {.fd = PQsocket(pg),
		                   .events = st == PGRES_POLLING_READING ? POLLIN : POLLOUT};
		int rc = poll(&p, 1, clock_ms_left(deadline));
		if (rc == 0 || (rc < 0 && errno != EINTR)) {
			PQfinish(pg);
			return NULL;
		}
		st = PQconnectPoll(pg);
	}
	return pg;
}

static struct conn *conn_open(struct db_pool *pool, const struct timespec *deadline, char *err,
                              size_t errlen)
{
	struct conn *c = calloc(1, sizeof(*c));
	if (c == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	c->pg = connect_until(pool, deadline);
	if (c->pg == NULL) {
		snprintf(err, errlen, "connect: no answer in time");
		conn_free(c);
		return NULL;
	}
	if (PQstatus(c->pg) != CONNECTION_OK) {
		/* libpq's message names host and port, never the password. */
		snprintf(err, errlen, "connect: %s", PQerrorMessage(c->pg));
		conn_free(c);
		return NULL;
	}
	return c;
}

static int is_unavailable_state(const char *state)
{
	if (state == NULL)
		return 1;                      /* no SQLSTATE: the connection itself failed */
	return strncmp(state, "08", 2) == 0 || /* connection exception */
	       strncmp(state, "53", 2) == 0 || /* insufficient resources */
	       strncmp(state, "57", 2) == 0;   /* operator intervention, statement timeout */
}

/* Classify a finished call; keeps the result on success. */
static enum db_status classify(struct conn *c, PGresult *res, char *err, size_t errlen)
{
	ExecStatusType st = PQresultStatus(res);
	if (res != NULL && (st == PGRES_TUPLES_OK || st == PGRES_COMMAND_OK))
		return DB_OK;
	const char *state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
	snprintf(err, errlen, "%s%s%s", state ? state : "", state ? ": " : "",
	         res ? PQresultErrorMessage(res) : PQerrorMessage(c->pg));
	if (state != NULL && strcmp(state, "23505") == 0)
		return DB_CONFLICT;
	if (PQstatus(c->pg) != CONNECTION_OK || is_unavailable_state(state))
		return DB_UNAVAILABLE;
	return DB_ERROR;
}

static int is_error(const PGresult *res)
{
	ExecStatusType st = PQresultStatus(res);
	return st != PGRES_TUPLES_OK && st != PGRES_COMMAND_OK;
}

/*
 * Collect the reply to the query just sent, waiting at most reply_ms. Returns the first
 * error, else the last result (a multi-statement string has several), or NULL with
 * c->broken set when the deadline passed.
 */
static PGresult *await_reply(struct conn *c, int reply_ms)
{
	struct timespec deadline = clock_deadline(reply_ms);
	PGresult *first = NULL, *res;

	for (;;) {
		while (PQisBusy(c->pg)) {
			struct pollfd p = {.fd = PQsocket(c->pg), .events = POLLIN};
			int ms = clock_ms_left(&deadline);
			if (ms == 0 || (poll(&p, 1, ms) < 0 && errno != EINTR)) {
				c->broken = 1;
				PQclear(first);
				return NULL;
			}
			if (!PQconsumeInput(c->pg))
				break; /* connection lost: PQgetResult reports it */
		}
		if ((res = PQgetResult(c->pg)) == NULL)
			break;
		if (first == NULL || (!is_error(res) && !is_error(first))) {
			PQclear(first);
			first = res;
		} else {
			PQclear(res);
		}
		if (PQstatus(c->pg) != CONNECTION_OK)
			break;
	}
	return first;
}

static enum db_status finish(struct conn *c, PGresult *res, int reply_ms, char *err, size_t errlen)
{
	if (c->broken) {
		snprintf(err, errlen, "no reply from the database within %d ms", reply_ms);
		return DB_UNAVAILABLE;
	}
	return classify(c, res, err, errlen);
}

/* Run st on c; the whole call, prepare included, must be answered before deadline. */
static enum db_status run(struct conn *c, const struct db_statement *st, const char *const *params,
                          const struct timespec *deadline, PGresult **resp, char *err,
                          size_t errlen)
{
	int reply_ms = clock_ms_left(deadline) + REPLY_MARGIN_MS;
	uint64_t bit = UINT64_C(1) << st->id;
	PGresult *res = NULL;
	enum db_status status;

	if (!(c->prepared & bit)) {
		if (PQsendPrepare(c->pg, st->name, st->sql, st->nparams, NULL))
			res = await_reply(c, reply_ms);
		status = finish(c, res, reply_ms, err, errlen);
		PQclear(res);
		if (status != DB_OK)
			return status;
		c->prepared |= bit;
		res = NULL;
	}
	if (PQsendQueryPrepared(c->pg, st->name, st->nparams, params, NULL, NULL, 0))
		res = await_reply(c, reply_ms);
	status = finish(c, res, reply_ms, err, errlen);
	if (status == DB_OK)
		*resp = res;
	else
		PQclear(res);
	return status;
}

enum db_status db_exec(struct db_pool *pool, const struct db_statement *st,
                       const char *const *params, const struct timespec *since, PGresult **resp,
                       char *err, size_t errlen)
{
	void *item = NULL;
	enum db_status status = DB_UNAVAILABLE;
	/*
	 * One budget for the whole call, the wait for a connection included: under contention
	 * a request gets its 503 within the statement timeout, not after queueing for one.
	 */
	struct timespec deadline = clock_after(since, pool->wait_ms);
	int left = clock_ms_left(&deadline);
	int slot = left > 0 ? pool_acquire(pool->slots, left, &item) : -1;
	struct conn *c = item;

	*resp = NULL;
	if (slot < 0) {
		if (left > 0)
			snprintf(err, errlen, "no free database connection within %d ms",
			         pool->wait_ms);
		else
			snprintf(err, errlen,
			         "the %d ms budget ran out before a database worker was free",
			         pool->wait_ms);
		return DB_UNAVAILABLE;
	}
	for (int attempt = 0; attempt < 2; attempt++) {
		int reused = c != NULL;
		if (c == NULL && (c = conn_open(pool, &deadline, err, errlen)) == NULL)
			break;
		status = run(c, st, params, &deadline, resp, err, errlen);
		if (PQstatus(c->pg) == CONNECTION_OK && !c->broken)
			break;
		/*
		 * Broken: drop it. A connection that failed at once (server restarted) lets a read
		 * try a fresh one; one that timed out has used the request's time already.
		 */
		int retry = reused && st->read_only && !c->broken;
		pool_failed(pool->slots, slot);
		conn_free(c);
		c = NULL;
		if (!retry)
			break;
	}
	pool_release(pool->slots, slot, c);
	return status;
}

static int monitor_conn(struct db_pool *pool, char *err, size_t errlen)
{
	if (pool->monitor != NULL &&
	    (PQstatus(pool->monitor->pg) != CONNECTION_OK || pool->monitor->broken)) {
		conn_free(pool->monitor);
		pool->monitor = NULL;
	}
	if (pool->monitor == NULL) {
		struct timespec deadline = clock_deadline(pool->monitor_reply_ms);
		pool->monitor = conn_open(pool, &deadline, err, errlen);
	}
	return pool->monitor != NULL ? 0 : -1;
}

static int monitor_exec(struct db_pool *pool, const char *sql, char *err, size_t errlen)
{
	if (monitor_conn(pool, err, errlen) != 0)
		return -1;
	struct conn *c = pool->monitor;
	PGresult *res = NULL;
	/* PQsendQuery accepts several statements in one string (the migration). */
	if (PQsendQuery(c->pg, sql))
		res = await_reply(c, pool->monitor_reply_ms);
	enum db_status status = finish(c, res, pool->monitor_reply_ms, err, errlen);
	PQclear(res);
	if (status != DB_OK && !c->broken && PQtransactionStatus(c->pg) != PQTRANS_IDLE &&
	    PQsendQuery(c->pg, "ROLLBACK"))
		PQclear(await_reply(c, pool->monitor_reply_ms));
	return status == DB_OK ? 0 : -1;
}

int db_migrate(struct db_pool *pool, char *err, size_t errlen)
{
	return monitor_exec(pool, schema_sql, err, errlen);
}

int db_ping(struct db_pool *pool, double *ms, char *err, size_t errlen)
{
	struct timespec start = clock_now();
	int rc = monitor_exec(pool, "SELECT 1", err, errlen);
	*ms = clock_ms_since(&start);
	return rc;
}

void db_pool_stats(struct db_pool *pool, int *busy, int *idle)
{
	pool_stats(pool->slots, busy, idle);
}
