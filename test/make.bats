#!/usr/bin/env bats
# The build: make install/uninstall put and remove exactly what they say.

load helper

@test "make install puts programs, man pages and completions under DESTDIR/PREFIX; uninstall removes them" {
	d=$BATS_TEST_TMPDIR/root
	run make -C "$TF_ROOT" --no-print-directory install DESTDIR="$d" PREFIX=/usr B="${B:-build}"
	assert_success
	for p in "$TF_ROOT"/cmd/tf-*.c; do
		p=$(basename "$p" .c)
		[ -x "$d/usr/bin/$p" ]
		[ -f "$d/usr/share/man/man1/$p.1" ]
		[ -f "$d/usr/share/bash-completion/completions/$p" ]
		[ -f "$d/usr/share/zsh/vendor-completions/_$p" ]
		[ -f "$d/usr/share/fish/vendor_completions.d/$p.fish" ]
		run "$d/usr/bin/$p" --version
		assert_success
	done
	[ -f "$d/usr/share/man/man7/tf.7" ]
	run make -C "$TF_ROOT" --no-print-directory uninstall DESTDIR="$d" PREFIX=/usr B="${B:-build}"
	assert_success
	[ -z "$(find "$d" -type f)" ]
}

# stage PREFIX: `make install DESTDIR=$BATS_TEST_TMPDIR/root PREFIX=PREFIX`;
# sets $root.
stage() {
	root=$BATS_TEST_TMPDIR/root
	make -C "$TF_ROOT" --no-print-directory install DESTDIR="$root" \
		PREFIX="$1" B="${B:-build}" >/dev/null
}

# fish_complete ROOT LINE: what fish's completion offers for LINE, with
# the XDG default data directories (/usr/local/share:/usr/share) under ROOT.
fish_complete() {
	local h=$BATS_TEST_TMPDIR/fish-home
	mkdir -p "$h"
	HOME=$h XDG_CONFIG_HOME=$h/config XDG_DATA_HOME=$h/data \
		XDG_DATA_DIRS=$1/usr/local/share:$1/usr/share \
		fish -c 'complete -C $argv[1]' "$2"
}

# need_shells: zsh, fish and bash-completion, or the test is skipped.
need_shells() {
	command -v zsh >/dev/null || skip "zsh is not installed (scripts/install-deps)"
	command -v fish >/dev/null || skip "fish is not installed (scripts/install-deps)"
	[ -f /usr/share/bash-completion/bash_completion ] ||
		skip "bash-completion is not installed (scripts/install-deps)"
}

@test "completions land where Debian's zsh, fish and bash look, for PREFIX=/usr and /usr/local" {
	need_shells
	local prefix zdir
	# With nothing installed, the shells offer nothing: what follows
	# comes from the staged files.
	mkdir "$BATS_TEST_TMPDIR/empty"
	run zsh "$TF_ROOT/test/complete.zsh" zsh "$BATS_TEST_TMPDIR/empty" 'tf-replay --sp'
	assert_success
	[ -e /usr/share/zsh/vendor-completions/_tf-replay ] ||
		[ -e /usr/local/share/zsh/site-functions/_tf-replay ] ||
		assert_output 'tf-replay --sp'
	for prefix in /usr /usr/local; do
		rm -rf "$BATS_TEST_TMPDIR/root"
		stage "$prefix"
		zdir=$prefix/share/zsh/site-functions
		[ "$prefix" = /usr ] && zdir=/usr/share/zsh/vendor-completions
		[ -f "$root$zdir/_tf-replay" ]
		[ -f "$root$prefix/share/fish/vendor_completions.d/tf-replay.fish" ]
		[ -f "$root$prefix/share/bash-completion/completions/tf-replay" ]
		PATH=$root$prefix/bin:$PATH
		run zsh "$TF_ROOT/test/complete.zsh" zsh "$root" 'tf-replay --sp'
		assert_success
		assert_line --index 0 'tf-replay --speed '
		run zsh "$TF_ROOT/test/complete.zsh" bash "$root" 'tf-replay --sp'
		assert_success
		assert_output 'tf-replay --speed '
		run fish_complete "$root" 'tf-replay --sp'
		assert_success
		assert_output $'--speed\tplayback speed, max for no waiting'
	done
}

@test "zsh, bash and fish complete session names that hold colons (by default a session is named by its start time)" {
	need_shells
	stage /usr/local
	PATH=$root/usr/local/bin:$PATH
	for s in 2026-11-21T09:30:00Z 2026-11-21T09:45:00Z plain; do
		echo '{"n":1}' | tf-record -n -q -d r.db --session "$s"
	done
	run zsh "$TF_ROOT/test/complete.zsh" zsh "$root" 'tf-replay r.db --session 2026-11-21T09:'
	assert_success
	assert_line 'match: 2026-11-21T09:30:00Z'
	assert_line 'match: 2026-11-21T09:45:00Z'
	run zsh "$TF_ROOT/test/complete.zsh" zsh "$root" 'tf-replay r.db --session 2026-11-21T09:3'
	assert_success
	assert_line --index 0 'tf-replay r.db --session 2026-11-21T09:30:00Z,'
	run zsh "$TF_ROOT/test/complete.zsh" bash "$root" 'tf-replay r.db --session 2026-11-21T09:3'
	assert_success
	assert_output 'tf-replay r.db --session 2026-11-21T09:30:00Z '
	run fish_complete "$root" 'tf-replay r.db --session 2026-11-21T09:'
	assert_success
	assert_line --partial $'2026-11-21T09:30:00Z\t'
	assert_line --partial $'2026-11-21T09:45:00Z\t'
}

@test "make install puts the systemd units where systemd reads them, running the programs from BINDIR" {
	command -v systemd-analyze >/dev/null ||
		skip "systemd-analyze is not installed (Debian: the systemd package)"
	local p=$BATS_TEST_TMPDIR/prefix u n=0
	# A real prefix, no DESTDIR: systemd-analyze checks that each
	# ExecStart's program is there.
	make -C "$TF_ROOT" --no-print-directory install PREFIX="$p" \
		B="${B:-build}" >/dev/null
	for u in "$TF_ROOT"/examples/systemd/*; do
		[ -f "$p/lib/systemd/system/${u##*/}" ]
		n=$((n + 1))
	done
	[ "$n" -ge 4 ]
	! grep -r '@BINDIR@\|/usr/local' "$p/lib/systemd/system"
	run grep -ho "$p/bin/tf-[a-z]*" "$p"/lib/systemd/system/*.service
	assert_success
	assert_line "$p/bin/tf-record"
	assert_line "$p/bin/tf-serve"
	run systemd-analyze verify --man=no "$p"/lib/systemd/system/*
	assert_success
	assert_output ""
	# PREFIX=/usr: /usr/lib/systemd/system, programs in /usr/bin.
	make -C "$TF_ROOT" --no-print-directory install DESTDIR="$BATS_TEST_TMPDIR/root" \
		PREFIX=/usr B="${B:-build}" >/dev/null
	grep -q '^ExecStart=/usr/bin/tf-record ' "$BATS_TEST_TMPDIR/root/usr/lib/systemd/system/tf-record.service"
}
