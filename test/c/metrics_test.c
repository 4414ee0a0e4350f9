/* metrics_test.c: lib/metrics builds the Prometheus text format as the
 * format says (HELP/TYPE, names, escapes, values, the series bound) and
 * writes a metrics file atomically, or says why it cannot. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "metrics.h"
#include "opts.h"
#include "check.h"


/* Finishes m and compares its text with want. */
static void
text_is(struct tf_metrics *m, const char *want, int line)
{
	char err[256];
	size_t len;
	const char *t;

	if (tf_metrics_finish(m, err, sizeof err) < 0) {
		fprintf(stderr, "metrics_test:%d: finish: %s\n", line, err);
		failures++;
		return;
	}
	t = tf_metrics_text(m, &len);
	if (strcmp(t, want) || len != strlen(want)) {
		fprintf(stderr, "metrics_test:%d: got\n%s---\nnot\n%s---\n",
			line, t, want);
		failures++;
	}
}

#define TEXT_IS(m, want) text_is(m, want, __LINE__)

/* Finishes m and checks that it fails with an error holding want. */
static void
fails_with(struct tf_metrics *m, const char *want, int line)
{
	char err[256] = "";

	if (tf_metrics_finish(m, err, sizeof err) == 0 || !strstr(err, want)) {
		fprintf(stderr, "metrics_test:%d: error '%s', not '%s'\n",
			line, err, want);
		failures++;
	}
	tf_metrics_clear(m);
}

#define FAILS_WITH(m, want) fails_with(m, want, __LINE__)

static void
format(void)
{
	struct tf_metrics *m = tf_metrics_create(NULL, 0, NULL, 0);
	const char *ab[] = { "channel", "slack", "result", "sent", NULL };

	CHECK(m, "create");
	TEXT_IS(m, "");
	tf_metrics_counter(m, "tf_x_total", "Things.", 42);
	tf_metrics_family(m, "tf_y_total", TF_METRIC_COUNTER, "By label.");
	tf_metrics_u64(m, ab, 18446744073709551615ULL);
	tf_metrics_gauge(m, "tf_z_bytes", "Size.", 0.5);
	TEXT_IS(m, "# HELP tf_x_total Things.\n"
		   "# TYPE tf_x_total counter\n"
		   "tf_x_total 42\n"
		   "# HELP tf_y_total By label.\n"
		   "# TYPE tf_y_total counter\n"
		   "tf_y_total{channel=\"slack\",result=\"sent\"} "
		   "18446744073709551615\n"
		   "# HELP tf_z_bytes Size.\n"
		   "# TYPE tf_z_bytes gauge\n"
		   "tf_z_bytes 0.5\n");

	/* Values: shortest exact form, the format's spellings. */
	tf_metrics_clear(m);
	tf_metrics_family(m, "tf_v", TF_METRIC_GAUGE, "v");
	tf_metrics_double(m, (const char *[]){ "k", "a", NULL }, 0.1);
	tf_metrics_double(m, (const char *[]){ "k", "b", NULL }, 1e21);
	tf_metrics_double(m, (const char *[]){ "k", "c", NULL }, NAN);
	tf_metrics_double(m, (const char *[]){ "k", "d", NULL }, INFINITY);
	tf_metrics_double(m, (const char *[]){ "k", "e", NULL }, -INFINITY);
	tf_metrics_double(m, (const char *[]){ "k", "f", NULL },
		1733500000.123456);
	tf_metrics_double(m, (const char *[]){ "k", "g", NULL }, -3);
	TEXT_IS(m, "# HELP tf_v v\n# TYPE tf_v gauge\n"
		   "tf_v{k=\"a\"} 0.1\n"
		   "tf_v{k=\"b\"} 1e+21\n"
		   "tf_v{k=\"c\"} NaN\n"
		   "tf_v{k=\"d\"} +Inf\n"
		   "tf_v{k=\"e\"} -Inf\n"
		   "tf_v{k=\"f\"} 1733500000.123456\n"
		   "tf_v{k=\"g\"} -3\n");

	/* Escapes: a label value escapes \ " and newline; HELP \ and
	 * newline; invalid UTF-8 becomes U+FFFD, valid UTF-8 stays. */
	tf_metrics_clear(m);
	tf_metrics_family(m, "tf_e", TF_METRIC_GAUGE,
		"a \\ b \"q\"\nnext");
	tf_metrics_u64(m, (const char *[]){ "rule", "a\\b\"c\"\nd", NULL },
		1);
	tf_metrics_u64(m, (const char *[]){ "rule", "caf\xc3\xa9 \xff"
						    "x\xc3", NULL }, 2);
	tf_metrics_u64(m, (const char *[]){ "rule", "\xed\xa0\x80 "
						    "\xe2\x82\xac", NULL }, 3);
	TEXT_IS(m, "# HELP tf_e a \\\\ b \"q\"\\nnext\n# TYPE tf_e gauge\n"
		   "tf_e{rule=\"a\\\\b\\\"c\\\"\\nd\"} 1\n"
		   "tf_e{rule=\"caf\xc3\xa9 \xef\xbf\xbdx\xef\xbf\xbd\"} 2\n"
		   "tf_e{rule=\"\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd "
		   "\xe2\x82\xac\"} 3\n");
	tf_metrics_destroy(m);
	tf_metrics_destroy(NULL);
}

