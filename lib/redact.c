/* redact.c: secrets, with the encodings they may come back in, found and
 * masked in text. Built once from the configuration; looked up with one
 * index by first byte, so masking a line costs about one pass over it. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "redact.h"

struct form {
	char *s;
	size_t n;
};

struct tf_redact {
	struct form *f;		/* sorted by first byte, then longest first */
	size_t n, cap;
	size_t start[257];	/* first byte c: f[start[c]..start[c + 1]) */
};

/* A growing string; on ENOMEM it stays failed and put does nothing. */
struct out {
	char *p;
	size_t n, cap;
	int failed;
};

static void
put(struct out *o, const char *p, size_t n)
{
	if (o->failed)
		return;
	if (o->n + n + 1 > o->cap) {
		size_t cap = o->cap ? o->cap : 64;
		char *q;

		while (cap < o->n + n + 1)
			cap *= 2;
		if (!(q = realloc(o->p, cap))) {
			o->failed = 1;
			return;
		}
		o->p = q;
		o->cap = cap;
	}
	memcpy(o->p + o->n, p, n);
	o->n += n;
	o->p[o->n] = '\0';
}

static void
putc1(struct out *o, char c)
{
	put(o, &c, 1);
}

struct tf_redact *
tf_redact_create(void)
{
	return calloc(1, sizeof(struct tf_redact));
}

void
tf_redact_destroy(struct tf_redact *rd)
{
	size_t i;

	if (!rd)
		return;
	for (i = 0; i < rd->n; i++)
		free(rd->f[i].s);
	free(rd->f);
	free(rd);
}

size_t
tf_redact_count(const struct tf_redact *rd)
{
	return rd ? rd->n : 0;
}

static int
form_cmp(const void *a, const void *b)
{
	const struct form *x = a, *y = b;
	unsigned char cx = (unsigned char)x->s[0], cy = (unsigned char)y->s[0];

	if (cx != cy)
		return cx < cy ? -1 : 1;
	if (x->n != y->n)
		return x->n > y->n ? -1 : 1;	/* the longest first */
	return memcmp(x->s, y->s, x->n);
}

static void
reindex(struct tf_redact *rd)
{
	size_t i;
	unsigned c;

	qsort(rd->f, rd->n, sizeof *rd->f, form_cmp);
	for (c = 0, i = 0; c < 256; c++) {
		rd->start[c] = i;
		while (i < rd->n && (unsigned char)rd->f[i].s[0] == c)
			i++;
	}
	rd->start[256] = rd->n;
}

/* Adds one exact string, once. */
static int
add_form(struct tf_redact *rd, const char *s, size_t n)
{
	size_t i;

	if (!n)
		return 0;
	for (i = 0; i < rd->n; i++)
		if (rd->f[i].n == n && !memcmp(rd->f[i].s, s, n))
			return 0;
	if (rd->n == rd->cap) {
		size_t cap = rd->cap ? rd->cap * 2 : 16;
		struct form *f = realloc(rd->f, cap * sizeof *f);

		if (!f)
			return -1;
		rd->f = f;
		rd->cap = cap;
	}
	if (!(rd->f[rd->n].s = malloc(n + 1)))
		return -1;
	memcpy(rd->f[rd->n].s, s, n);
	rd->f[rd->n].s[n] = '\0';
	rd->f[rd->n].n = n;
	rd->n++;
	return 0;
}

static int
add_out(struct tf_redact *rd, struct out *o)
{
	int rc = o->failed ? -1 : add_form(rd, o->p, o->n);

	free(o->p);
	*o = (struct out){ 0 };
	return rc;
}

/* Percent-encoding of everything but RFC 3986's unreserved characters
 * (and '/' when keep_slash: a path encoded as a path); ' ' as '+' when
 * plus (a form). */
static void
pct_encode(struct out *o, const char *s, size_t n, int keep_slash, int lower,
	int plus)
{
	const char *hex = lower ? "0123456789abcdef" : "0123456789ABCDEF";
	size_t i;

	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		char e[3];

		if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9') || c == '-' || c == '.' ||
		    c == '_' || c == '~' || (keep_slash && c == '/')) {
			putc1(o, (char)c);
		} else if (plus && c == ' ') {
			putc1(o, '+');
		} else {
			e[0] = '%';
			e[1] = hex[c >> 4];
			e[2] = hex[c & 15];
			put(o, e, 3);
		}
	}
}

