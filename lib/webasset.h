/* webasset.h: the dashboard's files, embedded in tf-serve at build time by
 * scripts/embed-web (web/ and lightweight-charts from node_modules), each
 * kept as it is and gzip-compressed. */
#ifndef TF_WEBASSET_H
#define TF_WEBASSET_H

#include <stddef.h>

struct tf_webasset {
	const char *path;		/* "/index.html", "/js/main.js" */
	const char *etag;		/* "\"<crc>-<size>\"" */
	const unsigned char *raw;
	size_t raw_len;
	const unsigned char *gz;
	size_t gz_len;
};

/* The embedded files, ended by a row whose path is NULL (generated). */
extern const struct tf_webasset tf_webassets[];

#endif
