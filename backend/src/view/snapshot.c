/* snapshot.c - tolerant of missing optional fields (the API omits zero values), strict on kinds. */
#include "snapshot.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "quantity.h"

static const char *const state_names[] = {
    [ST_STARTING] = "starting",
    [ST_OK] = "ok",
    [ST_FORBIDDEN] = "forbidden",
    [ST_UNAUTHORIZED] = "unauthorized",
    [ST_NOT_FOUND] = "not_found",
    [ST_TIMEOUT] = "timeout",
    [ST_UNREACHABLE] = "unreachable",
    [ST_ERROR] = "error",
    [ST_LOCAL] = "local",
};

const char *snapshot_state_name(enum source_state st)
{
	return st <= ST_LOCAL ? state_names[st] : "error";
}

/* obj.a.b... (NULL-terminated path); NULL when any step is missing or not an object. */
static json_t *dig(const json_t *obj, ...)
{
	va_list ap;
	const char *key;
	json_t *cur = (json_t *)obj;
	va_start(ap, obj);
	while (cur != NULL && (key = va_arg(ap, const char *)) != NULL)
		cur = json_is_object(cur) ? json_object_get(cur, key) : NULL;
	va_end(ap);
	return cur;
}

/* A string member as a new JSON string, or null. */
static json_t *str_or_null(const json_t *v)
{
	return json_is_string(v) ? json_string(json_string_value(v)) : json_null();
}

static json_t *int_or_null(const json_t *v)
{
	return json_is_integer(v) ? json_integer(json_integer_value(v)) : json_null();
}

/* A CPU quantity ("250m") as millicores, or null when absent or malformed. */
static json_t *millis_or_null(const json_t *v)
{
	long long m;
	if (json_is_string(v) && quantity_millicores(json_string_value(v), &m) == 0)
		return json_integer(m);
	return json_null();
}

static int is_cpu_resource_metric(const json_t *m)
{
	const char *type = json_string_value(json_object_get(m, "type"));
	const char *name = json_string_value(dig(m, "resource", "name", NULL));
	return type && name && strcmp(type, "Resource") == 0 && strcmp(name, "cpu") == 0;
}

static json_t *decode_conditions(const json_t *conds)
{
	json_t *out = json_array();
	size_t i;
	json_t *c;
	if (out == NULL || !json_is_array(conds))
		return out;
	json_array_foreach(conds, i, c)
	{
		if (!json_is_object(c))
			continue;
		json_array_append_new(
		    out,
		    json_pack("{s:o, s:o, s:o, s:o, s:o}", "type",
		              str_or_null(json_object_get(c, "type")), "status",
		              str_or_null(json_object_get(c, "status")), "reason",
		              str_or_null(json_object_get(c, "reason")), "message",
		              str_or_null(json_object_get(c, "message")), "last_transition_time",
		              str_or_null(json_object_get(c, "lastTransitionTime"))));
	}
	return out;
}

