/*
 * fuzz_router.c - "METHOD PATH?QUERY": router_method, routes_find, and params_int on every
 * query value (the bounds the handlers use: limit, before/id, ms, iterations).
 *
 * Invariants: 404 exactly when the path is unknown; OPTIONS is answered on every known path
 * with an Allow list ending in OPTIONS; a found method has a handler and is in that list, a
 * 405 method is not (and gets the same list); {id} holds
 * the last segment (truncated only with param_too_long set); params_int accepts exactly the
 * 1..19 digit strings whose value is within the bounds, and returns that value.
 */
#include <errno.h>

#include "fuzz_common.h"
#include "http.h"
#include "params.h"
#include "routes.h"

/* The reference for params_int, written differently on purpose. */
static int ref_int(const char *s, long long min, long long max, long long *out)
{
	size_t n = strlen(s);
	unsigned long long v = 0;
	if (n == 0 || n > 19)
		return -1;
	for (size_t i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (unsigned)(s[i] - '0'); /* 19 digits fit in 64 unsigned bits */
	}
	if (v > (unsigned long long)INT64_MAX || (long long)v < min || (long long)v > max)
		return -1;
	*out = (long long)v;
	return 0;
}

static void check_int(const char *s)
{
	static const long long bounds[][2] = {
	    {1, 500}, {1, INT64_MAX}, {1, 5000}, {1, 500000000LL}, {0, 0}};
	for (size_t i = 0; i < sizeof(bounds) / sizeof(bounds[0]); i++) {
		long long a = -7, b = -7;
		int ra = params_int(s, bounds[i][0], bounds[i][1], &a);
		int rb = ref_int(s, bounds[i][0], bounds[i][1], &b);
		CHECK(ra == rb);
		CHECK(ra != 0 || a == b);
		CHECK(ra == 0 || a == -7); /* untouched on failure */
	}
}

/* 1 when name is one of the comma-separated methods in allow. */
static int allows(const char *allow, const char *name)
{
	size_t n = strlen(name);
	for (const char *p = allow; *p;) {
		size_t len = strcspn(p, ",");
		if (len == n && strncmp(p, name, n) == 0)
			return 1;
		p += len;
		p += strspn(p, ", ");
	}
	return 0;
}

static void check_route(const char *path, enum http_method method)
{
	struct route_match m, opt;
	enum route_result r = routes_find(path, method, &m);

	CHECK(memchr(m.allow, '\0', sizeof(m.allow)) != NULL);
	CHECK(memchr(m.param, '\0', sizeof(m.param)) != NULL);
	CHECK(router_route_name(m.route) != NULL);
	if (r == ROUTE_NOT_FOUND) {
		CHECK(m.route == R_NONE && m.handler == NULL);
		return;
	}
	CHECK(m.route != R_NONE);
	/* OPTIONS is answered on every known path, with the full Allow list. */
	CHECK(routes_find(path, M_OPTIONS, &opt) == ROUTE_FOUND && opt.route == m.route);
	size_t n = strlen(opt.allow);
	CHECK(n >= 7 && strcmp(opt.allow + n - 7, "OPTIONS") == 0);
	if (r == ROUTE_FOUND && method != M_OPTIONS) {
		CHECK(m.handler != NULL);
		CHECK(allows(opt.allow, router_method_name(method))); /* found => allowed */
	} else if (r == ROUTE_METHOD_NOT_ALLOWED) {
		CHECK(m.handler == NULL && method != M_OPTIONS);
		CHECK(strcmp(m.allow, opt.allow) == 0);
		CHECK(!allows(m.allow, router_method_name(method))); /* 405 => not in Allow */
	}
	if (m.route == R_USER) {
		const char *seg = path + strlen("/api/users/");
		CHECK(strncmp(path, "/api/users/", 11) == 0 && *seg != '\0' && !strchr(seg, '/'));
		CHECK(m.param_too_long == (strlen(seg) >= sizeof(m.param)));
		CHECK(strncmp(m.param, seg, sizeof(m.param) - 1) == 0);
	} else {
		/* Literal routes match only their exact pattern. */
		CHECK(strcmp(router_route_name(m.route), path) == 0);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *line = fuzz_cstr(data, size);
	char *sp = strchr(line, ' ');
	const char *method_s = "GET";
	char *path = line;

	if (sp != NULL) {
		*sp = '\0';
		method_s = line;
		path = sp + 1;
	}
	enum http_method method = router_method(method_s);
	CHECK(method < M_COUNT);
	CHECK(method == M_OTHER || strcmp(router_method_name(method), method_s) == 0);

	char *query = strchr(path, '?');
	if (query != NULL)
		*query++ = '\0';
	check_route(path, method);
	for (int m = 0; m < M_COUNT; m++)
		check_route(path, (enum http_method)m);

	/* Query values as libmicrohttpd hands them over: split on '&', value after '='. */
	for (char *save = NULL, *kv = query ? strtok_r(query, "&", &save) : NULL; kv != NULL;
	     kv = strtok_r(NULL, "&", &save)) {
		char *eq = strchr(kv, '=');
		check_int(eq ? eq + 1 : kv);
	}
	if (query == NULL)
		check_int(path);
	free(line);
	return 0;
}
