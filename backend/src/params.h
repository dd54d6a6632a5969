/* params.h - strict parsing of client-supplied numbers. Pure, unit-tested. */
#ifndef PARAMS_H
#define PARAMS_H

#include <stddef.h>

/*
 * Parse a decimal integer made of digits only (no sign, no spaces, at most 19 digits) within
 * min..max. 0 on success, -1 otherwise.
 */
int params_int(const char *s, long long min, long long max, long long *out);

#endif
