/* scan.h: the hot-path JSON scanner. One pass over a line validates it as
 * RFC 8259 JSON (grammar and UTF-8) and finds a few top-level fields of an
 * object, without allocating. jv values are built only where needed. */
#ifndef TF_SCAN_H
#define TF_SCAN_H

#include <stddef.h>

enum tf_json_kind {
	TF_JSON_ABSENT = 0,
	TF_JSON_STRING,
	TF_JSON_NUMBER,
	TF_JSON_TRUE,
	TF_JSON_FALSE,
	TF_JSON_NULL,
	TF_JSON_OBJECT,
	TF_JSON_ARRAY,
};

/* A value inside the scanned line. For a string, p/n is the text between
 * the quotes, still escaped when escaped is set; for other kinds it is the
 * whole token ("12.5e3", "{...}"). */
struct tf_span {
	const char *p;
	size_t n;
	enum tf_json_kind kind;
	int escaped;
};

enum tf_scan_status {
	TF_SCAN_OK = 0,
	TF_SCAN_SYNTAX,		/* not JSON */
	TF_SCAN_UTF8,		/* invalid UTF-8 */
	TF_SCAN_NOT_OBJECT,	/* valid JSON, but not an object */
	TF_SCAN_DEPTH,		/* nested deeper than TF_SCAN_MAX_DEPTH */
};

#define TF_SCAN_MAX_KEYS 8
#define TF_SCAN_MAX_DEPTH 256

/* Keys wanted at the top level of the object, compared after unescaping. */
struct tf_scan_keys {
	int n;
	const char *name[TF_SCAN_MAX_KEYS];
	size_t len[TF_SCAN_MAX_KEYS];
};

struct tf_scan_error {
	size_t offset;		/* byte offset where the problem was found */
	const char *reason;	/* static text: "unexpected '}'", ... */
};

/* Scans s[0..n) (not NUL-terminated; leading/trailing JSON whitespace
 * allowed). On TF_SCAN_OK, out[i] describes the last occurrence of
 * keys->name[i] at the top level (kind TF_JSON_ABSENT when missing); keys
 * and out may be NULL. On failure *e (if not NULL) says where and why. */
enum tf_scan_status tf_scan(const char *s, size_t n,
	const struct tf_scan_keys *keys, struct tf_span *out,
	struct tf_scan_error *e);

/* Adds a key to keys; returns its index, or -1 when full. name must live
 * as long as keys. */
int tf_scan_keys_add(struct tf_scan_keys *keys, const char *name);

/* Decodes a string span into buf as UTF-8 (NUL-terminated). Returns its
 * length, or (size_t)-1 if it does not fit or sp is not a string. */
size_t tf_span_string(const struct tf_span *sp, char *buf, size_t size);

/* True when sp is a string equal (after unescaping) to s[0..n). */
int tf_span_eq(const struct tf_span *sp, const char *s, size_t n);

/* A number, or a string holding one ("65245.3"; unescaped, starting with
 * a digit or '-'), as a finite double: 0, or -1 for anything else. */
int tf_span_double(const struct tf_span *sp, double *v);

#endif