static int
hexval(char c)
{
	return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ?
		c - 'a' + 10 : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
}

/* s with its %XX decoded; returns whether there was any. */
static int
pct_decode(struct out *o, const char *s, size_t n)
{
	size_t i;
	int any = 0;

	for (i = 0; i < n; i++) {
		if (s[i] == '%' && i + 2 < n && hexval(s[i + 1]) >= 0 &&
		    hexval(s[i + 2]) >= 0) {
			putc1(o, (char)(hexval(s[i + 1]) << 4 |
					hexval(s[i + 2])));
			i += 2;
			any = 1;
		} else {
			putc1(o, s[i]);
		}
	}
	return any;
}

static void
put_u(struct out *o, unsigned long u)
{
	static const char hex[] = "0123456789abcdef";
	char e[6] = { '\\', 'u', hex[u >> 12 & 15], hex[u >> 8 & 15],
		hex[u >> 4 & 15], hex[u & 15] };

	put(o, e, 6);
}

/* The inside of a JSON string holding s: '"', '\' and control characters
 * escaped as jq does; '/' as "\/" when slash (PHP's json_encode); every
 * non-ASCII character as \uXXXX when ascii (Python's json.dumps). */
static void
json_escape(struct out *o, const char *s, size_t n, int slash, int ascii)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t i;

	for (i = 0; i < n; i++) {
		unsigned char c = u[i];

		if (c == '"' || c == '\\' || (slash && c == '/')) {
			putc1(o, '\\');
			putc1(o, (char)c);
		} else if (c == '\n') {
			put(o, "\\n", 2);
		} else if (c == '\t') {
			put(o, "\\t", 2);
		} else if (c == '\r') {
			put(o, "\\r", 2);
		} else if (c == '\b') {
			put(o, "\\b", 2);
		} else if (c == '\f') {
			put(o, "\\f", 2);
		} else if (c < 0x20 || c == 0x7f) {
			put_u(o, c);
		} else if (ascii && c >= 0xc0) {
			size_t k = c < 0xe0 ? 2 : c < 0xf0 ? 3 : 4, j;
			unsigned long cp = c & (0x7f >> k);

			if (i + k > n) {
				putc1(o, (char)c);
				continue;
			}
			for (j = 1; j < k; j++)
				cp = cp << 6 | (u[i + j] & 0x3f);
			if (cp >= 0x10000) {
				cp -= 0x10000;
				put_u(o, 0xd800 | cp >> 10);
				put_u(o, 0xdc00 | (cp & 0x3ff));
			} else {
				put_u(o, cp);
			}
			i += k - 1;
		} else {
			putc1(o, (char)c);
		}
	}
}

/* As Python's html.escape: & < > " '. */
static void
html_escape(struct out *o, const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		switch (s[i]) {
		case '&': put(o, "&amp;", 5); break;
		case '<': put(o, "&lt;", 4); break;
		case '>': put(o, "&gt;", 4); break;
		case '"': put(o, "&quot;", 6); break;
		case '\'': put(o, "&#x27;", 6); break;
		default: putc1(o, s[i]);
		}
}

/* s and every encoding of it. */
static int
add_forms(struct tf_redact *rd, const char *s, size_t n)
{
	struct out o = { 0 };
	int k;

	if (add_form(rd, s, n) < 0)
		return -1;
	for (k = 0; k < 4; k++) {
		pct_encode(&o, s, n, k & 1, k >> 1 & 1, 0);
		if (add_out(rd, &o) < 0)
			return -1;
		json_escape(&o, s, n, k & 1, k >> 1 & 1);
		if (add_out(rd, &o) < 0)
			return -1;
	}
	if (memchr(s, ' ', n)) {
		pct_encode(&o, s, n, 0, 0, 1);
		if (add_out(rd, &o) < 0)
			return -1;
	}
	html_escape(&o, s, n);
	return add_out(rd, &o);
}

int
tf_redact_add(struct tf_redact *rd, const char *s, size_t n)
{
	struct out d = { 0 };
	int rc = 0;

	if (!n)
		return 0;
	if (add_forms(rd, s, n) < 0)
		rc = -1;
	/* A secret configured encoded (a URL's userinfo) reaches the server,
	 * and may come back, decoded. */
	else if (pct_decode(&d, s, n) && (d.failed ||
			 add_forms(rd, d.p, d.n) < 0))
		rc = -1;
	free(d.p);
	reindex(rd);
	return rc;
}

