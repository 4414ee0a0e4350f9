/* deliver.h: HTTP (and SMTP) delivery over libcurl's multi interface:
 * many requests at once, retries with exponential backoff and jitter,
 * the services' retry hints, per-destination rate limits, a deadline. It
 * runs inside the caller's poll loop (tf_signal_wait). */
#ifndef TF_DELIVER_H
#define TF_DELIVER_H

#include <stddef.h>
#include <stdint.h>

#include "channel.h"

struct tf_deliver_opts {
	int64_t connect_timeout_ns;	/* per attempt */
	int64_t timeout_ns;		/* per attempt, in all */
	unsigned retries;		/* attempts after the first */
	int64_t backoff_ns;		/* first retry delay; doubles */
	int64_t backoff_max_ns;
	int64_t max_retry_after_ns;	/* longest service hint honoured */
	int64_t deadline;		/* tf_mono_ns() after which nothing
					 * starts; 0: none */
	size_t max_parallel;		/* transfers at once */
	const struct tf_redact *redact;	/* secrets masked in what comes
					 * back (response bodies and headers,
					 * curl's messages) before any
					 * channel reads it; NULL: none.
					 * Borrowed: it outlives the engine */
};

/* How a request ended. */
struct tf_result {
	int sent;		/* 1 sent, 0 failed */
	unsigned attempts;
	long http_status;	/* of the last attempt, 0: none */
	const char *error;	/* NULL when sent */
};

/* Called once per request when it is done (sent, failed, or given up).
 * The request is destroyed after the call. */
typedef void tf_deliver_done_fn(struct tf_request *req,
	const struct tf_result *res, void *arg);

struct tf_deliver;
struct pollfd;

/* Calls curl_global_init the first time. NULL with err filled. */
struct tf_deliver *tf_deliver_create(const struct tf_deliver_opts *o,
	tf_deliver_done_fn *done, void *arg, char *err, size_t errlen);
/* Frees everything; requests still queued are dropped without a done
 * call (use tf_deliver_abort first). destroy(NULL) does nothing. */
void tf_deliver_destroy(struct tf_deliver *d);
/* curl_global_cleanup, once at exit. */
void tf_deliver_global_cleanup(void);

/* Queues req (the engine owns it from now on). */
void tf_deliver_submit(struct tf_deliver *d, struct tf_request *req);

/* Requests queued, waiting or in flight. */
size_t tf_deliver_pending(const struct tf_deliver *d);

/* The fds to poll (at most max written into fds, each with events set)
 * and *timeout_ns (-1: none) until the engine needs to run again. Returns
 * the number of fds. */
size_t tf_deliver_pollfds(struct tf_deliver *d, struct pollfd *fds,
	size_t max, int64_t *timeout_ns);

/* Does the work due: reads and writes the fds (revents from poll, or
 * nfds 0 after a timeout), starts due requests, retries, reports done
 * ones. */
void tf_deliver_run(struct tf_deliver *d, const struct pollfd *fds,
	size_t nfds);

/* Sets the deadline (tf_mono_ns; 0: none): no attempt starts or is
 * retried after it, and each attempt's timeout ends by it. */
void tf_deliver_set_deadline(struct tf_deliver *d, int64_t deadline);

/* Ends every request still queued or in flight as failed with why. */
void tf_deliver_abort(struct tf_deliver *d, const char *why);

#endif
