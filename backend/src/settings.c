/* settings.c - environment variables to a struct, driven by the caller's table of rows. */
#include "settings.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "log.h"

static int parse_int(const char *s, long long min, long long max, long long *out)
{
	char *end = NULL;
	errno = 0;
	long long v = strtoll(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0' || v < min || v > max)
		return -1;
	*out = v;
	return 0;
}

static int parse_bool(const char *s)
{
	if (strcasecmp(s, "true") == 0 || strcmp(s, "1") == 0 || strcasecmp(s, "yes") == 0)
		return 1;
	if (strcasecmp(s, "false") == 0 || strcmp(s, "0") == 0 || strcasecmp(s, "no") == 0)
		return 0;
	return -1;
}

/* A value that does not fit is an error, not a surprise. */
int settings_copy_str(char *dst, size_t size, const char *src)
{
	size_t n = strlen(src);
	if (n >= size)
		return -1;
	memcpy(dst, src, n + 1);
	return 0;
}

static int read_secret_file(const char *path, char *dst, size_t size)
{
	FILE *f = fopen(path, "r");
	if (f == NULL)
		return -1;
	size_t n = fread(dst, 1, size, f);
	int bad = ferror(f) || n == size; /* unreadable, or too long to hold with a NUL */
	fclose(f);
	if (bad)
		return -1;
	while (n > 0 && (dst[n - 1] == '\n' || dst[n - 1] == '\r'))
		n--;
	dst[n] = '\0';
	return 0;
}

static const char *env_lookup(const char *name)
{
	return getenv(name);
}

static int apply(void *cfg, const struct setting *s, const char *v, char *err, size_t errlen)
{
	char *base = (char *)cfg;
	long long n;
	int b;

	switch (s->kind) {
	case SETTING_INT:
		if (parse_int(v, s->min, s->max, &n) != 0) {
			snprintf(err, errlen, "%s: expected an integer in %lld..%lld", s->name,
			         s->min, s->max);
			return -1;
		}
		*(int *)(base + s->offset) = (int)n;
		return 0;
	case SETTING_STR:
		if (settings_copy_str(base + s->offset, s->size, v) != 0) {
			snprintf(err, errlen, "%s: longer than %zu bytes", s->name, s->size - 1);
			return -1;
		}
		return 0;
	case SETTING_SECRET_FILE:
		if (read_secret_file(v, base + s->offset, s->size) != 0) {
			snprintf(err, errlen, "%s: cannot read the file, or it is too long",
			         s->name);
			return -1;
		}
		return 0;
	case SETTING_BOOL:
		b = parse_bool(v);
		if (b < 0) {
			snprintf(err, errlen, "%s: expected true or false", s->name);
			return -1;
		}
		*(int *)(base + s->offset) = b;
		return 0;
	case SETTING_LEVEL:
		b = log_parse_level(v);
		if (b < 0) {
			snprintf(err, errlen, "%s: expected debug, info, warn or error", s->name);
			return -1;
		}
		*(int *)(base + s->offset) = b;
		return 0;
	}
	return -1;
}

int settings_load(void *base, const struct setting *rows, size_t n,
                  const char *(*lookup)(const char *name), char *err, size_t errlen)
{
	if (lookup == NULL)
		lookup = env_lookup;
	for (size_t i = 0; i < n; i++) {
		const struct setting *s = &rows[i];
		const char *v = lookup(s->name);
		if (v == NULL || v[0] == '\0')
			v = s->def;
		if (v != NULL && apply(base, s, v, err, errlen) != 0)
			return -1;
	}
	return 0;
}

void settings_print_help(FILE *out, const struct setting *rows, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		const struct setting *s = &rows[i];
		fprintf(out, "  %-26s %-12s %s\n", s->name,
		        s->def != NULL && s->def[0] ? s->def : "-", s->help);
	}
}
