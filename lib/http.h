/* http.h: HTTP answers on libwebsockets for tf's servers: status and
 * headers, a body sent from the writeable callbacks, JSON (gzip-compressed
 * when large and accepted), {"error":...} answers, whole answers for a
 * socket lws no longer treats as HTTP, and files served from a directory.
 * The routes stay in the programs; these only answer. */
#ifndef TF_HTTP_H
#define TF_HTTP_H

#include <stddef.h>

#include <libwebsockets.h>

struct tf_buf;

/* What one connection is sending. The caller keeps one per connection,
 * zeroed before first use (for example inside its lws opaque user data),
 * calls tf_http_write_more on LWS_CALLBACK_HTTP_WRITEABLE and
 * tf_http_out_finish when the connection closes. */
struct tf_http_out {
	const unsigned char *p;	/* the body being sent; NULL: none */
	size_t len, off;
	unsigned char *owned;	/* p, when it is ours to free */
	int head;		/* a HEAD request: headers only */
	int close;		/* hang up once sent (TF_HTTP_CLOSE) */
};

/* Headers an answer may carry, besides Content-Type, Content-Length and
 * X-Content-Type-Options: nosniff, which every answer has. */
enum {
	TF_HTTP_NO_STORE = 1,	/* Cache-Control: no-store (API answers) */
	TF_HTTP_NO_CACHE = 2,	/* Cache-Control: no-cache (revalidate) */
	TF_HTTP_GZIP = 4,	/* Content-Encoding: gzip */
	TF_HTTP_VARY = 8,	/* Vary: Accept-Encoding */
	TF_HTTP_CLOSE = 16,	/* Connection: close; hang up once sent */
};

/* JSON answers this long or longer are sent gzip-compressed when the
 * request accepts it. */
#define TF_HTTP_GZIP_MIN 1024

/* Answers status with Content-Type type (NULL: none), body[0..len), the
 * flags' headers and headers (NULL, or "name:", "value" pairs ended by a
 * NULL name). The headers go now, the body from the writeable callbacks;
 * the transaction completes once it is sent. owned (NULL, or a malloc'd
 * block, usually body) is freed once the body is sent, at once when there
 * is none (HEAD, len 0), and on failure; body must stay valid until then.
 * With o NULL, headers and body go at once in one write (lws keeps what
 * the socket does not take), a HEAD request (read from wsi) getting the
 * headers only: for code that does not own the connection's writeable
 * callbacks (the hub's routes under a program's own).
 * Returns 0, or -1: close the connection (the callback's return value). */
int tf_http_respond(struct lws *wsi, struct tf_http_out *o, unsigned status,
	const char *type, const void *body, size_t len, void *owned, int flags,
	const char *const *headers);

/* Sends the next piece of o's body; call on LWS_CALLBACK_HTTP_WRITEABLE.
 * Returns the callback's return value (0 go on, -1 close). */
int tf_http_write_more(struct lws *wsi, struct tf_http_out *o);

/* Frees what o still owns (an answer cut short by a close). */
void tf_http_out_finish(struct tf_http_out *o);

/* Whether an answer to the request should go gzip-compressed: by its
 * Accept-Encoding, as tf_http_gzip_wanted reads it. */
int tf_http_accepts_gzip(struct lws *wsi);

/* Whether an Accept-Encoding value (NULL: none) asks for gzip rather than
 * no coding, by RFC 9110 12.5.3: gzip (or x-gzip, or else "*") with a
 * q-value above 0, and not below identity's when identity (or "*") has
 * one ("gzip;q=0.5, identity" keeps identity). No header, an empty one,
 * "identity" and "gzip;q=0" are 0; "gzip", "*" and "identity;q=0, gzip"
 * are 1. */
int tf_http_gzip_wanted(const char *accept_encoding);

/* Answers b's bytes and a "\n" as application/json with
 * Cache-Control: no-store, gzip-compressed when TF_HTTP_GZIP_MIN or
 * longer and accepted (Vary: Accept-Encoding then); headers as
 * tf_http_respond. Takes b over: it is finished (or handed on) whatever
 * happens. A b that failed (out of memory) is answered 500. */
int tf_http_json(struct lws *wsi, struct tf_http_out *o, unsigned status,
	struct tf_buf *b, const char *const *headers);

/* Answers {"error":"MESSAGE"} with status, as tf_http_json; headers as
 * tf_http_respond (for example { "retry-after:", "1", NULL }). */
int tf_http_error(struct lws *wsi, struct tf_http_out *o, unsigned status,
	const char *const *headers, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));

/* As tf_http_error with o NULL (at once, in one write) and flags
 * (TF_HTTP_CLOSE). */
int tf_http_error_now(struct lws *wsi, unsigned status, int flags,
	const char *const *headers, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));

/* 405 with Allow: allow ("GET, HEAD") and a JSON error naming it. */
int tf_http_not_allowed(struct lws *wsi, struct tf_http_out *o,
	const char *allow);

/* The reason phrase of status ("Method Not Allowed"); "Error" for one
 * this table lacks. */
const char *tf_http_reason(unsigned status);

/* Writes into buf (size bytes) a whole HTTP/1.1 answer with a JSON error
 * body {"error":msg}, Connection: close, and Allow: allow unless it is
 * NULL: for a connection lws hands over as a raw socket (an unknown
 * method, CONNECT), which gets no HTTP from lws any more. msg is cut at
 * 256 bytes. Returns the answer's length; 0 when it does not fit (2048
 * bytes always hold it with an Allow of up to 64). */
size_t tf_http_raw_error(char *buf, size_t size, unsigned status,
	const char *allow, const char *msg);

/* lws sets no timeout on a connection it hands over as a raw socket: one
 * that never sends its request is closed after this many seconds. */
#define TF_HTTP_RAW_TIMEOUT_S 5

/* A request lws does not take as HTTP, handed over as a raw socket: a
 * method lws does not know (PROPFIND, TRACE), which it would answer with
 * an HTML 403 of its own unless the vhost falls back to a raw socket
 * (LWS_SERVER_OPTION_FALLBACK_TO_APPLY_LISTEN_ACCEPT_CONFIG), and CONNECT,
 * always. Call on LWS_CALLBACK_RAW_ADOPT (sets TF_HTTP_RAW_TIMEOUT_S) and
 * LWS_CALLBACK_RAW_RX (answers the JSON 405 of tf_http_raw_error with
 * Allow: allow, then hangs up). Returns the callback's value. */
int tf_http_raw_not_allowed(struct lws *wsi,
	enum lws_callback_reasons reason, const void *in, size_t len,
	const char *allow);

/* The Content-Type of a file by its name's extension;
 * application/octet-stream for an unknown one. */
const char *tf_http_content_type(const char *path);

/* Whether a request path may name a file: absolute, without a ".."
 * segment, "//" or "\". */
int tf_http_safe_path(const char *path);

/* Reads dir/path when it is a regular file inside dir (after symbolic
 * links are resolved) shorter than max bytes. Returns a malloc'd copy the
 * caller frees, its length in *len; NULL otherwise. */
unsigned char *tf_http_read_file(const char *dir, const char *path,
	size_t max, size_t *len);

/* Whether the request's If-None-Match names etag (a quoted ETag), as
 * tf_http_etag_listed reads it. */
int tf_http_etag_matches(struct lws *wsi, const char *etag);

/* Whether an If-None-Match value lists etag, by the weak comparison RFC
 * 9110 13.1.2 asks for (W/"x" matches "x"), or is "*". */
int tf_http_etag_listed(const char *if_none_match, const char *etag);

#endif
