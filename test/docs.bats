#!/usr/bin/env bats
# The docs promise what the programs do: every long option of every program
# is in its --help, its man page and its three completions.

load helper

programs() {
	local f
	for f in "$TF_ROOT"/cmd/tf-*.c; do
		basename "$f" .c
	done
}

long_opts() {
	grep -oE -- '--[a-z][a-z0-9-]+' | sort -u
}

@test "every long option is in --help, the man page and the bash, zsh and fish completions" {
	local p o missing=()
	for p in $(programs); do
		for o in $("$p" --help | long_opts); do
			grep -q -- "\\\\-$o\\b\|Fl -${o#--}\\b" "$TF_ROOT/man/$p.1" ||
				missing+=("$p: $o not in man/$p.1")
			grep -qw -- "$o" "$TF_ROOT/completions/bash/$p" ||
				missing+=("$p: $o not in completions/bash/$p")
			grep -q -- "$o\\b" "$TF_ROOT/completions/zsh/_$p" ||
				missing+=("$p: $o not in completions/zsh/_$p")
			grep -q -- "-l ${o#--}\\b" "$TF_ROOT/completions/fish/$p.fish" ||
				missing+=("$p: $o not in completions/fish/$p.fish")
		done
	done
	printf '%s\n' "${missing[@]}"
	[ ${#missing[@]} -eq 0 ]
}

@test "every option the man page documents is one --help knows" {
	local p o missing=()
	for p in $(programs); do
		help=$("$p" --help)
		for o in $(sed -n 's/^\.It Fl \(.*\)/\1/p' "$TF_ROOT/man/$p.1" |
			grep -oE -- 'Fl -[a-z][a-z0-9-]+|^-[a-z][a-z0-9-]+' |
			sed 's/^Fl //'); do
			grep -q -- "-$o\\b" <<<"$help" || missing+=("$p: -$o")
		done
	done
	printf '%s\n' "${missing[@]}"
	[ ${#missing[@]} -eq 0 ]
}

@test "every program has --version, a man page, completions and a README section" {
	local p
	for p in $(programs); do
		run "$p" --version
		assert_success
		assert_output "$p $(cat "$TF_ROOT/VERSION")"
		[ -f "$TF_ROOT/man/$p.1" ]
		grep -q "^## $p" "$TF_ROOT/README.md"
	done
}

@test "the man pages are mandoc -Tlint clean" {
	run mandoc -Tlint -Wwarning "$TF_ROOT"/man/*
	assert_success
	assert_output ""
}

@test "tf(7) shows the event vocabulary exactly as lib/vocab.c has it" {
	local type topic n=0
	while read -r type topic; do
		grep -qE "^$type Ta $topic\$" "$TF_ROOT/man/tf.7" ||
			fail "tf.7 lacks $type -> $topic"
		n=$((n + 1))
	done < <(sed -n 's/^\t{ "\([a-z_]*\)", "\([a-z_]*\)" },$/\1 \2/p' "$TF_ROOT/lib/vocab.c")
	[ "$n" -ge 13 ]
	[ "$(grep -cE '^[a-z_]+ Ta [a-z_]+$' "$TF_ROOT/man/tf.7")" -eq "$n" ]
}

@test "every program's TF_* names are in a name space lib/opts.c knows, so that a shared config file warns of none of them" {
	local ns missing=()
	for ns in $(grep -ohE '"TF_[A-Z0-9]+_[A-Z0-9_]*"' "$TF_ROOT"/cmd/*.c "$TF_ROOT"/lib/*.c |
		sed -E 's/^"(TF_[A-Z0-9]+_).*/\1/' | sort -u); do
		# TF_MAX_LINE is every program's.
		[ "$ns" = TF_MAX_ ] && continue
		grep -qF "\"$ns\"" "$TF_ROOT/lib/opts.c" || missing+=("$ns")
	done
	[ ${#missing[@]} -eq 0 ] || fail "not in lib/opts.c's name_spaces: ${missing[*]}"
}
