/* log.h - structured logs: one JSON object per line on stdout. */
#ifndef LOG_H
#define LOG_H

#include <stdarg.h>

#include <jansson.h>

enum log_level { LOG_DEBUG, LOG_INFO, LOG_WARN, LOG_ERROR };

/* A level by name ("debug", "info", "warn", "error", any case); -1 when unknown. */
int log_parse_level(const char *name);

/*
 * Buffer access lines and write them at least every flush_ms, or as soon as 64 KiB are
 * pending, or before any other line (so lines keep their order), from a thread of its own:
 * one write(2) per batch instead of one per request. Until log_start, and with flush_ms 0,
 * every line is written at once. A process killed with SIGKILL loses at most flush_ms of
 * access lines; log_stop writes what is pending. 0 on success.
 */
int log_start(int flush_ms);
void log_stop(void);

/* Set the lowest level written (enum log_level). Not thread-safe: call before threads start. */
void log_set_level(int level);
int log_enabled(int level);

/*
 * Write {"ts":..,"level":..,"event":..,<fields>} as one line, never interleaved with another
 * thread's. fields may be NULL; it is stolen (decref'd here).
 */
void log_event(int level, const char *event, json_t *fields);

/* One access line ("http.request"). Fields that are NULL are left out. */
struct access_entry {
	const char *method;
	const char *path; /* client bytes: escaped */
	const char *route;
	int status;
	double ms;
	const char *cache;
	const char *request_id;
	int aborted;
};

/*
 * Written for every request, so it is formatted by hand: building and dumping a jansson
 * object cost more CPU than serving a cached read (measured with callgrind).
 */
void log_access(const struct access_entry *e);

/* Shorthand for an event with a "message" field. */
void log_msg(int level, const char *event, const char *message);

/*
 * A library's own diagnostics (libmicrohttpd's external logger has this signature): formatted,
 * cut at the first newline, logged at debug as event "http.server". cls is unused.
 */
void log_library_message(void *cls, const char *fmt, va_list ap);

#endif