static void
errors(void)
{
	struct tf_metrics *m = tf_metrics_create(NULL, 0, NULL, 0);
	char big[TF_METRICS_MAX_VALUE + 2];
	char name[32];
	int i;

	tf_metrics_counter(m, "tf_x", "no _total", 1);
	FAILS_WITH(m, "tf_x: a counter's name must end in _total");
	tf_metrics_gauge(m, "tf_x_total", "a gauge", 1);
	FAILS_WITH(m, "only a counter's name ends in _total");
	tf_metrics_gauge(m, "9tf", "bad name", 1);
	FAILS_WITH(m, "'9tf' is not a metric name");
	tf_metrics_gauge(m, "tf-x", "bad name", 1);
	FAILS_WITH(m, "'tf-x' is not a metric name");
	tf_metrics_gauge(m, "tf_a", "a", 1);
	tf_metrics_gauge(m, "tf_a", "again", 1);
	FAILS_WITH(m, "tf_a: family given twice");
	tf_metrics_u64(m, NULL, 1);
	FAILS_WITH(m, "a sample outside a family");
	tf_metrics_family(m, "tf_l", TF_METRIC_GAUGE, "l");
	tf_metrics_u64(m, (const char *[]){ "__name", "x", NULL }, 1);
	FAILS_WITH(m, "'__name' is not a label name");
	tf_metrics_family(m, "tf_l", TF_METRIC_GAUGE, "l");
	tf_metrics_u64(m, (const char *[]){ "a:b", "x", NULL }, 1);
	FAILS_WITH(m, "'a:b' is not a label name");
	tf_metrics_family(m, "tf_l", TF_METRIC_GAUGE, "l");
	tf_metrics_u64(m, (const char *[]){ "a", "x", "a", "y", NULL }, 1);
	FAILS_WITH(m, "label a given twice");
	memset(big, 'x', sizeof big - 1);
	big[sizeof big - 1] = '\0';
	tf_metrics_family(m, "tf_l", TF_METRIC_GAUGE, "l");
	tf_metrics_u64(m, (const char *[]){ "a", big, NULL }, 1);
	FAILS_WITH(m, "value longer than 1024 bytes");
	/* The first error stays; later calls do nothing. */
	tf_metrics_gauge(m, "bad-name", "x", 1);
	tf_metrics_gauge(m, "tf_ok", "x", 1);
	FAILS_WITH(m, "'bad-name'");
	for (i = 0; i <= TF_METRICS_MAX_FAMILIES; i++) {
		snprintf(name, sizeof name, "tf_f%d", i);
		tf_metrics_gauge(m, name, "f", i);
	}
	FAILS_WITH(m, "more than 256 families");
	/* Cleared, the builder works again. */
	tf_metrics_gauge(m, "tf_ok", "x", 1);
	TEXT_IS(m, "# HELP tf_ok x\n# TYPE tf_ok gauge\ntf_ok 1\n");
	tf_metrics_destroy(m);
}

