/*
 * snapshot.h - Kubernetes API objects -> the GET /api/autoscaler document. Pure (jansson only),
 * unit-tested against recorded API objects.
 */
#ifndef VIEW_SNAPSHOT_H
#define VIEW_SNAPSHOT_H

#include <jansson.h>
#include <stddef.h>

#include "kube.h"

#define SNAPSHOT_EVENTS_MAX 20

/* The state of one source (hpa, pods, metrics, events), as named in the contract. */
enum source_state {
	ST_STARTING,
	ST_OK,
	ST_FORBIDDEN,
	ST_UNAUTHORIZED,
	ST_NOT_FOUND,
	ST_TIMEOUT,
	ST_UNREACHABLE,
	ST_ERROR,
	ST_LOCAL,
};

enum source_id { SRC_HPA, SRC_PODS, SRC_METRICS, SRC_EVENTS, SRC_COUNT };

struct source {
	enum source_state state;
	char message[400];
	json_t *data; /* the last good data (owned), NULL before the first good read */
};

/* What the document is rendered from. Strings are borrowed. */
struct snapshot {
	const char *mode; /* "cluster" | "local" */
	const char *namespace;
	const char *hint; /* NULL in cluster mode */
	const char *hpa_name;
	int poll_ms;
	char observed_at[32]; /* "" before the first read */
	struct source src[SRC_COUNT];
};

const char *snapshot_state_name(enum source_state st);

/*
 * Decoders of API objects. Each returns a new reference, or NULL with a message in err when
 * the object does not have the expected shape.
 *   hpa:     autoscaling/v2 HorizontalPodAutoscaler -> the contract's hpa fields
 *   pods:    core/v1 PodList -> pods.items (cpu_millicores left null), sorted by name
 *   metrics: metrics.k8s.io/v1beta1 PodMetricsList -> {"<pod name>": millicores, ...}
 *   events:  core/v1 EventList -> events.items, newest first, at most SNAPSHOT_EVENTS_MAX
 */
json_t *snapshot_decode_hpa(const json_t *obj, char *err, size_t errlen);
json_t *snapshot_decode_pods(const json_t *obj, char *err, size_t errlen);
json_t *snapshot_decode_metrics(const json_t *obj, char *err, size_t errlen);
json_t *snapshot_decode_events(const json_t *obj, char *err, size_t errlen);

/*
 * Turn an answer (or its absence) into the source's state and message. The data of a failed
 * source is kept (stale, with the failure as its state). On a 200, decoded is the decoder's
 * result (stolen): NULL makes the state "error" with the decoder's message in decode_err.
 * ns and hpa_name name the objects in messages.
 */
void snapshot_update(struct source *src, enum source_id id, const struct kube_response *res,
                     json_t *decoded, const char *decode_err, const char *ns, const char *hpa_name,
                     int timeout_ms);

/* The whole document, compact JSON. Caller frees. NULL when out of memory. */
char *snapshot_render(const struct snapshot *s, size_t *lenp);

void snapshot_release(struct snapshot *s); /* frees the sources' data */

/* "2026-12-02T08:00:00.123Z" for a CLOCK_REALTIME time. */
void snapshot_format_time(char *buf, size_t len, long long sec, long nsec, int with_ms);

#endif
