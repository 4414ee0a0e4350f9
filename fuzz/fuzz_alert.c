/* fuzz_alert.c: a libFuzzer target for lib/alert: fuzzed rules, and when
 * they load, fuzzed event lines fed to them; every alert line the engine
 * emits must be one JSON object on one line, valid to tf_scan (RFC 8259)
 * and to jq's jv_parse, and so must its state dump, which must restore.
 *
 * The input: one byte of engine settings, the rules text up to the first
 * NUL, then newline-separated lines. `make fuzz` builds it as
 * $(B)/fuzz_alert and grows $(B)/fuzz-corpus-alert from fuzz/seeds-alert
 * (with the inputs of the bugs it found: regress-*).
 */

#include <ctype.h>
#include <jv.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alert.h"
#include "laxer.h"
#include "scan.h"
#include "vocab.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
fail(const char *what, const char *s, size_t n)
{
	fprintf(stderr, "fuzz_alert: %s: %.*s\n", what,
		(int)(n < 4000 ? n : 4000), s);
	abort();
}

/* One JSON object, for both parsers. */
static void
check_object(const char *what, const char *s, size_t n)
{
	jv v;

	if (tf_scan(s, n, NULL, NULL, NULL) != TF_SCAN_OK)
		fail(what, s, n);
	v = jv_parse_sized(s, (int)n);
	if (jv_get_kind(v) != JV_KIND_OBJECT)
		fail(what, s, n);
	jv_free(v);
}

static void
on_emit(const char *line, size_t len, void *arg)
{
	(void)arg;
	if (memchr(line, '\n', len) || memchr(line, '\0', len) ||
	    line[len] != '\0')
		fail("alert line not one line", line, len);
	check_object("alert line not a JSON object", line, len);
}

static void
on_warn(const char *msg, void *arg)
{
	(void)arg;
	if (!*msg || strlen(msg) > 1023)
		fail("bad warning", msg, strlen(msg));
}

/* The jq words a "when" may use: nothing that loops, recurses, reads
 * input or builds large values, so a run stays fast (jq programs are the
 * user's own, and may take what time they like). Words after '.' or '$'
 * are fields and variables. */
static int
jq_safe(const char *s)
{
	static const char *const ok[] = {
		"select", "and", "or", "not", "true", "false", "null",
		"length", "type", "has", "tostring", "tonumber", "keys",
		"if", "then", "elif", "else", "end", "startswith", "endswith",
		"ascii_downcase", "empty", "error", "contains", NULL,
	};
	size_t i, j, k;

	if (strchr(s, '*'))
		return 0;
	for (i = 0; s[i];) {
		if (!isalpha((unsigned char)s[i]) && s[i] != '_') {
			i++;
			continue;
		}
		for (j = i; isalnum((unsigned char)s[j]) || s[j] == '_'; j++)
			;
		if (!i || (s[i - 1] != '.' && s[i - 1] != '$')) {
			for (k = 0; ok[k]; k++)
				if (strlen(ok[k]) == j - i &&
				    !memcmp(ok[k], s + i, j - i))
					break;
			if (!ok[k])
				return 0;
		}
		i = j;
	}
	return 1;
}

/* True when every "when" of the rules is jq_safe (or the text is not
 * rules: the engine refuses it without running anything). */
static int
rules_safe(const char *text, size_t len)
{
	jv doc = jv_parse_sized(text, (int)len), list;
	int i, n, safe = 1;

	if (jv_get_kind(doc) == JV_KIND_OBJECT)
		list = jv_object_get(jv_copy(doc), jv_string("rules"));
	else
		list = jv_copy(doc);
	jv_free(doc);
	if (jv_get_kind(list) != JV_KIND_ARRAY) {
		jv_free(list);
		return 1;
	}
	n = jv_array_length(jv_copy(list));
	for (i = 0; i < n && safe; i++) {
		jv w = jv_array_get(jv_copy(list), i);

		if (jv_get_kind(w) == JV_KIND_OBJECT)
			w = jv_object_get(w, jv_string("when"));
		if (jv_get_kind(w) == JV_KIND_STRING)
			safe = jq_safe(jv_string_value(w));
		jv_free(w);
	}
	jv_free(list);
	return safe;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const hyst[] = { NULL, "0.5", "1%", "0" };
	const struct tf_alert_out out = { on_emit, on_warn, NULL };
	struct tf_alert_config cfg;
	struct tf_alert *a;
	const char *text = (const char *)data + 1;
	const uint8_t *nul;
	size_t tlen, i, start, nline = 0;
	char err[1200], *state;
	int rc;

	if (size < 1)
		return 0;
	memset(&cfg, 0, sizeof cfg);
	cfg.priority = data[0] & 3;
	cfg.initial = data[0] >> 2 & 1;
	cfg.cooldown_ns = data[0] >> 3 & 1 ? 5000000000LL : 0;
	cfg.hysteresis = hyst[data[0] >> 4 & 3];
	cfg.max_symbols = 1 + (data[0] >> 6);
	cfg.max_points = 1 + (data[0] >> 6) * 3;
	nul = memchr(data + 1, '\0', size - 1);
	tlen = nul ? (size_t)(nul - (data + 1)) : size - 1;
	/* jq 1.6 leaks on some text that is not JSON (laxer.h): left out,
	 * as hiding it from LeakSanitizer turns libFuzzer's leak check off
	 * for the whole run. */
#ifdef LAX_ASAN
	if (lax_jq_may_leak((const unsigned char *)text, tlen))
		return 0;
#endif
	if (!rules_safe(text, tlen))
		return 0;
	if (!(a = tf_alert_create(&cfg)))
		abort();
	rc = tf_alert_load(a, text, tlen, err, sizeof err);
	if (rc < 0) {
		if (!err[0] || tf_alert_count(a))
			fail("load failed badly", err, strlen(err));
		tf_alert_destroy(a);
		return 0;
	}
	if ((size_t)rc != tf_alert_count(a))
		fail("load count", err, 0);

	for (start = i = tlen + 2; i <= size; i++) {
		const char *line = (const char *)data + start;
		size_t len = i - start;
		struct tf_event ev;

		if (i < size && data[i] != '\n')
			continue;
		start = i + 1;
		/* Good lines only, as tf-alert feeds them. */
		if (tf_event_scan(line, len, &ev, NULL) != TF_SCAN_OK)
			continue;
		tf_alert_feed(a, line, len,
			1800000000000000000LL + (int64_t)nline++ * 700000000,
			&out);
	}

	if (!(state = tf_alert_state_dump(a)))
		abort();
	check_object("state dump not a JSON object", state, strlen(state));
	if (tf_alert_state_dirty(a))
		fail("dirty after a dump", state, strlen(state));
	if (tf_alert_state_restore(a, state, strlen(state), err,
		    sizeof err) < 0)
		fail("own state refused", err, strlen(err));
	free(state);
	tf_alert_destroy(a);
	return 0;
}
