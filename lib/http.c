/* http.c: HTTP answers on libwebsockets (headers now, the body from the
 * writeable callbacks), JSON and its errors, raw-socket answers, and files
 * from a directory. Everything runs on the lws loop: no locks. */
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "gzip.h"
#include "http.h"
#include "wsproto.h"

static int
header(struct lws *wsi, const char *name, const char *value,
	unsigned char **p, unsigned char *end)
{
	return lws_add_http_header_by_name(wsi, (const unsigned char *)name,
		(const unsigned char *)value, (int)strlen(value), p, end);
}

static int
finished(struct lws *wsi)
{
	return lws_http_transaction_completed(wsi) ? -1 : 0;
}

/* Writes the whole body[0..len) now, the last of the answer. */
static int
write_body(struct lws *wsi, const void *body, size_t len)
{
	unsigned char *b = malloc(LWS_PRE + len);
	int rc;

	if (!b)
		return -1;
	memcpy(b + LWS_PRE, body, len);
	rc = lws_write(wsi, b + LWS_PRE, len, LWS_WRITE_HTTP_FINAL);
	free(b);
	return rc < 0 ? -1 : 0;
}

int
tf_http_respond(struct lws *wsi, struct tf_http_out *o, unsigned status,
	const char *type, const void *body, size_t len, void *owned, int flags,
	const char *const *headers)
{
	unsigned char buf[LWS_PRE + 2048], *start = buf + LWS_PRE, *p = start,
		*end = buf + sizeof buf - 1;
	int head = o ? o->head :
		lws_hdr_total_length(wsi, WSI_TOKEN_HEAD_URI) > 0;
	size_t i, n;
	int rc;

	if (lws_add_http_common_headers(wsi, status, type, len, &p, end))
		goto fail;
	if ((flags & TF_HTTP_NO_STORE) &&
	    header(wsi, "cache-control:", "no-store", &p, end))
		goto fail;
	if ((flags & TF_HTTP_NO_CACHE) &&
	    header(wsi, "cache-control:", "no-cache", &p, end))
		goto fail;
	if (header(wsi, "x-content-type-options:", "nosniff", &p, end))
		goto fail;
	if ((flags & TF_HTTP_GZIP) &&
	    header(wsi, "content-encoding:", "gzip", &p, end))
		goto fail;
	if ((flags & TF_HTTP_VARY) &&
	    header(wsi, "vary:", "Accept-Encoding", &p, end))
		goto fail;
	/* HTTP/2 has no Connection header (an HTTP/2 stream is not the
	 * network connection): its close ends the stream alone. */
	if ((flags & TF_HTTP_CLOSE) && lws_get_network_wsi(wsi) == wsi &&
	    header(wsi, "connection:", "close", &p, end))
		goto fail;
	for (i = 0; headers && headers[i]; i += 2)
		if (header(wsi, headers[i], headers[i + 1], &p, end))
			goto fail;
	if (lws_finalize_http_header(wsi, &p, end))
		goto fail;
	if (head)
		len = 0;
	/* Headers and body in writes of their own, as HTTP/2 needs. */
	n = (size_t)(p - start);
	if (lws_write(wsi, start, n, LWS_WRITE_HTTP_HEADERS) != (int)n)
		goto fail;
	if (!o) {
		/* lws keeps what the socket does not take at once, and
		 * sends it before any close. */
		rc = len ? write_body(wsi, body, len) : 0;
		free(owned);
		if (rc < 0)
			return -1;
		return flags & TF_HTTP_CLOSE ? -1 : finished(wsi);
	}
	o->close = !!(flags & TF_HTTP_CLOSE);
	if (!len) {
		free(owned);
		return o->close ? -1 : finished(wsi);
	}
	free(o->owned);
	o->owned = owned;
	o->p = body;
	o->len = len;
	o->off = 0;
	lws_callback_on_writable(wsi);
	return 0;
fail:
	free(owned);
	return -1;
}

