/* http_test.c: the parts of lib/http that need no connection: raw-socket
 * answers, reason phrases, content types, which paths may name a file,
 * reading files from a directory, Accept-Encoding and If-None-Match. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "http.h"

static int failures;

#define CHECK(cond, ...)                                                     \
	do {                                                                 \
		if (!(cond)) {                                               \
			fprintf(stderr, "http_test:%d: ", __LINE__);         \
			fprintf(stderr, __VA_ARGS__);                        \
			fputc('\n', stderr);                                 \
			failures++;                                          \
		}                                                            \
	} while (0)

/* The answer's Content-Length agrees with its body, which is s's end. */
static void
check_length(const char *s, size_t n)
{
	const char *cl = strstr(s, "content-length: "), *body;

	body = strstr(s, "\r\n\r\n");
	CHECK(cl && body, "no content-length or no end of headers: %s", s);
	if (!cl || !body)
		return;
	body += 4;
	CHECK(strtoul(cl + 16, NULL, 10) == (size_t)(s + n - body),
		"content-length %lu, body %zu bytes", strtoul(cl + 16, NULL, 10),
		(size_t)(s + n - body));
}

static void
test_raw_error(void)
{
	char buf[2048], msg[400];
	size_t n;

	n = tf_http_raw_error(buf, sizeof buf, 405, "GET, HEAD",
		"method not allowed (use GET, HEAD)");
	CHECK(n == strlen(buf), "length %zu, string %zu", n, strlen(buf));
	CHECK(!strncmp(buf, "HTTP/1.1 405 Method Not Allowed\r\n", 33),
		"status line: %s", buf);
	CHECK(strstr(buf, "\r\nallow: GET, HEAD\r\n"), "allow: %s", buf);
	CHECK(strstr(buf, "\r\nconnection: close\r\n"), "close: %s", buf);
	CHECK(strstr(buf, "\r\ncontent-type: application/json\r\n"),
		"type: %s", buf);
	CHECK(n > 0 && !strcmp(strstr(buf, "\r\n\r\n") + 4,
		"{\"error\":\"method not allowed (use GET, HEAD)\"}\n"),
		"body: %s", buf);
	check_length(buf, n);

	n = tf_http_raw_error(buf, sizeof buf, 400, NULL, "a \"quote\"\n");
	CHECK(!strstr(buf, "allow:"), "no allow: %s", buf);
	CHECK(strstr(buf, "{\"error\":\"a \\\"quote\\\"\\n\"}\n"),
		"escaped: %s", buf);
	check_length(buf, n);

	/* The longest message, all escaped: cut at 256 bytes, still fits. */
	memset(msg, 1, sizeof msg - 1);
	msg[sizeof msg - 1] = '\0';
	n = tf_http_raw_error(buf, sizeof buf, 503, "POST", msg);
	CHECK(n > 0, "did not fit");
	check_length(buf, n);
	CHECK(strstr(buf, "\\u0001") && !strstr(buf, "\x01"), "escaped");
	/* Too small a buffer: nothing, never a cut answer. */
	CHECK(tf_http_raw_error(buf, 100, 405, "POST", "no room") == 0,
		"cut answer");

	CHECK(!strcmp(tf_http_reason(413), "Payload Too Large"), "413");
	CHECK(!strcmp(tf_http_reason(599), "Error"), "unknown status");
}

static void
test_paths(void)
{
	static const char *const ok[] = { "/", "/index.html", "/js/main.js",
		"/a..b", "/..a/b", "/a/b..", NULL };
	static const char *const bad[] = { "", "index.html", "/..", "/../x",
		"/a/../b", "/a/..", "//etc/passwd", "/a\\b", NULL };
	size_t i;

	for (i = 0; ok[i]; i++)
		CHECK(tf_http_safe_path(ok[i]), "refused %s", ok[i]);
	for (i = 0; bad[i]; i++)
		CHECK(!tf_http_safe_path(bad[i]), "took %s", bad[i]);
	CHECK(!strcmp(tf_http_content_type("/a/b.mjs"),
		"text/javascript; charset=utf-8"), "mjs");
	CHECK(!strcmp(tf_http_content_type("/x.svg"), "image/svg+xml"), "svg");
	CHECK(!strcmp(tf_http_content_type("/x"), "application/octet-stream"),
		"no extension");
	CHECK(!strcmp(tf_http_content_type("/x.HTML"),
		"application/octet-stream"), "extensions are exact");
}

static void
put(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	if (!f || fputs(text, f) < 0 || fclose(f) != 0) {
		perror(path);
		exit(2);
	}
}

