/* kube.c - the only file that includes <curl/curl.h>. */
#include "kube.h"

#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#define BODY_MAX (8 * 1024 * 1024) /* a PodList of a few hundred pods fits many times over */
#define TOKEN_MAX 8192

struct kube {
	CURL *curl; /* kept between calls: one TLS connection reused while the API answers */
	char base_url[300];
	char token_path[300];
	char ca_path[300];
	int timeout_ms;
	int with_token;
	char token[TOKEN_MAX];
	struct stat token_st; /* of the file the token was read from */
	int token_loaded;
};

int kube_global_init(void)
{
	return curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK ? 0 : -1;
}

void kube_global_cleanup(void)
{
	curl_global_cleanup();
}

struct kube *kube_create(const char *base_url, const char *sa_dir, int timeout_ms, char *err,
                         size_t errlen)
{
	struct kube *k = calloc(1, sizeof(*k));
	if (k == NULL || (k->curl = curl_easy_init()) == NULL) {
		snprintf(err, errlen, "out of memory");
		free(k);
		return NULL;
	}
	k->timeout_ms = timeout_ms;
	if ((size_t)snprintf(k->base_url, sizeof(k->base_url), "%s", base_url) >=
	    sizeof(k->base_url))
		goto too_long;
	if (sa_dir != NULL) {
		k->with_token = 1;
		if ((size_t)snprintf(k->token_path, sizeof(k->token_path), "%s/token", sa_dir) >=
		        sizeof(k->token_path) ||
		    (size_t)snprintf(k->ca_path, sizeof(k->ca_path), "%s/ca.crt", sa_dir) >=
		        sizeof(k->ca_path))
			goto too_long;
	}
	return k;
too_long:
	snprintf(err, errlen, "API URL or service account directory too long");
	kube_free(k);
	return NULL;
}

void kube_free(struct kube *k)
{
	if (k == NULL)
		return;
	curl_easy_cleanup(k->curl);
	memset(k->token, 0, sizeof(k->token));
	free(k);
}

char *kube_escape(const char *s)
{
	char *e = curl_easy_escape(NULL, s, 0);
	char *copy = e ? strdup(e) : NULL;
	curl_free(e);
	return copy;
}

/*
 * Read the token when the file changed (another inode: the kubelet swaps a symlink; another
 * mtime or size: rewritten in place) or when force is set. 0 when a token is at hand.
 */
static int load_token(struct kube *k, int force, char *err, size_t errlen)
{
	struct stat st;
	if (stat(k->token_path, &st) != 0) {
		snprintf(err, errlen, "cannot read the ServiceAccount token %.150s", k->token_path);
		return -1;
	}
	if (!force && k->token_loaded && st.st_ino == k->token_st.st_ino &&
	    st.st_size == k->token_st.st_size && st.st_mtim.tv_sec == k->token_st.st_mtim.tv_sec &&
	    st.st_mtim.tv_nsec == k->token_st.st_mtim.tv_nsec)
		return 0;
	FILE *f = fopen(k->token_path, "r");
	size_t n = 0;
	int bad = 1;
	if (f != NULL) {
		n = fread(k->token, 1, sizeof(k->token) - 1, f);
		bad = ferror(f) || n == sizeof(k->token) - 1;
		fclose(f);
	}
	while (n > 0 &&
	       (k->token[n - 1] == '\n' || k->token[n - 1] == '\r' || k->token[n - 1] == ' '))
		n--;
	k->token[n] = '\0';
	if (bad || n == 0 || strpbrk(k->token, "\r\n") != NULL) {
		k->token_loaded = 0;
		snprintf(err, errlen,
		         "cannot read the ServiceAccount token %.150s (missing, empty or too long)",
		         k->token_path);
		return -1;
	}
	k->token_st = st;
	k->token_loaded = 1;
	return 0;
}

struct sink {
	char *buf;
	size_t len;
	size_t cap;
	int too_large;
};

static size_t on_body(char *data, size_t size, size_t nmemb, void *userdata)
{
	struct sink *s = userdata;
	size_t n = size * nmemb;
	if (s->len + n > BODY_MAX) {
		s->too_large = 1;
		return 0; /* aborts the transfer */
	}
	if (s->len + n + 1 > s->cap) {
		size_t cap = s->cap ? s->cap : 16384;
		while (cap < s->len + n + 1)
			cap *= 2;
		char *p = realloc(s->buf, cap);
		if (p == NULL)
			return 0;
		s->buf = p;
		s->cap = cap;
	}
	memcpy(s->buf + s->len, data, n);
	s->len += n;
	s->buf[s->len] = '\0';
	return n;
}

