# tf: small C programs that carry a trading system's events.
# `make` builds every cmd/tf-*.c against lib/libtf.a into $(B)/.

PREFIX ?= /usr/local
BINDIR ?= $(PREFIX)/bin
MANDIR ?= $(PREFIX)/share/man
DATADIR ?= $(PREFIX)/share

CC ?= cc
CFLAGS ?= -O2 -g
B ?= build
VERSION := $(shell cat VERSION)

WARN = -Wall -Wextra -Wshadow -Wmissing-prototypes
ifneq ($(CI),)
WARN += -Werror
endif

# Recursive (=) so pkg-config runs after `deps` has installed it.
PKGS = sqlite3 libwebsockets libcurl zlib
PKG_CFLAGS = $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS = $(shell pkg-config --libs $(PKGS) 2>/dev/null || echo -lsqlite3 -lwebsockets -lcurl -lz)
# libjq 1.6 ships no .pc file.
JQ_LIBS = $(shell pkg-config --libs libjq 2>/dev/null || echo -ljq -lonig)
# libnats only for the bus programs (and lib/bus.c's unit test): nothing
# else needs a NATS library at run time.
NATS_CFLAGS = $(shell pkg-config --cflags libnats 2>/dev/null)
NATS_LIBS = $(shell pkg-config --libs libnats 2>/dev/null || echo -lnats)

ALL_CFLAGS = -std=c11 -D_GNU_SOURCE -DTF_VERSION='"$(VERSION)"' \
	-Ilib $(WARN) $(PKG_CFLAGS) $(CFLAGS)
# Each program links only the libraries it uses.
LIBS = -Wl,--as-needed $(PKG_LIBS) $(JQ_LIBS) -lm

