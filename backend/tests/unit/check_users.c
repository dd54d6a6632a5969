/* Body validation, strict numbers, and row -> JSON encoding from an offline PGresult. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "params.h"
#include "users.h"
#include "unit.h"

static int parse(const char *body, struct user_input *in, struct user_error *err)
{
	return users_parse(body, strlen(body), in, err);
}

START_TEST(test_valid_body_is_trimmed)
{
	struct user_input in;
	struct user_error err;
	ck_assert_int_eq(parse("{\"name\":\"  Ada Lovelace \",\"email\":\" ada@example.com\\n\"}",
			       &in, &err),
			 0);
	ck_assert_str_eq(in.name, "Ada Lovelace");
	ck_assert_str_eq(in.email, "ada@example.com");
}
END_TEST

struct bad_case {
	const char *body;
	const char *field; /* "" = whole body */
	const char *message_part;
};

static const struct bad_case bad[] = {
	{"", "", "not valid JSON"},
	{"{", "", "not valid JSON"},
	{"[1,2]", "", "JSON object"},
	{"\"x\"", "", "JSON object"},
	{"null", "", "JSON object"},
	{"{}", "name", "required"},
	{"{\"email\":\"a@b.co\"}", "name", "required"},
	{"{\"name\":null,\"email\":\"a@b.co\"}", "name", "required"},
	{"{\"name\":\"A\"}", "email", "required"},
	{"{\"name\":1,\"email\":\"a@b.co\"}", "name", "string"},
	{"{\"name\":\"A\",\"email\":[]}", "email", "string"},
	{"{\"name\":\"   \",\"email\":\"a@b.co\"}", "name", "blank"},
	{"{\"name\":\"A\",\"email\":\"  \"}", "email", "blank"},
	{"{\"name\":\"A\\u0001B\",\"email\":\"a@b.co\"}", "name", "control"},
	{"{\"name\":\"A\\u0085B\",\"email\":\"a@b.co\"}", "name", "control"},
	{"{\"name\":\"A\",\"email\":\"a@b.co\",\"admin\":true}", "admin", "unknown field"},
	{"{\"name\":\"A\",\"name\":\"B\",\"email\":\"a@b.co\"}", "", "not valid JSON"},
	{"{\"name\":\"A\",\"email\":\"no-at-sign\"}", "email", "valid address"},
	{"{\"name\":\"A\",\"email\":\"a@@b.co\"}", "email", "valid address"},
	{"{\"name\":\"A\",\"email\":\"a@b@c.co\"}", "email", "valid address"},
	{"{\"name\":\"A\",\"email\":\"@b.co\"}", "email", "valid address"},
	{"{\"name\":\"A\",\"email\":\"a@localhost\"}", "email", "valid address"},
	{"{\"name\":\"A\",\"email\":\"a@.b.co\"}", "email", "valid address"},
	{"{\"name\":\"A\",\"email\":\"a@b..co\"}", "email", "valid address"},
	{"{\"name\":\"A\",\"email\":\"a@b.co.\"}", "email", "valid address"},
	{"{\"name\":\"A\",\"email\":\"a b@b.co\"}", "email", "valid address"},
	{"{\"name\":\"A\",\"email\":\"a@b c.co\"}", "email", "valid address"},
	{"{\"name\":\"A\",\"email\":\"a@-b.co\"}", "email", "valid address"},
	{"{\"name\":\"A\",\"email\":\"a\\u0000@b.co\"}", "", "not valid JSON"},
};

START_TEST(test_invalid_bodies)
{
	struct user_input in;
	struct user_error err;
	const struct bad_case *c = &bad[_i];
	ck_assert_msg(parse(c->body, &in, &err) == -1, "accepted: %s", c->body);
	ck_assert_msg(strcmp(err.field, c->field) == 0, "%s: field %s", c->body, err.field);
	ck_assert_msg(strstr(err.message, c->message_part) != NULL, "%s: %s", c->body,
		      err.message);
}
END_TEST

