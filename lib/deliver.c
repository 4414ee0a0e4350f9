/* deliver.c: requests over libcurl's multi interface, driven by the
 * caller's poll loop through curl's socket and timer callbacks; retries,
 * backoff with jitter, service hints, per-key order and rate limits. */
#include <curl/curl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "deliver.h"
#include "log.h"
#include "opts.h"
#include "redact.h"

#define BODY_MAX (64 * 1024)	/* response bytes kept for the verdict */
#define HEADERS_MAX (16 * 1024)
#define KEY_HISTORY 32		/* send times kept per key (largest n) */

struct buf {
	char *p;
	size_t n, cap, max;
};

struct key {
	char *name;
	int64_t sent[KEY_HISTORY];	/* ring of start times */
	unsigned count;			/* sends so far */
	int64_t blocked_until;
	unsigned busy;			/* transfers in flight */
	unsigned pass;			/* start_due pass that saw a waiting
					 * request of this key */
	struct key *next;
};

struct job {
	struct tf_request *req;
	struct job *prev, *next;
	struct tf_deliver *d;
	struct key *key;
	CURL *easy;		/* while in flight */
	struct curl_slist *hdrs, *rcpt;
	struct buf body, headers;
	size_t upload_off;
	unsigned attempts;
	long status;
	int64_t not_before;
	char curl_err[CURL_ERROR_SIZE];
	char error[300];
};

struct sock {
	curl_socket_t fd;
	int what;
};

struct tf_deliver {
	struct tf_deliver_opts o;
	tf_deliver_done_fn *done;
	void *arg;
	CURLM *multi;
	struct job *head, *tail;
	size_t pending, inflight;
	struct key *keys;
	struct sock *socks;
	size_t nsocks, capsocks;
	int64_t timer_at;	/* -1: no curl timer */
	unsigned pass;
	unsigned seed;
};

static int global_ready;

static int
buf_add(struct buf *b, const char *p, size_t n)
{
	if (b->n + n > b->max)
		n = b->max > b->n ? b->max - b->n : 0;
	if (b->n + n + 1 > b->cap) {
		size_t cap = b->cap ? b->cap : 1024;
		char *q;

		while (cap < b->n + n + 1)
			cap *= 2;
		if (!(q = realloc(b->p, cap)))
			return -1;
		b->p = q;
		b->cap = cap;
	}
	memcpy(b->p + b->n, p, n);
	b->n += n;
	b->p[b->n] = '\0';
	return 0;
}

static size_t
on_body(char *p, size_t size, size_t n, void *arg)
{
	struct job *j = arg;

	buf_add(&j->body, p, size * n);
	return size * n;
}

static size_t
on_header(char *p, size_t size, size_t n, void *arg)
{
	struct job *j = arg;

	/* Keep only the last response's headers (not a 100 Continue's). */
	if (size * n >= 5 && !memcmp(p, "HTTP/", 5))
		j->headers.n = 0;
	buf_add(&j->headers, p, size * n);
	return size * n;
}

static size_t
on_upload(char *p, size_t size, size_t n, void *arg)
{
	struct job *j = arg;
	size_t left = j->req->body_len - j->upload_off;

	if (left > size * n)
		left = size * n;
	memcpy(p, j->req->body + j->upload_off, left);
	j->upload_off += left;
	return left;
}

static int
on_socket(CURL *easy, curl_socket_t s, int what, void *userp, void *socketp)
{
	struct tf_deliver *d = userp;
	size_t i;

	(void)easy;
	(void)socketp;
	for (i = 0; i < d->nsocks; i++)
		if (d->socks[i].fd == s)
			break;
	if (what == CURL_POLL_REMOVE) {
		if (i < d->nsocks)
			d->socks[i] = d->socks[--d->nsocks];
		return 0;
	}
	if (i == d->nsocks) {
		if (d->nsocks == d->capsocks) {
			size_t cap = d->capsocks ? d->capsocks * 2 : 16;
			struct sock *p = realloc(d->socks, cap * sizeof *p);

			if (!p)
				return -1;
			d->socks = p;
			d->capsocks = cap;
		}
		d->nsocks++;
	}
	d->socks[i].fd = s;
	d->socks[i].what = what;
	return 0;
}

