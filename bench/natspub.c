/* natspub: the bare nats.c asynchronous JetStream publisher that
 * bench/bus.sh sets beside tf-pub. Publishes every line of stdin as one
 * message on SUBJECT with js_PublishAsync, at most WINDOW unacknowledged
 * (nats.c's own bound), each with a message id as tf-pub sends, then
 * waits for the last acknowledgements. No line checks, no passthrough,
 * no resend: the floor of what a publisher with acknowledgements costs.
 * usage: natspub URL SUBJECT [WINDOW] <lines
 * Prints "published=N acked=N failed=N secs=S rate=R" on stdout. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <nats/nats.h>

#include "bus.h"

static volatile int64_t acked, failed;

static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void
on_ack(jsCtx *js, natsMsg *m, jsPubAck *pa, jsPubAckErr *pae, void *arg)
{
	(void)js;
	(void)pae;
	(void)arg;
	if (pa)
		__atomic_add_fetch(&acked, 1, __ATOMIC_RELAXED);
	else
		__atomic_add_fetch(&failed, 1, __ATOMIC_RELAXED);
	natsMsg_Destroy(m);
}

/* The publisher id: as long as tf-pub's (16 characters), so the peer's
 * message ids cost what tf-pub's do (tf_bus_msg_id, the same code). */
static const char pub_id[] = "natspub-00000000";

static void
die(const char *what, natsStatus s)
{
	fprintf(stderr, "natspub: %s: %s\n", what, natsStatus_GetText(s));
	exit(1);
}

int
main(int argc, char **argv)
{
	natsConnection *nc = NULL;
	jsCtx *js = NULL;
	jsOptions jo;
	jsPubOptions po;
	natsStatus s;
	char *line = NULL, id[64];
	size_t cap = 0;
	ssize_t len;
	int64_t n = 0;
	double t0, t1;
	int64_t maxwait = getenv("MAXWAIT") ? atoll(getenv("MAXWAIT")) : 0;

	if (argc < 3) {
		fprintf(stderr, "usage: natspub URL SUBJECT [WINDOW] <lines\n");
		return 2;
	}
	if ((s = natsConnection_ConnectTo(&nc, argv[1])) != NATS_OK)
		die("connect", s);
	jsOptions_Init(&jo);
	jo.PublishAsync.AckHandler = on_ack;
	jo.PublishAsync.MaxPending = argc > 3 ? atoll(argv[3]) : 4096;
	/* A full window waits for room as tf-pub does, not 200 ms and then
	 * fails (nats.c's default): a loaded server is slow, not gone. */
	jo.PublishAsync.StallWait = 60000;
	if ((s = natsConnection_JetStream(&js, nc, &jo)) != NATS_OK)
		die("jetstream", s);
	t0 = now_s();
	while ((len = getline(&line, &cap, stdin)) > 0) {
		natsMsg *m = NULL;

		if (line[len - 1] == '\n')
			len--;
		n++;
		/* A message id as tf-pub's: publisher id and line number. */
		tf_bus_msg_id(id, pub_id, sizeof pub_id - 1, (uint64_t)n);
		jsPubOptions_Init(&po);
		po.MsgId = id;
		po.MaxWait = maxwait;
		if ((s = natsMsg_Create(&m, argv[2], NULL, line, (int)len)) !=
		    NATS_OK)
			die("message", s);
		if ((s = js_PublishMsgAsync(js, &m, &po)) != NATS_OK)
			die("publish", s);
	}
	jsPubOptions_Init(&po);
	po.MaxWait = 30000;
	if ((s = js_PublishAsyncComplete(js, &po)) != NATS_OK)
		die("waiting for acknowledgements", s);
	t1 = now_s();
	printf("published=%lld acked=%lld failed=%lld secs=%.3f rate=%.0f\n",
		(long long)n, (long long)acked, (long long)failed, t1 - t0,
		n / (t1 - t0));
	free(line);
	jsCtx_Destroy(js);
	natsConnection_Destroy(nc);
	nats_CloseAndWait(2000);
	return acked == n ? 0 : 1;
}
