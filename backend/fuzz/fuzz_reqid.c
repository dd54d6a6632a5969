/*
 * fuzz_reqid.c - X-Request-ID: http_request_id_valid decides whether the client's value is
 * echoed back (header, error body, access log). Invariants: it accepts exactly 1..64 characters
 * of [A-Za-z0-9._-]; whatever it accepts survives the JSON error body unchanged, so a request
 * id can never turn a 4xx into a 500 or break the log line.
 */
#include "fuzz_common.h"
#include "http.h"
#include "request.h"

static int ref_valid(const char *s)
{
	size_t n = strlen(s);
	if (n < 1 || n > 64)
		return 0;
	return strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._-") == n;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *id = fuzz_cstr(data, size);
	int valid = http_request_id_valid(id);

	CHECK(valid == ref_valid(id));
	CHECK(http_request_id_valid(NULL) == 0);
	if (valid) {
		struct request req = {.request_id = id};
		struct response res = {0};
		json_error_t jerr;
		response_error(&res, &req, 400, "bad request", "name");
		CHECK(res.status == 400 && res.body != NULL);
		json_t *doc = json_loadb(res.body, res.body_len, 0, &jerr);
		CHECK(doc != NULL);
		CHECK(strcmp(json_string_value(json_object_get(doc, "request_id")), id) == 0);
		json_decref(doc);
		free(res.body);
	}
	free(id);
	return 0;
}