static int
on_timer(CURLM *multi, long ms, void *userp)
{
	struct tf_deliver *d = userp;

	(void)multi;
	d->timer_at = ms < 0 ? -1 : tf_mono_ns() + (int64_t)ms * 1000000;
	return 0;
}

struct tf_deliver *
tf_deliver_create(const struct tf_deliver_opts *o, tf_deliver_done_fn *done,
	void *arg, char *err, size_t errlen)
{
	struct tf_deliver *d;

	if (!global_ready) {
		if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
			tf_seterr(err, errlen, "cannot initialise libcurl");
			return NULL;
		}
		global_ready = 1;
	}
	if (!(d = calloc(1, sizeof *d)) || !(d->multi = curl_multi_init())) {
		free(d);
		tf_seterr(err, errlen, "out of memory");
		return NULL;
	}
	d->o = *o;
	if (!d->o.max_parallel)
		d->o.max_parallel = 16;
	d->done = done;
	d->arg = arg;
	d->timer_at = -1;
	d->seed = (unsigned)(tf_now_ns() ^ getpid());
	curl_multi_setopt(d->multi, CURLMOPT_SOCKETFUNCTION, on_socket);
	curl_multi_setopt(d->multi, CURLMOPT_SOCKETDATA, d);
	curl_multi_setopt(d->multi, CURLMOPT_TIMERFUNCTION, on_timer);
	curl_multi_setopt(d->multi, CURLMOPT_TIMERDATA, d);
	return d;
}

static void
job_free(struct job *j)
{
	if (j->easy)
		curl_easy_cleanup(j->easy);
	curl_slist_free_all(j->hdrs);
	curl_slist_free_all(j->rcpt);
	free(j->body.p);
	free(j->headers.p);
	tf_request_destroy(j->req);
	free(j);
}

static void
unlink_job(struct tf_deliver *d, struct job *j)
{
	if (j->prev)
		j->prev->next = j->next;
	else
		d->head = j->next;
	if (j->next)
		j->next->prev = j->prev;
	else
		d->tail = j->prev;
	d->pending--;
}

void
tf_deliver_destroy(struct tf_deliver *d)
{
	struct key *k, *kn;

	if (!d)
		return;
	while (d->head) {
		struct job *j = d->head;

		unlink_job(d, j);
		if (j->easy)
			curl_multi_remove_handle(d->multi, j->easy);
		job_free(j);
	}
	for (k = d->keys; k; k = kn) {
		kn = k->next;
		free(k->name);
		free(k);
	}
	curl_multi_cleanup(d->multi);
	free(d->socks);
	free(d);
}

void
tf_deliver_global_cleanup(void)
{
	if (global_ready)
		curl_global_cleanup();
	global_ready = 0;
}

static struct key *
key_get(struct tf_deliver *d, const char *name)
{
	struct key *k;

	if (!name)
		name = "";
	for (k = d->keys; k; k = k->next)
		if (!strcmp(k->name, name))
			return k;
	if (!(k = calloc(1, sizeof *k)) || !(k->name = strdup(name))) {
		free(k);
		return NULL;
	}
	k->next = d->keys;
	d->keys = k;
	return k;
}

/* When the key may start its next request, by its rate limits. */
static int64_t
key_ready_at(const struct key *k, const struct tf_request *r)
{
	int64_t t = k->blocked_until;
	int i;

	for (i = 0; i < 2; i++) {
		unsigned n = r->rate[i].n;

		if (!n || n > KEY_HISTORY || k->count < n)
			continue;
		/* The n-th latest send opens the window again. */
		int64_t at = k->sent[(k->count - n) % KEY_HISTORY] +
			r->rate[i].window_ns;
		if (at > t)
			t = at;
	}
	return t;
}

static void
finish(struct tf_deliver *d, struct job *j, int sent, const char *error)
{
	struct tf_result res = {
		.sent = sent,
		.attempts = j->attempts,
		.http_status = j->status,
		.error = sent ? NULL : error,
	};

	if (j->easy) {
		curl_multi_remove_handle(d->multi, j->easy);
		d->inflight--;
		if (j->key)
			j->key->busy--;
	}
	unlink_job(d, j);
	d->done(j->req, &res, d->arg);
	job_free(j);
}

