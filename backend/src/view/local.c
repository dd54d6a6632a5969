/* local.c - /proc arithmetic: ticks are 1/sysconf(_SC_CLK_TCK) s, start time is after boot. */
#include "local.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "clock.h"
#include "params.h"
#include "snapshot.h"

int local_parse_stat(const char *text, unsigned long long *ticks, unsigned long long *start_ticks)
{
	const char *p = strrchr(text, ')');
	unsigned long long v[20] = {0};
	int field = 3; /* the state, after "pid (comm) " */

	if (p == NULL || p[1] != ' ')
		return -1;
	p += 2;
	if (*p == '\0')
		return -1;
	while (*p != ' ' && *p != '\0') /* state: one letter */
		p++;
	for (field = 4; field <= 22; field++) {
		char *end = NULL;
		if (*p != ' ')
			return -1;
		p++;
		errno = 0;
		unsigned long long x = strtoull(p, &end, 10);
		if (errno != 0 || end == p) {
			/* Fields before 14 may be negative (tty_nr, ...): accept and skip. */
			long long y = strtoll(p, &end, 10);
			if (errno != 0 || end == p || field >= 14)
				return -1;
			x = (unsigned long long)y;
		}
		if (field - 4 < 20)
			v[field - 4] = x;
		p = end;
	}
	*ticks = v[14 - 4] + v[15 - 4];
	*start_ticks = v[22 - 4];
	return 0;
}

static int read_file(const char *path, char *buf, size_t size)
{
	FILE *f = fopen(path, "r");
	if (f == NULL)
		return -1;
	size_t n = fread(buf, 1, size - 1, f);
	fclose(f);
	buf[n] = '\0';
	return n > 0 ? 0 : -1;
}

static pid_t read_pid(const char *pid_file)
{
	char buf[32];
	long long pid;
	if (read_file(pid_file, buf, sizeof(buf)) != 0)
		return -1;
	buf[strcspn(buf, "\r\n ")] = '\0';
	if (params_int(buf, 1, 4194304, &pid) != 0)
		return -1;
	return (pid_t)pid;
}

/* Seconds since the epoch at boot, from /proc/stat's btime. */
static long long boot_time(void)
{
	static char buf[16384];
	if (read_file("/proc/stat", buf, sizeof(buf)) != 0)
		return -1;
	const char *p = strstr(buf, "\nbtime ");
	return p ? strtoll(p + 7, NULL, 10) : -1;
}

static int sample(pid_t pid, struct local_sample *s, unsigned long long *start_ticks)
{
	char path[64], buf[1024];
	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	if (read_file(path, buf, sizeof(buf)) != 0 ||
	    local_parse_stat(buf, &s->ticks, start_ticks) != 0)
		return -1;
	s->pid = pid;
	s->at = clock_now();
	s->valid = 1;
	return 0;
}

json_t *local_pod(const char *pid_file, struct kube *http, const char *hostname,
                  struct local_sample *prev, char *err, size_t errlen)
{
	struct local_sample now = {0};
	unsigned long long start_ticks = 0;
	struct kube_response res;
	json_t *cpu = json_null(), *started = json_null();
	long hz = sysconf(_SC_CLK_TCK);
	char when[32];

	pid_t pid = pid_file[0] ? read_pid(pid_file) : -1;
	if (pid < 0) {
		snprintf(err, errlen, "the local backend is not running (no pid in %s)",
		         pid_file[0] ? pid_file : "LOCAL_PID_FILE, which is not set");
		prev->valid = 0;
		return NULL;
	}
	if (sample(pid, &now, &start_ticks) != 0) {
		snprintf(err, errlen, "the local backend (pid %d from %s) is not running", (int)pid,
		         pid_file);
		prev->valid = 0;
		return NULL;
	}
	if (hz <= 0)
		hz = 100;
	/*
	 * A previous read of the same process from long ago (the view was idle) would average
	 * over the idle time: take a fresh pair of reads instead.
	 */
	if (!prev->valid || prev->pid != pid || clock_ms_between(&prev->at, &now.at) > 30000) {
		struct timespec pause = {0, 250 * 1000000L};
		*prev = now;
		nanosleep(&pause, NULL);
		if (sample(pid, &now, &start_ticks) != 0) {
			snprintf(err, errlen, "the local backend (pid %d) exited", (int)pid);
			prev->valid = 0;
			return NULL;
		}
	}
	double ms = clock_ms_between(&prev->at, &now.at);
	if (ms > 0 && now.ticks >= prev->ticks) {
		double cpu_ms = (double)(now.ticks - prev->ticks) * 1000.0 / (double)hz;
		json_decref(cpu);
		cpu = json_integer((json_int_t)(cpu_ms / ms * 1000.0 + 0.5));
	}
	*prev = now;
	long long boot = boot_time();
	if (boot > 0) {
		snapshot_format_time(when, sizeof(when),
		                     boot + (long long)(start_ticks / (unsigned long long)hz), 0,
		                     0);
		json_decref(started);
		started = json_string(when);
	}

	kube_get(http, "/health/ready", &res);
	int ready = res.outcome == KUBE_HTTP && res.status == 200;
	json_t *pod = json_pack("{s:s, s:b, s:s, s:s, s:o, s:i, s:o, s:n}", "name",
	                        res.served_by[0] ? res.served_by : hostname, "ready", ready,
	                        "phase", "Running", "node", hostname, "started_at", started,
	                        "restarts", 0, "cpu_millicores", cpu, "cpu_request_millicores");
	kube_response_release(&res);
	if (pod == NULL)
		snprintf(err, errlen, "out of memory");
	return pod;
}
