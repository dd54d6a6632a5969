/* Log lines are valid JSON whatever bytes a client puts in a path. */
#include <check.h>
#include <jansson.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "unit.h"

/* Run fn with stdout redirected to a pipe; return what it wrote (caller frees). */
static char *capture(void (*fn)(const void *), const void *arg)
{
	int fds[2], saved = dup(STDOUT_FILENO);
	char *buf = calloc(1, 8192);
	ck_assert_int_eq(pipe(fds), 0);
	dup2(fds[1], STDOUT_FILENO);
	fn(arg);
	dup2(saved, STDOUT_FILENO);
	close(saved);
	close(fds[1]);
	ssize_t n = read(fds[0], buf, 8191);
	close(fds[0]);
	ck_assert_int_gt(n, 0);
	return buf;
}

static void write_access(const void *arg)
{
	log_access(arg);
}

START_TEST(test_access_line_escapes_and_formats)
{
	struct access_entry e = {.method = "GET",
	                         .path = "/a\"b\\c\n\x01\xff/x",
	                         .route = "unmatched",
	                         .status = 404,
	                         .ms = 2.5,
	                         .cache = NULL,
	                         .request_id = "r-1"};
	char *line = capture(write_access, &e);
	size_t len = strlen(line);
	ck_assert_int_eq(line[len - 1], '\n');
	ck_assert_ptr_null(memchr(line, '\n', len - 1));
	json_error_t err;
	json_t *j = json_loads(line, 0, &err);
	ck_assert_msg(j != NULL, "not JSON: %s (%s)", line, err.text);
	ck_assert_str_eq(json_string_value(json_object_get(j, "path")), "/a\"b\\c\n\x01\xc3\xbf/x");
	ck_assert_str_eq(json_string_value(json_object_get(j, "event")), "http.request");
	ck_assert_int_eq(json_integer_value(json_object_get(j, "status")), 404);
	ck_assert(json_real_value(json_object_get(j, "ms")) == 2.5);
	ck_assert_ptr_null(json_object_get(j, "cache"));
	ck_assert_ptr_nonnull(strstr(line, "\"ms\":2.500,"));
	json_decref(j);
	free(line);
}
END_TEST

START_TEST(test_small_durations_keep_three_decimals)
{
	struct access_entry e = {.method = "GET",
	                         .path = "/",
	                         .route = "/",
	                         .status = 200,
	                         .ms = 0.0429,
	                         .request_id = "x"};
	char *line = capture(write_access, &e);
	ck_assert_ptr_nonnull(strstr(line, "\"ms\":0.043,"));
	free(line);
}
END_TEST

static void write_event(const void *arg)
{
	(void)arg;
	log_event(LOG_WARN, "db.error", json_pack("{s:s}", "error", "x\"y"));
}

START_TEST(test_event_line)
{
	char *line = capture(write_event, NULL);
	json_t *j = json_loads(line, 0, NULL);
	ck_assert_ptr_nonnull(j);
	ck_assert_str_eq(json_string_value(json_object_get(j, "level")), "warn");
	ck_assert_str_eq(json_string_value(json_object_get(j, "error")), "x\"y");
	ck_assert_ptr_nonnull(json_object_get(j, "ts"));
	json_decref(j);
	free(line);
}
END_TEST

/* What arrives on fd within ms (empty string if nothing). Caller frees. */
static char *read_within(int fd, int ms)
{
	char *buf = calloc(1, 8192);
	struct pollfd p = {.fd = fd, .events = POLLIN};
	if (poll(&p, 1, ms) == 1)
		ck_assert_int_gt(read(fd, buf, 8191), 0);
	return buf;
}

START_TEST(test_buffered_lines_keep_order_and_are_flushed)
{
	struct access_entry e = {.method = "GET", .path = "/one", .status = 200};
	int fds[2], saved = dup(STDOUT_FILENO);
	ck_assert_int_eq(pipe(fds), 0);
	dup2(fds[1], STDOUT_FILENO);

	ck_assert_int_eq(log_start(60000), 0);
	log_access(&e);
	e.path = "/two";
	log_access(&e);
	char *none = read_within(fds[0], 50);
	ck_assert_str_eq(none, ""); /* held back */
	log_msg(LOG_WARN, "test.event", "after");
	char *three = read_within(fds[0], 1000);
	char *one = strstr(three, "\"/one\""), *two = strstr(three, "\"/two\"");
	char *event = strstr(three, "test.event");
	ck_assert_msg(one && two && event && one < two && two < event, "order: %s", three);
	e.path = "/three";
	log_access(&e);
	log_stop();
	char *last = read_within(fds[0], 1000);
	ck_assert_ptr_nonnull(strstr(last, "\"/three\""));

	ck_assert_int_eq(log_start(20), 0); /* and without any other line: by the flush period */
	log_access(&e);
	char *timed = read_within(fds[0], 2000);
	ck_assert_ptr_nonnull(strstr(timed, "\"/three\""));
	log_stop();

	dup2(saved, STDOUT_FILENO);
	close(saved);
	close(fds[1]);
	close(fds[0]);
	free(none);
	free(three);
	free(last);
	free(timed);
}
END_TEST

START_TEST(test_level_filter)
{
	log_set_level(LOG_ERROR);
	ck_assert(!log_enabled(LOG_WARN));
	ck_assert(log_enabled(LOG_ERROR));
	log_set_level(LOG_INFO);
	ck_assert(log_enabled(LOG_INFO));
	ck_assert(!log_enabled(LOG_DEBUG));
}
END_TEST

int main(void)
{
	Suite *s = suite_create("log");
	TCase *tc = tcase_create("core");
	tcase_add_test(tc, test_access_line_escapes_and_formats);
	tcase_add_test(tc, test_small_durations_keep_three_decimals);
	tcase_add_test(tc, test_event_line);
	tcase_add_test(tc, test_level_filter);
	tcase_add_test(tc, test_buffered_lines_keep_order_and_are_flushed);
	suite_add_tcase(s, tc);
	return unit_run(s);
}
