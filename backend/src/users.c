/* users.c - the users resource. A request touches the cache first and PostgreSQL on a miss. */
#include "users.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unictype.h>
#include <uninorm.h>
#include <unistr.h>

#include "app.h"
#include "cache.h"
#include "db.h"
#include "health.h"
#include "http.h"
#include "log.h"
#include "metrics.h"
#include "params.h"

#define COLUMNS                                                                                    \
	"id, name, email, to_char(created_at AT TIME ZONE 'UTC', "                                 \
	"'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"')"

static const struct db_statement q_get = {0, "users_get",
					  "SELECT " COLUMNS " FROM users WHERE id = $1", 1, 1};
/*
 * The fifth column, the same on every row, is the smallest id at or above $1: NULL when $1 is
 * above every id (the page is the first page), $1 itself when that user exists (a page a Link
 * header points at), something else for a gap. It decides under which key the page is cached.
 */
static const struct db_statement q_list = {
	1, "users_list",
	"SELECT " COLUMNS ", (SELECT min(id) FROM users WHERE id >= $1) FROM users WHERE id < $1 "
	"ORDER BY id DESC LIMIT $2",
	2, 1};
static const struct db_statement q_insert = {
	2, "users_insert", "INSERT INTO users (name, email) VALUES ($1, $2) RETURNING " COLUMNS, 2,
	0};
static const struct db_statement q_update = {
	3, "users_update", "UPDATE users SET name = $2, email = $3 WHERE id = $1 RETURNING " COLUMNS,
	3, 0};
static const struct db_statement q_delete = {4, "users_delete", "DELETE FROM users WHERE id = $1",
					     1, 0};

/* ---- validation (pure) ---- */

__attribute__((format(printf, 3, 4))) static void fail(struct user_error *err, const char *field,
							const char *fmt, ...)
{
	va_list ap;
	snprintf(err->field, sizeof(err->field), "%s", field ? field : "");
	va_start(ap, fmt);
	vsnprintf(err->message, sizeof(err->message), fmt, ap);
	va_end(ap);
}

/* Control characters: C0, DEL, and C1 (U+0080..U+009F, encoded C2 80..C2 9F). */
static int has_control(const unsigned char *s)
{
	for (; *s; s++)
		if (*s < 0x20 || *s == 0x7f || (s[0] == 0xc2 && s[1] >= 0x80 && s[1] <= 0x9f))
			return 1;
	return 0;
}

/*
 * Text is judged by code point, with libunistring's Unicode tables: jansson has already
 * refused invalid UTF-8, so a decoding error here only means "not ours to accept".
 */
static int next_cp(const char *s, size_t n, ucs4_t *cp)
{
	int len = u8_mbtouc(cp, (const uint8_t *)s, n);
	return len > 0 ? len : 1;
}

/* Renders as nothing: White_Space (U+00A0, U+2000..U+200A, U+3000, ...) or default-ignorable
 * (U+200B..U+200F, U+2060, U+FEFF, U+3164, variation selectors, ...). */
static int invisible(ucs4_t c)
{
	return uc_is_property_white_space(c) || uc_is_property_default_ignorable_code_point(c);
}

/*
 * Never in stored text: controls (Cc), format characters (Cf: bidirectional embeddings,
 * overrides and isolates, U+200B, U+2060, U+FEFF, ...) except the zero-width non-joiner and
 * joiner that Persian, Indic scripts and emoji sequences need, line and paragraph separators
 * (Zl, Zp) and noncharacters.
 */
static int forbidden(ucs4_t c)
{
	if (c == 0x200c || c == 0x200d)
		return 0;
	return uc_is_general_category_withtable(c, UC_CATEGORY_MASK_Cc | UC_CATEGORY_MASK_Cf |
							   UC_CATEGORY_MASK_Zl |
							   UC_CATEGORY_MASK_Zp) ||
	       uc_is_property_not_a_character(c) || c == 0xfffd;
}