json_t *snapshot_decode_hpa(const json_t *obj, char *err, size_t errlen)
{
	const json_t *spec = json_object_get(obj, "spec");
	const json_t *status = json_object_get(obj, "status");
	json_t *target = json_null(), *util = json_null(), *value = json_null(), *m;
	size_t i;

	if (!json_is_object(obj) || !json_is_object(spec) ||
	    !json_is_integer(json_object_get(spec, "maxReplicas"))) {
		snprintf(err, errlen, "not a HorizontalPodAutoscaler (no spec.maxReplicas)");
		return NULL;
	}
	json_array_foreach(json_object_get(spec, "metrics"), i, m)
	{
		if (is_cpu_resource_metric(m) && json_is_null(target)) {
			json_decref(target);
			target =
			    int_or_null(dig(m, "resource", "target", "averageUtilization", NULL));
		}
	}
	json_array_foreach(json_object_get(status, "currentMetrics"), i, m)
	{
		if (is_cpu_resource_metric(m) && json_is_null(util) && json_is_null(value)) {
			json_decref(util);
			json_decref(value);
			util =
			    int_or_null(dig(m, "resource", "current", "averageUtilization", NULL));
			value = millis_or_null(dig(m, "resource", "current", "averageValue", NULL));
		}
	}
	const json_t *min = json_object_get(spec, "minReplicas");
	const json_t *behavior = json_object_get(spec, "behavior");
	json_t *out = json_pack(
	    "{s:o, s:I, s:I, s:I, s:I, s:o, s:o, s:o, s:o, s:o, s:o}", "name",
	    str_or_null(dig(obj, "metadata", "name", NULL)), "min_replicas",
	    (json_int_t)(json_is_integer(min) ? json_integer_value(min) : 1), "max_replicas",
	    json_integer_value(json_object_get(spec, "maxReplicas")), "current_replicas",
	    json_integer_value(json_object_get(status, "currentReplicas")), "desired_replicas",
	    json_integer_value(json_object_get(status, "desiredReplicas")),
	    "target_cpu_utilization", target, "current_cpu_utilization", util,
	    "current_cpu_millicores", value, "last_scale_time",
	    str_or_null(json_object_get(status, "lastScaleTime")), "conditions",
	    decode_conditions(json_object_get(status, "conditions")), "behavior",
	    json_is_object(behavior) ? json_deep_copy(behavior) : json_null());
	if (out == NULL)
		snprintf(err, errlen, "out of memory");
	return out;
}

static int ready_condition(const json_t *pod)
{
	size_t i;
	json_t *c;
	json_array_foreach(dig(pod, "status", "conditions", NULL), i, c)
	{
		const char *type = json_string_value(json_object_get(c, "type"));
		const char *st = json_string_value(json_object_get(c, "status"));
		if (type && strcmp(type, "Ready") == 0)
			return st && strcmp(st, "True") == 0;
	}
	return 0;
}

static json_int_t restarts(const json_t *pod)
{
	size_t i;
	json_t *c;
	json_int_t n = 0;
	json_array_foreach(dig(pod, "status", "containerStatuses", NULL), i, c) n +=
	    json_integer_value(json_object_get(c, "restartCount"));
	return n;
}

/* The sum of the containers' CPU requests, or null when none asks for CPU. */
static json_t *cpu_request(const json_t *pod)
{
	size_t i;
	json_t *c;
	long long sum = 0, m;
	int any = 0;
	json_array_foreach(dig(pod, "spec", "containers", NULL), i, c)
	{
		const json_t *q = dig(c, "resources", "requests", "cpu", NULL);
		if (json_is_string(q) && quantity_millicores(json_string_value(q), &m) == 0) {
			sum += m;
			any = 1;
		}
	}
	return any ? json_integer(sum) : json_null();
}

static int by_name(const void *a, const void *b)
{
	const char *x = json_string_value(json_object_get(*(json_t *const *)a, "name"));
	const char *y = json_string_value(json_object_get(*(json_t *const *)b, "name"));
	return strcmp(x ? x : "", y ? y : "");
}

/* Newest first; RFC 3339 times in UTC compare as strings (a fraction sorts after none). */
static int by_time_desc(const void *a, const void *b)
{
	const char *x = json_string_value(json_object_get(*(json_t *const *)a, "time"));
	const char *y = json_string_value(json_object_get(*(json_t *const *)b, "time"));
	return strcmp(y ? y : "", x ? x : "");
}

/* A new array holding arr's elements sorted, at most max of them. Steals arr. */
static json_t *sorted(json_t *arr, int (*cmp)(const void *, const void *), size_t max)
{
	size_t n = json_array_size(arr);
	json_t **v = n ? calloc(n, sizeof(*v)) : NULL;
	json_t *out = NULL;
	if (n != 0 && v == NULL)
		goto out;
	for (size_t i = 0; i < n; i++)
		v[i] = json_array_get(arr, i);
	if (n > 1)
		qsort(v, n, sizeof(*v), cmp);
	if ((out = json_array()) == NULL)
		goto out;
	for (size_t i = 0; i < n && i < max; i++)
		json_array_append(out, v[i]);
out:
	free(v);
	json_decref(arr);
	return out;
}

