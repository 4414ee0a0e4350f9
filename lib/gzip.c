/* gzip.c: one buffer in, one gzip stream out (zlib's deflate with a gzip
 * header), fast rather than small: answers are compressed per request. */
#include <stdint.h>
#include <stdlib.h>
#include <zlib.h>

#include "gzip.h"

unsigned char *
tf_gzip(const void *in, size_t n, size_t *len)
{
	z_stream z = { 0 };
	unsigned char *out;
	uLong cap;

	/* 15 + 16: a gzip header and trailer around the deflate stream. */
	if (deflateInit2(&z, 1, Z_DEFLATED, 15 + 16, 8,
		    Z_DEFAULT_STRATEGY) != Z_OK)
		return NULL;
	cap = deflateBound(&z, (uLong)n);
	out = malloc(cap);
	if (!out) {
		deflateEnd(&z);
		return NULL;
	}
	z.next_in = (Bytef *)(uintptr_t)in;
	z.avail_in = (uInt)n;
	z.next_out = out;
	z.avail_out = (uInt)cap;
	if (deflate(&z, Z_FINISH) != Z_STREAM_END) {
		deflateEnd(&z);
		free(out);
		return NULL;
	}
	*len = z.total_out;
	deflateEnd(&z);
	return out;
}
