/* params.c - strtoll alone accepts " +12", "12abc" and overflows to LLONG_MAX: check it all. */
#include "params.h"

#include <errno.h>
#include <stdlib.h>

int params_int(const char *s, long long min, long long max, long long *out)
{
	size_t n = 0;
	char *end = NULL;

	if (s == NULL)
		return -1;
	for (n = 0; s[n] != '\0'; n++)
		if (s[n] < '0' || s[n] > '9' || n >= 19)
			return -1;
	if (n == 0)
		return -1;
	errno = 0;
	long long v = strtoll(s, &end, 10);
	if (errno != 0 || *end != '\0' || v < min || v > max)
		return -1;
	*out = v;
	return 0;
}