static const json_t *items_of(const json_t *obj, const char *kind, char *err, size_t errlen)
{
	const json_t *items = json_object_get(obj, "items");
	if (!json_is_array(items)) {
		snprintf(err, errlen, "not a %s (no items)", kind);
		return NULL;
	}
	return items;
}

json_t *snapshot_decode_pods(const json_t *obj, char *err, size_t errlen)
{
	const json_t *items = items_of(obj, "PodList", err, errlen);
	json_t *out, *pod;
	size_t i;
	if (items == NULL)
		return NULL;
	if ((out = json_array()) == NULL)
		goto oom;
	json_array_foreach(items, i, pod)
	{
		if (!json_is_string(dig(pod, "metadata", "name", NULL)))
			continue;
		const json_t *started = dig(pod, "status", "startTime", NULL);
		if (!json_is_string(started))
			started = dig(pod, "metadata", "creationTimestamp", NULL);
		json_array_append_new(
		    out, json_pack("{s:o, s:b, s:o, s:o, s:o, s:I, s:n, s:o}", "name",
		                   str_or_null(dig(pod, "metadata", "name", NULL)), "ready",
		                   ready_condition(pod), "phase",
		                   str_or_null(dig(pod, "status", "phase", NULL)), "node",
		                   str_or_null(dig(pod, "spec", "nodeName", NULL)), "started_at",
		                   str_or_null(started), "restarts", restarts(pod),
		                   "cpu_millicores", "cpu_request_millicores", cpu_request(pod)));
	}
	if ((out = sorted(out, by_name, (size_t)-1)) != NULL)
		return out;
oom:
	snprintf(err, errlen, "out of memory");
	return NULL;
}

