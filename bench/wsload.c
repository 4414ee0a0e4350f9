/* wsload: the load client of the WebSocket benchmarks. Opens N plain
 * WebSocket clients on one epoll loop, reads every frame, and reports the
 * delivered messages/s, the latency of each message from the "t" its feeder
 * (bench/feed.c) wrote into it, how that splits into the first client's
 * read and the fan-out to the last, and the messages each client missed.
 * With --stall K, K of the clients stop reading once connected (a consumer
 * that hangs): the figures are the other clients'. --bind and --hist let
 * several of them share one run of many clients (bench/connections.sh):
 * each from its own loopback address (its own 28,000 ports) and under its
 * own open-files limit, their latency histograms summed afterwards. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <libwebsockets.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define READ_BUF (256 * 1024)
#define MAX_FRAME (64 * 1024 * 1024)
#define MAX_HEAD 8192
#define SLOT_NS 10000000LL		/* timeline resolution: 10 ms */
#define SUB_BITS 6			/* latency buckets: 1/64 precision */
#define NBUCKETS (64 << SUB_BITS)
#define WS_GUID "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"

enum state { S_NEW, S_CONNECTING, S_HANDSHAKE, S_OPEN, S_CLOSED, S_FAILED };

struct conn {
	int fd;
	unsigned char state;
	unsigned char in_msg;		/* inside a fragmented data message */
	unsigned char done;		/* has seq -e, or has ended */
	unsigned char stalled;		/* --stall: connected, reads no more */
	uint16_t close_code;		/* 1006: closed without a close frame */
	char accept[32];		/* the Sec-WebSocket-Accept we expect */
	unsigned char *part;		/* bytes of a frame not yet complete */
	uint32_t plen, pcap;
	uint64_t first_seq, last_seq, count, gaps, ooo;
	uint64_t msg_seq;		/* of the fragmented message in_msg */
	int64_t msg_t;
};

struct opts {
	struct sockaddr_in addr;
	struct in_addr bind;		/* --bind: source address, or any */
	const char *hist;		/* --hist FILE: the latency histogram */
	char host[64], path[256];
	int n;				/* -n clients */
	int stall;			/* --stall: clients that stop reading */
	double duration, warmup;	/* -d, -w seconds */
	uint64_t expect;		/* -e: messages every client should get */
	int until_close, idle, quiet, batch;
	double wait_server;
	const char *ready;		/* --ready FILE: made once all connected */
	clockid_t clock;		/* -c: the clock of the feeder's "t" */
};

struct load {
	struct opts o;
	struct conn *c;
	int ep, next, inflight, connected, failed, closed, stalled;
	int finished;			/* clients done (see struct conn) */
	unsigned char *buf;
	size_t cap;
	int64_t start, deadline, first_recv, last_recv;
	uint64_t deliveries, other, bytes, errors;
	uint64_t *slot;			/* deliveries per 10 ms since start */
	size_t nslots;
	uint64_t hist[NBUCKETS], lat_n;
	int64_t lat_max;
	int64_t *first_at, *last_at;	/* -e: per seq, first and last read */
	int64_t *due;			/* -e: per seq, the feeder's t */
	double first_p50, first_p99, spread_p50, spread_p99;	/* ms */
};

static volatile sig_atomic_t stop;

