/* reader.c - poll while watched, publish after each source, keep the last good data. */
#include "reader.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "clock.h"
#include "kube.h"
#include "local.h"
#include "log.h"
#include "snapshot.h"

#define LOCAL_HINT                                                                                 \
	"Local mode: one backend process, no autoscaler. Run `task setup` for the cluster view."

struct reader {
	const struct view_config *cfg;
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t wake;
	/* Under lock */
	int stopping;
	int watched;                /* somebody has asked at least once */
	struct timespec last_asked; /* monotonic */
	char *body;                 /* the latest document */
	size_t len;
	/* The thread's own */
	struct kube *kube;
	struct snapshot snap;
	struct local_sample sample;
	char *paths[SRC_COUNT];
};

typedef json_t *(*decoder)(const json_t *obj, char *err, size_t errlen);
static const decoder decoders[SRC_COUNT] = {
    [SRC_HPA] = snapshot_decode_hpa,
    [SRC_PODS] = snapshot_decode_pods,
    [SRC_METRICS] = snapshot_decode_metrics,
    [SRC_EVENTS] = snapshot_decode_events,
};
static const char *const source_names[SRC_COUNT] = {"hpa", "pods", "metrics", "events"};

/* Render the snapshot and make it the latest document. */
static void publish(struct reader *r)
{
	size_t len = 0;
	char *body = snapshot_render(&r->snap, &len);
	if (body == NULL) {
		log_msg(LOG_ERROR, "view.render_failed",
		        "out of memory: keeping the last document");
		return;
	}
	pthread_mutex_lock(&r->lock);
	free(r->body);
	r->body = body;
	r->len = len;
	pthread_mutex_unlock(&r->lock);
}

static void stamp(struct reader *r)
{
	struct timespec now;
	clock_gettime(CLOCK_REALTIME, &now);
	snapshot_format_time(r->snap.observed_at, sizeof(r->snap.observed_at),
	                     (long long)now.tv_sec, now.tv_nsec, 1);
}

static void read_source(struct reader *r, enum source_id id)
{
	const struct view_config *cfg = r->cfg;
	struct kube_response res;
	struct source *src = &r->snap.src[id];
	char derr[200] = "";
	json_t *decoded = NULL;
	enum source_state before = src->state;
	struct timespec t0 = clock_now();

	if (kube_get(r->kube, r->paths[id], &res) == 0 && res.status == 200) {
		json_error_t jerr;
		json_t *root = json_loadb(res.body, res.len, 0, &jerr);
		if (root == NULL)
			snprintf(derr, sizeof(derr), "%s", jerr.text);
		else
			decoded = decoders[id](root, derr, sizeof(derr));
		json_decref(root);
	}
	snapshot_update(src, id, &res, decoded, derr, cfg->namespace, cfg->hpa_name,
	                cfg->kube_timeout_ms);
	if (src->state != before || (src->state != ST_OK && log_enabled(LOG_DEBUG)))
		log_event(src->state == ST_OK ? LOG_INFO : LOG_WARN, "view.source",
		          json_pack("{s:s, s:s, s:s?, s:I, s:f}", "source", source_names[id],
		                    "state", snapshot_state_name(src->state), "message",
		                    src->message[0] ? src->message : NULL, "status",
		                    (json_int_t)(res.outcome == KUBE_HTTP ? res.status : 0), "ms",
		                    clock_ms_since(&t0)));
	kube_response_release(&res);
}

static void poll_cluster(struct reader *r)
{
	for (int id = 0; id < SRC_COUNT; id++) {
		read_source(r, (enum source_id)id);
		if (id == SRC_COUNT - 1)
			stamp(r);
		publish(r); /* a slow source does not hold back the others */
	}
}

static void poll_local(struct reader *r)
{
	const struct view_config *cfg = r->cfg;
	struct source *pods = &r->snap.src[SRC_PODS];
	char err[300] = "";
	json_t *pod =
	    local_pod(cfg->local_pid_file, r->kube, cfg->hostname, &r->sample, err, sizeof(err));
	enum source_state before = pods->state;
	if (pod != NULL) {
		json_decref(pods->data);
		pods->data = json_array();
		json_array_append_new(pods->data, pod);
		pods->state = ST_OK;
		pods->message[0] = '\0';
	} else {
		/* Not stale data of a process that is gone: an empty list with the reason. */
		json_decref(pods->data);
		pods->data = NULL;
		pods->state = ST_UNREACHABLE;
		snprintf(pods->message, sizeof(pods->message), "%s", err);
	}
	if (pods->state != before)
		log_event(pods->state == ST_OK ? LOG_INFO : LOG_WARN, "view.source",
		          json_pack("{s:s, s:s, s:s?}", "source", "pods", "state",
		                    snapshot_state_name(pods->state), "message",
		                    pods->message[0] ? pods->message : NULL));
	stamp(r);
	publish(r);
}

/* Under lock: has somebody asked within idle_s? */
static int watched_locked(const struct reader *r)
{
	return r->watched && clock_ms_since(&r->last_asked) < r->cfg->idle_s * 1000.0;
}

static void *run(void *arg)
{
	struct reader *r = arg;
	int idle_logged = 1;
	pthread_mutex_lock(&r->lock);
	while (!r->stopping) {
		if (!watched_locked(r)) {
			if (!idle_logged)
				log_msg(LOG_INFO, "view.idle",
				        "nobody is watching: no more API reads");
			idle_logged = 1;
			pthread_cond_wait(&r->wake, &r->lock);
			continue;
		}
		if (idle_logged)
			log_msg(LOG_INFO, "view.watched", "somebody is watching: reading");
		idle_logged = 0;
		pthread_mutex_unlock(&r->lock);
		struct timespec next = clock_deadline(r->cfg->poll_ms);
		if (r->cfg->cluster)
			poll_cluster(r);
		else
			poll_local(r);
		pthread_mutex_lock(&r->lock);
		while (!r->stopping &&
		       pthread_cond_timedwait(&r->wake, &r->lock, &next) != ETIMEDOUT)
			;
	}
	pthread_mutex_unlock(&r->lock);
	return NULL;
}