/* Code points in valid UTF-8 (jansson has already rejected invalid UTF-8). */
static size_t utf8_len(const char *s)
{
	size_t n = 0;
	for (; *s; s++)
		n += ((unsigned char)*s & 0xc0) != 0x80;
	return n;
}

/* Copy s without leading and trailing Unicode White_Space into dst; -1 if it does not fit. */
static int trim_copy(const char *s, char *dst, size_t size)
{
	size_t n = strlen(s), start = 0, end = 0;
	ucs4_t c;

	while (start < n) {
		int len = next_cp(s + start, n - start, &c);
		if (!uc_is_property_white_space(c))
			break;
		start += (size_t)len;
	}
	/* end: just past the last code point that is not White_Space. */
	for (size_t i = start; i < n;) {
		int len = next_cp(s + i, n - i, &c);
		i += (size_t)len;
		if (!uc_is_property_white_space(c))
			end = i;
	}
	if (end < start)
		end = start;
	if (end - start >= size)
		return -1;
	memcpy(dst, s + start, end - start);
	dst[end - start] = '\0';
	return 0;
}

/* The checks every text field shares: something visible, nothing forbidden, not too long. */
static int check_text(const char *field, const char *value, size_t max_chars,
		      struct user_error *err)
{
	size_t n = strlen(value);
	int visible = 0;
	ucs4_t c;

	for (size_t i = 0; i < n;) {
		i += (size_t)next_cp(value + i, n - i, &c);
		if (forbidden(c)) {
			fail(err, field, "%s must not contain control, format or invisible characters",
			     field);
			return -1;
		}
		visible |= !invisible(c);
	}
	if (!visible) {
		fail(err, field, "%s must not be blank", field);
		return -1;
	}
	if (utf8_len(value) > max_chars) {
		fail(err, field, "%s must be at most %zu characters", field, max_chars);
		return -1;
	}
	return 0;
}

int users_check_name(const char *name, struct user_error *err)
{
	return check_text("name", name, USERS_NAME_MAX, err);
}