static void
on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static int64_t
now_ns(clockid_t c)
{
	struct timespec ts;

	clock_gettime(c, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static void *
xrealloc(void *p, size_t n)
{
	if (!(p = realloc(p, n))) {
		fprintf(stderr, "wsload: out of memory\n");
		exit(1);
	}
	return p;
}

/* Latency histogram: exact below 128 us, then 64 buckets per power of 2. */
static int
bucket(uint64_t us)
{
	int msb, shift;

	if (us < (2u << SUB_BITS))
		return (int)us;
	msb = 63 - __builtin_clzll(us);
	shift = msb - SUB_BITS;
	if (shift + 1 >= 64)
		return NBUCKETS - 1;
	return ((shift + 1) << SUB_BITS) + (int)((us >> shift) - (1u << SUB_BITS));
}

/* The middle of bucket b, in microseconds. */
static double
bucket_us(int b)
{
	int shift;

	if (b < (2 << SUB_BITS))
		return b;
	shift = (b >> SUB_BITS) - 1;
	return (double)(((uint64_t)(b & ((1 << SUB_BITS) - 1)) +
		(1u << SUB_BITS)) << shift) + (double)(1ull << shift) / 2;
}

static double
percentile(const struct load *L, double q)
{
	uint64_t want = (uint64_t)(q * (double)L->lat_n), seen = 0;
	int b;

	if (L->lat_n == 0)
		return 0;
	if (want >= L->lat_n)
		want = L->lat_n - 1;
	for (b = 0; b < NBUCKETS; b++) {
		seen += L->hist[b];
		if (seen > want)
			break;
	}
	/* A bucket's middle may lie past the largest value seen. */
	if (b < NBUCKETS && bucket_us(b) < (double)L->lat_max / 1e3)
		return bucket_us(b);
	return (double)L->lat_max / 1e3;
}

/* The unsigned integer after key (e.g. "\"seq\":") in p[0..n), 0 if none;
 * *end is set past its digits. */
static uint64_t
field_u64(const char *p, size_t n, const char *key, size_t klen,
	const char **end)
{
	const char *q = memmem(p, n, key, klen), *e = p + n;
	uint64_t v = 0;

	if (!q)
		return 0;
	for (q += klen; q < e && *q >= '0' && *q <= '9'; q++)
		v = v * 10 + (uint64_t)(*q - '0');
	*end = q;
	return v;
}

static void
deliver(struct load *L, struct conn *c, uint64_t seq, int64_t t, int64_t now)
{
	size_t s;

	if (seq == 0) {
		L->other++;
		return;
	}
	L->deliveries++;
	c->count++;
	if (c->last_seq == 0)
		c->first_seq = seq;
	else if (seq > c->last_seq + 1)
		c->gaps += seq - c->last_seq - 1;
	else if (seq <= c->last_seq)
		c->ooo++;
	if (seq > c->last_seq)
		c->last_seq = seq;
	if (L->o.expect && seq >= L->o.expect && !c->done) {
		c->done = 1;
		L->finished++;
	}
	if (L->first_recv == 0)
		L->first_recv = now;
	L->last_recv = now;
	s = (size_t)((now - L->start) / SLOT_NS);
	L->slot[s < L->nslots ? s : L->nslots - 1]++;
	if (L->first_at && seq <= L->o.expect) {
		if (!L->first_at[seq] || now < L->first_at[seq])
			L->first_at[seq] = now;
		if (now > L->last_at[seq])
			L->last_at[seq] = now;
		L->due[seq] = t;
	}
	if (t > 0 && now >= L->first_recv + (int64_t)(L->o.warmup * 1e9)) {
		int64_t lat = now - t > 0 ? now - t : 0;

		L->hist[bucket((uint64_t)lat / 1000)]++;
		L->lat_n++;
		if (lat > L->lat_max)
			L->lat_max = lat;
	}
}

/* Sends a masked control frame (pong, close) of at most 125 bytes. */
static void
send_control(struct conn *c, int opcode, const unsigned char *p, size_t n)
{
	unsigned char f[2 + 4 + 125];
	static const unsigned char mask[4] = {0x5a, 0xc3, 0x17, 0x8e};
	size_t i;

	if (n > 125)
		n = 125;
	f[0] = (unsigned char)(0x80 | opcode);
	f[1] = (unsigned char)(0x80 | n);
	memcpy(f + 2, mask, 4);
	for (i = 0; i < n; i++)
		f[6 + i] = p[i] ^ mask[i & 3];
	if (write(c->fd, f, 6 + n) < 0) {
		/* The peer is gone: reading will tell. */
	}
}

static void
conn_end(struct load *L, struct conn *c, int failed)
{
	epoll_ctl(L->ep, EPOLL_CTL_DEL, c->fd, NULL);
	close(c->fd);
	c->fd = -1;
	free(c->part);
	c->part = NULL;
	c->plen = c->pcap = 0;
	if (!c->done) {
		c->done = 1;
		L->finished++;
	}
	if (c->state == S_CONNECTING || c->state == S_HANDSHAKE)
		L->inflight--;
	if (failed || c->state != S_OPEN) {
		c->state = S_FAILED;
		L->failed++;
	} else {
		c->state = S_CLOSED;
		L->closed++;
	}
}

/* Parses the frames in b[0..n). Returns the bytes consumed (the rest is a
 * frame not yet complete, whose whole size goes to *need), or -1 once the
 * connection has ended. */
static ssize_t
frames(struct load *L, struct conn *c, unsigned char *b, size_t n,
	int64_t now, size_t *need)
{
	size_t off = 0;

	while (n - off >= 2) {
		unsigned char *f = b + off, *p;
		uint64_t len = f[1] & 0x7f;
		size_t h = 2;
		int op = f[0] & 0x0f, fin = f[0] & 0x80;
		const char *end;

		if (len == 126) {
			if (n - off < 4)
				break;
			len = (uint64_t)f[2] << 8 | f[3];
			h = 4;
		} else if (len == 127) {
			int i;

			if (n - off < 10)
				break;
			for (len = 0, i = 2; i < 10; i++)
				len = len << 8 | f[i];
			h = 10;
		}
		if (f[1] & 0x80) {		/* servers must not mask */
			L->errors++;
			conn_end(L, c, 1);
			return -1;
		}
		if (len > MAX_FRAME) {
			L->errors++;
			conn_end(L, c, 1);
			return -1;
		}
		if (len > n - off - h) {
			*need = h + (size_t)len;
			break;
		}
		p = f + h;
		L->bytes += len;
		switch (op) {
		case 0x1:
		case 0x2:
		case 0x0:
			if (op != 0 || !c->in_msg) {
				/* A message's first frame holds seq and t
				 * (no seq: other; no t: no latency). */
				c->msg_seq = field_u64((char *)p, (size_t)len,
					"\"seq\":", 6, &end);
				c->msg_t = c->msg_seq ? (int64_t)field_u64(end,
					(size_t)((char *)p + len - end),
					"\"t\":", 4, &end) : 0;
			}
			c->in_msg = !fin;
			if (fin)
				deliver(L, c, c->msg_seq, c->msg_t, now);
			break;
		case 0x9:
			send_control(c, 0xa, p, (size_t)len);
			break;
		case 0x8:
			c->close_code = len >= 2 ? (uint16_t)(p[0] << 8 | p[1])
				: 1005;
			send_control(c, 0x8, p, len >= 2 ? 2 : 0);
			conn_end(L, c, 0);
			return -1;
		default:			/* pong, reserved */
			break;
		}
		off += h + (size_t)len;
	}
	return (ssize_t)off;
}

/* Checks the server's handshake in b[0..n), which ends with the blank line:
 * 0 when it is a 101 with the right Sec-WebSocket-Accept, else -1. */
static int
handshake_ok(const struct conn *c, const unsigned char *b, size_t n)
{
	char head[MAX_HEAD + 1], *v;
	size_t k;

	if (n > MAX_HEAD)
		return -1;
	memcpy(head, b, n);
	head[n] = 0;
	if (strncmp(head, "HTTP/1.1 101", 12) != 0)
		return -1;
	if (!(v = strcasestr(head, "\r\nsec-websocket-accept:")))
		return -1;
	for (v += 23; *v == ' ' || *v == '\t'; v++)
		;
	k = strlen(c->accept);
	return strncmp(v, c->accept, k) == 0 && (v[k] == '\r' || v[k] == ' ')
		? 0 : -1;
}

static void
maybe_ready(struct load *L)
{
	FILE *f;

	if (!L->o.ready || L->next < L->o.n || L->inflight > 0)
		return;
	if ((f = fopen(L->o.ready, "w")))
		fclose(f);
	if (!L->o.quiet)
		fprintf(stderr, "wsload: %d of %d clients connected in "
			"%.2f s\n", L->connected, L->o.n,
			(double)(now_ns(L->o.clock) - L->start) / 1e9);
	L->o.ready = NULL;
}

static void
on_readable(struct load *L, struct conn *c)
{
	size_t have = c->plen, n, need = 0, off = 0;
	ssize_t k;
	int64_t now;

	if (have + 65536 > L->cap) {
		L->cap = have + READ_BUF;
		L->buf = xrealloc(L->buf, L->cap);
	}
	if (have)
		memcpy(L->buf, c->part, have);
	k = read(c->fd, L->buf + have, L->cap - have);
	if (k < 0) {
		if (errno == EAGAIN || errno == EINTR)
			return;
		c->close_code = 1006;
		conn_end(L, c, 0);
		return;
	}
	if (k == 0) {
		c->close_code = 1006;
		conn_end(L, c, 0);
		return;
	}
	now = now_ns(L->o.clock);
	n = have + (size_t)k;
	if (c->state == S_HANDSHAKE) {
		unsigned char *e = memmem(L->buf, n, "\r\n\r\n", 4);

		if (!e) {
			if (n > MAX_HEAD) {
				conn_end(L, c, 1);
				return;
			}
			goto keep;
		}
		off = (size_t)(e + 4 - L->buf);
		if (handshake_ok(c, L->buf, off) < 0) {
			if (!L->o.quiet && L->failed == 0) {
				unsigned char *eol = memchr(L->buf, '\r', off);

				fprintf(stderr, "wsload: handshake refused: "
					"%.*s\n", (int)(eol - L->buf),
					(char *)L->buf);
			}
			conn_end(L, c, 1);
			return;
		}
		c->state = S_OPEN;
		L->inflight--;
		L->connected++;
		if (c - L->c < L->o.stall) {
			/* It stops reading: what the server sends piles up in
			 * its socket (kept small) and then in the server. */
			epoll_ctl(L->ep, EPOLL_CTL_DEL, c->fd, NULL);
			c->stalled = 1;
			c->done = 1;
			L->finished++;
			L->stalled++;
			maybe_ready(L);
			return;
		}
		maybe_ready(L);
	}
	k = frames(L, c, L->buf + off, n - off, now, &need);
	if (k < 0)
		return;
	off += (size_t)k;
keep:
	n -= off;
	if (n > c->pcap) {
		c->pcap = (uint32_t)(n > need ? n : need);
		c->part = xrealloc(c->part, c->pcap);
	}
	if (n)
		memmove(c->part, L->buf + off, n);
	c->plen = (uint32_t)n;
}

static void
start_connect(struct load *L, struct conn *c, unsigned seed)
{
	unsigned char key[16], md[20];
	char k64[32], cat[128], req[512];
	int i, one = 1;
	struct epoll_event ev = {EPOLLOUT, {.u32 = (uint32_t)(c - L->c)}};

	for (i = 0; i < 16; i++) {
		seed = seed * 1103515245u + 12345u;
		key[i] = (unsigned char)(seed >> 16);
	}
	lws_b64_encode_string((char *)key, 16, k64, sizeof k64);
	snprintf(cat, sizeof cat, "%s%s", k64, WS_GUID);
	lws_SHA1((unsigned char *)cat, strlen(cat), md);
	lws_b64_encode_string((char *)md, 20, c->accept, sizeof c->accept);
	snprintf(req, sizeof req,
		"GET %s HTTP/1.1\r\nHost: %s\r\nUpgrade: websocket\r\n"
		"Connection: Upgrade\r\nSec-WebSocket-Key: %s\r\n"
		"Sec-WebSocket-Version: 13\r\n\r\n", L->o.path, L->o.host, k64);
	/* The request is made now, sent when the socket is writable. */
	c->part = xrealloc(NULL, strlen(req) + 1);
	memcpy(c->part, req, strlen(req) + 1);

	c->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (c->fd < 0) {
		perror("wsload: socket");
		exit(1);
	}
	setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
	if (L->o.bind.s_addr != htonl(INADDR_ANY)) {
		struct sockaddr_in sa = { .sin_family = AF_INET,
			.sin_addr = L->o.bind };

		/* The port is picked at connect(), per destination: bind()
		 * alone would take one of the address's ports for good. */
		setsockopt(c->fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one,
			sizeof one);
		if (bind(c->fd, (struct sockaddr *)&sa, sizeof sa) < 0) {
			if (!L->o.quiet && L->failed == 0)
				perror("wsload: bind");
			conn_end(L, c, 1);
			return;
		}
	}
	if (c - L->c < L->o.stall) {
		int small = 4096;

		setsockopt(c->fd, SOL_SOCKET, SO_RCVBUF, &small, sizeof small);
	}
	c->state = S_CONNECTING;
	L->inflight++;
	if (connect(c->fd, (struct sockaddr *)&L->o.addr, sizeof L->o.addr) <
		0 && errno != EINPROGRESS) {
		conn_end(L, c, 1);
		return;
	}
	if (epoll_ctl(L->ep, EPOLL_CTL_ADD, c->fd, &ev) < 0) {
		perror("wsload: epoll_ctl");
		exit(1);
	}
}

static void
on_writable(struct load *L, struct conn *c)
{
	struct epoll_event ev = {EPOLLIN, {.u32 = (uint32_t)(c - L->c)}};
	int e = 0;
	socklen_t el = sizeof e;
	size_t n = strlen((char *)c->part);

	getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &e, &el);
	if (e || write(c->fd, c->part, n) != (ssize_t)n) {
		if (!L->o.quiet && L->failed == 0)
			fprintf(stderr, "wsload: connect: %s\n",
				strerror(e ? e : errno));
		conn_end(L, c, 1);
		return;
	}
	free(c->part);
	c->part = NULL;
	c->state = S_HANDSHAKE;
	epoll_ctl(L->ep, EPOLL_CTL_MOD, c->fd, &ev);
}

/* Waits until the server accepts a TCP connection (it may be starting). */
static int
wait_server(const struct opts *o)
{
	int64_t end = now_ns(CLOCK_MONOTONIC) + (int64_t)(o->wait_server * 1e9);

	for (;;) {
		int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), r;

		r = connect(fd, (const struct sockaddr *)&o->addr,
			sizeof o->addr);
		close(fd);
		if (r == 0)
			return 0;
		if (stop || now_ns(CLOCK_MONOTONIC) > end) {
			fprintf(stderr, "wsload: no server at %s: %s\n",
				o->host, strerror(errno));
			return -1;
		}
		usleep(20000);
	}
}