LIB_SRC = $(sort $(wildcard lib/*.c))
LIB_OBJ = $(LIB_SRC:lib/%.c=$(B)/lib/%.o)
CMD_SRC = $(sort $(wildcard cmd/tf-*.c))
PROGS = $(CMD_SRC:cmd/%.c=$(B)/%)
TEST_SRC = $(sort $(wildcard test/c/*.c))
TEST_PROGS = $(TEST_SRC:test/c/%.c=$(B)/test/%)
# The page, embedded in tf-serve (scripts/embed-web), with
# lightweight-charts from npm (package-lock.json pins it).
WEB_SRC = $(shell find web -type f 2>/dev/null | LC_ALL=C sort)
LWC = node_modules/lightweight-charts/dist/lightweight-charts.standalone.production.mjs
BENCH_SRC = $(sort $(wildcard bench/*.c))
BENCH_PROGS = $(BENCH_SRC:bench/%.c=$(B)/bench/%)

.PHONY: all deps run test check bench asan install uninstall clean format lint fuzz

all: $(PROGS) $(TEST_PROGS) $(BENCH_PROGS)

deps:
	@scripts/install-deps

$(B)/lib/%.o: lib/%.c lib/*.h VERSION
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -c -o $@ $<

$(B)/libtf.a: $(LIB_OBJ)
	rm -f $@
	$(AR) rcs $@ $^

$(B)/tf-%: cmd/tf-%.c $(B)/libtf.a lib/*.h cmd/*.h
	$(CC) $(ALL_CFLAGS) -o $@ $< $(CMD_OBJ) $(B)/libtf.a $(LIBS) $(LDFLAGS)

# Command code two programs share (it reports on stderr, so not in lib/):
# cmd/hubcli.c, the hub's options, listening and input loop.
$(B)/cmd/%.o: cmd/%.c cmd/*.h lib/*.h VERSION
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -c -o $@ $<

HUB_PROGS = $(B)/tf-broadcast $(B)/tf-serve
$(HUB_PROGS): $(B)/cmd/hubcli.o
$(HUB_PROGS): CMD_OBJ = $(B)/cmd/hubcli.o

NATS_PROGS = $(B)/tf-pub $(B)/tf-sub $(B)/test/bus_test $(B)/bench/natspub
$(B)/lib/bus.o $(NATS_PROGS): ALL_CFLAGS += $(NATS_CFLAGS)
$(NATS_PROGS): LIBS += $(NATS_LIBS)

$(LWC): package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	@touch $@

$(B)/webassets.c: $(WEB_SRC) $(LWC) scripts/embed-web
	@mkdir -p $(@D)
	scripts/embed-web $@ $(foreach f,$(WEB_SRC),$(f:web/%=/%)=$(f)) \
		/vendor/lightweight-charts.mjs=$(LWC)

$(B)/webassets.o: $(B)/webassets.c lib/webasset.h
	$(CC) $(ALL_CFLAGS) -c -o $@ $<

$(B)/tf-serve: cmd/tf-serve.c $(B)/webassets.o $(B)/libtf.a lib/*.h cmd/*.h
	$(CC) $(ALL_CFLAGS) -o $@ $< $(CMD_OBJ) $(B)/webassets.o $(B)/libtf.a $(LIBS) $(LDFLAGS)

$(B)/test/%: test/c/%.c $(B)/libtf.a lib/*.h
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -o $@ $< $(B)/libtf.a $(LIBS) $(LDFLAGS)

$(B)/bench/%: bench/%.c $(B)/libtf.a lib/*.h
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -o $@ $< $(B)/libtf.a $(LIBS) $(LDFLAGS)

# The two commands of the README: each installs what is missing first.
run: deps
	@$(MAKE) --no-print-directory all
	@B=$(B) examples/demo.sh

# Tests (test/run: the C unit tests, then the bats suites; one last line
# "N passed, N failed"). `make test` builds and runs every test. When CI
# is set (CI=1, as CI services set it; TEST_ASAN=1 forces it, TEST_ASAN=0
# skips it) it then builds everything with AddressSanitizer + UBSan into
# $(ASAN_B) and runs there too the C unit tests and ASAN_TESTS, the suites
# that feed the programs hostile input from the network and the disk
# (client floods, malformed frames, foreign Origin and Host, forged inbound
# lines, body floods, over-long URLs, a full disk); the last line counts
# both passes. The other suites stay out of the ASan pass so that CI keeps
# well within its 20 minutes (README says how long a whole run takes);
# tf-notify's masking code runs under ASan in redact_test, and `make asan`
# runs every suite under the sanitizers.
# A developer's `make test` skips the ASan pass.
ASAN_B = build-asan
ASAN_CFLAGS = -O1 -g -fsanitize=address,undefined -fno-omit-frame-pointer \
	-fno-sanitize-recover=all
ASAN_ENV = ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
	UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
# LeakSanitizer needs ptrace; where a sandbox forbids it, every ASan test
# would fail for that alone: the CI pass then checks without leaks, saying so.
ASAN_LEAKS = $$(ASAN_OPTIONS=detect_leaks=1 $(ASAN_B)/test/line_test \
	2>&1 >/dev/null | grep -q 'LeakSanitizer has encountered a fatal' && \
	echo 'make test: LeakSanitizer cannot run here: no leak checks' >&2 && \
	echo 0 || echo 1)
ASAN_TESTS = test/tf-broadcast.bats test/tf-serve.bats test/tf-record.bats
TEST_ASAN ?= $(if $(CI),1,0)

test: deps
	@$(MAKE) --no-print-directory all
ifeq ($(TEST_ASAN),1)
	@$(MAKE) --no-print-directory all B=$(ASAN_B) CFLAGS='$(ASAN_CFLAGS)'
	@leaks=$(ASAN_LEAKS); $(ASAN_ENV) \
		ASAN_OPTIONS=detect_leaks=$$leaks:abort_on_error=1 \
		test/run $(B) '$(ASAN_B):$(ASAN_TESTS)'
else
	@$(MAKE) --no-print-directory check
endif

check:
	@B=$(B) test/run

bench:
	@scripts/install-deps bench
	@$(MAKE) --no-print-directory all CFLAGS='-O2 -g'
	@B=$(B) bench/run

# The whole test suite against an AddressSanitizer + UBSan build. CFLAGS
# goes down to the tests too: test/make.bats runs `make install B=$(ASAN_B)`,
# which must not rebuild part of it without the sanitizers.
asan: deps
	@$(MAKE) --no-print-directory all B=$(ASAN_B) CFLAGS='$(ASAN_CFLAGS)'
	@$(ASAN_ENV) CFLAGS='$(ASAN_CFLAGS)' test/run $(ASAN_B)

# Where Debian's shells look for completions: bash-completion and fish in
# $(DATADIR) (the XDG data directories: /usr/local/share and /usr/share);
# zsh's fpath has /usr/share/zsh/vendor-completions for packages and
# /usr/local/share/zsh/site-functions for local installs.
BASHCOMPDIR ?= $(DATADIR)/bash-completion/completions
ZSHCOMPDIR ?= $(if $(filter /usr,$(PREFIX)),$(DATADIR)/zsh/vendor-completions,$(DATADIR)/zsh/site-functions)
FISHCOMPDIR ?= $(DATADIR)/fish/vendor_completions.d
# The units of examples/systemd, with @BINDIR@ made $(BINDIR); systemd
# reads /usr/local/lib/systemd/system and /usr/lib/systemd/system.
SYSTEMDUNITDIR ?= $(PREFIX)/lib/systemd/system

install: all
	mkdir -p $(DESTDIR)$(BINDIR) $(DESTDIR)$(MANDIR)/man1 $(DESTDIR)$(MANDIR)/man7 \
		$(DESTDIR)$(BASHCOMPDIR) $(DESTDIR)$(ZSHCOMPDIR) $(DESTDIR)$(FISHCOMPDIR) \
		$(DESTDIR)$(SYSTEMDUNITDIR)
	for p in $(PROGS); do install -m 755 $$p $(DESTDIR)$(BINDIR)/; done
	for m in man/*.1; do install -m 644 $$m $(DESTDIR)$(MANDIR)/man1/; done
	for m in man/*.7; do [ -e "$$m" ] && install -m 644 $$m $(DESTDIR)$(MANDIR)/man7/ || true; done
	for c in completions/bash/*; do install -m 644 $$c $(DESTDIR)$(BASHCOMPDIR)/; done
	for c in completions/zsh/*; do install -m 644 $$c $(DESTDIR)$(ZSHCOMPDIR)/; done
	for c in completions/fish/*; do install -m 644 $$c $(DESTDIR)$(FISHCOMPDIR)/; done
	for u in examples/systemd/*; do \
		sed 's|@BINDIR@|$(BINDIR)|g' $$u >$(DESTDIR)$(SYSTEMDUNITDIR)/$${u##*/} && \
		chmod 644 $(DESTDIR)$(SYSTEMDUNITDIR)/$${u##*/} || exit 1; done

uninstall:
	for p in $(PROGS); do rm -f $(DESTDIR)$(BINDIR)/$${p##*/}; done
	for m in man/*.1; do rm -f $(DESTDIR)$(MANDIR)/man1/$${m##*/}; done
	for m in man/*.7; do rm -f $(DESTDIR)$(MANDIR)/man7/$${m##*/}; done
	for c in completions/bash/*; do rm -f $(DESTDIR)$(BASHCOMPDIR)/$${c##*/}; done
	for c in completions/zsh/*; do rm -f $(DESTDIR)$(ZSHCOMPDIR)/$${c##*/}; done
	for c in completions/fish/*; do rm -f $(DESTDIR)$(FISHCOMPDIR)/$${c##*/}; done
	for u in examples/systemd/*; do rm -f $(DESTDIR)$(SYSTEMDUNITDIR)/$${u##*/}; done

