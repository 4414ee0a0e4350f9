/* bus_test.c: the pure parts of lib/bus: topic subjects and their
 * escaping, subject prefixes and stream names, which stream subjects take
 * a prefix, epochs, URL redaction and the option checks. */
#include <stdio.h>
#include <string.h>

#include "bus.h"
#include "check.h"


static void
subject(const char *prefix, const char *topic, const char *want)
{
	char buf[TF_BUS_SUBJECT_MAX];
	size_t n = tf_bus_subject(prefix, topic, strlen(topic), buf,
		sizeof buf);

	CHECK(n == strlen(want) && !strcmp(buf, want), "subject(%s, %s) = %s,"
		" want %s", prefix, topic, n == (size_t)-1 ? "(none)" : buf,
		want);
}

static void
test_subjects(void)
{
	char buf[TF_BUS_SUBJECT_MAX], topic[TF_BUS_TOPIC_MAX];

	subject("tf", "market_data", "tf.market_data");
	subject("tf", "Alerts-2", "tf.Alerts-2");
	subject("prod.tf", "alerts", "prod.tf.alerts");
	/* What NATS gives a meaning to, or forbids in a token. */
	subject("tf", "a.b", "tf.a%2Eb");
	subject("tf", "*", "tf.%2A");
	subject("tf", ">", "tf.%3E");
	subject("tf", "a b\tc", "tf.a%20b%09c");
	subject("tf", "\r\n", "tf.%0D%0A");
	/* The escape character itself, so that decoding is unambiguous. */
	subject("tf", "100%", "tf.100%25");
	/* UTF-8, byte by byte. */
	subject("tf", "\xc3\xa9t\xc3\xa9", "tf.%C3%A9t%C3%A9");
	subject("tf", "", "tf.%");
	/* The longest topic, all escaped, fits the buffer exactly. */
	memset(topic, '.', sizeof topic);
	CHECK(tf_bus_subject("tf", topic, sizeof topic, buf, sizeof buf) ==
			3 + 3 * sizeof topic,
		"a full topic of dots");
	CHECK(tf_bus_subject("tf", "abc", 3, buf, 6) == (size_t)-1,
		"no room: -1");
	CHECK(tf_bus_subject("tf", "abc", 3, buf, 7) == 6, "just room");
}

static void
test_prefixes(void)
{
	char err[256];

	CHECK(tf_bus_prefix_check("tf", err, sizeof err) == 0, "tf");
	CHECK(tf_bus_prefix_check("prod.eu.tf", err, sizeof err) == 0,
		"dots");
	CHECK(tf_bus_prefix_check("", err, sizeof err) < 0, "empty");
	CHECK(tf_bus_prefix_check("a..b", err, sizeof err) < 0, "a..b");
	CHECK(tf_bus_prefix_check(".a", err, sizeof err) < 0, ".a");
	CHECK(tf_bus_prefix_check("a.", err, sizeof err) < 0, "a.");
	CHECK(tf_bus_prefix_check("a.*", err, sizeof err) < 0, "a.*");
	CHECK(tf_bus_prefix_check("a>", err, sizeof err) < 0, "a>");
	CHECK(tf_bus_prefix_check("a b", err, sizeof err) < 0, "a b");
	CHECK(tf_bus_prefix_check("caf\xc3\xa9", err, sizeof err) < 0,
		"not ASCII");
	CHECK(strstr(err, "--subject-prefix") != NULL, "names the option");

	CHECK(tf_bus_stream_check("TF", err, sizeof err) == 0, "TF");
	CHECK(tf_bus_stream_check("tf-events_2", err, sizeof err) == 0,
		"dashes");
	CHECK(tf_bus_stream_check("a.b", err, sizeof err) < 0, "a.b");
	CHECK(tf_bus_stream_check("a/b", err, sizeof err) < 0, "a/b");
	CHECK(tf_bus_stream_check("a b", err, sizeof err) < 0, "a b");
	CHECK(tf_bus_stream_check("", err, sizeof err) < 0, "empty");
}

