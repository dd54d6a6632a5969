/*
 * settings.h - environment variables to a struct, one table row per setting with its bounds,
 * default and help text. The backend (config.c) and the autoscaler view (view/view_config.c)
 * each keep their own table; the reading is done here, once.
 */
#ifndef SETTINGS_H
#define SETTINGS_H

#include <stddef.h>
#include <stdio.h>

enum setting_kind { SETTING_INT, SETTING_STR, SETTING_BOOL, SETTING_LEVEL, SETTING_SECRET_FILE };

struct setting {
	const char *name;
	enum setting_kind kind;
	size_t offset; /* of the field in the struct: an int, or a char array for STR/SECRET_FILE */
	size_t size;   /* STR, SECRET_FILE: the array's size */
	long long min; /* INT bounds */
	long long max;
	const char *def; /* NULL: no default (left as the caller set it) */
	const char *help;
};

#define SETTING_FIELD_SIZE(type, field) sizeof(((type *)0)->field)
#define SETTING_INT_ROW(type, n, field, lo, hi, d, h)                                              \
	{                                                                                          \
		n, SETTING_INT, offsetof(type, field), 0, lo, hi, d, h                             \
	}
#define SETTING_STR_ROW(type, n, field, d, h)                                                      \
	{                                                                                          \
		n, SETTING_STR, offsetof(type, field), SETTING_FIELD_SIZE(type, field), 0, 0, d, h \
	}
#define SETTING_SECRET_FILE_ROW(type, n, field, h)                                                 \
	{                                                                                          \
		n, SETTING_SECRET_FILE, offsetof(type, field), SETTING_FIELD_SIZE(type, field), 0, \
		    0, NULL, h                                                                     \
	}
#define SETTING_BOOL_ROW(type, n, field, d, h)                                                     \
	{                                                                                          \
		n, SETTING_BOOL, offsetof(type, field), 0, 0, 0, d, h                              \
	}
#define SETTING_LEVEL_ROW(type, n, field, d, h)                                                    \
	{                                                                                          \
		n, SETTING_LEVEL, offsetof(type, field), 0, 0, 0, d, h                             \
	}

/*
 * Apply the rows in order to the struct at base: each variable's value, or its default when it
 * is unset or empty. lookup NULL reads the environment. On a bad value, -1 and err names the
 * variable (never its value: it may be a secret).
 */
int settings_load(void *base, const struct setting *rows, size_t n,
                  const char *(*lookup)(const char *name), char *err, size_t errlen);

/* One line per row: name, default, help. */
void settings_print_help(FILE *out, const struct setting *rows, size_t n);

/* Copy src into dst[size]; -1 (dst untouched) when it does not fit with its NUL. */
int settings_copy_str(char *dst, size_t size, const char *src);

#endif
