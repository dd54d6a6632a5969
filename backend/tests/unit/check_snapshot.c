/*
 * autoscaler-view's pure parts: API objects (recorded shapes) -> the /api/autoscaler document,
 * answers -> states and messages, /proc/<pid>/stat parsing.
 */
#include <check.h>
#include <string.h>

#include "local.h"
#include "snapshot.h"
#include "unit.h"

/* An autoscaling/v2 HorizontalPodAutoscaler as the API server returns it (trimmed metadata). */
static const char hpa_json[] =
    "{\"kind\":\"HorizontalPodAutoscaler\",\"apiVersion\":\"autoscaling/v2\","
    "\"metadata\":{\"name\":\"backend-hpa\",\"namespace\":\"webapp\"},"
    "\"spec\":{\"scaleTargetRef\":{\"kind\":\"Deployment\",\"name\":\"backend\","
    "\"apiVersion\":\"apps/v1\"},\"minReplicas\":2,\"maxReplicas\":10,"
    "\"metrics\":[{\"type\":\"Resource\",\"resource\":{\"name\":\"memory\",\"target\":"
    "{\"type\":\"Utilization\",\"averageUtilization\":80}}},{\"type\":\"Resource\",\"resource\":"
    "{\"name\":\"cpu\",\"target\":{\"type\":\"Utilization\",\"averageUtilization\":200}}}],"
    "\"behavior\":{\"scaleUp\":{\"stabilizationWindowSeconds\":0,\"selectPolicy\":\"Max\","
    "\"policies\":[{\"type\":\"Pods\",\"value\":4,\"periodSeconds\":15}]}}},"
    "\"status\":{\"observedGeneration\":1,\"lastScaleTime\":\"2026-12-02T07:59:40Z\","
    "\"currentReplicas\":2,\"desiredReplicas\":6,\"currentMetrics\":[{\"type\":\"Resource\","
    "\"resource\":{\"name\":\"cpu\",\"current\":{\"averageValue\":\"1350m\","
    "\"averageUtilization\":540}}}],\"conditions\":[{\"type\":\"AbleToScale\",\"status\":\"True\","
    "\"lastTransitionTime\":\"2026-12-02T07:59:40Z\",\"reason\":\"SucceededRescale\","
    "\"message\":\"the HPA controller was able to update the target scale to 6\"},"
    "{\"type\":\"ScalingActive\",\"status\":\"True\",\"lastTransitionTime\":\"2026-12-02T07:00:"
    "00Z\","
    "\"reason\":\"ValidMetricFound\",\"message\":\"...\"},{\"type\":\"ScalingLimited\","
    "\"status\":\"False\",\"lastTransitionTime\":\"2026-12-02T07:00:00Z\",\"reason\":"
    "\"DesiredWithinRange\",\"message\":\"the desired count is within the acceptable range\"}]}}";

/* A core/v1 PodList: a running pod with two containers, and one not yet scheduled. */
static const char pods_json[] =
    "{\"kind\":\"PodList\",\"apiVersion\":\"v1\",\"metadata\":{\"resourceVersion\":\"1\"},"
    "\"items\":[{\"metadata\":{\"name\":\"backend-b\",\"creationTimestamp\":\"2026-12-02T07:58:"
    "00Z\"},"
    "\"spec\":{\"containers\":[{\"name\":\"backend\"}]},\"status\":{\"phase\":\"Pending\","
    "\"conditions\":[{\"type\":\"PodScheduled\",\"status\":\"False\"}],\"qosClass\":\"Burstable\"}}"
    ","
    "{\"metadata\":{\"name\":\"backend-a\",\"creationTimestamp\":\"2026-12-02T07:49:00Z\"},"
    "\"spec\":{\"nodeName\":\"webapp-cluster-worker\",\"containers\":[{\"name\":\"backend\","
    "\"resources\":{\"requests\":{\"cpu\":\"250m\",\"memory\":\"64Mi\"}}},{\"name\":\"side\","
    "\"resources\":{\"requests\":{\"cpu\":\"0.05\"}}}]},\"status\":{\"phase\":\"Running\","
    "\"startTime\":\"2026-12-02T07:50:00Z\",\"conditions\":[{\"type\":\"Ready\",\"status\":"
    "\"True\"}],"
    "\"containerStatuses\":[{\"name\":\"backend\",\"restartCount\":2},{\"name\":\"side\","
    "\"restartCount\":1}]}}]}";