static void
test_covers(void)
{
	CHECK(tf_bus_covers("tf.>", "tf"), "tf.> takes tf");
	CHECK(tf_bus_covers("tf.*", "tf"), "tf.* takes tf");
	CHECK(tf_bus_covers(">", "tf"), "> takes everything");
	CHECK(tf_bus_covers("*.>", "prod.tf"), "*.> takes prod.tf");
	CHECK(tf_bus_covers("prod.*.*", "prod.tf"), "prod.*.*");
	CHECK(tf_bus_covers("prod.>", "prod.tf"), "prod.>");
	CHECK(!tf_bus_covers("tf", "tf"), "tf alone takes no topic");
	CHECK(!tf_bus_covers("tf.alerts", "tf"), "one topic is not all");
	CHECK(!tf_bus_covers("tf.*.x", "tf"), "a longer pattern");
	CHECK(!tf_bus_covers("other.>", "tf"), "another prefix");
	CHECK(!tf_bus_covers("tf.*", "prod.tf"), "a shorter pattern");
	CHECK(!tf_bus_covers("tfx.>", "tf"), "tokens compare whole");
}

static void
test_epochs(void)
{
	char a[TF_BUS_EPOCH_SIZE], b[TF_BUS_EPOCH_SIZE];
	size_t i;

	tf_bus_epoch("TF", 1765000000123456789LL, a);
	tf_bus_epoch("TF", 1765000000123456789LL, b);
	CHECK(!strcmp(a, b), "the same stream, the same epoch");
	CHECK(strlen(a) == 16, "16 digits: %s", a);
	for (i = 0; i < 16; i++)
		CHECK((a[i] >= '0' && a[i] <= '9') || (a[i] >= 'a' && a[i] <= 'f'),
			"hex: %s", a);
	tf_bus_epoch("TF", 1765000000123456790LL, b);
	CHECK(strcmp(a, b), "made again a nanosecond later: another");
	tf_bus_epoch("TG", 1765000000123456789LL, b);
	CHECK(strcmp(a, b), "another name: another");
	/* The name and the time stay apart: "TF1" at 23 is not "TF" at
	 * 123. */
	tf_bus_epoch("TF1", 23, a);
	tf_bus_epoch("TF", 123, b);
	CHECK(strcmp(a, b), "name and time do not run together");
	/* Fixed, so that every version agrees: FNV-1a 64 of "TF\0" "1". */
	tf_bus_epoch("TF", 1, a);
	CHECK(!strcmp(a, "07426dfa799206f4"), "%s", a);
}

static void
test_redact(void)
{
	char buf[256];

	tf_bus_redact("nats://u:secret@h:4222", buf, sizeof buf);
	CHECK(!strcmp(buf, "nats://***@h:4222"), "%s", buf);
	tf_bus_redact("tls://token@h", buf, sizeof buf);
	CHECK(!strcmp(buf, "tls://***@h"), "%s", buf);
	tf_bus_redact("nats://h:4222", buf, sizeof buf);
	CHECK(!strcmp(buf, "nats://h:4222"), "%s", buf);
	tf_bus_redact("h:4222", buf, sizeof buf);
	CHECK(!strcmp(buf, "h:4222"), "%s", buf);
}

static void
test_options(void)
{
	struct tf_bus_config c;
	char err[512], arg[] = "nats://u:pw@h:1", *argv[] = { "tf-sub", "-s",
		arg, NULL };

	tf_bus_config_init(&c);
	CHECK(tf_bus_set(&c, 's', "nats://a:1,tls://b:2,c:3", err,
		      sizeof err) == 0,
		"three URLs: %s", err);
	CHECK(tf_bus_set(&c, 's', "http://a:1", err, sizeof err) < 0,
		"http://");
	CHECK(tf_bus_set(&c, 's', "nats://a:1,", err, sizeof err) < 0,
		"a trailing comma");
	CHECK(tf_bus_set(&c, 's', "nats://a b:1", err, sizeof err) < 0,
		"a space");
	CHECK(tf_bus_set(&c, 'q', "x", err, sizeof err) == 1, "not ours");

	/* Credentials in a URL from argv: refused; from elsewhere: fine. */
	tf_bus_config_init(&c);
	CHECK(tf_bus_set(&c, 's', arg, err, sizeof err) == 0, "set");
	CHECK(tf_bus_check(&c, 3, argv, err, sizeof err) < 0, "from argv");
	CHECK(strstr(err, "pw") == NULL, "the message hides it: %s", err);
	c.servers = "nats://u:pw@h:1";
	CHECK(tf_bus_check(&c, 3, argv, err, sizeof err) == 0,
		"not from argv");

	tf_bus_config_init(&c);
	c.user = "u";
	CHECK(tf_bus_check(&c, 1, argv, err, sizeof err) < 0,
		"a user without a password");
	c.password = "p";
	CHECK(tf_bus_check(&c, 1, argv, err, sizeof err) == 0, "both");
	c.token = "t";
	CHECK(tf_bus_check(&c, 1, argv, err, sizeof err) < 0,
		"token and user");
}

