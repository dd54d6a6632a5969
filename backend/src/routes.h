/* routes.h - the server's route table: which handler's phases answer each method and path. */
#ifndef ROUTES_H
#define ROUTES_H

#include <stdio.h>

#include "router.h"

/* router_find over the route table. */
enum route_result routes_find(const char *path, enum http_method method, struct route_match *m);

/* Print "METHOD PATTERN" for every route, one per line (for `backend --routes`). */
void routes_print(FILE *out);

/* The table itself (n rows), for tests that check every handler it names. */
const struct route *routes_table(size_t *n);

#endif
