/* clock.h - monotonic time arithmetic shared by every module that waits or measures. */
#ifndef CLOCK_H
#define CLOCK_H

#include <time.h>

static inline struct timespec clock_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts;
}

/* Milliseconds from a to b (negative when b is earlier). */
static inline double clock_ms_between(const struct timespec *a, const struct timespec *b)
{
	return (double)(b->tv_sec - a->tv_sec) * 1e3 + (double)(b->tv_nsec - a->tv_nsec) / 1e6;
}

static inline double clock_ms_since(const struct timespec *start)
{
	struct timespec now = clock_now();
	return clock_ms_between(start, &now);
}

/* The time ms milliseconds after start. */
static inline struct timespec clock_after(const struct timespec *start, int ms)
{
	struct timespec t = *start;
	t.tv_sec += ms / 1000;
	t.tv_nsec += (long)(ms % 1000) * 1000000L;
	if (t.tv_nsec >= 1000000000L) {
		t.tv_sec++;
		t.tv_nsec -= 1000000000L;
	}
	return t;
}

/* The monotonic time ms milliseconds from now (for pthread_cond_timedwait and polls). */
static inline struct timespec clock_deadline(int ms)
{
	struct timespec now = clock_now();
	return clock_after(&now, ms);
}

/* Whole milliseconds left until deadline, 0 when it has passed. */
static inline int clock_ms_left(const struct timespec *deadline)
{
	double ms = -clock_ms_since(deadline);
	return ms <= 0 ? 0 : ms > 3600000 ? 3600000 : (int)ms;
}

#endif
