/*
 * fuzz_http.c - raw bytes on a TCP connection to the real server: libmicrohttpd parses the
 * request line, headers, chunked or sized bodies and the query string, then http.c dispatches
 * through the router to the real handlers (PostgreSQL and Redis point at a closed port, so the
 * handlers take their outage paths: 503, cache errors). The server runs in this process, so
 * ASan and UBSan watch every thread.
 *
 * Invariants: the server never answers 500, every response it sends is well formed
 * (status line, headers, a body of the announced length), it keeps answering, and once the
 * connection is closed no request is left in flight.
 *
 * stress.c is built with lowered bounds for this harness (stress_limits.h): at most 2 ms a burn.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>
#include <fcntl.h>

#include "app.h"
#include "fuzz_common.h"
#include "http.h"
#include "log.h"
#include "server.h"

static struct app app;
static int port;
static int debug;
static char port_s[8];

static const char *lookup(const char *name)
{
	static const char *const env[][2] = {
	    {"BIND_ADDRESS", "127.0.0.1"},
	    {"DB_HOST", "127.0.0.1"},
	    {"DB_PORT", "1"},
	    {"REDIS_HOST", "127.0.0.1"},
	    {"REDIS_PORT", "1"},
	    {"DB_STATEMENT_TIMEOUT_MS", "100"},
	    {"REDIS_TIMEOUT_MS", "20"},
	    {"MAX_BODY_BYTES", "4096"},
	    {"HTTP_IDLE_TIMEOUT_SECONDS", "2"},
	    {"STRESS_SLOTS", "1"},
	    {"POD_NAME", "fuzz"},
	    {"CORS_ALLOW_ORIGIN", "https://example.test"},
	    {"LOG_LEVEL", "debug"},
	};
	if (strcmp(name, "SERVER_PORT") == 0)
		return port_s;
	for (size_t i = 0; i < sizeof(env) / sizeof(env[0]); i++)
		if (strcmp(env[i][0], name) == 0)
			return env[i][1];
	return NULL;
}

static int free_port(void)
{
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t len = sizeof(a);
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	CHECK(fd >= 0 && bind(fd, (struct sockaddr *)&a, sizeof(a)) == 0);
	CHECK(getsockname(fd, (struct sockaddr *)&a, &len) == 0);
	close(fd);
	return ntohs(a.sin_port);
}

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	char err[512];
	/* The server's JSON logs go to /dev/null; libFuzzer reports on stderr. */
	int devnull = open("/dev/null", O_WRONLY);
	CHECK(devnull >= 0 && dup2(devnull, STDOUT_FILENO) >= 0);
	close(devnull);
	signal(SIGPIPE, SIG_IGN);
	debug = getenv("FUZZ_HTTP_DEBUG") != NULL;
	port = free_port();
	snprintf(port_s, sizeof(port_s), "%d", port);
	CHECK(config_load(&app.cfg, lookup, err, sizeof(err)) == 0);
	log_set_level(app.cfg.log_level);
	CHECK(server_open(&app, err, sizeof(err)) == 0); /* runs until the process exits */
	return 0;
}

/* Read until the server closes or 2 s pass. */
static size_t read_all(int fd, char *buf, size_t cap)
{
	size_t n = 0;
	struct pollfd p = {.fd = fd, .events = POLLIN};
	for (int rc; n < cap && ((rc = poll(&p, 1, 2000)) == 1 || (rc < 0 && errno == EINTR));) {
		if (rc < 0)
			continue;
		ssize_t r = recv(fd, buf + n, cap - n, 0);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		n += (size_t)r;
	}
	return n;
}

static int starts_response(const char *p, const char *end)
{
	return end - p >= 7 && memcmp(p, "HTTP/1.", 7) == 0;
}

/* Walk the responses: status line, headers, Content-Length body. */
static void check_responses(const char *buf, size_t len)
{
	const char *p = buf, *end = buf + len;
	while (p < end) {
		const char *hdr_end = memmem(p, (size_t)(end - p), "\r\n\r\n", 4);
		if (hdr_end == NULL)
			break; /* cut off: the client stopped reading, not a server fault */
		CHECK(end - p > 13 && memcmp(p, "HTTP/1.", 7) == 0 && p[8] == ' ');
		int status = atoi(p + 9);
		CHECK(status >= 100 && status <= 599);
		CHECK(status != 500);
		long clen = -1;
		for (const char *h = memchr(p, '\n', (size_t)(hdr_end - p)); h && h < hdr_end;
		     h = memchr(h + 1, '\n', (size_t)(hdr_end - h))) {
			if (strncasecmp(h + 1, "Content-Length:", 15) == 0)
				clen = strtol(h + 16, NULL, 10);
		}
		p = hdr_end + 4;
		if (clen < 0)
			break; /* chunked or until close: one response is all we check */
		if (clen > end - p)
			break; /* cut off */
		/* A HEAD response announces a length but has no body: the next response follows. */
		const char *next = p + clen;
		if (next != end && !starts_response(next, end) && starts_response(p, end))
			continue;
		CHECK(next == end || starts_response(next, end));
		p = next;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char buf[1 << 20];
	struct sockaddr_in a = {.sin_family = AF_INET,
	                        .sin_port = htons((uint16_t)port),
	                        .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	/* Close with a reset: thousands of connections a second must not pile up in TIME_WAIT
	 * and exhaust the ephemeral ports (which would look like a server that stopped). */
	struct linger lg = {.l_onoff = 1, .l_linger = 0};
	int fd = -1;
	for (int attempt = 0; attempt < 100; attempt++) {
		fd = socket(AF_INET, SOCK_STREAM, 0);
		CHECK(fd >= 0);
		setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
		if (connect(fd, (struct sockaddr *)&a, sizeof(a)) == 0)
			break;
		/* libFuzzer's timer signal interrupts a blocking connect: just try again. */
		if (errno != EINTR && errno != EADDRNOTAVAIL && errno != EAGAIN) {
			fprintf(stderr, "connect: %s: the server stopped listening\n",
			        strerror(errno));
			abort();
		}
		close(fd);
		fd = -1;
		usleep(10000);
	}
	CHECK(fd >= 0);
	for (size_t off = 0; off < size;) {
		ssize_t w = send(fd, data + off, size - off, MSG_NOSIGNAL);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			break; /* the server refused the rest (e.g. 413) */
		off += (size_t)w;
	}
	shutdown(fd, SHUT_WR);
	size_t n = read_all(fd, buf, sizeof(buf));
	close(fd);
	if (debug) /* FUZZ_HTTP_DEBUG=1: show what the server answered (to replay a crash) */
		fprintf(stderr, "--- %zu bytes answered:\n%.*s\n", n, (int)n, buf);
	check_responses(buf, n);
	/* Every request that started also ends: nothing stays counted (or allocated) in flight. */
	for (int i = 0; i < 200 && http_in_flight(app.http) != 0; i++)
		usleep(5000);
	CHECK(http_in_flight(app.http) == 0);
	return 0;
}
