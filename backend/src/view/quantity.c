/* quantity.c - integer arithmetic only: 0.1 core is 100m exactly, never 100.0000001 -> 101m. */
#include "quantity.h"

#include <stddef.h>
#include <string.h>

#define MAX_MILLI 1000000000000000LL /* 10^12 cores: far beyond any node */
#define MAX_DIGITS 18

struct suffix {
	const char *name;
	int exp10; /* decimal exponent */
	int pow1024;
};

static const struct suffix suffixes[] = {
    {"n", -9, 0}, {"u", -6, 0}, {"m", -3, 0}, {"", 0, 0},   {"k", 3, 0},  {"M", 6, 0},
    {"G", 9, 0},  {"T", 12, 0}, {"P", 15, 0}, {"E", 18, 0}, {"Ki", 0, 1}, {"Mi", 0, 2},
    {"Gi", 0, 3}, {"Ti", 0, 4}, {"Pi", 0, 5}, {"Ei", 0, 6},
};

/* v * m, or -1 when it would pass MAX_MILLI. */
static long long mul_bounded(long long v, long long m)
{
	if (v != 0 && m > MAX_MILLI / v)
		return -1;
	return v * m;
}

/* "e3", "E-3", "e+2": the exponent form. 0 on success. */
static int parse_exponent(const char *s, int *exp10)
{
	int sign = 1, v = 0, n = 0;
	if (*s != 'e' && *s != 'E')
		return -1;
	s++;
	if (*s == '+' || *s == '-')
		sign = *s++ == '-' ? -1 : 1;
	for (; *s >= '0' && *s <= '9'; s++, n++) {
		if (n >= 3)
			return -1;
		v = v * 10 + (*s - '0');
	}
	if (n == 0 || *s != '\0')
		return -1;
	*exp10 = sign * v;
	return 0;
}

int quantity_millicores(const char *s, long long *out)
{
	long long mant = 0;
	int digits = 0, frac = 0, seen_point = 0, any = 0, exp10 = 0, pow1024 = 0;
	const char *p = s;
	size_t i;

	if (s == NULL)
		return -1;
	if (*p == '+')
		p++;
	for (; (*p >= '0' && *p <= '9') || *p == '.'; p++) {
		if (*p == '.') {
			if (seen_point++)
				return -1;
			continue;
		}
		any = 1;
		frac += seen_point;
		if (mant == 0 && *p == '0') /* leading zeros carry no precision */
			continue;
		if (digits >= MAX_DIGITS)
			return -1;
		mant = mant * 10 + (*p - '0');
		digits++;
	}
	if (!any)
		return -1;
	for (i = 0; i < sizeof(suffixes) / sizeof(suffixes[0]); i++)
		if (strcmp(p, suffixes[i].name) == 0)
			break;
	if (i < sizeof(suffixes) / sizeof(suffixes[0])) {
		exp10 = suffixes[i].exp10;
		pow1024 = suffixes[i].pow1024;
	} else if (parse_exponent(p, &exp10) != 0) {
		return -1;
	}
	for (int k = 0; k < pow1024; k++)
		if ((mant = mul_bounded(mant, 1024)) < 0)
			return -1;
	int e = exp10 - frac + 3; /* millicores */
	if (mant == 0) {
		*out = 0;
		return 0;
	}
	if (e >= 0) {
		for (int k = 0; k < e; k++)
			if ((mant = mul_bounded(mant, 10)) < 0)
				return -1;
		*out = mant;
		return 0;
	}
	/* A fraction of a millicore rounds up, as MilliValue does. */
	if (-e > MAX_DIGITS) {
		*out = 1;
		return 0;
	}
	long long div = 1;
	for (int k = 0; k < -e; k++)
		div *= 10;
	*out = mant / div + (mant % div != 0);
	return 0;
}