static void
raise_nofile(int n)
{
	struct rlimit r;
	rlim_t want = (rlim_t)n + 64;

	if (getrlimit(RLIMIT_NOFILE, &r) < 0 || r.rlim_cur >= want)
		return;
	if (r.rlim_max != RLIM_INFINITY && r.rlim_max < want) {
		fprintf(stderr, "wsload: %d clients need %llu files, the hard "
			"limit is %llu\n", n, (unsigned long long)want,
			(unsigned long long)r.rlim_max);
		exit(1);
	}
	r.rlim_cur = want;
	setrlimit(RLIMIT_NOFILE, &r);
}

static void
loop(struct load *L)
{
	struct epoll_event ev[1024];

	while (!stop) {
		int64_t now = now_ns(CLOCK_MONOTONIC);
		int k, i, ms;

		if (now >= L->deadline)
			break;
		while (L->inflight < L->o.batch && L->next < L->o.n) {
			struct conn *c = &L->c[L->next];

			start_connect(L, c, (unsigned)(L->next * 2654435761u ^
				(unsigned)now));
			L->next++;
		}
		maybe_ready(L);
		if (L->o.until_close && L->next == L->o.n &&
			L->closed + L->failed == L->o.n)
			break;
		if (L->o.expect && !L->o.until_close && !L->o.idle &&
			L->finished == L->o.n)
			break;
		ms = (int)((L->deadline - now) / 1000000) + 1;
		k = epoll_wait(L->ep, ev, 1024, ms < 100 ? ms : 100);
		for (i = 0; i < k; i++) {
			struct conn *c = &L->c[ev[i].data.u32];

			if (c->state == S_CONNECTING)
				on_writable(L, c);
			else if (c->state == S_HANDSHAKE || c->state == S_OPEN)
				on_readable(L, c);
		}
	}
}