START_TEST(test_length_limits_count_characters)
{
	struct user_error err;
	char name[512], email[1200];
	/* 100 two-byte characters are fine, 101 are not. */
	name[0] = '\0';
	for (int i = 0; i < 100; i++)
		strcat(name, "\xc3\xa9");
	ck_assert_int_eq(users_check_name(name, &err), 0);
	strcat(name, "x");
	ck_assert_int_eq(users_check_name(name, &err), -1);
	ck_assert_ptr_nonnull(strstr(err.message, "100"));

	/* local part: 64 ok, 65 not */
	memset(email, 'a', 64);
	strcpy(email + 64, "@example.com");
	ck_assert_int_eq(users_check_email(email, &err), 0);
	memset(email, 'a', 65);
	strcpy(email + 65, "@example.com");
	ck_assert_int_eq(users_check_email(email, &err), -1);

	/* total: 254 ok, 255 not */
	memset(email, 'a', 10);
	email[10] = '@';
	memset(email + 11, 'b', 239);
	strcpy(email + 250, ".com");
	ck_assert_int_eq(strlen(email), 254);
	ck_assert_int_eq(users_check_email(email, &err), 0);
	memset(email + 11, 'b', 240);
	strcpy(email + 251, ".com");
	ck_assert_int_eq(users_check_email(email, &err), -1);
	ck_assert_ptr_nonnull(strstr(err.message, "254"));
}
END_TEST

START_TEST(test_international_email_accepted)
{
	struct user_error err;
	ck_assert_int_eq(users_check_email("jos\xc3\xa9@exampl\xc3\xa9.fr", &err), 0);
	ck_assert_int_eq(users_check_email("first.last+tag@sub.example.co.uk", &err), 0);
}
END_TEST

/* Names that render blank: only Unicode White_Space and default-ignorable code points. */
static const char *const blank_names[] = {
	"\xc2\xa0",		     /* U+00A0 no-break space */
	"\xe3\x80\x80",		     /* U+3000 ideographic space */
	"\xe2\x80\x80\xe2\x80\x8a", /* U+2000, U+200A */
	"\xe2\x80\xaf",		     /* U+202F narrow no-break space */
	"\xe2\x81\x9f",		     /* U+205F medium mathematical space */
	"\xe2\x80\x8d",		     /* U+200D zero-width joiner alone */
	"\xe3\x85\xa4",		     /* U+3164 Hangul filler */
	"\xef\xb8\x8f",		     /* U+FE0F variation selector alone */
};

START_TEST(test_blank_unicode_names_refused)
{
	struct user_error err;
	ck_assert_msg(users_check_name(blank_names[_i], &err) == -1, "accepted case %d", _i);
	ck_assert_msg(strstr(err.message, "blank") != NULL, "%d: %s", _i, err.message);
}
END_TEST

/* Format, control, separator and noncharacter code points, anywhere in a name or an email. */
static const char *const forbidden_chars[] = {
	"\xe2\x80\x8b", /* U+200B zero-width space */
	"\xe2\x81\xa0", /* U+2060 word joiner */
	"\xef\xbb\xbf", /* U+FEFF byte-order mark */
	"\xe2\x80\xaa", /* U+202A left-to-right embedding */
	"\xe2\x80\xae", /* U+202E right-to-left override */
	"\xe2\x81\xa6", /* U+2066 left-to-right isolate */
	"\xe2\x81\xa9", /* U+2069 pop directional isolate */
	"\xe2\x80\xa8", /* U+2028 line separator */
	"\xe2\x80\xa9", /* U+2029 paragraph separator */
	"\xc2\xad",	/* U+00AD soft hyphen (Cf) */
	"\xd8\x80",	/* U+0600 Arabic number sign (Cf) */
	"\xc2\x85",	/* U+0085 C1 control */
	"\x7f",		/* DEL */
	"\xef\xb7\x90", /* U+FDD0 noncharacter */
	"\xef\xbf\xbe", /* U+FFFE noncharacter */
	"\xf4\x8f\xbf\xbf", /* U+10FFFF noncharacter */
};