/* The builder's own labels go first on every sample, and a sample may not
 * repeat them; the series bound leaves samples out and says so. */
static void
labels_and_bound(void)
{
	const char *own[] = { "program", "tf-x", "file", "x.prom", NULL };
	struct tf_metrics *m = tf_metrics_create(own, 2, NULL, 0);
	struct tf_metrics_common c = { "tf-x", 1500000000LL * 1000000000LL,
		7, 2 };
	char err[256];

	CHECK(m, "create");
	tf_metrics_family(m, "tf_a_total", TF_METRIC_COUNTER, "a");
	tf_metrics_u64(m, NULL, 1);
	tf_metrics_u64(m, (const char *[]){ "rule", "r1", NULL }, 2);
	tf_metrics_u64(m, (const char *[]){ "rule", "r2", NULL }, 3);
	tf_metrics_u64(m, (const char *[]){ "rule", "r3", NULL }, 4);
	tf_metrics_gauge(m, "tf_b", "b", 1);
	TEXT_IS(m, "# HELP tf_a_total a\n# TYPE tf_a_total counter\n"
		   "tf_a_total{program=\"tf-x\",file=\"x.prom\"} 1\n"
		   "tf_a_total{program=\"tf-x\",file=\"x.prom\",rule=\"r1\"} 2\n"
		   "# HELP tf_b b\n# TYPE tf_b gauge\n"
		   "tf_b{program=\"tf-x\",file=\"x.prom\"} 1\n"
		   "# HELP tf_metrics_series_dropped Samples left out of this "
		   "exposition because their family had too many label "
		   "sets.\n"
		   "# TYPE tf_metrics_series_dropped gauge\n"
		   "tf_metrics_series_dropped{program=\"tf-x\","
		   "file=\"x.prom\"} 2\n");
	tf_metrics_clear(m);
	tf_metrics_family(m, "tf_a", TF_METRIC_GAUGE, "a");
	tf_metrics_u64(m, (const char *[]){ "file", "y", NULL }, 1);
	FAILS_WITH(m, "label file is the builder's");

	/* The common metrics: program is not repeated on build_info. */
	tf_metrics_common(m, &c);
	tf_metrics_last_run(m, 130, 2500000000LL);
	TEXT_IS(m, "# HELP tf_build_info Always 1; the labels name the "
		   "program and its version.\n"
		   "# TYPE tf_build_info gauge\n"
		   "tf_build_info{program=\"tf-x\",file=\"x.prom\",version=\""
		   TF_VERSION "\"} 1\n"
		   "# HELP tf_process_start_time_seconds When the process "
		   "started, in seconds since the epoch.\n"
		   "# TYPE tf_process_start_time_seconds gauge\n"
		   "tf_process_start_time_seconds{program=\"tf-x\","
		   "file=\"x.prom\"} 1500000000\n"
		   "# HELP tf_input_lines_total Input lines read, good or bad "
		   "(blank lines are not counted).\n"
		   "# TYPE tf_input_lines_total counter\n"
		   "tf_input_lines_total{program=\"tf-x\",file=\"x.prom\"} 7\n"
		   "# HELP tf_bad_lines_total Input lines skipped as bad: not "
		   "JSON, not an object, invalid UTF-8 or over --max-line.\n"
		   "# TYPE tf_bad_lines_total counter\n"
		   "tf_bad_lines_total{program=\"tf-x\",file=\"x.prom\"} 2\n"
		   "# HELP tf_last_run_exit_status The exit status of the run "
		   "that wrote this file last, 128+N when it ended by signal "
		   "N.\n"
		   "# TYPE tf_last_run_exit_status gauge\n"
		   "tf_last_run_exit_status{program=\"tf-x\",file=\"x.prom\"} "
		   "130\n"
		   "# HELP tf_last_run_duration_seconds How long the run that "
		   "wrote this file last took.\n"
		   "# TYPE tf_last_run_duration_seconds gauge\n"
		   "tf_last_run_duration_seconds{program=\"tf-x\","
		   "file=\"x.prom\"} 2.5\n");
	tf_metrics_destroy(m);

	/* Without builder labels, build_info names the program itself. */
	m = tf_metrics_create(NULL, 0, NULL, 0);
	tf_metrics_common(m, &c);
	CHECK(strstr(tf_metrics_text(m, NULL), "tf_build_info{program=\"tf-x\""
				       ",version=\"" TF_VERSION "\"} 1\n"),
		"build_info: %s", tf_metrics_text(m, NULL));
	tf_metrics_destroy(m);

	CHECK(!tf_metrics_create((const char *[]){ "a", "x", "a", "y", NULL },
		      0, err, sizeof err) && strstr(err, "label a given twice"),
		"bad builder labels: %s", err);
	CHECK(!tf_metrics_create((const char *[]){ "9", "x", NULL }, 0, err,
		      sizeof err) && strstr(err, "'9' is not a label name"),
		"bad builder label name: %s", err);
}