static int
cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return (x > y) - (x < y);
}

/* Where a message's latency comes from (with -e, past the warm-up): the
 * first client's read, from the feeder's "t" (how long the message waited
 * for the server: its wake-up, or the previous message's fan-out still
 * going), and the spread from the first client's read to the last one's
 * (the fan-out itself). Fills the p50s and p99s, in ms. */
static void
spread(struct load *L)
{
	uint64_t s, n = 0;
	int64_t *a, *b;

	if (!L->first_at)
		return;
	a = xrealloc(NULL, (L->o.expect + 1) * sizeof *a);
	b = xrealloc(NULL, (L->o.expect + 1) * sizeof *b);
	for (s = 1; s <= L->o.expect; s++) {
		if (!L->first_at[s] || !L->due[s] || L->first_at[s] <
			L->first_recv + (int64_t)(L->o.warmup * 1e9))
			continue;
		a[n] = L->first_at[s] - L->due[s];
		b[n] = L->last_at[s] - L->first_at[s];
		n++;
	}
	if (n) {
		qsort(a, n, sizeof *a, cmp_i64);
		qsort(b, n, sizeof *b, cmp_i64);
		L->first_p50 = (double)a[n / 2] / 1e6;
		L->first_p99 = (double)a[n * 99 / 100] / 1e6;
		L->spread_p50 = (double)b[n / 2] / 1e6;
		L->spread_p99 = (double)b[n * 99 / 100] / 1e6;
	}
	free(a);
	free(b);
}