/* A metrics.k8s.io/v1beta1 PodMetricsList (metrics-server writes CPU in nanocores). */
static const char metrics_json[] =
    "{\"kind\":\"PodMetricsList\",\"apiVersion\":\"metrics.k8s.io/v1beta1\",\"metadata\":{},"
    "\"items\":[{\"metadata\":{\"name\":\"backend-a\"},\"timestamp\":\"2026-12-02T08:00:00Z\","
    "\"window\":\"15.037s\",\"containers\":[{\"name\":\"backend\",\"usage\":{\"cpu\":"
    "\"479995679n\","
    "\"memory\":\"5112Ki\"}},{\"name\":\"side\",\"usage\":{\"cpu\":\"1500000n\","
    "\"memory\":\"1Mi\"}}]}]}";

static json_t *parse(const char *text)
{
	json_error_t e;
	json_t *j = json_loads(text, 0, &e);
	ck_assert_msg(j != NULL, "fixture: %s", e.text);
	return j;
}

static long long int_at(const json_t *o, const char *key)
{
	const json_t *v = json_object_get(o, key);
	ck_assert_msg(json_is_integer(v), "%s is not an integer", key);
	return json_integer_value(v);
}

static const char *str_at(const json_t *o, const char *key)
{
	return json_string_value(json_object_get(o, key));
}

START_TEST(test_hpa)
{
	char err[200] = "";
	json_t *in = parse(hpa_json);
	json_t *h = snapshot_decode_hpa(in, err, sizeof(err));
	ck_assert_ptr_nonnull(h);
	ck_assert_str_eq(str_at(h, "name"), "backend-hpa");
	ck_assert_int_eq(int_at(h, "min_replicas"), 2);
	ck_assert_int_eq(int_at(h, "max_replicas"), 10);
	ck_assert_int_eq(int_at(h, "current_replicas"), 2);
	ck_assert_int_eq(int_at(h, "desired_replicas"), 6);
	ck_assert_int_eq(int_at(h, "target_cpu_utilization"), 200); /* the cpu metric, not memory */
	ck_assert_int_eq(int_at(h, "current_cpu_utilization"), 540);
	ck_assert_int_eq(int_at(h, "current_cpu_millicores"), 1350);
	ck_assert_str_eq(str_at(h, "last_scale_time"), "2026-12-02T07:59:40Z");
	const json_t *conds = json_object_get(h, "conditions");
	ck_assert_int_eq(json_array_size(conds), 3);
	ck_assert_str_eq(str_at(json_array_get(conds, 0), "reason"), "SucceededRescale");
	ck_assert_str_eq(str_at(json_array_get(conds, 0), "last_transition_time"),
	                 "2026-12-02T07:59:40Z");
	ck_assert_int_eq(
	    json_integer_value(json_object_get(
	        json_array_get(
	            json_object_get(json_object_get(json_object_get(h, "behavior"), "scaleUp"),
	                            "policies"),
	            0),
	        "value")),
	    4);
	json_decref(h);

	/* Fresh HPA: no status, no minReplicas (defaults to 1), no metrics yet. */
	json_object_del(in, "status");
	json_object_del(json_object_get(in, "spec"), "minReplicas");
	json_object_del(json_object_get(in, "spec"), "behavior");
	h = snapshot_decode_hpa(in, err, sizeof(err));
	ck_assert_ptr_nonnull(h);
	ck_assert_int_eq(int_at(h, "min_replicas"), 1);
	ck_assert_int_eq(int_at(h, "current_replicas"), 0);
	ck_assert(json_is_null(json_object_get(h, "current_cpu_utilization")));
	ck_assert(json_is_null(json_object_get(h, "last_scale_time")));
	ck_assert(json_is_null(json_object_get(h, "behavior")));
	ck_assert_int_eq(json_array_size(json_object_get(h, "conditions")), 0);
	json_decref(h);
	json_decref(in);

	in = parse("{\"kind\":\"Status\",\"code\":200}");
	ck_assert_ptr_null(snapshot_decode_hpa(in, err, sizeof(err)));
	ck_assert_ptr_nonnull(strstr(err, "not a HorizontalPodAutoscaler"));
	json_decref(in);
}
END_TEST

