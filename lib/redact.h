/* redact.h: masking of secrets in text a program prints. A redactor holds
 * every configured secret in the forms it may come back in (as sent,
 * percent-encoded or decoded, JSON- and HTML-escaped, base64 of a Basic or
 * SASL login) and replaces each occurrence by "***". tf-notify passes
 * every report, dry-run line and diagnostic through one. */
#ifndef TF_REDACT_H
#define TF_REDACT_H

#include <stddef.h>

#define TF_REDACT_MASK "***"

struct tf_redact;

/* An empty redactor (it masks nothing). NULL on ENOMEM. */
struct tf_redact *tf_redact_create(void);
void tf_redact_destroy(struct tf_redact *rd);

/* Adds the secret s[0..n) with its encodings: percent-encoded (upper- and
 * lower-case hex, '/' kept or not, ' ' as '+'), percent-decoded when it
 * holds %XX, JSON-escaped ('/' as "\/" or not, non-ASCII as \uXXXX or
 * not) and HTML-escaped. n 0 adds nothing. 0, or -1 on ENOMEM. */
int tf_redact_add(struct tf_redact *rd, const char *s, size_t n);

/* Adds a login: the password and the base64 a server may echo back, of
 * "user:password" (HTTP Basic), "\0user\0password" (SASL PLAIN) and of
 * the password alone (SASL LOGIN); when either holds %XX (a URL's
 * userinfo), also of them decoded, as they are sent. user NULL is "".
 * The user name alone is not a secret. 0, or -1 on ENOMEM. */
int tf_redact_add_login(struct tf_redact *rd, const char *user,
	const char *password);

/* How many strings it looks for (each secret's forms counted). */
size_t tf_redact_count(const struct tf_redact *rd);

/* A copy of text[0..n) with every occurrence of a secret replaced by
 * "***", the longest secret first where several start at one place;
 * what replaced it is not looked at again. malloc'd and NUL-terminated,
 * its length in *outlen (when not NULL). rd NULL: a plain copy. NULL on
 * ENOMEM. */
char *tf_redact(const struct tf_redact *rd, const char *text, size_t n,
	size_t *outlen);

/* Masks the NUL-terminated string in buf (size bytes) in place, cut to
 * fit on a UTF-8 character boundary. Masking comes before the cut, so a
 * cut never leaves part of a secret. On ENOMEM buf becomes "***". */
void tf_redact_buf(const struct tf_redact *rd, char *buf, size_t size);

#endif
