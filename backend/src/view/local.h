/* local.h - local mode: the one backend process of `make up`, read from /proc. */
#ifndef VIEW_LOCAL_H
#define VIEW_LOCAL_H

#include <jansson.h>
#include <stddef.h>
#include <sys/types.h>
#include <time.h>

#include "kube.h"

/* CPU time of a process at a moment, to measure its use between two reads. */
struct local_sample {
	pid_t pid;
	unsigned long long ticks; /* utime + stime */
	struct timespec at;       /* monotonic */
	int valid;
};

/*
 * Parse the fields we need from the text of /proc/<pid>/stat (the command name may hold
 * spaces and parentheses: everything up to the last ')' is skipped). Pure. 0 on success.
 */
int local_parse_stat(const char *text, unsigned long long *ticks, unsigned long long *start_ticks);

/*
 * The pods.items entry of the backend whose pid is in pid_file: CPU in millicores since
 * *prev (updated; null on a first read), readiness and name from backend_url/health/ready
 * through http (plain HTTP client). NULL with a message in err when the process is not there.
 */
json_t *local_pod(const char *pid_file, struct kube *http, const char *hostname,
                  struct local_sample *prev, char *err, size_t errlen);

#endif