void
tf_deliver_submit(struct tf_deliver *d, struct tf_request *req)
{
	struct job *j = calloc(1, sizeof *j);

	if (!j) {
		struct tf_result res = { .error = "out of memory" };

		d->done(req, &res, d->arg);
		tf_request_destroy(req);
		return;
	}
	j->req = req;
	j->d = d;
	j->key = key_get(d, req->rate_key);
	j->body.max = BODY_MAX;
	j->headers.max = HEADERS_MAX;
	j->prev = d->tail;
	if (d->tail)
		d->tail->next = j;
	else
		d->head = j;
	d->tail = j;
	d->pending++;
	if (!j->key)
		finish(d, j, 0, "out of memory");
}

size_t
tf_deliver_pending(const struct tf_deliver *d)
{
	return d->pending;
}

static int
start(struct tf_deliver *d, struct job *j, int64_t now)
{
	struct tf_request *r = j->req;
	CURL *e = curl_easy_init();
	int64_t total = d->o.timeout_ns;
	size_t i;

	if (!e)
		return -1;
	curl_slist_free_all(j->hdrs);
	curl_slist_free_all(j->rcpt);
	j->hdrs = j->rcpt = NULL;
	for (i = 0; i < r->nheaders; i++)
		j->hdrs = curl_slist_append(j->hdrs, r->headers[i]);
	if (r->method) {
		/* No "Expect: 100-continue" round trip on larger bodies. */
		j->hdrs = curl_slist_append(j->hdrs, "Expect:");
	}
	for (i = 0; i < r->nrcpt; i++)
		j->rcpt = curl_slist_append(j->rcpt, r->rcpt[i]);
	j->body.n = j->headers.n = 0;
	j->upload_off = 0;
	j->curl_err[0] = '\0';
	if (d->o.deadline && d->o.deadline - now < total)
		total = d->o.deadline - now;
	if (total < 1000000)
		total = 1000000;

	curl_easy_setopt(e, CURLOPT_URL, r->url);
	curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https,smtp,smtps");
	curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(e, CURLOPT_USERAGENT, "tf-notify/" TF_VERSION);
	curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS,
		(long)(d->o.connect_timeout_ns / 1000000));
	curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, (long)(total / 1000000));
	curl_easy_setopt(e, CURLOPT_ERRORBUFFER, j->curl_err);
	curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(e, CURLOPT_WRITEDATA, j);
	curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(e, CURLOPT_HEADERDATA, j);
	curl_easy_setopt(e, CURLOPT_PRIVATE, j);
	if (j->hdrs)
		curl_easy_setopt(e, CURLOPT_HTTPHEADER, j->hdrs);
	if (r->username)
		curl_easy_setopt(e, CURLOPT_USERNAME, r->username);
	if (r->password)
		curl_easy_setopt(e, CURLOPT_PASSWORD, r->password);
	if (r->mail_from) {
		curl_easy_setopt(e, CURLOPT_MAIL_FROM, r->mail_from);
		if (r->use_ssl)
			curl_easy_setopt(e, CURLOPT_USE_SSL, r->use_ssl);
		if (r->ca_file)
			curl_easy_setopt(e, CURLOPT_CAINFO, r->ca_file);
		curl_easy_setopt(e, CURLOPT_MAIL_RCPT, j->rcpt);
		curl_easy_setopt(e, CURLOPT_UPLOAD, 1L);
		curl_easy_setopt(e, CURLOPT_READFUNCTION, on_upload);
		curl_easy_setopt(e, CURLOPT_READDATA, j);
		curl_easy_setopt(e, CURLOPT_INFILESIZE_LARGE,
			(curl_off_t)r->body_len);
	} else {
		curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE,
			(curl_off_t)r->body_len);
		curl_easy_setopt(e, CURLOPT_POSTFIELDS, r->body ? r->body : "");
		if (r->method && strcmp(r->method, "POST"))
			curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, r->method);
	}
	if (curl_multi_add_handle(d->multi, e) != CURLM_OK) {
		curl_easy_cleanup(e);
		return -1;
	}
	j->easy = e;
	j->attempts++;
	d->inflight++;
	j->key->busy++;
	j->key->sent[j->key->count % KEY_HISTORY] = now;
	j->key->count++;
	return 0;
}

