/*
 * fuzz_log.c - the access log line (log_access): every request writes one, and the path in it
 * is whatever bytes the client sent. Fields are bounded the way http.c bounds them: the path
 * to its first 200 bytes (PATH_LOG_MAX), the request id to a valid 1-64 character id.
 *
 * Invariants: exactly one line is written, it is one valid JSON object, and it carries the
 * method, the path (each byte as the code point of the same value), the status and the
 * request id: a request can never hide from the log by the bytes it sends.
 */
#include <fcntl.h>
#include <jansson.h>
#include <unistd.h>

#include "fuzz_common.h"
#include "http.h"
#include "log.h"

#define PATH_LOG_MAX 200 /* http.c */

static int pipe_r = -1;

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	int fds[2];
	CHECK(pipe2(fds, O_NONBLOCK) == 0);
	CHECK(fcntl(fds[1], F_SETPIPE_SZ, 1 << 20) > 0);
	CHECK(dup2(fds[1], STDOUT_FILENO) >= 0);
	close(fds[1]);
	pipe_r = fds[0];
	log_set_level(LOG_INFO);
	return 0;
}

/* The path as the log shows it: each byte becomes the code point of the same value. */
static char *latin1_to_utf8(const char *s)
{
	char *out = malloc(strlen(s) * 2 + 1), *o = out;
	CHECK(out != NULL);
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if (*p < 0x80) {
			*o++ = (char)*p;
		} else {
			*o++ = (char)(0xc0 | (*p >> 6));
			*o++ = (char)(0x80 | (*p & 0x3f));
		}
	}
	*o = '\0';
	return out;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const methods[] = {"GET",    "HEAD",    "POST", "PUT",
	                                      "DELETE", "OPTIONS", "OTHER"};
	static const char *const caches[] = {NULL, "hit", "miss", "error"};
	static char line[1 << 16];
	if (size < 4)
		return -1;
	/* Layout: method, cache+aborted, status (2 bytes), then "path\0request-id". */
	const char *method = methods[data[0] % 7];
	const char *cache = caches[data[1] & 3];
	int aborted = (data[1] >> 2) & 1;
	int status = (data[2] << 8 | data[3]) % 1000;
	char *rest = fuzz_cstr(data + 4, size - 4);
	char path[PATH_LOG_MAX + 1] = "";
	snprintf(path, sizeof(path), "%s", rest);
	size_t plen = strlen(rest);
	const char *id = plen + 1 <= size - 4 ? rest + plen + 1 : "";
	char request_id[65];
	snprintf(request_id, sizeof(request_id), "%s",
	         http_request_id_valid(id) ? id : "0badc0de-000001");

	struct access_entry e = {.method = method,
	                         .path = path,
	                         .route = "/api/users/{id}",
	                         .status = status,
	                         .ms = (double)status / 7.0,
	                         .cache = cache,
	                         .request_id = request_id,
	                         .aborted = aborted};
	log_access(&e);

	ssize_t n = read(pipe_r, line, sizeof(line) - 1);
	CHECK(n > 0); /* a line was written */
	line[n] = '\0';
	CHECK(line[n - 1] == '\n' && memchr(line, '\n', (size_t)n - 1) == NULL);
	json_error_t jerr;
	json_t *doc = json_loadb(line, (size_t)n, 0, &jerr);
	CHECK(doc != NULL);
	char *want_path = latin1_to_utf8(path);
	CHECK(strcmp(json_string_value(json_object_get(doc, "event")), "http.request") == 0);
	CHECK(strcmp(json_string_value(json_object_get(doc, "method")), method) == 0);
	CHECK(strcmp(json_string_value(json_object_get(doc, "path")), want_path) == 0);
	CHECK(json_integer_value(json_object_get(doc, "status")) == status);
	CHECK(strcmp(json_string_value(json_object_get(doc, "request_id")), request_id) == 0);
	CHECK(json_is_true(json_object_get(doc, "aborted")) == aborted);
	json_decref(doc);
	free(want_path);
	free(rest);
	return 0;
}