/* --hist: every non-empty bucket of the latency histogram, "US COUNT" a
 * line (US the bucket's middle in microseconds), for a sum over several
 * load clients. */
static void
write_hist(const struct load *L)
{
	FILE *f = fopen(L->o.hist, "w");
	int b;

	if (!f) {
		perror(L->o.hist);
		return;
	}
	for (b = 0; b < NBUCKETS; b++)
		if (L->hist[b])
			fprintf(f, "%.1f %llu\n", bucket_us(b),
				(unsigned long long)L->hist[b]);
	fprintf(f, "max %.1f\n", (double)L->lat_max / 1e3);
	if (fclose(f) != 0)
		perror(L->o.hist);
}

static void
report(struct load *L)
{
	uint64_t gaps = 0, lost = 0, pending = 0, ooo = 0, lo = UINT64_MAX,
		hi = 0, in_window = 0, code1001 = 0;
	int64_t w = (int64_t)(L->o.warmup * 1e9), a, b;
	double window = 0, rate = 0, cpu;
	struct rusage ru;
	size_t s;
	int i;

	for (i = 0; i < L->o.n; i++) {
		struct conn *c = &L->c[i];
		uint64_t tail;

		if ((c->state != S_OPEN && c->state != S_CLOSED) || c->stalled)
			continue;
		gaps += c->gaps;
		ooo += c->ooo;
		lo = c->count < lo ? c->count : lo;
		hi = c->count > hi ? c->count : hi;
		code1001 += c->close_code == 1001;
		if (!L->o.expect)
			continue;
		/* The clients were connected before the first line. */
		gaps += c->count ? c->first_seq - 1 : 0;
		tail = L->o.expect > c->last_seq ? L->o.expect - c->last_seq :
			0;
		if (c->state == S_CLOSED)
			lost += tail;
		else
			pending += tail;
	}
	if (lo == UINT64_MAX)
		lo = 0;
	/* The steady window: the deliveries' span less warm-up at each end
	 * (the whole span when that leaves too little). */
	a = L->first_recv + w;
	b = L->last_recv - w;
	if (b - a < 500000000) {
		a = L->first_recv;
		b = L->last_recv;
	}
	if (L->deliveries && b > a) {
		size_t sa = (size_t)((a - L->start) / SLOT_NS);
		size_t sb = (size_t)((b - L->start) / SLOT_NS);

		for (s = sa; s < sb && s < L->nslots; s++)
			in_window += L->slot[s];
		window = (double)(sb - sa) * SLOT_NS / 1e9;
		rate = window > 0 ? (double)in_window / window : 0;
	}
	spread(L);
	if (L->o.hist)
		write_hist(L);
	getrusage(RUSAGE_SELF, &ru);
	cpu = (double)ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 +
		(double)ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6;
	printf("clients=%d connected=%d failed=%d closed=%d close1001=%llu "
		"deliveries=%llu window_s=%.2f rate=%.0f lat_n=%llu "
		"p50_ms=%.3f p99_ms=%.3f p999_ms=%.3f max_ms=%.3f gaps=%llu "
		"lost=%llu pending=%llu ooo=%llu other=%llu min_client=%llu "
		"max_client=%llu bytes=%llu errors=%llu span_s=%.3f "
		"cpu_s=%.2f vcsw=%ld ivcsw=%ld first_p50_ms=%.3f "
		"first_p99_ms=%.3f spread_p50_ms=%.3f spread_p99_ms=%.3f "
		"stalled=%d\n",
		L->o.n, L->connected, L->failed, L->closed,
		(unsigned long long)code1001,
		(unsigned long long)L->deliveries, window, rate,
		(unsigned long long)L->lat_n, percentile(L, 0.50) / 1e3,
		percentile(L, 0.99) / 1e3, percentile(L, 0.999) / 1e3,
		(double)L->lat_max / 1e6, (unsigned long long)gaps,
		(unsigned long long)lost, (unsigned long long)pending,
		(unsigned long long)ooo, (unsigned long long)L->other,
		(unsigned long long)lo, (unsigned long long)hi,
		(unsigned long long)L->bytes, (unsigned long long)L->errors,
		L->deliveries ? (double)(L->last_recv - L->first_recv) / 1e9
		: 0.0, cpu, ru.ru_nvcsw, ru.ru_nivcsw, L->first_p50,
		L->first_p99, L->spread_p50, L->spread_p99, L->stalled);
	if (!L->o.quiet)
		fprintf(stderr, "wsload: %d/%d clients, %llu messages, %.0f "
			"msg/s, latency p50 %.3f p99 %.3f max %.3f ms, %llu "
			"gaps, %llu lost\n", L->connected, L->o.n,
			(unsigned long long)L->deliveries, rate,
			percentile(L, 0.50) / 1e3, percentile(L, 0.99) / 1e3,
			(double)L->lat_max / 1e6, (unsigned long long)gaps,
			(unsigned long long)lost);
}