json_t *snapshot_decode_metrics(const json_t *obj, char *err, size_t errlen)
{
	const json_t *items = items_of(obj, "PodMetricsList", err, errlen);
	json_t *out, *pm, *c;
	size_t i, j;
	if (items == NULL)
		return NULL;
	if ((out = json_object()) == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	json_array_foreach(items, i, pm)
	{
		const char *name = json_string_value(dig(pm, "metadata", "name", NULL));
		long long sum = 0, m;
		int any = 0;
		if (name == NULL)
			continue;
		json_array_foreach(json_object_get(pm, "containers"), j, c)
		{
			const json_t *q = dig(c, "usage", "cpu", NULL);
			if (json_is_string(q) &&
			    quantity_millicores(json_string_value(q), &m) == 0) {
				sum += m;
				any = 1;
			}
		}
		if (any)
			json_object_set_new(out, name, json_integer(sum));
	}
	return out;
}

/* The most meaningful time of an Event: core/v1 fills some of these, events.k8s.io others. */
static const json_t *event_time(const json_t *ev)
{
	const json_t *t;
	if (json_is_string(t = json_object_get(ev, "lastTimestamp")) ||
	    json_is_string(t = dig(ev, "series", "lastObservedTime", NULL)) ||
	    json_is_string(t = json_object_get(ev, "eventTime")) ||
	    json_is_string(t = json_object_get(ev, "firstTimestamp")) ||
	    json_is_string(t = dig(ev, "metadata", "creationTimestamp", NULL)))
		return t;
	return NULL;
}

json_t *snapshot_decode_events(const json_t *obj, char *err, size_t errlen)
{
	const json_t *items = items_of(obj, "EventList", err, errlen);
	json_t *out, *ev;
	size_t i;
	if (items == NULL)
		return NULL;
	if ((out = json_array()) == NULL)
		goto oom;
	json_array_foreach(items, i, ev)
	{
		const json_t *count = json_object_get(ev, "count");
		if (!json_is_integer(count))
			count = dig(ev, "series", "count", NULL);
		if (!json_is_object(ev))
			continue;
		json_array_append_new(
		    out, json_pack(
		             "{s:o, s:o, s:o, s:o, s:I}", "time", str_or_null(event_time(ev)),
		             "type", str_or_null(json_object_get(ev, "type")), "reason",
		             str_or_null(json_object_get(ev, "reason")), "message",
		             str_or_null(json_object_get(ev, "message")), "count",
		             (json_int_t)(json_is_integer(count) ? json_integer_value(count) : 1)));
	}
	if ((out = sorted(out, by_time_desc, SNAPSHOT_EVENTS_MAX)) != NULL)
		return out;
oom:
	snprintf(err, errlen, "out of memory");
	return NULL;
}

/* What the ServiceAccount was trying to do, for 403 messages. */
static const char *const permission[] = {
    [SRC_HPA] = "get horizontalpodautoscalers.autoscaling",
    [SRC_PODS] = "list pods",
    [SRC_METRICS] = "list pods.metrics.k8s.io",
    [SRC_EVENTS] = "list events",
};

static const char *const source_names[] = {
    [SRC_HPA] = "hpa", [SRC_PODS] = "pods", [SRC_METRICS] = "metrics", [SRC_EVENTS] = "events"};

/* The "message" of a Kubernetes Status body, or NULL. Borrowed from root. */
static const char *status_message(const struct kube_response *res, json_t **root)
{
	*root = res->body ? json_loadb(res->body, res->len, 0, NULL) : NULL;
	return json_string_value(json_object_get(*root, "message"));
}

static void fail(struct source *src, enum source_state st, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void fail(struct source *src, enum source_state st, const char *fmt, ...)
{
	va_list ap;
	src->state = st;
	va_start(ap, fmt);
	vsnprintf(src->message, sizeof(src->message), fmt, ap);
	va_end(ap);
}

static void update_http(struct source *src, enum source_id id, const struct kube_response *res,
                        const char *ns, const char *hpa_name)
{
	json_t *root = NULL;
	const char *why;
	switch (res->status) {
	case 401:
		fail(src, ST_UNAUTHORIZED,
		     "the API server refused the ServiceAccount token (401): expired, revoked or "
		     "from another cluster");
		break;
	case 403:
		fail(src, ST_FORBIDDEN, "the ServiceAccount may not %s in %s (403)", permission[id],
		     ns);
		break;
	case 404:
		if (id == SRC_HPA)
			fail(src, ST_NOT_FOUND, "no HorizontalPodAutoscaler %s in %s", hpa_name,
			     ns);
		else if (id == SRC_METRICS)
			fail(src, ST_NOT_FOUND,
			     "metrics API missing (metrics-server not installed)");
		else
			fail(src, ST_NOT_FOUND, "%s not found in %s (404)", source_names[id], ns);
		break;
	default:
		why = status_message(res, &root);
		if (id == SRC_METRICS && res->status == 503)
			fail(src, ST_ERROR, "metrics API unavailable (503)%s%.200s",
			     why ? ": " : "", why ? why : "");
		else
			fail(src, ST_ERROR, "the API server answered %ld%s%.200s", res->status,
			     why ? ": " : "", why ? why : "");
		json_decref(root);
	}
}

void snapshot_update(struct source *src, enum source_id id, const struct kube_response *res,
                     json_t *decoded, const char *decode_err, const char *ns, const char *hpa_name,
                     int timeout_ms)
{
	switch (res->outcome) {
	case KUBE_HTTP:
		if (res->status == 200 && decoded != NULL) {
			json_decref(src->data);
			src->data = decoded;
			decoded = NULL;
			src->state = ST_OK;
			src->message[0] = '\0';
		} else if (res->status == 200) {
			fail(src, ST_ERROR, "unparsable answer from the API server: %.200s",
			     decode_err ? decode_err : "?");
		} else {
			update_http(src, id, res, ns, hpa_name);
		}
		break;
	case KUBE_TIMEOUT:
		fail(src, ST_TIMEOUT, "no answer from the API server within %d ms", timeout_ms);
		break;
	case KUBE_UNREACHABLE:
		fail(src, ST_UNREACHABLE, "cannot reach the API server: %.300s", res->error);
		break;
	case KUBE_TLS:
		fail(src, ST_UNREACHABLE, "TLS failure with the API server: %.300s", res->error);
		break;
	case KUBE_NO_TOKEN:
		fail(src, ST_UNAUTHORIZED, "%.300s", res->error);
		break;
	case KUBE_FAILED:
		fail(src, ST_ERROR, "%.300s", res->error);
		break;
	}
	json_decref(decoded);
}

static json_t *state_object(const struct source *src)
{
	return json_pack("{s:s, s:o}", "state", snapshot_state_name(src->state), "message",
	                 src->message[0] ? json_string(src->message) : json_null());
}

static json_t *render_hpa(const struct snapshot *s)
{
	const struct source *src = &s->src[SRC_HPA];
	json_t *o = state_object(src);
	if (o == NULL)
		return NULL;
	if (src->data != NULL) {
		json_object_update(o, src->data);
		return o;
	}
	static const char *const nulls[] = {
	    "min_replicas",           "max_replicas",           "current_replicas",
	    "desired_replicas",       "target_cpu_utilization", "current_cpu_utilization",
	    "current_cpu_millicores", "last_scale_time",
	};
	json_object_set_new(o, "name", json_string(s->hpa_name));
	for (size_t i = 0; i < sizeof(nulls) / sizeof(nulls[0]); i++)
		json_object_set_new(o, nulls[i], json_null());
	json_object_set_new(o, "conditions", json_array());
	json_object_set_new(o, "behavior", json_null());
	return o;
}

/* pods.items with cpu_millicores from the metrics source, only while that source is ok. */
static json_t *render_pods(const struct snapshot *s)
{
	const struct source *pods = &s->src[SRC_PODS], *metrics = &s->src[SRC_METRICS];
	json_t *o = state_object(pods);
	json_t *items = pods->data ? json_deep_copy(pods->data) : json_array();
	json_t *pod;
	size_t i;
	if (o == NULL || items == NULL) {
		json_decref(o);
		json_decref(items);
		return NULL;
	}
	json_array_foreach(items, i, pod)
	{
		const char *name = json_string_value(json_object_get(pod, "name"));
		json_t *m =
		    metrics->state == ST_OK && name ? json_object_get(metrics->data, name) : NULL;
		if (m != NULL)
			json_object_set(pod, "cpu_millicores", m);
	}
	json_object_set_new(o, "items", items);
	return o;
}

static json_t *render_events(const struct snapshot *s)
{
	const struct source *src = &s->src[SRC_EVENTS];
	json_t *o = state_object(src);
	if (o != NULL)
		json_object_set_new(o, "items",
		                    src->data ? json_deep_copy(src->data) : json_array());
	return o;
}

char *snapshot_render(const struct snapshot *s, size_t *lenp)
{
	char *text = NULL;
	json_t *doc =
	    json_pack("{s:s, s:s, s:o, s:i, s:o, s:o, s:o, s:o, s:o}", "mode", s->mode, "namespace",
	              s->namespace, "observed_at",
	              s->observed_at[0] ? json_string(s->observed_at) : json_null(), "poll_ms",
	              s->poll_ms, "hint", s->hint ? json_string(s->hint) : json_null(), "hpa",
	              render_hpa(s), "pods", render_pods(s), "metrics",
	              state_object(&s->src[SRC_METRICS]), "events", render_events(s));
	if (doc != NULL)
		text = json_dumps(doc, JSON_COMPACT);
	json_decref(doc);
	if (text != NULL && lenp != NULL)
		*lenp = strlen(text);
	return text;
}

void snapshot_release(struct snapshot *s)
{
	for (int i = 0; i < SRC_COUNT; i++) {
		json_decref(s->src[i].data);
		s->src[i].data = NULL;
	}
}

void snapshot_format_time(char *buf, size_t len, long long sec, long nsec, int with_ms)
{
	struct tm tm;
	time_t t = (time_t)sec;
	char base[24];
	gmtime_r(&t, &tm);
	strftime(base, sizeof(base), "%Y-%m-%dT%H:%M:%S", &tm);
	if (with_ms)
		snprintf(buf, len, "%s.%03ldZ", base, nsec / 1000000L);
	else
		snprintf(buf, len, "%sZ", base);
}