int
tf_http_write_more(struct lws *wsi, struct tf_http_out *o)
{
	/* One buffer for every connection: each write is done with it
	 * before the next callback runs. */
	static unsigned char buf[LWS_PRE + 32768];
	size_t n = o->len - o->off;
	int last;

	if (!o->p)
		return 0;
	if (n > sizeof buf - LWS_PRE)
		n = sizeof buf - LWS_PRE;
	last = o->off + n == o->len;
	memcpy(buf + LWS_PRE, o->p + o->off, n);
	if (lws_write(wsi, buf + LWS_PRE, n, last ? LWS_WRITE_HTTP_FINAL :
		    LWS_WRITE_HTTP) != (int)n)
		return -1;
	o->off += n;
	if (!last) {
		lws_callback_on_writable(wsi);
		return 0;
	}
	tf_http_out_finish(o);
	return o->close ? -1 : finished(wsi);
}

void
tf_http_out_finish(struct tf_http_out *o)
{
	free(o->owned);
	o->owned = NULL;
	o->p = NULL;
	o->len = o->off = 0;
}

/* An Accept-Encoding longer than this is taken as absent: no gzip. */
#define ACCEPT_ENCODING_MAX 1024

int
tf_http_accepts_gzip(struct lws *wsi)
{
	char buf[ACCEPT_ENCODING_MAX];

	if (lws_hdr_copy(wsi, buf, sizeof buf,
		    WSI_TOKEN_HTTP_ACCEPT_ENCODING) < 0)
		return 0;
	/* lws gives an empty string for a header that is not there. */
	return tf_http_gzip_wanted(lws_hdr_total_length(wsi,
		WSI_TOKEN_HTTP_ACCEPT_ENCODING) > 0 ? buf : "");
}

/* The q-value of one Accept-Encoding element's parameters (";q=0.5"),
 * 1 without one, -1 when it is not a q-value (the element is ignored). */
static double
qvalue(const char *p, const char *end)
{
	char num[8];
	double q = 1;
	size_t n;
	char *e;

	while (p < end) {
		p += strspn(p, " \t;");
		if (p >= end)
			break;
		n = strcspn(p, ";");
		if (p + n > end)
			n = (size_t)(end - p);
		if ((*p == 'q' || *p == 'Q') && p[1] == '=') {
			if (n - 2 >= sizeof num)
				return -1;
			memcpy(num, p + 2, n - 2);
			num[n - 2] = '\0';
			num[strcspn(num, " \t")] = '\0';
			q = strtod(num, &e);
			if (e == num || *e || q < 0 || q > 1)
				return -1;
		}
		p += n;
	}
	return q;
}

int
tf_http_gzip_wanted(const char *ae)
{
	double gzip = -1, identity = -1, star = -1, g, i, q;
	const char *p = ae, *end;
	size_t n;

	if (!ae)
		return 0;
	while (*p) {
		p += strspn(p, " \t,");
		if (!*p)
			break;
		end = p + strcspn(p, ",");
		n = strcspn(p, " \t;,");
		if ((q = qvalue(p + n, end)) >= 0) {
			if ((n == 4 && !strncasecmp(p, "gzip", 4)) ||
			    (n == 6 && !strncasecmp(p, "x-gzip", 6)))
				gzip = q > gzip ? q : gzip;
			else if (n == 8 && !strncasecmp(p, "identity", 8))
				identity = q;
			else if (n == 1 && *p == '*')
				star = q;
		}
		p = end;
	}
	g = gzip >= 0 ? gzip : star >= 0 ? star : 0;
	i = identity >= 0 ? identity : star;
	/* identity not named (nor "*") has no rank of its own: gzip named
	 * is what the client asks for. */
	return g > 0 && (i < 0 || g >= i);
}

static int
json_answer(struct lws *wsi, struct tf_http_out *o, unsigned status,
	struct tf_buf *b, int flags, const char *const *headers)
{
	int vary = 0;

	if (b->failed) {
		tf_buf_finish(b);
		tf_buf_init(b);
		tf_buf_adds(b, "{\"error\":\"out of memory\"}");
		status = HTTP_STATUS_INTERNAL_SERVER_ERROR;
		if (b->failed)
			return -1;
	}
	tf_buf_add(b, "\n", 1);
	/* A full snapshot is hundreds of KiB: worth compressing for a page
	 * across a network, and cheap at zlib's fastest level. */
	if (b->len >= TF_HTTP_GZIP_MIN) {
		size_t n;
		unsigned char *gz;

		vary = TF_HTTP_VARY;
		if (tf_http_accepts_gzip(wsi) &&
		    (gz = tf_gzip(b->p, b->len, &n))) {
			tf_buf_finish(b);
			return tf_http_respond(wsi, o, status,
				"application/json", gz, n, gz,
				TF_HTTP_NO_STORE | TF_HTTP_GZIP | vary | flags,
				headers);
		}
	}
	return tf_http_respond(wsi, o, status, "application/json", b->p,
		b->len, b->p, TF_HTTP_NO_STORE | vary | flags, headers);
}