static int
parse_url(struct opts *o, const char *url)
{
	const char *h = url, *colon, *slash;
	size_t hl;
	long port = 80;

	if (strncmp(h, "ws://", 5) == 0)
		h += 5;
	slash = strchr(h, '/');
	hl = slash ? (size_t)(slash - h) : strlen(h);
	if (hl == 0 || hl >= sizeof o->host)
		return -1;
	memcpy(o->host, h, hl);
	o->host[hl] = 0;
	snprintf(o->path, sizeof o->path, "%s", slash ? slash : "/");
	if ((colon = strchr(o->host, ':')))
		port = strtol(colon + 1, NULL, 10);
	if (port <= 0 || port > 65535)
		return -1;
	o->addr.sin_family = AF_INET;
	o->addr.sin_port = htons((uint16_t)port);
	{
		char ip[64];

		snprintf(ip, sizeof ip, "%.*s", colon ? (int)(colon - o->host)
			: (int)hl, o->host);
		if (strcmp(ip, "localhost") == 0)
			snprintf(ip, sizeof ip, "127.0.0.1");
		if (inet_pton(AF_INET, ip, &o->addr.sin_addr) != 1)
			return -1;
	}
	return 0;
}

static void
usage(FILE *out)
{
	fprintf(out,
		"usage: wsload [options] ws://127.0.0.1:PORT/PATH\n"
		"  -n N            clients (default 1)\n"
		"  -d SECONDS      run at most this long (default 30)\n"
		"  --until-close   stop once the server has closed every "
		"client\n"
		"  --idle          only connect and hold (memory benchmarks)\n"
		"  -e N            messages each client should get (seq 1..N):"
		" missing ones\n"
		"                  count as gaps (head, middle), lost (tail, "
		"closed) or\n"
		"                  pending (tail, open at the end); stops once "
		"every\n"
		"                  client has seq N (unless --until-close)\n"
		"  -w SECONDS      warm-up left out of rate and latency "
		"(default 0.5)\n"
		"  -c CLOCK        the feeder's clock: monotonic (default) or "
		"realtime\n"
		"  --ready FILE    create FILE once every client is connected\n"
		"  --batch N       connects in flight at once (default 200)\n"
		"  --stall K       the first K clients stop reading once "
		"connected (a hung\n"
		"                  consumer); figures are the others'\n"
		"  --wait-server S wait this long for the port (default 10)\n"
		"  --bind ADDR     connect from this local IPv4 address (e.g. "
		"127.0.0.2)\n"
		"  --hist FILE     write the latency histogram to FILE\n"
		"  -q              print only the key=value line\n"
		"Prints one line of key=value figures on stdout.\n");
}

