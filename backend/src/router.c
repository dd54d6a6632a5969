/* router.c - route patterns and matching. A pattern is literal segments plus at most one "{id}". */
#include "router.h"

#include <stdio.h>
#include <string.h>

struct path {
	const char *pattern;
	enum route_id id;
};

static const struct path paths[] = {
    {"/health/live", R_HEALTH_LIVE}, {"/health/ready", R_HEALTH_READY}, {"/health", R_HEALTH},
    {"/api/health", R_API_HEALTH},   {"/api/users", R_USERS},           {"/api/users/{id}", R_USER},
    {"/api/stress", R_STRESS},       {"/metrics", R_METRICS},
};

static const char *const method_names[M_COUNT] = {"GET",    "HEAD",    "POST", "PUT",
                                                  "DELETE", "OPTIONS", "OTHER"};

enum http_method router_method(const char *name)
{
	for (int i = 0; i < M_OTHER; i++)
		if (strcmp(name, method_names[i]) == 0)
			return (enum http_method)i;
	return M_OTHER;
}

const char *router_method_name(enum http_method m)
{
	return m < M_COUNT ? method_names[m] : "OTHER";
}

const char *router_route_name(enum route_id r)
{
	for (size_t i = 0; i < sizeof(paths) / sizeof(paths[0]); i++)
		if (paths[i].id == r)
			return paths[i].pattern;
	return "unmatched";
}

/* Literal prefix before "{id}" must match; the rest of the path is one non-empty segment. */
static int match_pattern(const char *pattern, const char *path, struct route_match *m)
{
	const char *brace = strchr(pattern, '{');
	if (brace == NULL)
		return strcmp(pattern, path) == 0;
	size_t prefix = (size_t)(brace - pattern);
	if (strncmp(pattern, path, prefix) != 0)
		return 0;
	const char *seg = path + prefix;
	size_t len = strlen(seg);
	if (len == 0 || memchr(seg, '/', len) != NULL)
		return 0;
	m->param_too_long = len >= sizeof(m->param);
	if (m->param_too_long)
		len = sizeof(m->param) - 1;
	memcpy(m->param, seg, len);
	m->param[len] = '\0';
	return 1;
}

static void append_allow(char *allow, size_t size, const char *name)
{
	size_t used = strlen(allow);
	snprintf(allow + used, size - used, "%s%s", used ? ", " : "", name);
}

enum route_result router_find(const struct route *table, size_t n, const char *path,
                              enum http_method method, struct route_match *m)
{
	memset(m, 0, sizeof(*m));
	m->route = R_NONE;
	for (size_t i = 0; i < sizeof(paths) / sizeof(paths[0]); i++) {
		if (match_pattern(paths[i].pattern, path, m)) {
			m->route = paths[i].id;
			break;
		}
	}
	if (m->route == R_NONE)
		return ROUTE_NOT_FOUND;

	enum http_method want = method == M_HEAD ? M_GET : method;
	for (size_t i = 0; i < n; i++)
		if (table[i].id == m->route && table[i].method == want)
			m->handler = table[i].handler;
	if (m->handler != NULL && method != M_OPTIONS)
		return ROUTE_FOUND;

	/* Only 405 and OPTIONS answers carry Allow: build it just for them. */
	for (size_t i = 0; i < n; i++) {
		if (table[i].id != m->route)
			continue;
		append_allow(m->allow, sizeof(m->allow), method_names[table[i].method]);
		if (table[i].method == M_GET)
			append_allow(m->allow, sizeof(m->allow), "HEAD");
	}
	append_allow(m->allow, sizeof(m->allow), "OPTIONS");
	if (method == M_OPTIONS)
		return ROUTE_FOUND;
	return ROUTE_METHOD_NOT_ALLOWED;
}

void router_print(const struct route *table, size_t n, FILE *out)
{
	for (size_t i = 0; i < n; i++)
		fprintf(out, "%s %s\n", method_names[table[i].method],
		        router_route_name(table[i].id));
}