START_TEST(test_pods_sorted_with_requests_and_restarts)
{
	char err[200] = "";
	json_t *in = parse(pods_json);
	json_t *items = snapshot_decode_pods(in, err, sizeof(err));
	ck_assert_ptr_nonnull(items);
	ck_assert_int_eq(json_array_size(items), 2);
	const json_t *a = json_array_get(items, 0), *b = json_array_get(items, 1);
	ck_assert_str_eq(str_at(a, "name"), "backend-a");
	ck_assert(json_is_true(json_object_get(a, "ready")));
	ck_assert_str_eq(str_at(a, "phase"), "Running");
	ck_assert_str_eq(str_at(a, "node"), "webapp-cluster-worker");
	ck_assert_str_eq(str_at(a, "started_at"), "2026-12-02T07:50:00Z");
	ck_assert_int_eq(int_at(a, "restarts"), 3);
	ck_assert_int_eq(int_at(a, "cpu_request_millicores"), 300);
	ck_assert(json_is_null(json_object_get(a, "cpu_millicores")));
	ck_assert_str_eq(str_at(b, "name"), "backend-b");
	ck_assert(json_is_false(json_object_get(b, "ready")));
	ck_assert_str_eq(str_at(b, "phase"), "Pending");
	ck_assert(json_is_null(json_object_get(b, "node")));
	ck_assert_str_eq(str_at(b, "started_at"), "2026-12-02T07:58:00Z"); /* creation time */
	ck_assert(json_is_null(json_object_get(b, "cpu_request_millicores")));
	json_decref(items);
	json_decref(in);

	in = parse("{\"kind\":\"PodList\"}");
	ck_assert_ptr_null(snapshot_decode_pods(in, err, sizeof(err)));
	ck_assert_str_eq(err, "not a PodList (no items)");
	json_decref(in);
}
END_TEST

START_TEST(test_metrics_sum_containers)
{
	char err[200] = "";
	json_t *in = parse(metrics_json);
	json_t *m = snapshot_decode_metrics(in, err, sizeof(err));
	ck_assert_ptr_nonnull(m);
	ck_assert_int_eq(int_at(m, "backend-a"), 482); /* 480 + 2 (each rounded up) */
	ck_assert_int_eq(json_object_size(m), 1);
	json_decref(m);
	json_decref(in);
}
END_TEST

START_TEST(test_events_newest_first_capped)
{
	char err[200] = "", buf[4096];
	size_t n = 0;
	n += (size_t)snprintf(buf + n, sizeof(buf) - n, "{\"kind\":\"EventList\",\"items\":[");
	for (int i = 0; i < 25; i++)
		n += (size_t)snprintf(buf + n, sizeof(buf) - n,
		                      "%s{\"reason\":\"SuccessfulRescale\",\"type\":\"Normal\","
		                      "\"message\":\"New size: %d\",\"lastTimestamp\":"
		                      "\"2026-12-02T07:%02d:00Z\",\"count\":%d}",
		                      i ? "," : "", i, i, i + 1);
	/* events.k8s.io style: no lastTimestamp, an eventTime with microseconds and a series. */
	snprintf(
	    buf + n, sizeof(buf) - n,
	    ",{\"reason\":\"FailedGetResourceMetric\",\"type\":\"Warning\",\"message\":\"m\","
	    "\"lastTimestamp\":null,\"eventTime\":\"2026-12-02T07:59:30.123456Z\","
	    "\"series\":{\"count\":7,\"lastObservedTime\":\"2026-12-02T07:59:59.000000Z\"}}]}");
	json_t *in = parse(buf);
	json_t *ev = snapshot_decode_events(in, err, sizeof(err));
	ck_assert_ptr_nonnull(ev);
	ck_assert_int_eq(json_array_size(ev), SNAPSHOT_EVENTS_MAX);
	ck_assert_str_eq(str_at(json_array_get(ev, 0), "reason"), "FailedGetResourceMetric");
	ck_assert_str_eq(str_at(json_array_get(ev, 0), "time"), "2026-12-02T07:59:59.000000Z");
	ck_assert_int_eq(int_at(json_array_get(ev, 0), "count"), 7);
	ck_assert_str_eq(str_at(json_array_get(ev, 1), "message"), "New size: 24");
	ck_assert_int_eq(int_at(json_array_get(ev, 1), "count"), 25);
	ck_assert_str_eq(str_at(json_array_get(ev, 19), "message"), "New size: 6");
	json_decref(ev);
	json_decref(in);
}
END_TEST

