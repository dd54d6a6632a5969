/* log.c - one JSON object per line; jansson escapes whatever a client put in a path. */
#include "log.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"

#define PENDING_MAX (64 * 1024)

static int min_level = LOG_INFO;

/* The one buffer of access lines, shared by every thread (a logger is process-wide). */
static struct {
	pthread_mutex_t lock;
	pthread_cond_t wake;
	pthread_t flusher;
	int started, stopping; /* under lock */
	int flush_ms;
	size_t len;
	char buf[PENDING_MAX];
} pending = {.lock = PTHREAD_MUTEX_INITIALIZER, .wake = PTHREAD_COND_INITIALIZER};

static const char *const level_names[] = {"debug", "info", "warn", "error"};

int log_parse_level(const char *name)
{
	for (size_t i = 0; i < sizeof(level_names) / sizeof(level_names[0]); i++)
		if (strcasecmp(name, level_names[i]) == 0)
			return (int)i;
	return -1;
}

void log_set_level(int level)
{
	min_level = level;
}

int log_enabled(int level)
{
	return level >= min_level;
}

static void write_all(const struct iovec *iov, int n)
{
	/* One call: a pipe or file takes it whole; nowhere to report a failed log write. */
	ssize_t ignored = writev(STDOUT_FILENO, iov, n);
	(void)ignored;
}

/* Write what is pending, then line (may be NULL), in one call. Under pending.lock. */
static void flush_locked(const char *line, size_t n)
{
	struct iovec iov[2];
	int parts = 0;
	if (pending.len > 0)
		iov[parts++] = (struct iovec){pending.buf, pending.len};
	if (line != NULL)
		iov[parts++] = (struct iovec){(void *)line, n};
	if (parts > 0)
		write_all(iov, parts);
	pending.len = 0;
}

/* An access line: buffered once log_start has run, written at once before. */
static void emit_access(const char *line, size_t n)
{
	pthread_mutex_lock(&pending.lock);
	if (!pending.started) {
		flush_locked(line, n);
	} else {
		if (pending.len + n > sizeof(pending.buf))
			flush_locked(NULL, 0);
		if (pending.len == 0) /* the first line of a batch: start the flusher's clock */
			pthread_cond_signal(&pending.wake);
		memcpy(pending.buf + pending.len, line, n);
		pending.len += n;
	}
	pthread_mutex_unlock(&pending.lock);
}

/* Any other line: after the pending ones, at once. */
static void emit(const char *line, size_t n)
{
	pthread_mutex_lock(&pending.lock);
	flush_locked(line, n);
	pthread_mutex_unlock(&pending.lock);
}

/* Asleep while nothing is pending; once a line is, it waits flush_ms and writes the batch. */
static void *flusher(void *arg)
{
	(void)arg;
	pthread_mutex_lock(&pending.lock);
	while (!pending.stopping) {
		if (pending.len == 0) {
			pthread_cond_wait(&pending.wake, &pending.lock);
			continue;
		}
		struct timespec until = clock_deadline(pending.flush_ms);
		while (!pending.stopping &&
		       pthread_cond_timedwait(&pending.wake, &pending.lock, &until) != ETIMEDOUT)
			;
		flush_locked(NULL, 0);
	}
	pthread_mutex_unlock(&pending.lock);
	return NULL;
}

int log_start(int flush_ms)
{
	pthread_condattr_t attr;
	int rc = 0;
	if (flush_ms <= 0)
		return 0;
	pthread_condattr_init(&attr);
	pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
	pthread_mutex_lock(&pending.lock);
	pthread_cond_destroy(&pending.wake);
	pthread_cond_init(&pending.wake, &attr);
	pending.flush_ms = flush_ms;
	pending.stopping = 0;
	rc = pthread_create(&pending.flusher, NULL, flusher, NULL);
	pending.started = rc == 0;
	pthread_mutex_unlock(&pending.lock);
	pthread_condattr_destroy(&attr);
	return rc == 0 ? 0 : -1;
}

void log_stop(void)
{
	pthread_mutex_lock(&pending.lock);
	int started = pending.started;
	pending.started = 0;
	pending.stopping = 1;
	pthread_cond_signal(&pending.wake);
	pthread_mutex_unlock(&pending.lock);
	if (started)
		pthread_join(pending.flusher, NULL);
	emit(NULL, 0);
}