START_TEST(test_forbidden_characters_refused)
{
	struct user_error err;
	char text[64], email[64];
	snprintf(text, sizeof(text), "Ada%sLovelace", forbidden_chars[_i]);
	ck_assert_msg(users_check_name(text, &err) == -1, "name accepted case %d", _i);
	ck_assert_str_eq(err.field, "name");
	snprintf(email, sizeof(email), "ada%s@example.com", forbidden_chars[_i]);
	ck_assert_msg(users_check_email(email, &err) == -1, "email accepted case %d", _i);
	ck_assert_str_eq(err.field, "email");
}
END_TEST

START_TEST(test_visible_unicode_names_accepted)
{
	struct user_error err;
	ck_assert_int_eq(users_check_name("\xe5\xb1\xb1\xe7\x94\xb0\xe3\x80\x80\xe5\xa4\xaa\xe9\x83\x8e",
					  &err),
			 0); /* ideographic space inside a name */
	ck_assert_int_eq(users_check_name("Jean\xc2\xa0Luc", &err), 0);
	/* ZWNJ in Persian, ZWJ in an emoji sequence */
	ck_assert_int_eq(users_check_name("\xd9\x85\xdb\x8c\xe2\x80\x8c\xd8\xae\xd9\x88\xd8\xa7\xd9\x87\xd9\x85",
					  &err),
			 0);
	ck_assert_int_eq(users_check_name("\xf0\x9f\x91\xa9\xe2\x80\x8d\xf0\x9f\x92\xbb Ada", &err),
			 0);
}
END_TEST

START_TEST(test_unicode_whitespace_trimmed)
{
	struct user_input in;
	struct user_error err;
	/* U+3000 and U+00A0 before, U+2009 and U+202F after */
	ck_assert_int_eq(parse("{\"name\":\"\\u3000\\u00a0Ada\\u2009\\u202f\","
			       "\"email\":\"\\u00a0ada@example.com\\u3000\"}",
			       &in, &err),
			 0);
	ck_assert_str_eq(in.name, "Ada");
	ck_assert_str_eq(in.email, "ada@example.com");
	/* Invisible inside an email: refused, not trimmed away. */
	ck_assert_int_eq(parse("{\"name\":\"A\",\"email\":\"ada\\u00a0@example.com\"}", &in, &err),
			 -1);
	ck_assert_int_eq(parse("{\"name\":\"A\",\"email\":\"ada@example.com\\u200b\"}", &in, &err),
			 -1);
}
END_TEST

START_TEST(test_email_composed)
{
	struct user_input in;
	struct user_error err;
	/* e + U+0301 is stored as U+00E9: one address however it was typed. */
	ck_assert_int_eq(parse("{\"name\":\"A\",\"email\":\"jose\\u0301@example.fr\"}", &in, &err), 0);
	ck_assert_str_eq(in.email, "jos\xc3\xa9@example.fr");
}
END_TEST

START_TEST(test_oversized_field_is_too_long_not_a_crash)
{
	struct user_input in;
	struct user_error err;
	size_t n = 5000;
	char *body = malloc(n + 64);
	strcpy(body, "{\"name\":\"");
	memset(body + 9, 'x', n);
	strcpy(body + 9 + n, "\",\"email\":\"a@b.co\"}");
	ck_assert_int_eq(parse(body, &in, &err), -1);
	ck_assert_str_eq(err.field, "name");
	ck_assert_ptr_nonnull(strstr(err.message, "at most 100"));
	free(body);
}
END_TEST

