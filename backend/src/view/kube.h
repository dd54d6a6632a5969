/* kube.h - bounded HTTPS GETs to the Kubernetes API with the pod's ServiceAccount (libcurl). */
#ifndef VIEW_KUBE_H
#define VIEW_KUBE_H

#include <stddef.h>

/* How a call ended. Only KUBE_HTTP has a status and a body. */
enum kube_outcome {
	KUBE_HTTP,        /* an HTTP answer (any status) */
	KUBE_TIMEOUT,     /* no complete answer within the timeout (connect included) */
	KUBE_UNREACHABLE, /* refused, no route, name not resolved, connection dropped */
	KUBE_TLS,         /* handshake or certificate verification failed */
	KUBE_NO_TOKEN,    /* the token file cannot be read: nothing was sent */
	KUBE_FAILED,      /* anything else (out of memory, body too large) */
};

struct kube_response {
	enum kube_outcome outcome;
	long status;
	char *body; /* NUL-terminated; owned, freed by kube_response_release */
	size_t len;
	char served_by[128]; /* X-Served-By, when the server sent one */
	char error[256];     /* what went wrong, for outcomes other than KUBE_HTTP */
};

struct kube;

/*
 * A client for base_url ("https://10.96.0.1:443", or "http://127.0.0.1:8080" without sa_dir).
 * With sa_dir, every call carries "Authorization: Bearer <sa_dir/token>" and verifies the
 * server against sa_dir/ca.crt (verification is never turned off). The token is read again
 * whenever the file changes (projected tokens rotate), and once more after a 401. Each call is
 * bounded by timeout_ms, connecting included. One thread at a time per client.
 */
struct kube *kube_create(const char *base_url, const char *sa_dir, int timeout_ms, char *err,
                         size_t errlen);
void kube_free(struct kube *k); /* NULL-safe */

/* GET base_url + path. Always fills out (release it). 0 when an HTTP answer came, -1 otherwise. */
int kube_get(struct kube *k, const char *path, struct kube_response *out);
void kube_response_release(struct kube_response *r);

/* Percent-encode s for a query value; caller frees with free(). NULL when out of memory. */
char *kube_escape(const char *s);

/* curl_global_init / cleanup: once, before and after every thread. 0 on success. */
int kube_global_init(void);
void kube_global_cleanup(void);

#endif
