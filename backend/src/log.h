/* log.h - structured logs: one JSON object per line on stdout. */
#ifndef LOG_H
#define LOG_H

#include <jansson.h>

#include "config.h"

/* Set the lowest level written (enum log_level). Not thread-safe: call before threads start. */
void log_set_level(int level);
int log_enabled(int level);

/*
 * Write {"ts":..,"level":..,"event":..,<fields>} as one line with a single write(2), so lines
 * from concurrent threads never interleave. fields may be NULL; it is stolen (decref'd here).
 */
void log_event(int level, const char *event, json_t *fields);

/* Shorthand for an event with a "message" field. */
void log_msg(int level, const char *event, const char *message);

#endif