static size_t on_header(char *data, size_t size, size_t nmemb, void *userdata)
{
	struct kube_response *out = userdata;
	size_t n = size * nmemb;
	static const char name[] = "x-served-by:";
	if (n > sizeof(name) - 1 && strncasecmp(data, name, sizeof(name) - 1) == 0) {
		const char *v = data + sizeof(name) - 1;
		size_t len = n - (sizeof(name) - 1);
		while (len > 0 && (*v == ' ' || *v == '\t'))
			v++, len--;
		while (len > 0 && (v[len - 1] == '\r' || v[len - 1] == '\n' || v[len - 1] == ' '))
			len--;
		if (len >= sizeof(out->served_by))
			len = sizeof(out->served_by) - 1;
		memcpy(out->served_by, v, len);
		out->served_by[len] = '\0';
	}
	return n;
}

static enum kube_outcome classify(CURLcode rc)
{
	switch (rc) {
	case CURLE_OPERATION_TIMEDOUT:
		return KUBE_TIMEOUT;
	case CURLE_SSL_CONNECT_ERROR:
	case CURLE_PEER_FAILED_VERIFICATION:
	case CURLE_SSL_CERTPROBLEM:
	case CURLE_SSL_CIPHER:
	case CURLE_SSL_CACERT_BADFILE:
	case CURLE_SSL_SHUTDOWN_FAILED:
	case CURLE_SSL_CRL_BADFILE:
	case CURLE_SSL_ISSUER_ERROR:
	case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
	case CURLE_SSL_INVALIDCERTSTATUS:
		return KUBE_TLS;
	case CURLE_COULDNT_RESOLVE_HOST:
	case CURLE_COULDNT_CONNECT:
	case CURLE_GOT_NOTHING:
	case CURLE_SEND_ERROR:
	case CURLE_RECV_ERROR:
	case CURLE_PARTIAL_FILE:
		return KUBE_UNREACHABLE;
	default:
		return KUBE_FAILED;
	}
}

/* One request with the token at hand. */
static void perform(struct kube *k, const char *url, struct kube_response *out)
{
	CURL *c = k->curl;
	struct curl_slist *headers = NULL;
	struct sink sink = {0};
	char errbuf[CURL_ERROR_SIZE] = "";
	char auth[TOKEN_MAX + 32];

	curl_easy_reset(c);
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, (long)k->timeout_ms);
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, (long)k->timeout_ms);
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, k->with_token ? "https" : "http,https");
	curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &sink);
	curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(c, CURLOPT_HEADERDATA, out);
	curl_easy_setopt(c, CURLOPT_USERAGENT, "autoscaler-view");
	headers = curl_slist_append(headers, "Accept: application/json");
	if (k->with_token) {
		curl_easy_setopt(c, CURLOPT_CAINFO, k->ca_path);
		curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 1L);
		curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 2L);
		snprintf(auth, sizeof(auth), "Authorization: Bearer %s", k->token);
		struct curl_slist *h = curl_slist_append(headers, auth);
		headers = h ? h : headers;
		memset(auth, 0, sizeof(auth));
	}
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers);

	CURLcode rc = curl_easy_perform(c);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, NULL);
	curl_slist_free_all(headers); /* holds a copy of the token: not left in the heap */
	if (rc == CURLE_OK) {
		out->outcome = KUBE_HTTP;
		curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &out->status);
		out->body = sink.buf ? sink.buf : strdup("");
		out->len = sink.len;
		if (out->body == NULL) {
			out->outcome = KUBE_FAILED;
			snprintf(out->error, sizeof(out->error), "out of memory");
		}
		return;
	}
	free(sink.buf);
	out->outcome = sink.too_large ? KUBE_FAILED : classify(rc);
	if (sink.too_large)
		snprintf(out->error, sizeof(out->error), "response larger than %d bytes", BODY_MAX);
	else
		snprintf(out->error, sizeof(out->error), "%s",
		         errbuf[0] ? errbuf : curl_easy_strerror(rc));
}

int kube_get(struct kube *k, const char *path, struct kube_response *out)
{
	char url[2048];
	memset(out, 0, sizeof(*out));
	if ((size_t)snprintf(url, sizeof(url), "%s%s", k->base_url, path) >= sizeof(url)) {
		out->outcome = KUBE_FAILED;
		snprintf(out->error, sizeof(out->error), "URL too long");
		return -1;
	}
	if (k->with_token && load_token(k, 0, out->error, sizeof(out->error)) != 0) {
		out->outcome = KUBE_NO_TOKEN;
		return -1;
	}
	perform(k, url, out);
	if (out->outcome == KUBE_HTTP && out->status == 401 && k->with_token) {
		/* Rotated under us? Read it again; retry once only if it changed. */
		char old[TOKEN_MAX];
		memcpy(old, k->token, sizeof(old));
		if (load_token(k, 1, out->error, sizeof(out->error)) == 0 &&
		    strcmp(old, k->token) != 0) {
			kube_response_release(out);
			perform(k, url, out);
		}
		memset(old, 0, sizeof(old));
	}
	return out->outcome == KUBE_HTTP ? 0 : -1;
}

void kube_response_release(struct kube_response *r)
{
	if (r == NULL)
		return;
	free(r->body);
	r->body = NULL;
	r->len = 0;
	r->served_by[0] = '\0';
	r->error[0] = '\0';
}