/* Whether j may start now; else lowers *wake to when it might. */
static int
due(struct tf_deliver *d, struct job *j, int64_t now, int64_t *wake)
{
	int64_t at;

	if (j->easy || j->key->busy >= (j->req->parallel ? j->req->parallel : 1))
		return 0;
	at = key_ready_at(j->key, j->req);
	if (j->not_before > at)
		at = j->not_before;
	if (at > now) {
		if (*wake < 0 || at < *wake)
			*wake = at;
		return 0;
	}
	return d->inflight < d->o.max_parallel;
}

/* Starts what is due, in queue order; within a key that keeps order
 * (parallel 1) only the first waiting request may start, so nothing
 * overtakes an earlier one. */
static void
start_due(struct tf_deliver *d)
{
	int64_t now = tf_mono_ns(), wake = -1;
	struct job *j, *next;

	if (d->o.deadline && now >= d->o.deadline)
		return;
	d->pass++;
	for (j = d->head; j; j = next) {
		next = j->next;
		if (j->easy)
			continue;
		if (j->req->parallel <= 1) {
			if (j->key->pass == d->pass)
				continue;
			j->key->pass = d->pass;
		}
		if (!due(d, j, now, &wake))
			continue;
		if (start(d, j, now) < 0)
			finish(d, j, 0, "cannot start the transfer");
	}
}

static int64_t
backoff(struct tf_deliver *d, unsigned attempt)
{
	int64_t t = d->o.backoff_ns;
	uint64_t r;

	while (--attempt > 0 && t < d->o.backoff_max_ns)
		t *= 2;
	if (t > d->o.backoff_max_ns)
		t = d->o.backoff_max_ns;
	/* Jitter: between half and the whole delay. */
	r = (uint64_t)rand_r(&d->seed);
	return t / 2 + (int64_t)(r % (uint64_t)(t / 2 + 1));
}

/* What came back, with every secret masked: a service that echoes the
 * request (its path holds a bot token, its headers a password) must not
 * get it into a report, whole or cut short by the report's length
 * limits. Each text is NULL on ENOMEM: then it is left out. */
static void
mask_response(const struct tf_redact *rd, struct tf_response *r,
	char **body, char **headers, char **error)
{
	*body = tf_redact(rd, r->body, r->body_len, &r->body_len);
	r->body = *body ? *body : "";
	if (!*body)
		r->body_len = 0;
	*headers = tf_redact(rd, r->headers, strlen(r->headers), NULL);
	r->headers = *headers ? *headers : "";
	if (r->error) {
		*error = tf_redact(rd, r->error, strlen(r->error), NULL);
		r->error = *error ? *error : "out of memory";
	}
}

static void
completed(struct tf_deliver *d, struct job *j, CURLcode code)
{
	struct tf_response resp = { 0 };
	struct tf_verdict v = { .retry_after_ns = -1 };
	int64_t now = tf_mono_ns(), delay;
	char *body = NULL, *headers = NULL, *error = NULL;

	curl_easy_getinfo(j->easy, CURLINFO_RESPONSE_CODE, &resp.status);
	j->status = resp.status;
	resp.curl_code = (int)code;
	if (code != CURLE_OK) {
		resp.transport_error = 1;
		resp.error = j->curl_err[0] ? j->curl_err :
					      curl_easy_strerror(code);
		resp.status = 0;
		j->status = 0;
	}
	resp.body = j->body.p ? j->body.p : "";
	resp.body_len = j->body.n;
	resp.headers = j->headers.p ? j->headers.p : "";
	if (d->o.redact)
		mask_response(d->o.redact, &resp, &body, &headers, &error);
	if (j->req->channel && j->req->channel->def->judge)
		j->req->channel->def->judge(j->req->channel, &resp, &v);
	else
		tf_channel_http_verdict(&resp, &v);
	/* A judge may decode what it quotes (JSON's \u escapes). */
	if (d->o.redact)
		tf_redact_buf(d->o.redact, v.error, sizeof v.error);
	free(body);
	free(headers);
	free(error);

	curl_multi_remove_handle(d->multi, j->easy);
	curl_easy_cleanup(j->easy);
	j->easy = NULL;
	d->inflight--;
	j->key->busy--;
	if (v.key_wait_ns > 0 && now + v.key_wait_ns > j->key->blocked_until)
		j->key->blocked_until = now + v.key_wait_ns;

	if (v.kind == TF_VERDICT_SENT) {
		finish(d, j, 1, NULL);
		return;
	}
	if (v.kind == TF_VERDICT_FAILED) {
		finish(d, j, 0, v.error);
		return;
	}
	if (j->attempts > d->o.retries) {
		snprintf(j->error, sizeof j->error, "%s (gave up after %u "
			"attempt%s)", v.error, j->attempts,
			j->attempts == 1 ? "" : "s");
		finish(d, j, 0, j->error);
		return;
	}
	if (v.retry_after_ns >= 0) {
		delay = v.retry_after_ns;
		if (delay > d->o.max_retry_after_ns) {
			snprintf(j->error, sizeof j->error, "%s (asked to "
				"wait longer than allowed)", v.error);
			finish(d, j, 0, j->error);
			return;
		}
		/* A rate limit hint holds the whole destination. */
		if (now + delay > j->key->blocked_until)
			j->key->blocked_until = now + delay;
	} else {
		delay = backoff(d, j->attempts);
	}
	if (d->o.deadline && now + delay >= d->o.deadline) {
		snprintf(j->error, sizeof j->error, "%s (no time left to "
			"retry before the deadline)", v.error);
		finish(d, j, 0, j->error);
		return;
	}
	j->not_before = now + delay;
}

