/* fuzz_scan.c: a libFuzzer target that holds tf_scan against libjq 1.6's
 * jv_parse_sized and aborts on any disagreement (JSON or not, object or
 * not, values of a few top-level keys) that test/c/laxer.h does not list.
 *
 * `make fuzz` builds it as build/fuzz_scan and runs it for FUZZ_SECONDS
 * (default 60), growing build/fuzz-corpus from the seeds in fuzz/seeds; a
 * disagreement stops it and leaves the input in build/fuzz-crash-*. By
 * hand, with clang:
 *	clang -g -O1 -fsanitize=fuzzer,address,undefined -std=c11 \
 *	    -D_GNU_SOURCE -Ilib -Itest/c fuzz/fuzz_scan.c lib/scan.c \
 *	    -ljq -lm -o build/fuzz_scan
 *	build/fuzz_scan -max_total_time=600 -max_len=4096 -jobs=2 \
 *	    -dict=fuzz/json.dict build/fuzz-corpus fuzz/seeds
 * `build/fuzz_scan build/fuzz-crash-...` runs one input again; once
 * fixed, it belongs in the cases of test/c/scan_test.c.
 */

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "laxer.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct lax_stats st;
	const char *why = lax_compare((const char *)data, size, &st);

	if (why != NULL) {
		fprintf(stderr, "fuzz_scan: tf_scan and jq disagree: %s\n",
		    why);
		abort();
	}
	return 0;
}