START_TEST(test_params_int)
{
	long long v = 0;
	ck_assert_int_eq(params_int("50", 1, 500, &v), 0);
	ck_assert_int_eq(v, 50);
	ck_assert_int_eq(params_int("9223372036854775807", 1, INT64_MAX, &v), 0);
	ck_assert(v == INT64_MAX);
	const char *bad_values[] = {"", "0", "501", "-1", "+5", " 5", "5 ", "5a", "1e3", "0x10",
				    "9223372036854775808", "99999999999999999999", "3.0"};
	for (size_t i = 0; i < sizeof(bad_values) / sizeof(bad_values[0]); i++)
		ck_assert_msg(params_int(bad_values[i], 1, 500, &v) == -1, "%s", bad_values[i]);
	ck_assert_int_eq(params_int(NULL, 1, 500, &v), -1);
	ck_assert_int_eq(params_int("007", 1, 500, &v), 0);
	ck_assert_int_eq(v, 7);
}
END_TEST

static PGresult *make_rows(int n, const char *const rows[][4])
{
	PGresAttDesc attrs[4] = {
		{.name = "id", .typid = 20, .typlen = 8, .format = 0},
		{.name = "name", .typid = 25, .typlen = -1, .format = 0},
		{.name = "email", .typid = 25, .typlen = -1, .format = 0},
		{.name = "to_char", .typid = 25, .typlen = -1, .format = 0},
	};
	PGresult *res = PQmakeEmptyPGresult(NULL, PGRES_TUPLES_OK);
	ck_assert(PQsetResultAttrs(res, 4, attrs));
	for (int r = 0; r < n; r++)
		for (int c = 0; c < 4; c++)
			ck_assert(PQsetvalue(res, r, c, (char *)rows[r][c], (int)strlen(rows[r][c])));
	return res;
}

START_TEST(test_encode_object_and_array)
{
	const char *const rows[][4] = {
		{"2", "Grace \"Amazing\" Hopper", "grace@example.com", "2026-11-22T05:00:00.123456Z"},
		{"1", "Ada", "ada@example.com", "2026-11-22T04:00:00.000001Z"},
	};
	PGresult *res = make_rows(2, rows);
	size_t len = 0;
	char *one = users_encode(res, 0, &len);
	ck_assert_str_eq(one, "{\"id\":2,\"name\":\"Grace \\\"Amazing\\\" Hopper\",\"email\":"
			      "\"grace@example.com\",\"created_at\":\"2026-11-22T05:00:00.123456Z\"}");
	ck_assert_int_eq(len, strlen(one));
	char *all = users_encode(res, 1, &len);
	ck_assert_ptr_nonnull(strstr(all, "},{\"id\":1,"));
	ck_assert_int_eq(all[0], '[');
	free(one);
	free(all);
	PQclear(res);
}
END_TEST

START_TEST(test_encode_empty_array)
{
	PGresult *res = make_rows(0, NULL);
	size_t len = 0;
	char *all = users_encode(res, 1, &len);
	ck_assert_str_eq(all, "[]");
	ck_assert_ptr_null(users_encode(res, 0, &len));
	free(all);
	PQclear(res);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("users");
	TCase *tc = tcase_create("core");
	tcase_add_test(tc, test_valid_body_is_trimmed);
	tcase_add_loop_test(tc, test_invalid_bodies, 0, (int)(sizeof(bad) / sizeof(bad[0])));
	tcase_add_test(tc, test_length_limits_count_characters);
	tcase_add_test(tc, test_international_email_accepted);
	tcase_add_loop_test(tc, test_blank_unicode_names_refused, 0,
			    (int)(sizeof(blank_names) / sizeof(blank_names[0])));
	tcase_add_loop_test(tc, test_forbidden_characters_refused, 0,
			    (int)(sizeof(forbidden_chars) / sizeof(forbidden_chars[0])));
	tcase_add_test(tc, test_visible_unicode_names_accepted);
	tcase_add_test(tc, test_unicode_whitespace_trimmed);
	tcase_add_test(tc, test_email_composed);
	tcase_add_test(tc, test_oversized_field_is_too_long_not_a_crash);
	tcase_add_test(tc, test_params_int);
	tcase_add_test(tc, test_encode_object_and_array);
	tcase_add_test(tc, test_encode_empty_array);
	suite_add_tcase(s, tc);
	return unit_run(s);
}
