/* log.c - one JSON object per line; jansson escapes whatever a client put in a path. */
#include "log.h"

#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static int min_level = LOG_INFO;

static const char *const level_names[] = {"debug", "info", "warn", "error"};

void log_set_level(int level)
{
	min_level = level;
}

int log_enabled(int level)
{
	return level >= min_level;
}

static void format_ts(char *buf, size_t len)
{
	struct timespec ts;
	struct tm tm;
	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	size_t n = strftime(buf, len, "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(buf + n, len - n, ".%03ldZ", ts.tv_nsec / 1000000);
}

void log_event(int level, const char *event, json_t *fields)
{
	char ts[40];
	char line[4096];
	json_t *obj = NULL;

	if (!log_enabled(level))
		goto out;
	format_ts(ts, sizeof(ts));
	obj = json_pack("{s:s, s:s, s:s}", "ts", ts, "level", level_names[level], "event", event);
	if (obj == NULL)
		goto out;
	if (fields != NULL)
		json_object_update(obj, fields);
	size_t n = json_dumpb(obj, line, sizeof(line) - 1, JSON_COMPACT | JSON_REAL_PRECISION(6));
	if (n == 0 || n > sizeof(line) - 1) /* too long for one line: keep the envelope only */
		n = (size_t)snprintf(line, sizeof(line) - 1,
				     "{\"ts\":\"%s\",\"level\":\"%s\",\"event\":\"%s\","
				     "\"truncated\":true}",
				     ts, level_names[level], event);
	line[n++] = '\n';
	ssize_t ignored = write(STDOUT_FILENO, line, n);
	(void)ignored; /* nowhere to report a failed log write */
out:
	json_decref(obj);
	json_decref(fields);
}

void log_msg(int level, const char *event, const char *message)
{
	if (log_enabled(level))
		log_event(level, event, json_pack("{s:s}", "message", message));
}