static struct kube_response answer(long status, const char *body)
{
	struct kube_response r = {.outcome = KUBE_HTTP, .status = status};
	r.body = (char *)body;
	r.len = body ? strlen(body) : 0;
	return r;
}

START_TEST(test_states_and_messages)
{
	struct source src = {0};
	struct kube_response r = answer(403, NULL);
	snapshot_update(&src, SRC_METRICS, &r, NULL, NULL, "webapp", "backend-hpa", 2000);
	ck_assert_int_eq(src.state, ST_FORBIDDEN);
	ck_assert_str_eq(src.message,
	                 "the ServiceAccount may not list pods.metrics.k8s.io in webapp (403)");
	snapshot_update(&src, SRC_HPA, &r, NULL, NULL, "webapp", "backend-hpa", 2000);
	ck_assert_str_eq(src.message, "the ServiceAccount may not get "
	                              "horizontalpodautoscalers.autoscaling in webapp (403)");
	r = answer(404, NULL);
	snapshot_update(&src, SRC_METRICS, &r, NULL, NULL, "webapp", "backend-hpa", 2000);
	ck_assert_int_eq(src.state, ST_NOT_FOUND);
	ck_assert_str_eq(src.message, "metrics API missing (metrics-server not installed)");
	snapshot_update(&src, SRC_HPA, &r, NULL, NULL, "webapp", "backend-hpa", 2000);
	ck_assert_str_eq(src.message, "no HorizontalPodAutoscaler backend-hpa in webapp");
	r = answer(401, NULL);
	snapshot_update(&src, SRC_PODS, &r, NULL, NULL, "webapp", "backend-hpa", 2000);
	ck_assert_int_eq(src.state, ST_UNAUTHORIZED);
	r = answer(500, "{\"kind\":\"Status\",\"message\":\"etcdserver: request timed out\"}");
	snapshot_update(&src, SRC_PODS, &r, NULL, NULL, "webapp", "backend-hpa", 2000);
	ck_assert_int_eq(src.state, ST_ERROR);
	ck_assert_str_eq(src.message, "the API server answered 500: etcdserver: request timed out");

	/* A good answer, then failures: the data stays, the state tells. */
	r = answer(200, "{}");
	snapshot_update(&src, SRC_PODS, &r, json_array(), NULL, "webapp", "backend-hpa", 2000);
	ck_assert_int_eq(src.state, ST_OK);
	ck_assert_str_eq(src.message, "");
	json_t *kept = src.data;
	struct kube_response t = {.outcome = KUBE_TIMEOUT};
	snapshot_update(&src, SRC_PODS, &t, NULL, NULL, "webapp", "backend-hpa", 1500);
	ck_assert_int_eq(src.state, ST_TIMEOUT);
	ck_assert_str_eq(src.message, "no answer from the API server within 1500 ms");
	ck_assert_ptr_eq(src.data, kept);
	struct kube_response tls = {.outcome = KUBE_TLS};
	strcpy(tls.error, "SSL certificate problem: unable to get local issuer certificate");
	snapshot_update(&src, SRC_PODS, &tls, NULL, NULL, "webapp", "backend-hpa", 1500);
	ck_assert_int_eq(src.state, ST_UNREACHABLE);
	ck_assert_ptr_nonnull(strstr(src.message, "TLS failure"));
	r = answer(200, "{");
	snapshot_update(&src, SRC_PODS, &r, NULL, "end of file", "webapp", "backend-hpa", 1500);
	ck_assert_int_eq(src.state, ST_ERROR);
	ck_assert_str_eq(src.message, "unparsable answer from the API server: end of file");
	ck_assert_ptr_eq(src.data, kept);
	json_decref(src.data);
}
END_TEST