int
tf_http_json(struct lws *wsi, struct tf_http_out *o, unsigned status,
	struct tf_buf *b, const char *const *headers)
{
	return json_answer(wsi, o, status, b, 0, headers);
}

static int
error_answer(struct lws *wsi, struct tf_http_out *o, unsigned status,
	int flags, const char *const *headers, const char *fmt, va_list ap)
{
	struct tf_buf b;
	char msg[512];

	vsnprintf(msg, sizeof msg, fmt, ap);
	tf_buf_init(&b);
	tf_buf_adds(&b, "{\"error\":");
	tf_buf_json(&b, msg, strlen(msg));
	tf_buf_adds(&b, "}");
	return json_answer(wsi, o, status, &b, flags, headers);
}

int
tf_http_error(struct lws *wsi, struct tf_http_out *o, unsigned status,
	const char *const *headers, const char *fmt, ...)
{
	va_list ap;
	int rc;

	va_start(ap, fmt);
	rc = error_answer(wsi, o, status, 0, headers, fmt, ap);
	va_end(ap);
	return rc;
}

int
tf_http_error_now(struct lws *wsi, unsigned status, int flags,
	const char *const *headers, const char *fmt, ...)
{
	va_list ap;
	int rc;

	va_start(ap, fmt);
	rc = error_answer(wsi, NULL, status, flags, headers, fmt, ap);
	va_end(ap);
	return rc;
}

int
tf_http_not_allowed(struct lws *wsi, struct tf_http_out *o,
	const char *allow)
{
	const char *h[] = { "allow:", allow, NULL };

	return tf_http_error(wsi, o, HTTP_STATUS_METHOD_NOT_ALLOWED, h,
		"method not allowed (use %s)", allow);
}

const char *
tf_http_reason(unsigned status)
{
	static const struct {
		unsigned status;
		const char *reason;
	} reasons[] = {
		{ 200, "OK" },
		{ 202, "Accepted" },
		{ 304, "Not Modified" },
		{ 400, "Bad Request" },
		{ 401, "Unauthorized" },
		{ 403, "Forbidden" },
		{ 404, "Not Found" },
		{ 405, "Method Not Allowed" },
		{ 411, "Length Required" },
		{ 413, "Payload Too Large" },
		{ 414, "URI Too Long" },
		{ 431, "Request Header Fields Too Large" },
		{ 500, "Internal Server Error" },
		{ 503, "Service Unavailable" },
	};
	size_t i;

	for (i = 0; i < sizeof reasons / sizeof reasons[0]; i++)
		if (reasons[i].status == status)
			return reasons[i].reason;
	return "Error";
}

size_t
tf_http_raw_error(char *buf, size_t size, unsigned status, const char *allow,
	const char *msg)
{
	char body[6 * 256 + 32];
	size_t m = strlen(msg);
	int n;

	if (m > 256)
		m = 256;
	n = snprintf(body, sizeof body, "{\"error\":");
	n += (int)tf_json_escape(body + n, msg, m);
	n += snprintf(body + n, sizeof body - (size_t)n, "}\n");
	n = snprintf(buf, size, "HTTP/1.1 %u %s\r\n"
		"content-type: application/json\r\n"
		"content-length: %d\r\n"
		"cache-control: no-store\r\n"
		"x-content-type-options: nosniff\r\n"
		"%s%s%s"
		"connection: close\r\n\r\n%s",
		status, tf_http_reason(status), n, allow ? "allow: " : "",
		allow ? allow : "", allow ? "\r\n" : "", body);
	return n < 0 || (size_t)n >= size ? 0 : (size_t)n;
}

