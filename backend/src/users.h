/* users.h - the /api/users resource: validation, SQL, row -> JSON, cache keys. */
#ifndef USERS_H
#define USERS_H

#include <stddef.h>
#include <libpq-fe.h>

#include "request.h"

#define USERS_NAME_MAX 100 /* characters (code points) after trimming */
#define USERS_EMAIL_MAX 254
#define USERS_LOCAL_MAX 64
#define USERS_LIMIT_DEFAULT 50
#define USERS_LIMIT_MAX 500

/* A validated body: trimmed, NUL-terminated UTF-8. */
struct user_input {
	char name[USERS_NAME_MAX * 4 + 1];
	char email[USERS_EMAIL_MAX * 4 + 1];
};

/* Why a body was refused: a message for the client and the field it concerns (or NULL). */
struct user_error {
	char message[128];
	char field[48]; /* empty when the error is about the whole body */
};

/* Parse and validate a {"name","email"} body. 0 on success, -1 with err filled. Pure. */
int users_parse(const char *body, size_t len, struct user_input *in, struct user_error *err);

/* Validate one trimmed value. 0 when valid, -1 with err filled. Pure. */
int users_check_name(const char *name, struct user_error *err);
int users_check_email(const char *email, struct user_error *err);

/*
 * Encode rows (id, name, email, created_at) as compact JSON: an array, or the first row as an
 * object when as_array is 0. Caller frees; NULL on ENOMEM.
 */
char *users_encode(const PGresult *res, int as_array, size_t *lenp);

/*
 * The routes (request.h). Reads look the cache up on the event thread and go to a DB worker
 * only on a miss; writes check their input on the event thread and write on a DB worker.
 */
extern const struct handler users_list;   /* GET /api/users?limit=&before= */
extern const struct handler users_get;    /* GET /api/users/{id} */
extern const struct handler users_create; /* POST /api/users */
extern const struct handler users_update; /* PUT /api/users/{id} */
extern const struct handler users_delete; /* DELETE /api/users/{id} */

#endif