/* The publish window: a ring that wraps, counts per state, lines found by
 * number, acknowledged lines leave only from the front. */
static void
test_window(void)
{
	struct tf_bus_window w;
	struct tf_bus_entry *e;
	uint64_t no;

	CHECK(tf_bus_window_init(&w, 3) == 0, "init");
	for (no = 10; no < 13; no++)
		tf_bus_window_push(&w, no, 100, (int64_t)no);
	CHECK(w.n == 3 && w.nsent == 3 && w.bytes == 300, "three sent");
	CHECK(tf_bus_window_find(&w, 11) == tf_bus_window_at(&w, 1), "find");
	CHECK(tf_bus_window_find(&w, 13) == NULL, "not there");
	/* The second acknowledged first: nothing leaves yet. */
	tf_bus_window_set(&w, tf_bus_window_find(&w, 11), TF_BUS_ACKED);
	CHECK(tf_bus_window_settle(&w) == 0 && w.n == 3, "front first");
	tf_bus_window_set(&w, tf_bus_window_find(&w, 10), TF_BUS_ACKED);
	CHECK(tf_bus_window_settle(&w) == 2 && w.n == 1 && w.bytes == 100,
		"two leave");
	/* Past the end of the array: the ring wraps. */
	tf_bus_window_push(&w, 13, 50, 13);
	tf_bus_window_push(&w, 14, 50, 14);
	e = tf_bus_window_find(&w, 14);
	CHECK(e && e->sent_ns == 14 && e == &w.e[1], "wrapped");
	tf_bus_window_set(&w, tf_bus_window_find(&w, 12), TF_BUS_FAILED);
	CHECK(w.nsent == 2 && w.nfailed == 1, "counts %zu %zu", w.nsent,
		w.nfailed);
	tf_bus_window_pop_newest(&w);
	CHECK(w.n == 2 && w.nsent == 1 && w.bytes == 150, "newest gone");
	tf_bus_window_finish(&w);
	CHECK(w.e == NULL && w.n == 0, "finished");
	/* Lines skipped (blank or bad): numbers with holes. */
	CHECK(tf_bus_window_init(&w, 8) == 0, "init");
	tf_bus_window_push(&w, 10, 1, 1);
	tf_bus_window_push(&w, 12, 1, 1);
	tf_bus_window_push(&w, 13, 1, 1);
	tf_bus_window_push(&w, 17, 1, 1);
	CHECK(tf_bus_window_find(&w, 10) == tf_bus_window_at(&w, 0), "10");
	CHECK(tf_bus_window_find(&w, 11) == NULL, "11 was skipped");
	CHECK(tf_bus_window_find(&w, 12) == tf_bus_window_at(&w, 1), "12");
	CHECK(tf_bus_window_find(&w, 13) == tf_bus_window_at(&w, 2), "13");
	CHECK(tf_bus_window_find(&w, 17) == tf_bus_window_at(&w, 3), "17");
	CHECK(tf_bus_window_find(&w, 9) == NULL && tf_bus_window_find(&w,
		18) == NULL, "outside");
	tf_bus_window_finish(&w);
}

/* Acknowledgements known by the message's address: in the order sent,
 * through the ring's wrap; anything else (out of order, an entry no
 * longer SENT, a slot outside the window) is no match, for the caller
 * to find by line number. */