int
tf_http_raw_not_allowed(struct lws *wsi, enum lws_callback_reasons reason,
	const void *in, size_t len, const char *allow)
{
	char buf[LWS_PRE + 2048], msg[128];
	size_t n;

	if (reason == LWS_CALLBACK_RAW_ADOPT) {
		lws_set_timeout(wsi, PENDING_TIMEOUT_USER_OK,
			TF_HTTP_RAW_TIMEOUT_S);
		return 0;
	}
	if (reason != LWS_CALLBACK_RAW_RX || !in || !len)
		return 0;
	snprintf(msg, sizeof msg, "method not allowed (use %s)", allow);
	n = tf_http_raw_error(buf + LWS_PRE, sizeof buf - LWS_PRE,
		HTTP_STATUS_METHOD_NOT_ALLOWED, allow, msg);
	if (!n || lws_write(wsi, (unsigned char *)buf + LWS_PRE, n,
		    LWS_WRITE_RAW) < 0)
		return -1;
	return lws_raw_transaction_completed(wsi);
}

const char *
tf_http_content_type(const char *path)
{
	static const struct {
		const char *ext, *type;
	} types[] = {
		{ ".html", "text/html; charset=utf-8" },
		{ ".css", "text/css; charset=utf-8" },
		{ ".js", "text/javascript; charset=utf-8" },
		{ ".mjs", "text/javascript; charset=utf-8" },
		{ ".json", "application/json" },
		{ ".svg", "image/svg+xml" },
		{ ".png", "image/png" },
		{ ".ico", "image/x-icon" },
		{ ".txt", "text/plain; charset=utf-8" },
	};
	const char *dot = strrchr(path, '.');
	size_t i;

	for (i = 0; dot && i < sizeof types / sizeof types[0]; i++)
		if (!strcmp(dot, types[i].ext))
			return types[i].type;
	return "application/octet-stream";
}

int
tf_http_safe_path(const char *path)
{
	const char *p;

	if (path[0] != '/' || strchr(path, '\\') || strstr(path, "//"))
		return 0;
	for (p = path; (p = strstr(p, "..")); p += 2)
		if (p[-1] == '/' && (p[2] == '/' || !p[2]))
			return 0;
	return 1;
}

unsigned char *
tf_http_read_file(const char *dir, const char *path, size_t max, size_t *len)
{
	char full[PATH_MAX], real[PATH_MAX], root[PATH_MAX];
	unsigned char *data = NULL;
	struct stat st;
	size_t rootlen;
	int fd;

	if (snprintf(full, sizeof full, "%s%s", dir, path) >= (int)sizeof full ||
	    !realpath(dir, root) || !realpath(full, real))
		return NULL;
	rootlen = strlen(root);
	if (strncmp(real, root, rootlen) || real[rootlen] != '/')
		return NULL;
	fd = open(real, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return NULL;
	if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) &&
	    (uintmax_t)st.st_size < (uintmax_t)max &&
	    (data = malloc((size_t)st.st_size + 1)) &&
	    read(fd, data, (size_t)st.st_size) != (ssize_t)st.st_size) {
		free(data);
		data = NULL;
	}
	if (data)
		*len = (size_t)st.st_size;
	close(fd);
	return data;
}

int
tf_http_etag_matches(struct lws *wsi, const char *etag)
{
	char list[1024];

	/* A longer list is taken as no match: the whole answer goes. */
	return lws_hdr_copy(wsi, list, sizeof list,
		WSI_TOKEN_HTTP_IF_NONE_MATCH) > 0 &&
		tf_http_etag_listed(list, etag);
}

int
tf_http_etag_listed(const char *list, const char *etag)
{
	size_t len = strlen(etag), n;
	const char *p = list, *q;

	if (!list)
		return 0;
	while (*p) {
		p += strspn(p, " \t,");
		if (!*p)
			break;
		if (*p == '*' && !p[1 + strspn(p + 1, " \t")])
			return 1;
		if (!strncmp(p, "W/", 2))
			p += 2;
		/* An entity-tag is quoted and holds no quote: the next
		 * quote ends it, commas included. */
		if (*p != '"' || !(q = strchr(p + 1, '"')))
			return 0;
		n = (size_t)(q + 1 - p);
		if (n == len && !memcmp(p, etag, len))
			return 1;
		p = q + 1;
	}
	return 0;
}
