/* gzip.h: gzip compression of a whole buffer (zlib), for HTTP answers. */
#ifndef TF_GZIP_H
#define TF_GZIP_H

#include <stddef.h>

/* Compresses in[0..n) into a malloc'd gzip stream at a fast level; *len
 * gets its length. The caller frees it. NULL on ENOMEM (or a zlib
 * failure). */
unsigned char *tf_gzip(const void *in, size_t n, size_t *len);

#endif
