/*
 * stress_limits.h - forced into stress.c for the HTTP harness only (-include): the same code
 * with its bounds lowered, so a fuzzer that finds ?ms=5000 gets a 400 instead of five seconds
 * of burning. Every branch of the stress handler's phases is still reachable.
 */
#include "stress.h"
#undef STRESS_DEFAULT_MS
#undef STRESS_MAX_MS
#undef STRESS_MAX_ITERATIONS
#define STRESS_DEFAULT_MS 1
#define STRESS_MAX_MS 2
#define STRESS_MAX_ITERATIONS 20000LL