format:
	clang-format -i lib/*.c lib/*.h cmd/*.c cmd/*.h test/c/*.c bench/*.c

lint:
	mandoc -Tlint -Wwarning man/*

clean:
	rm -rf build $(ASAN_B)

# tf_scan against jv_parse_sized under libFuzzer (fuzz/fuzz_scan.c): needs
# clang; runs FUZZ_SECONDS, growing $(B)/fuzz-corpus from fuzz/seeds.
# Then each of FUZZ (fuzz/fuzz_NAME.c, built with the lib/ sources
# FUZZ_SRC_NAME) for FUZZ_SECONDS, growing $(B)/fuzz-corpus-NAME from
# fuzz/seeds-NAME (which keeps the inputs of the bugs found, regress-*),
# its dictionary fuzz/NAME.dict.
FUZZ_CC ?= clang
FUZZ_SECONDS ?= 60
FUZZ = template dash alert
FUZZ_SRC_template = lib/log.c lib/scan.c lib/template.c
FUZZ_SRC_dash = lib/dash.c lib/line.c lib/log.c lib/opts.c lib/scan.c \
	lib/store.c lib/vocab.c lib/wsproto.c
FUZZ_SRC_alert = lib/alert.c lib/filter.c lib/line.c lib/log.c lib/opts.c \
	lib/scan.c lib/template.c lib/vocab.c

define fuzz_one
	@mkdir -p $(B)/fuzz-corpus-$(1)
	$(FUZZ_CC) -g -O1 -fsanitize=fuzzer,address,undefined \
		-fno-sanitize-recover=all -std=c11 -D_GNU_SOURCE \
		-DTF_VERSION='"$(VERSION)"' -Ilib -Itest/c \
		-o $(B)/fuzz_$(1) fuzz/fuzz_$(1).c $(FUZZ_SRC_$(1)) $(LIBS)
	$(B)/fuzz_$(1) -max_total_time=$(FUZZ_SECONDS) -max_len=4096 \
		-dict=fuzz/$(1).dict -artifact_prefix=$(B)/fuzz-$(1)- \
		$(B)/fuzz-corpus-$(1) fuzz/seeds-$(1)

endef

fuzz:
	@mkdir -p $(B)/fuzz-corpus
	$(FUZZ_CC) -g -O1 -fsanitize=fuzzer,address,undefined \
		-fno-sanitize-recover=all -std=c11 -D_GNU_SOURCE -Ilib \
		-Itest/c -o $(B)/fuzz_scan fuzz/fuzz_scan.c lib/scan.c \
		$(JQ_LIBS) -lm
	$(B)/fuzz_scan -max_total_time=$(FUZZ_SECONDS) -max_len=4096 \
		-dict=fuzz/json.dict -artifact_prefix=$(B)/fuzz- \
		$(B)/fuzz-corpus fuzz/seeds
	$(foreach n,$(FUZZ),$(call fuzz_one,$(n)))