static void
test_read_file(void)
{
	char dir[] = "/tmp/http_test.XXXXXX", root[64], path[128];
	unsigned char *data;
	size_t len = 0;

	if (!mkdtemp(dir)) {
		perror("mkdtemp");
		exit(2);
	}
	snprintf(root, sizeof root, "%s/root", dir);
	mkdir(root, 0700);
	snprintf(path, sizeof path, "%s/sub", root);
	mkdir(path, 0700);
	snprintf(path, sizeof path, "%s/sub/ok.txt", root);
	put(path, "inside\n");
	snprintf(path, sizeof path, "%s/secret.txt", dir);
	put(path, "secret\n");
	snprintf(path, sizeof path, "%s/link.txt", root);
	if (symlink("../secret.txt", path) < 0)
		perror("symlink");

	data = tf_http_read_file(root, "/sub/ok.txt", 1024, &len);
	CHECK(data && len == 7 && !memcmp(data, "inside\n", 7), "inside");
	free(data);
	CHECK(!tf_http_read_file(root, "/sub/ok.txt", 7, &len),
		"a file of max bytes");
	CHECK(!tf_http_read_file(root, "/link.txt", 1024, &len),
		"a link out of the root");
	CHECK(!tf_http_read_file(root, "/../secret.txt", 1024, &len),
		"a path out of the root");
	CHECK(!tf_http_read_file(root, "/sub", 1024, &len), "a directory");
	CHECK(!tf_http_read_file(root, "/none", 1024, &len), "no file");

	unlink(path);
	snprintf(path, sizeof path, "%s/secret.txt", dir);
	unlink(path);
	snprintf(path, sizeof path, "%s/sub/ok.txt", root);
	unlink(path);
	snprintf(path, sizeof path, "%s/sub", root);
	rmdir(path);
	rmdir(root);
	rmdir(dir);
}

static void
test_accept_encoding(void)
{
	static const struct {
		const char *ae;
		int gzip;
	} cases[] = {
		{ NULL, 0 },			/* no header: no coding */
		{ "", 0 },
		{ "gzip", 1 },
		{ "gzip, deflate, br", 1 },
		{ "br, GZip", 1 },
		{ "x-gzip", 1 },
		{ "deflate, br", 0 },
		{ "gzip;q=0", 0 },		/* not acceptable */
		{ "gzip; q=0.000", 0 },
		{ "gzip;Q=0, *", 0 },		/* named beats "*" */
		{ "gzip;q=0.001", 1 },
		{ "gzip ; q=1.0", 1 },
		{ "identity", 0 },
		{ "identity, gzip", 1 },
		{ "identity;q=0, gzip", 1 },
		{ "gzip;q=0.5, identity", 0 },	/* identity ranked higher */
		{ "gzip;q=0.5, identity;q=0.5", 1 },
		{ "*", 1 },
		{ "*;q=0", 0 },
		{ "*;q=0, identity", 0 },
		{ "*;q=0.5, identity", 0 },
		{ "*, identity;q=0.1", 1 },
		{ "gzip;q=2", 0 },		/* not a q-value: ignored */
		{ "gzip;q=x", 0 },
		{ "gzip;q=0.5;level=1", 1 },
		{ ",, gzip ,", 1 },
		{ "gzipper", 0 },
	};
	size_t i;

	for (i = 0; i < sizeof cases / sizeof cases[0]; i++)
		CHECK(tf_http_gzip_wanted(cases[i].ae) == cases[i].gzip,
			"Accept-Encoding: %s: gzip %d, want %d",
			cases[i].ae ? cases[i].ae : "(none)",
			tf_http_gzip_wanted(cases[i].ae), cases[i].gzip);
}

static void
test_if_none_match(void)
{
	const char *tag = "\"1a2b-99\"", *gz = "\"1a2b-99-gzip\"";

	CHECK(tf_http_etag_listed("\"1a2b-99\"", tag), "the tag");
	CHECK(tf_http_etag_listed("W/\"1a2b-99\"", tag), "weak matches");
	CHECK(tf_http_etag_listed("\"x\", \"1a2b-99\"", tag), "in a list");
	CHECK(tf_http_etag_listed("\"a,b\",W/\"1a2b-99\"", tag),
		"after a tag holding a comma");
	CHECK(tf_http_etag_listed("*", tag), "*");
	CHECK(!tf_http_etag_listed("\"1a2b-99\"", gz),
		"the plain tag is not the gzip one");
	CHECK(!tf_http_etag_listed("\"1a2b-99-gzip\"", tag),
		"the gzip tag is not the plain one");
	CHECK(!tf_http_etag_listed("1a2b-99", tag), "unquoted");
	CHECK(!tf_http_etag_listed("\"1a2b-9\"", tag), "a prefix");
	CHECK(!tf_http_etag_listed("\"1a2b-999\"", tag), "longer");
	CHECK(!tf_http_etag_listed("", tag), "empty");
	CHECK(!tf_http_etag_listed(NULL, tag), "none");
	CHECK(!tf_http_etag_listed("*, \"x\"", tag), "* is alone or not *");
}

int
main(void)
{
	test_raw_error();
	test_paths();
	test_read_file();
	test_accept_encoding();
	test_if_none_match();
	if (failures)
		fprintf(stderr, "http_test: %d failures\n", failures);
	else
		printf("http_test: ok\n");
	return failures != 0;
}