static char *paths_for(const struct view_config *cfg, enum source_id id)
{
	char *sel = kube_escape(cfg->pod_selector);
	char *out = NULL;
	const char *ns = cfg->namespace;
	char field[600];
	int n = -1;
	size_t size = 2048;

	if (sel == NULL || (out = malloc(size)) == NULL)
		goto out;
	switch (id) {
	case SRC_HPA:
		n = snprintf(out, size,
		             "/apis/autoscaling/v2/namespaces/%s/horizontalpodautoscalers/%s", ns,
		             cfg->hpa_name);
		break;
	case SRC_PODS:
		n = snprintf(out, size, "/api/v1/namespaces/%s/pods?labelSelector=%s", ns, sel);
		break;
	case SRC_METRICS:
		n = snprintf(out, size,
		             "/apis/metrics.k8s.io/v1beta1/namespaces/%s/pods?labelSelector=%s", ns,
		             sel);
		break;
	case SRC_EVENTS: {
		snprintf(field, sizeof(field),
		         "involvedObject.kind=HorizontalPodAutoscaler,involvedObject.name=%s",
		         cfg->hpa_name);
		char *f = kube_escape(field);
		if (f != NULL)
			n = snprintf(out, size, "/api/v1/namespaces/%s/events?fieldSelector=%s", ns,
			             f);
		free(f);
		break;
	}
	default:
		break;
	}
	if (n < 0 || (size_t)n >= size) {
		free(out);
		out = NULL;
	}
out:
	free(sel);
	return out;
}

static void reader_free(struct reader *r)
{
	for (int i = 0; i < SRC_COUNT; i++)
		free(r->paths[i]);
	snapshot_release(&r->snap);
	kube_free(r->kube);
	free(r->body);
	pthread_cond_destroy(&r->wake);
	pthread_mutex_destroy(&r->lock);
	free(r);
}

struct reader *reader_start(const struct view_config *cfg, char *err, size_t errlen)
{
	struct reader *r = calloc(1, sizeof(*r));
	pthread_condattr_t attr;
	if (r == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	r->cfg = cfg;
	pthread_mutex_init(&r->lock, NULL);
	pthread_condattr_init(&attr);
	pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
	pthread_cond_init(&r->wake, &attr);
	pthread_condattr_destroy(&attr);

	r->snap.mode = cfg->cluster ? "cluster" : "local";
	r->snap.namespace = cfg->namespace;
	r->snap.hpa_name = cfg->hpa_name;
	r->snap.poll_ms = cfg->poll_ms;
	if (cfg->cluster) {
		r->kube = kube_create(cfg->api_url, cfg->sa_dir, cfg->kube_timeout_ms, err, errlen);
		for (int i = 0; i < SRC_COUNT && r->kube != NULL; i++)
			if ((r->paths[i] = paths_for(cfg, (enum source_id)i)) == NULL) {
				snprintf(err, errlen, "POD_SELECTOR or HPA_NAME too long");
				goto fail;
			}
	} else {
		r->snap.hint = LOCAL_HINT;
		r->kube =
		    kube_create(cfg->local_backend_url, NULL, cfg->kube_timeout_ms, err, errlen);
		struct source *hpa = &r->snap.src[SRC_HPA];
		hpa->state = ST_LOCAL;
		snprintf(hpa->message, sizeof(hpa->message),
		         "no HorizontalPodAutoscaler without a cluster: one backend process");
		hpa->data = json_pack(
		    "{s:s, s:i, s:i, s:i, s:i, s:n, s:n, s:n, s:n, s:[], s:n}", "name",
		    cfg->hpa_name, "min_replicas", 1, "max_replicas", 1, "current_replicas", 1,
		    "desired_replicas", 1, "target_cpu_utilization", "current_cpu_utilization",
		    "current_cpu_millicores", "last_scale_time", "conditions", "behavior");
		r->snap.src[SRC_METRICS].state = ST_OK;
		r->snap.src[SRC_EVENTS].state = ST_LOCAL;
		snprintf(r->snap.src[SRC_EVENTS].message, sizeof(r->snap.src[SRC_EVENTS].message),
		         "no Kubernetes events without a cluster");
	}
	if (r->kube == NULL)
		goto fail;
	publish(r);
	if (r->body == NULL) {
		snprintf(err, errlen, "out of memory");
		goto fail;
	}
	if (pthread_create(&r->thread, NULL, run, r) != 0) {
		snprintf(err, errlen, "cannot start the reader thread");
		goto fail;
	}
	return r;
fail:
	reader_free(r);
	return NULL;
}

char *reader_latest(struct reader *r, size_t *lenp)
{
	char *copy;
	pthread_mutex_lock(&r->lock);
	int was_watched = watched_locked(r);
	r->watched = 1;
	r->last_asked = clock_now();
	if (!was_watched)
		pthread_cond_signal(&r->wake);
	copy = malloc(r->len + 1);
	if (copy != NULL) {
		memcpy(copy, r->body, r->len + 1);
		*lenp = r->len;
	}
	pthread_mutex_unlock(&r->lock);
	return copy;
}

void reader_stop(struct reader *r)
{
	if (r == NULL)
		return;
	pthread_mutex_lock(&r->lock);
	r->stopping = 1;
	pthread_cond_signal(&r->wake);
	pthread_mutex_unlock(&r->lock);
	pthread_join(r->thread, NULL);
	reader_free(r);
}
