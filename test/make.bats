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
		[ -f "$d/usr/share/zsh/site-functions/_$p" ]
		[ -f "$d/usr/share/fish/vendor_completions.d/$p.fish" ]
		run "$d/usr/bin/$p" --version
		assert_success
	done
	[ -f "$d/usr/share/man/man7/tf.7" ]
	run make -C "$TF_ROOT" --no-print-directory uninstall DESTDIR="$d" PREFIX=/usr B="${B:-build}"
	assert_success
	[ -z "$(find "$d" -type f)" ]
}