/* RFC 3339 UTC with milliseconds; the part up to the second is formatted once a second. */
static void format_ts(char *buf, size_t len)
{
	static _Thread_local time_t cached_sec = -1;
	static _Thread_local char cached[24];
	struct timespec ts;
	struct tm tm;
	clock_gettime(CLOCK_REALTIME, &ts);
	if (ts.tv_sec != cached_sec) {
		gmtime_r(&ts.tv_sec, &tm);
		strftime(cached, sizeof(cached), "%Y-%m-%dT%H:%M:%S", &tm);
		cached_sec = ts.tv_sec;
	}
	long ms = ts.tv_nsec / 1000000;
	size_t n = strlen(cached);
	if (n + 6 > len) {
		buf[0] = '\0';
		return;
	}
	memcpy(buf, cached, n);
	char frac[6] = {
	    '.', (char)('0' + ms / 100), (char)('0' + ms / 10 % 10), (char)('0' + ms % 10), 'Z',
	    '\0'};
	memcpy(buf + n, frac, sizeof(frac));
}

/* A bounded output buffer; overflow is remembered and the line is then dropped. */
struct out {
	char *buf;
	size_t cap;
	size_t len;
	int overflow;
};

static void put(struct out *o, const char *s, size_t n)
{
	if (o->len + n > o->cap) {
		o->overflow = 1;
		return;
	}
	memcpy(o->buf + o->len, s, n);
	o->len += n;
}

static void put_str(struct out *o, const char *s)
{
	put(o, s, strlen(s));
}

/* A JSON string, ASCII only: quotes, backslashes and other bytes escaped (RFC 8259, 7). */
static void put_json_string(struct out *o, const char *s)
{
	static const char hex[] = "0123456789abcdef";
	const unsigned char *p = (const unsigned char *)s;
	put(o, "\"", 1);
	while (*p) {
		size_t plain = 0; /* a run of bytes that need no escape, copied at once */
		while (p[plain] >= 0x20 && p[plain] < 0x7f && p[plain] != '"' && p[plain] != '\\')
			plain++;
		put(o, (const char *)p, plain);
		p += plain;
		if (*p == '"' || *p == '\\') {
			char esc[2] = {'\\', (char)*p++};
			put(o, esc, 2);
		} else if (*p != '\0') {
			/* Bytes above 0x7f too: a path may hold any bytes, the log stays valid
			 * JSON. */
			char esc[6] = {'\\', 'u', '0', '0', hex[*p >> 4], hex[*p & 15]};
			put(o, esc, 6);
			p++;
		}
	}
	put(o, "\"", 1);
}

/* Decimal digits of v, at least min_digits (zero-padded). */
static void put_uint(struct out *o, unsigned long long v, int min_digits)
{
	char buf[24];
	int n = 0;
	do {
		buf[sizeof(buf) - 1 - n++] = (char)('0' + v % 10);
		v /= 10;
	} while (v != 0 || n < min_digits);
	put(o, buf + sizeof(buf) - n, (size_t)n);
}

static void put_field(struct out *o, const char *key, const char *value)
{
	if (value == NULL)
		return;
	put(o, ",\"", 2);
	put_str(o, key);
	put(o, "\":", 2);
	put_json_string(o, value);
}

void log_access(const struct access_entry *e)
{
	char line[2048], ts[40]; /* fits a 200-byte path escaped to 6 bytes a byte */
	struct out o = {line, sizeof(line) - 1, 0, 0};
	unsigned long long us = e->ms > 0 ? (unsigned long long)(e->ms * 1000 + 0.5) : 0;

	if (!log_enabled(LOG_INFO))
		return;
	format_ts(ts, sizeof(ts));
	put_str(&o, "{\"ts\":\"");
	put_str(&o, ts);
	put_str(&o, "\",\"level\":\"info\",\"event\":\"http.request\"");
	put_field(&o, "method", e->method);
	put_field(&o, "path", e->path);
	put_field(&o, "route", e->route);
	put_str(&o, ",\"status\":");
	put_uint(&o, (unsigned)e->status, 1);
	put_str(&o, ",\"ms\":"); /* milliseconds with three decimals */
	put_uint(&o, us / 1000, 1);
	put(&o, ".", 1);
	put_uint(&o, us % 1000, 3);
	put_field(&o, "cache", e->cache);
	put_field(&o, "request_id", e->request_id);
	if (e->aborted)
		put_str(&o, ",\"aborted\":true");
	put(&o, "}", 1);
	if (o.overflow)
		return; /* cannot happen with the bounded fields http.c passes */
	line[o.len++] = '\n';
	emit_access(line, o.len);
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
	emit(line, n);
out:
	json_decref(obj);
	json_decref(fields);
}

void log_msg(int level, const char *event, const char *message)
{
	if (log_enabled(level))
		log_event(level, event, json_pack("{s:s}", "message", message));
}

void log_library_message(void *cls, const char *fmt, va_list ap)
{
	char msg[256];
	(void)cls;
	vsnprintf(msg, sizeof(msg), fmt, ap);
	msg[strcspn(msg, "\n")] = '\0';
	log_msg(LOG_DEBUG, "http.server", msg);
}
