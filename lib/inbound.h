/* inbound.h: the --inbound file of the hub programs: what clients send,
 * appended as NDJSON lines, bounded in size by rotation (FILE becomes
 * FILE.1, one old file kept), so no client can fill the disk. */
#ifndef TF_INBOUND_H
#define TF_INBOUND_H

#include <stddef.h>
#include <stdint.h>

struct tf_inbound;

/* Opens path for appending (created 0644 if missing); a file holds at most
 * max bytes (0: no limit). Returns the writer, or NULL with err filled. */
struct tf_inbound *tf_inbound_open(const char *path, uint64_t max, char *err,
	size_t errlen);

/* Appends line (no "\n" in it) and a "\n" with one write(2), so lines of
 * several writers never interleave. When the line would take the file past
 * max, the file is first renamed to path.1 (replacing it) and a new one
 * started. Returns 0 written, 1 not written (the line alone is longer than
 * max), -1 with err filled on a write or rotation error (what was written
 * stays). */
int tf_inbound_write(struct tf_inbound *w, const char *line, size_t len,
	char *err, size_t errlen);

/* Files rotated so far. */
uint64_t tf_inbound_rotations(const struct tf_inbound *w);

/* Closes and frees w: 0, or -1 with err filled. NULL is fine. */
int tf_inbound_close(struct tf_inbound *w, char *err, size_t errlen);

#endif
