/* hello.c - the floor for bench/bench.sh: libmicrohttpd answering every request with
 * 200 {"status":"alive"} and doing nothing else. Whatever the backend spends per request
 * above this is its own work (routing, logging, metrics, Redis, PostgreSQL, JSON).
 *
 *   cc -O2 -o hello hello.c -lmicrohttpd && ./hello PORT THREADS   (binds 127.0.0.1)
 *
 * Same daemon flavour as the backend's pool mode: epoll, a pool of THREADS threads (default 2).
 * The response is queued on the second call of the handler, as in the backend: queueing on
 * the first call makes libmicrohttpd 0.9.75 close the connection after the response.
 */
#include "floor.h"

static const char body[] = "{\"status\":\"alive\"}";

static enum MHD_Result handle(void *cls, struct MHD_Connection *con, const char *url,
                              const char *method, const char *version, const char *upload_data,
                              size_t *upload_size, void **req_cls)
{
	struct MHD_Response *response = cls; /* shared and never changed after start */
	if (!floor_ready(url, method, version, upload_data, upload_size, req_cls))
		return MHD_YES;
	return MHD_queue_response(con, MHD_HTTP_OK, response);
}

int main(int argc, char **argv)
{
	const char *usage = "hello PORT [THREADS]";
	long port = floor_arg(argc, argv, 1, 8080, 1, 65535, usage);
	long threads = floor_arg(argc, argv, 2, 2, 1, 64, usage);
	struct MHD_Response *response =
	    MHD_create_response_from_buffer(sizeof(body) - 1, (void *)body, MHD_RESPMEM_PERSISTENT);
	int rc = 1;

	if (response != NULL &&
	    MHD_add_response_header(response, "Content-Type", "application/json") == MHD_YES)
		rc = floor_serve("hello", 0, port, threads, handle, response);
	MHD_destroy_response(response);
	return rc;
}