static void
test_window_ack(void)
{
	struct tf_bus_window w;
	struct tf_bus_entry *e;
	char msgs[8];		/* stand-ins for nats.c's messages */
	size_t next = 0;
	uint64_t no;

	CHECK(tf_bus_window_init(&w, 3) == 0, "init");
	CHECK(tf_bus_window_ack(&w, &msgs[0], &next) == NULL, "empty");
	for (no = 0; no < 3; no++)
		tf_bus_window_push(&w, no, 1, 0)->key = &msgs[no];
	e = tf_bus_window_ack(&w, &msgs[0], &next);
	CHECK(e && e->no == 0 && next == 1, "first in order");
	tf_bus_window_set(&w, e, TF_BUS_ACKED);
	/* The third before the second: no match; by line number, then on
	 * from there. */
	CHECK(tf_bus_window_ack(&w, &msgs[2], &next) == NULL && next == 1,
		"out of order");
	e = tf_bus_window_find(&w, 2);
	tf_bus_window_acked(&w, e, &next);
	tf_bus_window_set(&w, e, TF_BUS_ACKED);
	CHECK(next == 0, "after the last slot: the first");
	/* The first slot is ACKED now, with its old key. */
	CHECK(tf_bus_window_ack(&w, &msgs[0], &next) == NULL, "not SENT");
	/* The second failed (taken back): its key is no match. */
	tf_bus_window_set(&w, tf_bus_window_find(&w, 1), TF_BUS_FAILED);
	next = 1;
	CHECK(tf_bus_window_ack(&w, &msgs[1], &next) == NULL, "FAILED");
	/* Sent again, same message: a match again. */
	tf_bus_window_set(&w, tf_bus_window_find(&w, 1), TF_BUS_SENT);
	CHECK(tf_bus_window_ack(&w, &msgs[1], &next) ==
			tf_bus_window_find(&w, 1) && next == 2, "sent again");
	tf_bus_window_set(&w, tf_bus_window_find(&w, 1), TF_BUS_ACKED);
	CHECK(tf_bus_window_settle(&w) == 3 && w.n == 0, "settled");
	/* Wrapped: slot 0 holds line 3 under a new message. */
	next = 0;
	tf_bus_window_push(&w, 3, 1, 0)->key = &msgs[3];
	tf_bus_window_push(&w, 4, 1, 0)->key = &msgs[4];
	CHECK(w.head == 0 && tf_bus_window_at(&w, 0) == &w.e[0], "slot 0");
	e = tf_bus_window_ack(&w, &msgs[3], &next);
	CHECK(e && e->no == 3, "wrapped, in order");
	tf_bus_window_set(&w, e, TF_BUS_ACKED);
	CHECK(tf_bus_window_ack(&w, &msgs[4], &next)->no == 4, "and on");
	/* Never a match for no message. */
	next = 2;
	CHECK(tf_bus_window_ack(&w, NULL, &next) == NULL, "no key");
	tf_bus_window_finish(&w);
}

/* The checked consumer: holes in the stream sequence are reported, a
 * consumer that skipped messages is made again, repeats are dropped. */
static void
test_cursor(void)
{
	struct tf_bus_cursor c = { .next = 5, .end = 9, .checked = 1 };
	uint64_t from, to;

	CHECK(tf_bus_cursor_check(&c, 5, 1, &from, &to) == TF_BUS_TAKE &&
		from == 0 && c.next == 6, "the next one");
	CHECK(tf_bus_cursor_check(&c, 5, 1, &from, &to) == TF_BUS_AGAIN,
		"delivered twice");
	CHECK(tf_bus_cursor_check(&c, 9, 3, &from, &to) == TF_BUS_RESYNC &&
		c.next == 6, "consumer skipped one");
	CHECK(tf_bus_cursor_check(&c, 8, 2, &from, &to) == TF_BUS_TAKE &&
		from == 6 && to == 7 && c.next == 9 && !c.done, "a hole");
	CHECK(tf_bus_cursor_check(&c, 9, 3, &from, &to) == TF_BUS_TAKE &&
		c.done, "the end");
	c.cseq = 0;
	CHECK(tf_bus_cursor_check(&c, 7, 1, &from, &to) == TF_BUS_DUP,
		"a new consumer's repeat");
	CHECK(tf_bus_cursor_check(&c, 12, 2, &from, &to) == TF_BUS_PAST,
		"past the end");
	c = (struct tf_bus_cursor){ .next = 3 };
	CHECK(tf_bus_cursor_check(&c, 6, 1, &from, &to) == TF_BUS_TAKE &&
		from == 0, "not checked: a filter skips sequences");
}

/* The sequences of a delivered message from its reply subject, as nats.c
 * reads them. */