static int valid_domain(const char *d)
{
	size_t n = strlen(d);
	if (n == 0 || d[0] == '.' || d[n - 1] == '.' || strchr(d, '.') == NULL ||
	    strstr(d, "..") != NULL)
		return 0;
	for (const unsigned char *p = (const unsigned char *)d; *p; p++) {
		/* Letters, digits, '-', '.', and non-ASCII for internationalised names. */
		if (!(*p >= 0x80 || (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		      (*p >= '0' && *p <= '9') || *p == '-' || *p == '.'))
			return 0;
		if (*p == '-' && (p == (const unsigned char *)d || p[-1] == '.' || p[1] == '.' ||
				  p[1] == '\0'))
			return 0;
	}
	return 1;
}

/* Any White_Space or default-ignorable code point: an address never contains one. */
static int has_invisible(const char *s)
{
	size_t n = strlen(s);
	ucs4_t c;
	for (size_t i = 0; i < n;) {
		i += (size_t)next_cp(s + i, n - i, &c);
		if (invisible(c))
			return 1;
	}
	return 0;
}

int users_check_email(const char *email, struct user_error *err)
{
	if (check_text("email", email, USERS_EMAIL_MAX, err) != 0)
		return -1;
	const char *at = strchr(email, '@');
	int ok = at != NULL && strchr(at + 1, '@') == NULL && at > email &&
		 (size_t)(at - email) <= USERS_LOCAL_MAX &&
		 !has_control((const unsigned char *)email) && !has_invisible(email) &&
		 valid_domain(at + 1);
	if (!ok) {
		fail(err, "email", "email must be a valid address like name@example.com");
		return -1;
	}
	return 0;
}

/*
 * Canonical composition (NFC), in place: "é" typed as e + U+0301 and as U+00E9 is one address,
 * so the unique index sees one. -1 when the result does not fit.
 */
static int compose(char *s, size_t size)
{
	size_t len = size - 1;
	char out[USERS_EMAIL_MAX * 4 + 1];
	uint8_t *r = u8_normalize(UNINORM_NFC, (const uint8_t *)s, strlen(s), (uint8_t *)out,
				  &len);
	if (r == NULL)
		return -1;
	if (r != (uint8_t *)out || len >= size) {
		if (r != (uint8_t *)out)
			free(r);
		return -1;
	}
	memcpy(s, out, len);
	s[len] = '\0';
	return 0;
}

/* Take a required string field, trimmed, into dst. */
static int take_string(json_t *obj, const char *field, char *dst, size_t size,
		       size_t max_chars, struct user_error *err)
{
	json_t *v = json_object_get(obj, field);
	if (v == NULL || json_is_null(v)) {
		fail(err, field, "%s is required", field);
		return -1;
	}
	if (!json_is_string(v)) {
		fail(err, field, "%s must be a string", field);
		return -1;
	}
	if (trim_copy(json_string_value(v), dst, size) != 0) {
		fail(err, field, "%s must be at most %zu characters", field, max_chars);
		return -1;
	}
	return 0;
}

int users_parse(const char *body, size_t len, struct user_input *in, struct user_error *err)
{
	json_error_t jerr;
	const char *key;
	json_t *value;
	int rc = -1;
	json_t *obj = body != NULL ? json_loadb(body, len, JSON_REJECT_DUPLICATES | JSON_DECODE_ANY, &jerr) : NULL;

	if (obj == NULL) {
		fail(err, NULL, "request body is not valid JSON");
		goto out;
	}
	if (!json_is_object(obj)) {
		fail(err, NULL, "request body must be a JSON object");
		goto out;
	}
	json_object_foreach(obj, key, value)
	{
		if (strcmp(key, "name") != 0 && strcmp(key, "email") != 0) {
			/* The name is the client's: echo it only when it is short and plain. */
			int plain = strlen(key) < sizeof(err->field) &&
				    !has_control((const unsigned char *)key);
			fail(err, plain ? key : NULL,
			     "unknown field: only name and email are accepted");
			goto out;
		}
	}
	if (take_string(obj, "name", in->name, sizeof(in->name), USERS_NAME_MAX, err) != 0 ||
	    users_check_name(in->name, err) != 0)
		goto out;
	if (take_string(obj, "email", in->email, sizeof(in->email), USERS_EMAIL_MAX, err) != 0 ||
	    users_check_email(in->email, err) != 0)
		goto out;
	if (compose(in->email, sizeof(in->email)) != 0) {
		fail(err, "email", "email must be at most %d characters", USERS_EMAIL_MAX);
		goto out;
	}
	rc = 0;
out:
	json_decref(obj);
	return rc;
}

/* ---- encoding (pure) ---- */

static json_t *text_column(const PGresult *res, int row, int col)
{
	return json_stringn(PQgetvalue(res, row, col), (size_t)PQgetlength(res, row, col));
}

/* Built field by field: json_pack would parse its format string again for every row. */
static json_t *row_json(const PGresult *res, int row)
{
	json_t *o = json_object();
	if (o == NULL)
		return NULL;
	/* The _new setters take their value even when they fail: nothing leaks on the way out. */
	if (json_object_set_new_nocheck(o, "id",
					json_integer(strtoll(PQgetvalue(res, row, 0), NULL, 10))) ||
	    json_object_set_new_nocheck(o, "name", text_column(res, row, 1)) ||
	    json_object_set_new_nocheck(o, "email", text_column(res, row, 2)) ||
	    json_object_set_new_nocheck(o, "created_at", text_column(res, row, 3))) {
		json_decref(o);
		return NULL;
	}
	return o;
}

/* Dump into one buffer of a size guessed from the rows, grown once if the guess was short. */
static char *dump(const json_t *json, size_t guess, size_t *lenp)
{
	char *out = malloc(guess);
	size_t n = out ? json_dumpb(json, out, guess, JSON_COMPACT) : 0;
	if (out != NULL && n >= guess) {
		char *bigger = realloc(out, n + 1);
		if (bigger == NULL) {
			free(out);
			return NULL;
		}
		out = bigger;
		n = json_dumpb(json, out, n + 1, JSON_COMPACT);
	}
	if (out == NULL || n == 0) {
		free(out);
		return NULL;
	}
	out[n] = '\0';
	*lenp = n;
	return out;
}

char *users_encode(const PGresult *res, int as_array, size_t *lenp)
{
	json_t *json = as_array ? json_array() : NULL;
	char *out = NULL;
	int rows = PQntuples(res);

	if (as_array) {
		for (int i = 0; json != NULL && i < rows; i++)
			if (json_array_append_new(json, row_json(res, i)) != 0)
				goto out;
	} else if (rows > 0) {
		json = row_json(res, 0);
	}
	if (json != NULL)
		out = dump(json, 256 * (size_t)(rows > 0 ? rows : 1), lenp);
out:
	json_decref(json);
	return out;
}

/* ---- handlers ---- */

/* Log a failed database call with the request's context and answer 503 or 500. */
static void db_failed(const struct request *req, struct response *res, enum db_status st,
		      const char *err)
{
	int unavailable = st == DB_UNAVAILABLE;
	log_event(unavailable ? LOG_WARN : LOG_ERROR, "db.error",
		  json_pack("{s:s, s:s}", "error", err, "request_id", req->request_id));
	if (unavailable)
		response_error(res, req, 503, "database unavailable, retry later", NULL);
	else
		response_error(res, req, 500, "internal error", NULL);
}

static int schema_ready(struct app *app, const struct request *req, struct response *res)
{
	if (health_schema_ready(app->health))
		return 1;
	response_error(res, req, 503, "database unavailable, retry later", NULL);
	return 0;
}

static int parse_id(const struct request *req, struct response *res, long long *id)
{
	if (!req->param_too_long && params_int(req->param, 1, INT64_MAX, id) == 0)
		return 1;
	response_error(res, req, 400, "id must be a positive 64-bit integer", "id");
	return 0;
}

static enum cache_result lookup(struct app *app, enum cache_scope scope, const char *key,
				char **body, size_t *len, struct cache_gen *gen)
{
	enum cache_result r = cache_get(app->cache, scope, key, body, len, gen);
	metrics_cache(app->metrics, r);
	return r;
}

static void invalid_body(const struct request *req, struct response *res,
			 const struct user_error *err)
{
	response_error(res, req, 400, err->message, err->field[0] ? err->field : NULL);
}

/*
 * Run q. On failure answer for it (409 for a taken email, 503 or 500 otherwise) and return
 * NULL; on success the caller owns the rows.
 */
static PGresult *query(struct app *app, const struct request *req, struct response *res,
		       const struct db_statement *q, const char *const *params)
{
	char err[512];
	PGresult *rows = NULL;
	enum db_status st = db_exec(app->db, q, params, &req->started, &rows, err, sizeof(err));
	if (st == DB_CONFLICT)
		response_error(res, req, 409, "a user with this email already exists", "email");
	else if (st != DB_OK)
		db_failed(req, res, st, err);
	return rows;
}

/* The first row encoded (caller frees), or NULL after answering 404 (no row) or 500. */
static char *one_user(const struct request *req, struct response *res, const PGresult *rows,
		      size_t *lenp)
{
	char *body = NULL;
	if (PQntuples(rows) == 0)
		response_error(res, req, 404, "user not found", NULL);
	else if ((body = users_encode(rows, 0, lenp)) == NULL)
		response_error(res, req, 500, "internal error", NULL);
	return body;
}

/*
 * A cached list page is "<next before id or nothing>\n<body>", so a hit can still send the
 * Link header without parsing the body.
 */
static void set_link(struct response *res, long long limit, const char *next)
{
	if (next[0] != '\0')
		snprintf(res->link, sizeof(res->link), "</api/users?limit=%lld&before=%s>; rel=\"next\"",
			 limit, next);
}

static void serve_cached_page(struct response *res, long long limit, char *stored, size_t len)
{
	char *nl = memchr(stored, '\n', len);
	char next[24] = "";
	size_t skip = nl ? (size_t)(nl - stored) + 1 : 0;
	if (nl != NULL && skip <= sizeof(next))
		memcpy(next, stored, skip - 1);
	memmove(stored, stored + skip, len - skip);
	set_link(res, limit, next);
	response_body(res, 200, stored, len - skip);
}

/*
 * The key a page is stored under, or NULL when it is not stored. Only one key per distinct page,
 * so that no client can grow the cache with equivalent queries: no before and any before above
 * every id share the first page's key; a before naming an existing user keeps its own; a before
 * in a gap left by a delete, or below every id, is served from PostgreSQL and not stored.
 */
static const char *page_key(const PGresult *rows, const char *before_s, long long limit,
			    long long before, char *key, size_t size)
{
	if (before_s != NULL) {
		if (PQntuples(rows) == 0)
			return NULL;
		if (!PQgetisnull(rows, 0, 4)) {
			if (strtoll(PQgetvalue(rows, 0, 4), NULL, 10) != before)
				return NULL;
		} else {
			before = INT64_MAX;
		}
	}
	snprintf(key, size, "list:%lld:%lld", limit, before);
	return key;
}

void users_list(struct app *app, const struct request *req, struct response *res)
{
	const char *limit_s = request_query(req, "limit");
	const char *before_s = request_query(req, "before");
	long long limit = USERS_LIMIT_DEFAULT, before = INT64_MAX;
	char key[64], limit_p[24], before_p[24], next[24] = "";
	char *body = NULL, *stored = NULL;
	size_t len = 0;
	PGresult *rows = NULL;

	if (limit_s != NULL && params_int(limit_s, 1, USERS_LIMIT_MAX, &limit) != 0) {
		response_error(res, req, 400, "limit must be an integer from 1 to 500", "limit");
		return;
	}
	if (before_s != NULL && params_int(before_s, 1, INT64_MAX, &before) != 0) {
		response_error(res, req, 400, "before must be a positive 64-bit integer", "before");
		return;
	}
	snprintf(key, sizeof(key), "list:%lld:%lld", limit, before);
	if (!req->offloaded) {
		res->cache = lookup(app, CACHE_SCOPE_LIST, key, &body, &len, &res->gen);
		if (res->cache == CACHE_HIT) {
			serve_cached_page(res, limit, body, len);
			return;
		}
		if (request_offload(req, OFFLOAD_DB))
			return;
	}
	if (!schema_ready(app, req, res))
		return;
	snprintf(limit_p, sizeof(limit_p), "%lld", limit);
	snprintf(before_p, sizeof(before_p), "%lld", before);
	const char *params[] = {before_p, limit_p};
	if ((rows = query(app, req, res, &q_list, params)) == NULL)
		return;
	int n = PQntuples(rows);
	if (n == limit)
		snprintf(next, sizeof(next), "%s", PQgetvalue(rows, n - 1, 0));
	body = users_encode(rows, 1, &len);
	if (body == NULL) {
		PQclear(rows);
		response_error(res, req, 500, "internal error", NULL);
		return;
	}
	const char *store_key = page_key(rows, before_s, limit, before, key, sizeof(key));
	if (res->cache == CACHE_MISS && store_key != NULL &&
	    asprintf(&stored, "%s\n%s", next, body) >= 0) {
		cache_put(app->cache, &res->gen, store_key, stored, strlen(stored));
		free(stored);
	}
	PQclear(rows);
	set_link(res, limit, next);
	response_body(res, 200, body, len);
}

void users_get(struct app *app, const struct request *req, struct response *res)
{
	long long id;
	char key[40], id_p[24];
	char *body = NULL;
	size_t len = 0;
	PGresult *rows;

	if (!parse_id(req, res, &id))
		return;
	snprintf(key, sizeof(key), "user:%lld", id);
	if (!req->offloaded) {
		res->cache = lookup(app, CACHE_SCOPE_USER, key, &body, &len, &res->gen);
		if (res->cache == CACHE_HIT) {
			response_body(res, 200, body, len);
			return;
		}
		if (request_offload(req, OFFLOAD_DB))
			return;
	}
	if (!schema_ready(app, req, res))
		return;
	snprintf(id_p, sizeof(id_p), "%lld", id);
	const char *params[] = {id_p};
	if ((rows = query(app, req, res, &q_get, params)) == NULL)
		return;
	body = one_user(req, res, rows, &len);
	PQclear(rows);
	if (body == NULL)
		return;
	if (res->cache == CACHE_MISS)
		cache_put(app->cache, &res->gen, key, body, len);
	response_body(res, 200, body, len);
}

/* Shared by create and update: run the write, then make every replica miss its cache. */
static void write_user(struct app *app, const struct request *req, struct response *res,
		       const struct db_statement *q, const char *const *params, int created)
{
	size_t len = 0;
	PGresult *rows = query(app, req, res, q, params);

	if (rows == NULL)
		return;
	/* Committed (a 404 update changed nothing): later reads of what it changed must miss. */
	if (PQntuples(rows) > 0)
		cache_invalidate(app->cache, !created);
	char *body = one_user(req, res, rows, &len);
	if (body != NULL && created)
		snprintf(res->location, sizeof(res->location), "/api/users/%s",
			 PQgetvalue(rows, 0, 0));
	PQclear(rows);
	if (body != NULL)
		response_body(res, created ? 201 : 200, body, len);
}

void users_create(struct app *app, const struct request *req, struct response *res)
{
	struct user_input in;
	struct user_error uerr;

	if (request_offload(req, OFFLOAD_DB))
		return;
	if (users_parse(req->body, req->body_len, &in, &uerr) != 0) {
		invalid_body(req, res, &uerr);
		return;
	}
	if (!schema_ready(app, req, res))
		return;
	const char *params[] = {in.name, in.email};
	write_user(app, req, res, &q_insert, params, 1);
}

void users_update(struct app *app, const struct request *req, struct response *res)
{
	struct user_input in;
	struct user_error uerr;
	long long id;
	char id_p[24];

	if (request_offload(req, OFFLOAD_DB) || !parse_id(req, res, &id))
		return;
	if (users_parse(req->body, req->body_len, &in, &uerr) != 0) {
		invalid_body(req, res, &uerr);
		return;
	}
	if (!schema_ready(app, req, res))
		return;
	snprintf(id_p, sizeof(id_p), "%lld", id);
	const char *params[] = {id_p, in.name, in.email};
	write_user(app, req, res, &q_update, params, 0);
}

void users_delete(struct app *app, const struct request *req, struct response *res)
{
	long long id;
	char id_p[24];
	PGresult *rows;

	if (request_offload(req, OFFLOAD_DB) || !parse_id(req, res, &id) ||
	    !schema_ready(app, req, res))
		return;
	snprintf(id_p, sizeof(id_p), "%lld", id);
	const char *params[] = {id_p};
	if ((rows = query(app, req, res, &q_delete, params)) == NULL)
		return;
	int deleted = strcmp(PQcmdTuples(rows), "0") != 0;
	PQclear(rows);
	if (!deleted) {
		response_error(res, req, 404, "user not found", NULL);
		return;
	}
	cache_invalidate(app->cache, 1);
	res->status = 204;
}