static void
drain(struct tf_deliver *d)
{
	CURLMsg *m;
	int left;

	while ((m = curl_multi_info_read(d->multi, &left))) {
		struct job *j = NULL;

		if (m->msg != CURLMSG_DONE)
			continue;
		curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE,
			(char **)&j);
		if (j)
			completed(d, j, m->data.result);
	}
}

size_t
tf_deliver_pollfds(struct tf_deliver *d, struct pollfd *fds, size_t max,
	int64_t *timeout_ns)
{
	int64_t now = tf_mono_ns(), wake = -1;
	struct job *j;
	size_t i, n = 0;

	for (i = 0; i < d->nsocks && n < max; i++) {
		fds[n].fd = d->socks[i].fd;
		fds[n].events = 0;
		fds[n].revents = 0;
		if (d->socks[i].what & CURL_POLL_IN)
			fds[n].events |= POLLIN;
		if (d->socks[i].what & CURL_POLL_OUT)
			fds[n].events |= POLLOUT;
		n++;
	}
	if (d->timer_at >= 0)
		wake = d->timer_at;
	if (!(d->o.deadline && now >= d->o.deadline))
		for (j = d->head; j; j = j->next) {
			int64_t w = -1;

			if (!j->easy && due(d, j, now, &w))
				w = now;
			if (w >= 0 && (wake < 0 || w < wake))
				wake = w;
		}
	if (wake >= 0 && d->o.deadline && wake > d->o.deadline)
		wake = d->o.deadline;
	*timeout_ns = wake < 0 ? -1 : wake > now ? wake - now : 0;
	return n;
}

void
tf_deliver_run(struct tf_deliver *d, const struct pollfd *fds, size_t nfds)
{
	int running;
	size_t i;

	for (i = 0; i < nfds; i++) {
		int ev = 0;

		if (!fds[i].revents)
			continue;
		if (fds[i].revents & (POLLIN | POLLHUP))
			ev |= CURL_CSELECT_IN;
		if (fds[i].revents & POLLOUT)
			ev |= CURL_CSELECT_OUT;
		if (fds[i].revents & (POLLERR | POLLNVAL))
			ev |= CURL_CSELECT_ERR;
		curl_multi_socket_action(d->multi, fds[i].fd, ev, &running);
	}
	if (d->timer_at >= 0 && tf_mono_ns() >= d->timer_at) {
		d->timer_at = -1;
		curl_multi_socket_action(d->multi, CURL_SOCKET_TIMEOUT, 0,
			&running);
	}
	drain(d);
	start_due(d);
	drain(d);
}

void
tf_deliver_set_deadline(struct tf_deliver *d, int64_t deadline)
{
	d->o.deadline = deadline;
}

void
tf_deliver_abort(struct tf_deliver *d, const char *why)
{
	while (d->head) {
		struct job *j = d->head;

		finish(d, j, 0, why);
	}
}