int
main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{"until-close", no_argument, NULL, 'U'},
		{"idle", no_argument, NULL, 'I'},
		{"ready", required_argument, NULL, 'R'},
		{"batch", required_argument, NULL, 'B'},
		{"wait-server", required_argument, NULL, 'S'},
		{"stall", required_argument, NULL, 'K'},
		{"bind", required_argument, NULL, 'A'},
		{"hist", required_argument, NULL, 'H'},
		{"help", no_argument, NULL, 'h'},
		{0, 0, 0, 0},
	};
	static struct load L;
	struct sigaction sa;
	int ch;

	L.o.n = 1;
	L.o.duration = 30;
	L.o.warmup = 0.5;
	L.o.batch = 200;
	L.o.wait_server = 10;
	L.o.clock = CLOCK_MONOTONIC;
	while ((ch = getopt_long(argc, argv, "n:d:e:w:c:qh", longopts,
		NULL)) != -1) {
		switch (ch) {
		case 'n': L.o.n = atoi(optarg); break;
		case 'd': L.o.duration = strtod(optarg, NULL); break;
		case 'e': L.o.expect = strtoull(optarg, NULL, 10); break;
		case 'w': L.o.warmup = strtod(optarg, NULL); break;
		case 'c':
			if (strcmp(optarg, "realtime") == 0)
				L.o.clock = CLOCK_REALTIME;
			else if (strcmp(optarg, "monotonic") != 0)
				goto bad;
			break;
		case 'U': L.o.until_close = 1; break;
		case 'I': L.o.idle = 1; break;
		case 'R': L.o.ready = optarg; break;
		case 'B': L.o.batch = atoi(optarg); break;
		case 'S': L.o.wait_server = strtod(optarg, NULL); break;
		case 'K': L.o.stall = atoi(optarg); break;
		case 'A':
			if (inet_pton(AF_INET, optarg, &L.o.bind) != 1)
				goto bad;
			break;
		case 'H': L.o.hist = optarg; break;
		case 'q': L.o.quiet = 1; break;
		case 'h': usage(stdout); return 0;
		default: goto bad;
		}
	}
	if (optind != argc - 1 || parse_url(&L.o, argv[optind]) < 0 ||
		L.o.n < 1 || !(L.o.duration > 0 && L.o.duration < 86400) ||
		L.o.batch < 1 || L.o.warmup < 0 || L.o.stall < 0 ||
		L.o.stall >= L.o.n)
		goto bad;

	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_signal;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	raise_nofile(L.o.n);
	if (wait_server(&L.o) < 0)
		return 1;
	L.c = xrealloc(NULL, (size_t)L.o.n * sizeof *L.c);
	memset(L.c, 0, (size_t)L.o.n * sizeof *L.c);
	L.cap = READ_BUF;
	L.buf = xrealloc(NULL, L.cap);
	L.nslots = (size_t)(L.o.duration * 1e9 / SLOT_NS) + 2;
	L.slot = xrealloc(NULL, L.nslots * sizeof *L.slot);
	memset(L.slot, 0, L.nslots * sizeof *L.slot);
	if (L.o.expect && L.o.expect <= 10000000) {
		size_t k = (size_t)(L.o.expect + 1) * sizeof(int64_t);

		L.first_at = xrealloc(NULL, k);
		L.last_at = xrealloc(NULL, k);
		L.due = xrealloc(NULL, k);
		memset(L.first_at, 0, k);
		memset(L.last_at, 0, k);
		memset(L.due, 0, k);
	}
	if ((L.ep = epoll_create1(EPOLL_CLOEXEC)) < 0) {
		perror("wsload: epoll");
		return 1;
	}
	L.start = now_ns(L.o.clock);
	L.deadline = now_ns(CLOCK_MONOTONIC) + (int64_t)(L.o.duration * 1e9);
	loop(&L);
	report(&L);
	return fflush(stdout) == 0 && L.connected > 0 ? 0 : 1;
bad:
	usage(stderr);
	return 2;
}