static void
test_msg_id(void)
{
	char buf[64];

	CHECK(tf_bus_msg_id(buf, "pub", 3, 0) == 5 && !strcmp(buf, "pub-0"),
		"line 0: %s", buf);
	CHECK(tf_bus_msg_id(buf, "a1b2", 4, 18446744073709551615ULL) == 25 &&
		!strcmp(buf, "a1b2-18446744073709551615"), "the largest: %s",
		buf);
	CHECK(tf_bus_msg_id(buf, "", 0, 1020) == 5 && !strcmp(buf, "-1020"),
		"no publisher id: %s", buf);
}

static void
test_ack_seqs(void)
{
	uint64_t s = 0, c = 0;

	CHECK(tf_bus_ack_seqs("$JS.ACK.TF.dur.1.42.7.1700000000000000000.3",
		      &s, &c) == 0 && s == 42 && c == 7, "v1: %llu %llu",
		(unsigned long long)s, (unsigned long long)c);
	CHECK(tf_bus_ack_seqs("$JS.ACK._.ACCHASH.TF.dur.2.43.8.17.0.rnd",
		      &s, &c) == 0 && s == 43 && c == 8, "v2: %llu %llu",
		(unsigned long long)s, (unsigned long long)c);
	CHECK(tf_bus_ack_seqs("$JS.ACK.dom.h.TF.dur.1.44.9.17.0", &s, &c) ==
			0 && s == 44 && c == 9, "v2 without its last token");
	CHECK(tf_bus_ack_seqs("$JS.ACK.d.h.TF.dur.1.45.10.17.0.r.more", &s,
		      &c) == 0 && s == 45 && c == 10, "v2, tokens after");
	CHECK(tf_bus_ack_seqs("$JS.ACK.TF.dur.1.9223372036854775807.1.1.0",
		      &s, &c) == 0 && s == 9223372036854775807ULL,
		"the largest sequence");
	CHECK(tf_bus_ack_seqs("$JS.ACK.TF.dur.1.9223372036854775808.1.1.0",
		      &s, &c) < 0, "one more does not fit");
	CHECK(tf_bus_ack_seqs("$JS.ACK.TF.dur.1.00000000000000000042.07.1.0",
		      &s, &c) == 0 && s == 42 && c == 7, "leading zeros");
	CHECK(tf_bus_ack_seqs("$JS.ACK.TF.dur.1.10000000000000000000.1.1.0",
		      &s, &c) < 0, "20 digits do not fit");
	CHECK(tf_bus_ack_seqs("$JS.ACK.TF.dur.1.18446744073709551617.1.1.0",
		      &s, &c) < 0, "past 64 bits");
	CHECK(tf_bus_ack_seqs("$JS.ACK.", &s, &c) < 0, "no tokens");
	CHECK(tf_bus_ack_seqs("$JS", &s, &c) < 0, "short");
	CHECK(tf_bus_ack_seqs(NULL, &s, &c) < 0, "no reply");
	CHECK(tf_bus_ack_seqs("", &s, &c) < 0, "an empty reply");
	CHECK(tf_bus_ack_seqs("_INBOX.abc.1", &s, &c) < 0, "not an ack");
	CHECK(tf_bus_ack_seqs("$JS.ACK.TF.dur.1.42.7.17", &s, &c) < 0,
		"6 tokens");
	CHECK(tf_bus_ack_seqs("$JS.ACK.a.b.TF.dur.1.42.7.17", &s, &c) < 0,
		"8 tokens");
	CHECK(tf_bus_ack_seqs("$JS.ACK.TF.dur.1.4x.7.17.0", &s, &c) < 0,
		"not a number");
	CHECK(tf_bus_ack_seqs("$JS.ACK.TF.dur.1..7.17.0", &s, &c) < 0,
		"an empty number");
	CHECK(tf_bus_ack_seqs("$JS.ACK.TF.dur.1.42.7.17.-1", &s, &c) < 0,
		"a negative pending count");
	CHECK(tf_bus_ack_seqs("$JS.ACX.TF.dur.1.42.7.17.0", &s, &c) < 0,
		"another prefix");
}

int
main(void)
{
	test_subjects();
	test_prefixes();
	test_covers();
	test_epochs();
	test_redact();
	test_options();
	test_window();
	test_window_ack();
	test_cursor();
	test_ack_seqs();
	test_msg_id();
	if (failures)
		fprintf(stderr, "bus_test: %d failure%s\n", failures,
			failures == 1 ? "" : "s");
	return failures != 0;
}
