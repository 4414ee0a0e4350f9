/* notify_report.h: tf-notify's output: one delivery report per alert,
 * channel and destination, gathered from the results of its requests (a
 * message in parts is several), as a JSON line; and a request described
 * for --dry-run. Both with every secret masked (lib/redact), field by
 * field before the line is made, so the line stays valid JSON. */
#ifndef TF_NOTIFY_REPORT_H
#define TF_NOTIFY_REPORT_H

#include <stddef.h>
#include <stdint.h>

#include "channel.h"
#include "deliver.h"
#include "redact.h"

struct tf_report {
	const char *channel;	/* static: the channel's name */
	char *destination;	/* masked */
	char *id;		/* JSON: the alert's "id", or NULL: line */
	uint64_t line;
	unsigned left, parts, attempts;
	long http_status;
	int failed;
	char *error;
};

/* A report waiting for parts results. destination and id are copied (may
 * be NULL). NULL on ENOMEM. */
struct tf_report *tf_report_create(const char *channel,
	const char *destination, const char *id, uint64_t line,
	unsigned parts);
void tf_report_destroy(struct tf_report *r);

/* Counts one request's result in. Returns 1 when it was the last one. */
int tf_report_add(struct tf_report *r, const struct tf_result *res);

/* The report line (no "\n"), status "sent", "failed" or "skipped"; error
 * overrides the report's own when not NULL; every secret rd knows masked
 * in each text (rd NULL: none). malloc'd, NULL on ENOMEM. */
char *tf_report_json(const struct tf_report *r, const char *status,
	const char *error, const struct tf_redact *rd);

/* The alert's own "id" (a string or number) as JSON, malloc'd, or NULL
 * when it has none. */
char *tf_report_alert_id(const char *line, size_t len);

/* The --dry-run line of a request: channel, method, masked URL, headers
 * (secret values as "***"), destination, body, with every secret rd
 * knows masked in each (rd NULL: none). malloc'd, NULL on ENOMEM. */
char *tf_request_describe(const struct tf_request *r,
	const struct tf_redact *rd);

#endif
