/* redis-get.c - the second floor for bench/bench.sh: libmicrohttpd answering every request with
 * 200 and the value of one Redis key, read with ONE hiredis GET per request, and doing nothing
 * else. A cached GET /api/users/{id} does this much plus its own work (routing, validation,
 * the generation check, logging, metrics), so its CPU against this floor is the backend's
 * overhead on a cached read; unlike a ratio to another server, it stays put from one machine
 * to another (the system calls of the Redis round trip are in both).
 *
 *   cc -O2 -o redis-get redis-get.c -lmicrohttpd -lhiredis -lpthread
 *   ./redis-get PORT THREADS REDIS_PORT [KEY]   (127.0.0.1 only; KEY defaults to bench:floor)
 *
 * The backend's event-thread mode: epoll, a pool of THREADS threads (default 4, as HTTP_THREADS),
 * suspend/resume allowed (it costs an inter-thread channel per thread), the response queued on
 * the handler's second call. Each thread has its own Redis connection (the backend lends one
 * from a pool), with the backend's 200 ms timeouts. A missing key answers 404, a Redis error 503,
 * both with an empty body, so that wrk counts them.
 */
#include "floor.h"
#include <hiredis/hiredis.h>
#include <string.h>

struct floor {
	long redis_port;
	const char *key;
};

static __thread redisContext *redis; /* one per event thread, never shared */

static redisContext *connect_redis(long port)
{
	struct timeval tv = {.tv_sec = 0, .tv_usec = 200000};
	redisContext *ctx = redisConnectWithTimeout("127.0.0.1", (int)port, tv);

	if (ctx == NULL || ctx->err || redisSetTimeout(ctx, tv) != REDIS_OK) {
		redisFree(ctx);
		return NULL;
	}
	return ctx;
}

/* get: the value of the key (caller frees) in *out, or the HTTP status that says why not. */
static unsigned int get(const struct floor *f, char **out, size_t *lenp)
{
	redisReply *reply = NULL;
	unsigned int status = MHD_HTTP_SERVICE_UNAVAILABLE;

	*out = NULL;
	if (redis == NULL)
		redis = connect_redis(f->redis_port);
	if (redis == NULL)
		return status;
	reply = redisCommand(redis, "GET %s", f->key);
	if (reply == NULL) { /* the connection is broken: reconnect on the next request */
		redisFree(redis);
		redis = NULL;
		return status;
	}
	if (reply->type == REDIS_REPLY_STRING) {
		*out = malloc(reply->len > 0 ? reply->len : 1);
		if (*out != NULL) {
			memcpy(*out, reply->str, reply->len);
			*lenp = reply->len;
			status = MHD_HTTP_OK;
		}
	} else if (reply->type == REDIS_REPLY_NIL) {
		status = MHD_HTTP_NOT_FOUND;
	}
	freeReplyObject(reply);
	return status;
}

static enum MHD_Result handle(void *cls, struct MHD_Connection *con, const char *url,
                              const char *method, const char *version, const char *upload_data,
                              size_t *upload_size, void **req_cls)
{
	const struct floor *f = cls;
	struct MHD_Response *response = NULL;
	char *body = NULL;
	size_t len = 0;
	unsigned int status;
	enum MHD_Result ret = MHD_NO;
	if (!floor_ready(url, method, version, upload_data, upload_size, req_cls))
		return MHD_YES;
	status = get(f, &body, &len);
	response = MHD_create_response_from_buffer(len, body, MHD_RESPMEM_MUST_FREE);
	if (response == NULL) {
		free(body);
		goto out;
	}
	if (MHD_add_response_header(response, "Content-Type", "application/json") != MHD_YES ||
	    (status == MHD_HTTP_OK &&
	     MHD_add_response_header(response, "X-Cache", "HIT") != MHD_YES))
		goto out;
	ret = MHD_queue_response(con, status, response);
out:
	MHD_destroy_response(response);
	return ret;
}

int main(int argc, char **argv)
{
	const char *usage = "redis-get PORT [THREADS [REDIS_PORT [KEY]]]";
	long port = floor_arg(argc, argv, 1, 8080, 1, 65535, usage);
	long threads = floor_arg(argc, argv, 2, 4, 1, 64, usage);
	struct floor f = {.redis_port = floor_arg(argc, argv, 3, 6379, 1, 65535, usage),
	                  .key = argc > 4 ? argv[4] : "bench:floor"};
	redisContext *probe = connect_redis(f.redis_port);

	if (probe == NULL) {
		fprintf(stderr, "redis-get: no Redis on 127.0.0.1:%ld\n", f.redis_port);
		return 1;
	}
	redisFree(probe);
	return floor_serve("redis-get", MHD_ALLOW_SUSPEND_RESUME | MHD_USE_ERROR_LOG, port, threads,
	                   handle, &f);
}