static void
base64(struct out *o, const char *s, size_t n)
{
	static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
				  "abcdefghijklmnopqrstuvwxyz0123456789+/";
	const unsigned char *p = (const unsigned char *)s;
	size_t i;

	for (i = 0; i < n; i += 3) {
		unsigned long v = (unsigned long)p[i] << 16;
		char q[4];

		if (i + 1 < n)
			v |= (unsigned long)p[i + 1] << 8;
		if (i + 2 < n)
			v |= p[i + 2];
		q[0] = b64[v >> 18 & 63];
		q[1] = b64[v >> 12 & 63];
		q[2] = i + 1 < n ? b64[v >> 6 & 63] : '=';
		q[3] = i + 2 < n ? b64[v & 63] : '=';
		put(o, q, 4);
	}
}

/* Adds the base64 of text[0..n) as a secret (with its encodings). */
static int
add_base64(struct tf_redact *rd, const char *text, size_t n,
	struct out *o)
{
	struct out b = { 0 };
	int rc;

	if (o->failed) {
		free(o->p);
		return -1;
	}
	base64(&b, text, n);
	rc = b.failed ? -1 : tf_redact_add(rd, b.p, b.n);
	free(b.p);
	free(o->p);
	*o = (struct out){ 0 };
	return rc;
}

/* The forms of one login, as given. */
static int
add_login(struct tf_redact *rd, const char *u, size_t un, const char *p,
	size_t pn)
{
	struct out o = { 0 };

	if (!un && !pn)
		return 0;
	if (tf_redact_add(rd, p, pn) < 0)
		return -1;
	put(&o, u, un);
	putc1(&o, ':');
	put(&o, p, pn);
	if (add_base64(rd, o.p, o.n, &o) < 0)
		return -1;
	if (!pn)
		return 0;
	putc1(&o, '\0');
	put(&o, u, un);
	putc1(&o, '\0');
	put(&o, p, pn);
	if (add_base64(rd, o.p, o.n, &o) < 0)
		return -1;
	put(&o, p, pn);
	return add_base64(rd, o.p, o.n, &o);
}

int
tf_redact_add_login(struct tf_redact *rd, const char *user,
	const char *password)
{
	const char *u = user ? user : "", *p = password ? password : "";
	struct out du = { 0 }, dp = { 0 };
	int rc = add_login(rd, u, strlen(u), p, strlen(p));

	/* From a URL's userinfo: sent (and echoed) decoded. */
	if (rc == 0 && (pct_decode(&du, u, strlen(u)) |
			   pct_decode(&dp, p, strlen(p))))
		rc = du.failed || dp.failed ? -1 : add_login(rd,
			du.p ? du.p : "", du.n, dp.p ? dp.p : "", dp.n);
	free(du.p);
	free(dp.p);
	return rc;
}

char *
tf_redact(const struct tf_redact *rd, const char *text, size_t n,
	size_t *outlen)
{
	struct out o = { 0 };
	size_t i = 0, from = 0;

	put(&o, "", 0);
	while (rd && rd->n && i < n) {
		unsigned char c = (unsigned char)text[i];
		size_t k, hit = 0;

		for (k = rd->start[c]; k < rd->start[c + 1]; k++)
			if (rd->f[k].n <= n - i &&
			    !memcmp(text + i, rd->f[k].s, rd->f[k].n)) {
				hit = rd->f[k].n;
				break;
			}
		if (!hit) {
			i++;
			continue;
		}
		put(&o, text + from, i - from);
		put(&o, TF_REDACT_MASK, strlen(TF_REDACT_MASK));
		i += hit;
		from = i;
	}
	put(&o, text + from, n - from);
	if (o.failed) {
		free(o.p);
		return NULL;
	}
	if (outlen)
		*outlen = o.n;
	return o.p;
}

void
tf_redact_buf(const struct tf_redact *rd, char *buf, size_t size)
{
	size_t n;
	char *m;

	if (!size)
		return;
	if (!(m = tf_redact(rd, buf, strlen(buf), &n))) {
		snprintf(buf, size, "%s", TF_REDACT_MASK);
		return;
	}
	if (n >= size) {
		n = size - 1;
		/* Back to the start of the character the cut fell in. */
		while (n && ((unsigned char)m[n] & 0xc0) == 0x80)
			n--;
	}
	memcpy(buf, m, n);
	buf[n] = '\0';
	free(m);
}
