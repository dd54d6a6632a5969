/*
 * reader.h - the one thread that reads the Kubernetes API (or /proc in local mode) for every
 * browser. It polls every poll_ms while somebody asked within idle_s, and sleeps on a
 * condition variable (no API call at all) otherwise; an HTTP request never waits for it.
 */
#ifndef VIEW_READER_H
#define VIEW_READER_H

#include <stddef.h>

#include "view_config.h"

struct reader;

/* Start the thread. cfg is borrowed until reader_stop. NULL with a message in err. */
struct reader *reader_start(const struct view_config *cfg, char *err, size_t errlen);

/*
 * The latest document (caller frees), at once; marks "somebody is watching" and wakes the
 * thread if it was idle. NULL when out of memory.
 */
char *reader_latest(struct reader *r, size_t *lenp);

/* Stop the thread (waits for the call in flight, bounded by its timeout) and free. NULL-safe. */
void reader_stop(struct reader *r);

#endif