START_TEST(test_render)
{
	struct snapshot s = {
	    .mode = "cluster", .namespace = "webapp", .hpa_name = "backend-hpa", .poll_ms = 2000};
	char err[200];
	size_t len = 0;
	char *text = snapshot_render(&s, &len);
	ck_assert_ptr_nonnull(text);
	ck_assert_uint_eq(len, strlen(text));
	json_t *doc = parse(text);
	free(text);
	ck_assert(json_is_null(json_object_get(doc, "observed_at")));
	ck_assert_str_eq(str_at(json_object_get(doc, "hpa"), "state"), "starting");
	ck_assert_str_eq(str_at(json_object_get(doc, "hpa"), "name"), "backend-hpa");
	ck_assert(json_is_null(json_object_get(json_object_get(doc, "hpa"), "max_replicas")));
	ck_assert_int_eq(json_array_size(json_object_get(json_object_get(doc, "pods"), "items")),
	                 0);
	json_decref(doc);

	/* Pods with metrics: cpu_millicores only while the metrics source is ok. */
	json_t *pods = parse(pods_json), *metrics = parse(metrics_json);
	s.src[SRC_PODS].state = ST_OK;
	s.src[SRC_PODS].data = snapshot_decode_pods(pods, err, sizeof(err));
	s.src[SRC_METRICS].state = ST_OK;
	s.src[SRC_METRICS].data = snapshot_decode_metrics(metrics, err, sizeof(err));
	strcpy(s.observed_at, "2026-12-02T08:00:00.123Z");
	text = snapshot_render(&s, NULL);
	doc = parse(text);
	free(text);
	const json_t *a = json_array_get(json_object_get(json_object_get(doc, "pods"), "items"), 0);
	ck_assert_int_eq(int_at(a, "cpu_millicores"), 482);
	ck_assert_str_eq(str_at(doc, "observed_at"), "2026-12-02T08:00:00.123Z");
	json_decref(doc);
	s.src[SRC_METRICS].state = ST_FORBIDDEN;
	text = snapshot_render(&s, NULL);
	doc = parse(text);
	free(text);
	a = json_array_get(json_object_get(json_object_get(doc, "pods"), "items"), 0);
	ck_assert(json_is_null(json_object_get(a, "cpu_millicores")));
	ck_assert_str_eq(str_at(json_object_get(doc, "metrics"), "state"), "forbidden");
	json_decref(doc);
	snapshot_release(&s);
	json_decref(pods);
	json_decref(metrics);
}
END_TEST

START_TEST(test_proc_stat)
{
	unsigned long long ticks = 0, start = 0;
	/* The command name may hold spaces and parentheses: fields count from the last ')'. */
	const char *line = "4242 (back end) (x)) S 1 4242 4242 0 -1 4194560 1000 0 0 0 "
	                   "150 50 0 0 20 0 5 0 987654 123456789 1234 18446744073709551615\n";
	ck_assert_int_eq(local_parse_stat(line, &ticks, &start), 0);
	ck_assert_uint_eq(ticks, 200);
	ck_assert_uint_eq(start, 987654);
	ck_assert_int_eq(local_parse_stat("4242 (x) S 1 2", &ticks, &start), -1);
	ck_assert_int_eq(local_parse_stat("garbage", &ticks, &start), -1);

	char when[32];
	snapshot_format_time(when, sizeof(when), 1796198400LL, 123456789L, 1);
	ck_assert_str_eq(when, "2026-12-02T08:00:00.123Z");
	snapshot_format_time(when, sizeof(when), 1796198400LL, 0, 0);
	ck_assert_str_eq(when, "2026-12-02T08:00:00Z");
}
END_TEST

int main(void)
{
	Suite *s = suite_create("snapshot");
	TCase *tc = tcase_create("core");
	tcase_add_test(tc, test_hpa);
	tcase_add_test(tc, test_pods_sorted_with_requests_and_restarts);
	tcase_add_test(tc, test_metrics_sum_containers);
	tcase_add_test(tc, test_events_newest_first_capped);
	tcase_add_test(tc, test_states_and_messages);
	tcase_add_test(tc, test_render);
	tcase_add_test(tc, test_proc_stat);
	suite_add_tcase(s, tc);
	return unit_run(s);
}
