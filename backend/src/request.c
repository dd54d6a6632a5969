/* request.c - the route's side of a request; the server (http.c) fills struct request. */
#include "request.h"

#include <stdlib.h>
#include <string.h>

const char *request_query(const struct request *req, const char *key)
{
	return req->query != NULL ? req->query(req->conn, key) : NULL;
}

void response_body(struct response *res, int status, char *body, size_t len)
{
	free(res->body);
	res->status = status;
	res->body = body;
	res->body_len = len;
	res->static_body = NULL;
}

void response_static(struct response *res, int status, const char *body)
{
	response_body(res, status, NULL, 0);
	res->static_body = body;
}

void response_json(struct response *res, int status, json_t *json)
{
	char *text = json ? json_dumps(json, JSON_COMPACT | JSON_REAL_PRECISION(6)) : NULL;
	json_decref(json);
	if (text == NULL) {
		static const char oom[] = "{\"error\":\"internal error\"}";
		text = strdup(oom);
		status = 500;
	}
	response_body(res, status, text, text ? strlen(text) : 0);
}

void response_error(struct response *res, const struct request *req, int status,
                    const char *message, const char *field)
{
	json_t *err = json_pack("{s:s, s:s}", "error", message, "request_id", req->request_id);
	if (err != NULL && field != NULL)
		json_object_set_new(err, "field", json_string(field));
	response_json(res, status, err);
}
