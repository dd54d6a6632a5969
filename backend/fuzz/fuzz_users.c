/*
 * fuzz_users.c - the POST/PUT /api/users body: users_parse (jansson + validation), then the
 * accepted value through users_encode and back, as a response would carry it.
 *
 * Invariants: a refused body has a message and either no field or a short printable one;
 * an accepted body has a trimmed, 1..100 character name without control characters, an email
 * with exactly one '@' and no spaces, and both come back byte for byte from users_encode.
 */
#include <jansson.h>
#include <libpq-fe.h>

#include "fuzz_common.h"
#include "users.h"

static int is_space(unsigned char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

static size_t code_points(const char *s)
{
	size_t n = 0;
	for (; *s; s++)
		n += ((unsigned char)*s & 0xc0) != 0x80;
	return n;
}

static void check_trimmed(const char *s)
{
	size_t n = strlen(s);
	CHECK(n > 0);
	CHECK(!is_space((unsigned char)s[0]) && !is_space((unsigned char)s[n - 1]));
	CHECK(fuzz_utf8_valid(s, n));
	for (const unsigned char *p = (const unsigned char *)s; *p; p++)
		CHECK(*p >= 0x20 && *p != 0x7f);
}

/* A one-row PGresult as the database would return it, built offline. */
static PGresult *make_row(const struct user_input *in)
{
	PGresAttDesc attrs[4] = {
	    {.name = "id", .format = 0, .typid = 20, .typlen = 8, .atttypmod = -1},
	    {.name = "name", .format = 0, .typid = 25, .typlen = -1, .atttypmod = -1},
	    {.name = "email", .format = 0, .typid = 25, .typlen = -1, .atttypmod = -1},
	    {.name = "to_char", .format = 0, .typid = 25, .typlen = -1, .atttypmod = -1},
	};
	PGresult *res = PQmakeEmptyPGresult(NULL, PGRES_TUPLES_OK);
	CHECK(res != NULL);
	CHECK(PQsetResultAttrs(res, 4, attrs));
	const char *values[4] = {"9223372036854775807", in->name, in->email,
	                         "2026-11-22T05:00:00.123456Z"};
	for (int i = 0; i < 4; i++)
		CHECK(PQsetvalue(res, 0, i, (char *)values[i], (int)strlen(values[i])));
	return res;
}

static void check_round_trip(const struct user_input *in)
{
	PGresult *res = make_row(in);
	size_t len = 0;
	json_error_t jerr;

	for (int as_array = 0; as_array < 2; as_array++) {
		char *text = users_encode(res, as_array, &len);
		CHECK(text != NULL);
		CHECK(len == strlen(text));
		json_t *doc = json_loadb(text, len, 0, &jerr);
		CHECK(doc != NULL);
		json_t *obj = as_array ? json_array_get(doc, 0) : doc;
		CHECK(json_is_object(obj) && json_object_size(obj) == 4);
		CHECK(json_integer_value(json_object_get(obj, "id")) == INT64_MAX);
		CHECK(strcmp(json_string_value(json_object_get(obj, "name")), in->name) == 0);
		CHECK(strcmp(json_string_value(json_object_get(obj, "email")), in->email) == 0);
		json_decref(doc);
		free(text);
	}
	PQclear(res);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct user_input in;
	struct user_error err;

	memset(&in, 0xa5, sizeof(in));
	memset(&err, 0xa5, sizeof(err));
	if (users_parse((const char *)data, size, &in, &err) != 0) {
		CHECK(memchr(err.message, '\0', sizeof(err.message)) != NULL);
		CHECK(memchr(err.field, '\0', sizeof(err.field)) != NULL);
		CHECK(err.message[0] != '\0');
		/* The field may echo the client's key: it must be safe to put in a JSON error. */
		CHECK(fuzz_utf8_valid(err.field, strlen(err.field)));
		for (const unsigned char *p = (const unsigned char *)err.field; *p; p++)
			CHECK(*p >= 0x20 && *p != 0x7f);
		json_t *body = json_pack("{s:s, s:s}", "error", err.message, "field", err.field);
		CHECK(body != NULL);
		json_decref(body);
	} else {
		check_trimmed(in.name);
		check_trimmed(in.email);
		CHECK(code_points(in.name) <= USERS_NAME_MAX);
		CHECK(code_points(in.email) <= USERS_EMAIL_MAX);
		const char *at = strchr(in.email, '@');
		CHECK(at != NULL && at > in.email && strchr(at + 1, '@') == NULL);
		CHECK(at - in.email <= USERS_LOCAL_MAX);
		CHECK(strchr(at + 1, '.') != NULL);
		for (const char *p = in.email; *p; p++)
			CHECK(!is_space((unsigned char)*p));
		struct user_error again;
		CHECK(users_check_name(in.name, &again) == 0);
		CHECK(users_check_email(in.email, &again) == 0);
		check_round_trip(&in);
	}
	/* The validators are also called on their own: feed them the raw bytes as a C string. */
	if (size < 4096) {
		char *s = fuzz_cstr(data, size);
		struct user_error e;
		(void)users_check_name(s, &e);
		(void)users_check_email(s, &e);
		free(s);
	}
	return 0;
}