static char *
slurp(const char *path)
{
	static char buf[4096];
	FILE *f = fopen(path, "r");
	size_t n;

	if (!f)
		return NULL;
	n = fread(buf, 1, sizeof buf - 1, f);
	buf[n] = '\0';
	fclose(f);
	return buf;
}

static void
files(void)
{
	char dir[] = "/tmp/metrics_test.XXXXXX", path[256], tmp[512];
	char sub[256], err[512];
	struct tf_metrics_file f = { 0 };
	struct tf_metrics *m;
	struct stat st;
	const char *t;

	CHECK(mkdtemp(dir), "mkdtemp");
	snprintf(path, sizeof path, "%s/tf-x.prom", dir);
	snprintf(tmp, sizeof tmp, "%s.tmp", path);
	CHECK(tf_metrics_write_file(path, "a 1\n", 4, err, sizeof err) == 0,
		"write: %s", err);
	CHECK((t = slurp(path)) && !strcmp(t, "a 1\n"), "content: %s", t);
	CHECK(tf_metrics_write_file(path, "b 2\n", 4, err, sizeof err) == 0,
		"rewrite: %s", err);
	CHECK((t = slurp(path)) && !strcmp(t, "b 2\n"), "replaced: %s", t);
	CHECK(stat(tmp, &st) < 0 && errno == ENOENT, "no temporary left");

	/* A link planted at the temporary name is not followed. */
	snprintf(sub, sizeof sub, "%s/target", dir);
	CHECK(symlink(sub, tmp) == 0, "symlink");
	CHECK(tf_metrics_write_file(path, "c 3\n", 4, err, sizeof err) < 0 &&
		strstr(err, "cannot create") && strstr(err, ".prom.tmp"),
		"a link at the temporary name: %s", err);
	CHECK(stat(sub, &st) < 0, "nothing written through the link");
	unlink(tmp);

	/* A missing directory; a directory where the file should be. */
	snprintf(sub, sizeof sub, "%s/missing/tf.prom", dir);
	CHECK(tf_metrics_write_file(sub, "x", 1, err, sizeof err) < 0 &&
		strstr(err, "missing/tf.prom.tmp: No such file or directory"),
		"missing dir: %s", err);
	snprintf(sub, sizeof sub, "%s/d.prom", dir);
	mkdir(sub, 0755);
	CHECK(tf_metrics_write_file(sub, "x", 1, err, sizeof err) < 0 &&
		strstr(err, "cannot rename") && strstr(err, "Is a directory"),
		"a directory at path: %s", err);
	snprintf(tmp, sizeof tmp, "%s.tmp", sub);
	CHECK(stat(tmp, &st) < 0, "the temporary file is removed");
	rmdir(sub);
	/* Unwritable directory (root may write anyway). */
	if (geteuid() != 0) {
		snprintf(sub, sizeof sub, "%s/ro", dir);
		mkdir(sub, 0555);
		snprintf(tmp, sizeof tmp, "%s/tf.prom", sub);
		CHECK(tf_metrics_write_file(tmp, "x", 1, err, sizeof err) < 0 &&
			strstr(err, "Permission denied (the file is replaced "
				    "by a rename: its directory must be "
				    "writable)"),
			"read-only dir: %s", err);
		rmdir(sub);
	}

	/* The file writer: labels from the name, schedule, failure and
	 * recovery. */
	CHECK(tf_metrics_set_path(&f, "", err, sizeof err) < 0 &&
		strstr(err, "empty file name"), "empty path");
	CHECK(tf_metrics_set_path(&f, "/tmp/", err, sizeof err) < 0 &&
		strstr(err, "names a directory"), "dir path: %s", err);
	CHECK(tf_metrics_set_interval(&f, "50ms", err, sizeof err) < 0 &&
		strstr(err, "not from 100ms to 1h"), "short interval");
	CHECK(tf_metrics_set_interval(&f, "2h", err, sizeof err) < 0,
		"long interval");
	CHECK(tf_metrics_set_interval(&f, "soon", err, sizeof err) < 0,
		"not a duration");
	CHECK(tf_metrics_file_timeout(&f, 5) == -1 &&
		!tf_metrics_file_due(&f, 5), "no path: never due");
	CHECK(tf_metrics_set_interval(&f, "2s", err, sizeof err) == 0 &&
		f.interval_ns == 2000000000LL, "interval");
	CHECK(tf_metrics_set_path(&f, path, err, sizeof err) == 0, "path");
	CHECK(tf_metrics_file_due(&f, tf_mono_ns()), "due at first");
	m = tf_metrics_file_builder(&f, "tf-x", 0, err, sizeof err);
	CHECK(m, "builder: %s", err);
	tf_metrics_gauge(m, "tf_g", "g", 1);
	CHECK(tf_metrics_file_write(&f, m, err, sizeof err) ==
		TF_METRICS_WRITTEN, "file write: %s", err);
	CHECK((t = slurp(path)) && strstr(t, "tf_g{program=\"tf-x\","
				       "file=\"tf-x.prom\"} 1\n"),
		"file content: %s", t);
	CHECK(!tf_metrics_file_due(&f, tf_mono_ns()) &&
		tf_metrics_file_timeout(&f, tf_mono_ns()) > 1000000000LL &&
		tf_metrics_file_timeout(&f, tf_mono_ns() + 3000000000LL) == 0,
		"next write one interval later");
	/* A bad build fails the write, reported once, then recovers. */
	tf_metrics_clear(m);
	tf_metrics_gauge(m, "bad-name", "g", 1);
	CHECK(tf_metrics_file_write(&f, m, err, sizeof err) ==
		TF_METRICS_FAILED, "first failure");
	CHECK(tf_metrics_file_write(&f, m, err, sizeof err) ==
		TF_METRICS_STILL_FAILING, "failing again");
	tf_metrics_clear(m);
	tf_metrics_gauge(m, "tf_g", "g", 2);
	CHECK(tf_metrics_file_write(&f, m, err, sizeof err) ==
		TF_METRICS_RECOVERED, "recovered");
	CHECK(tf_metrics_file_write(&f, m, err, sizeof err) ==
		TF_METRICS_WRITTEN, "written");
	tf_metrics_destroy(m);

	unlink(path);
	CHECK(rmdir(dir) == 0, "only the file was left: %s", strerror(errno));
}

int
main(void)
{
	format();
	errors();
	labels_and_bound();
	files();
	if (failures)
		fprintf(stderr, "metrics_test: %d failure%s\n", failures,
			failures == 1 ? "" : "s");
	return failures != 0;
}
