/* redact_test.c: secrets masked by lib/redact in each form a server may
 * echo them in, and what tf-notify's channels register from a URL
 * (tf_channel_redact_url) and show of it (tf_channel_mask_url). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "channel.h"
#include "redact.h"
#include "check.h"


/* Masks text with rd and compares with want. */
static void
masks(const struct tf_redact *rd, const char *text, const char *want,
	int line)
{
	size_t n = 0;
	char *m = tf_redact(rd, text, strlen(text), &n);

	if (!m || strcmp(m, want) || n != strlen(want)) {
		fprintf(stderr, "redact_test:%d: '%s' masked is '%s', not "
			"'%s'\n", line, text, m ? m : "(null)", want);
		failures++;
	}
	free(m);
}

#define MASKS(rd, text, want) masks(rd, text, want, __LINE__)

static void
forms(void)
{
	struct tf_redact *rd = tf_redact_create();

	CHECK(rd, "create");
	MASKS(rd, "nothing to mask", "nothing to mask");
	CHECK(tf_redact_add(rd, "", 0) == 0 && tf_redact_count(rd) == 0,
		"an empty secret adds nothing");
	CHECK(tf_redact_add(rd, "123:AB/C d\"é", strlen("123:AB/C d\"é")) ==
		0, "add");
	MASKS(rd, "bot123:AB/C d\"é/send", "bot***/send");
	MASKS(rd, "123%3AAB%2FC%20d%22%C3%A9", "***");	/* percent */
	MASKS(rd, "123%3aAB%2fC%20d%22%c3%a9", "***");	/* lower hex */
	MASKS(rd, "123%3AAB/C%20d%22%C3%A9", "***");	/* path-encoded */
	MASKS(rd, "x=123%3AAB%2FC+d%22%C3%A9&", "x=***&");	/* a form */
	MASKS(rd, "{\"p\":\"123:AB/C d\\\"é\"}", "{\"p\":\"***\"}");
	MASKS(rd, "{\"p\":\"123:AB\\/C d\\\"\\u00e9\"}", "{\"p\":\"***\"}");
	MASKS(rd, "<p>123:AB/C d&quot;é</p>", "<p>***</p>");
	/* Cut short, a secret is not found: so masking comes first. */
	MASKS(rd, "123:AB/C", "123:AB/C");
	tf_redact_destroy(rd);

	rd = tf_redact_create();
	tf_redact_add(rd, "abc", 3);
	tf_redact_add(rd, "abcdef", 6);
	MASKS(rd, "abcdefabc abab", "****** abab");
	MASKS(rd, "", "");
	tf_redact_destroy(rd);

	/* Configured encoded (a URL's userinfo): decoded too. */
	rd = tf_redact_create();
	tf_redact_add(rd, "p%40ss", 6);
	MASKS(rd, "p@ss and p%40ss", "*** and ***");
	tf_redact_destroy(rd);

	MASKS(NULL, "a copy", "a copy");
}

static void
logins(void)
{
	struct tf_redact *rd = tf_redact_create();

	tf_redact_add_login(rd, "AC01", "tok");
	/* base64 of "AC01:tok", of "\0AC01\0tok" and of "tok". */
	MASKS(rd, "Basic QUMwMTp0b2s=", "Basic ***");
	MASKS(rd, "AUTH PLAIN AEFDMDEAdG9r", "AUTH PLAIN ***");
	MASKS(rd, "dG9r tok AC01", "*** *** AC01");
	tf_redact_destroy(rd);

	rd = tf_redact_create();
	tf_redact_add_login(rd, "u", "p%3As");	/* sent as "u:p:s" */
	MASKS(rd, "dTpwOnM= p:s", "*** ***");
	tf_redact_destroy(rd);
}

static void
mask_url(const char *url, int keep, const char *want, int line)
{
	char *m = tf_channel_mask_url(url, keep);

	if (!m || strcmp(m, want)) {
		fprintf(stderr, "redact_test:%d: mask_url(%s, %d) is '%s', "
			"not '%s'\n", line, url, keep, m ? m : "(null)", want);
		failures++;
	}
	free(m);
}

static void
urls(void)
{
	struct tf_redact *rd;

	mask_url("https://h/services/T/B/x", 1, "https://h/services/***",
		__LINE__);
	mask_url("http://u:pw@h:1/hook?x=1", 0, "http://u:***@h:1/***",
		__LINE__);
	mask_url("https://key@h/a", -1, "https://***@h/a", __LINE__);
	mask_url("smtp://alerts@h:25", -1, "smtp://alerts@h:25", __LINE__);
	mask_url("smtp://alerts:pw@h:25", -1, "smtp://alerts:***@h:25",
		__LINE__);
	mask_url("http://a:b@c@h/x", -1, "http://a:***@h/x", __LINE__);
	mask_url("http://h?q=1", 0, "http://h?***", __LINE__);
	mask_url("http://h", 0, "http://h", __LINE__);

	rd = tf_redact_create();
	CHECK(tf_channel_redact_url(rd,
		"http://u:pw@h/api/webhooks/123/discordtoken?thread_id=99",
		3) == 0, "redact_url");
	MASKS(rd, "/api/webhooks/123/discordtoken?wait=true",
		"/api/webhooks/123/***?wait=true");
	MASKS(rd, "u:pw dTpwdw==", "u:*** ***");
	/* "/api" (kept) and short parts are no secrets. */
	MASKS(rd, "api webhooks 123 thread_id 99", "api webhooks 123 "
		"thread_id 99");
	tf_redact_destroy(rd);

	rd = tf_redact_create();
	tf_channel_redact_url(rd, "http://h/hook?token=longsecret&x=1", 0);
	MASKS(rd, "POST /hook?token=longsecret&x=1", "POST /***");
	MASKS(rd, "bad token longsecret", "bad token ***");
	MASKS(rd, "a webhook", "a webhook");
	tf_redact_destroy(rd);

	rd = tf_redact_create();
	tf_channel_redact_url(rd, "https://apikey123@h/x", -1);
	MASKS(rd, "apikey123 YXBpa2V5MTIzOg==", "*** ***");
	tf_redact_destroy(rd);
}

static void
buffers(void)
{
	struct tf_redact *rd = tf_redact_create();
	char buf[16];

	tf_redact_add(rd, "s", 1);
	snprintf(buf, sizeof buf, "%s", "s s s s s s s s");
	tf_redact_buf(rd, buf, sizeof buf);
	CHECK(!strcmp(buf, "*** *** *** ***"), "buf: '%s'", buf);
	snprintf(buf, sizeof buf, "%s", "aaaaaaaaaaaaa\xc3\xa9");
	tf_redact_buf(rd, buf, 15);
	CHECK(!strcmp(buf, "aaaaaaaaaaaaa"), "a cut keeps whole characters: "
		"'%s'", buf);
	tf_redact_destroy(rd);
}

int
main(void)
{
	forms();
	logins();
	urls();
	buffers();
	if (failures)
		fprintf(stderr, "redact_test: %d failure%s\n", failures,
			failures == 1 ? "" : "s");
	return failures != 0;
}
