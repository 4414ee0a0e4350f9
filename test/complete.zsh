#!/usr/bin/env zsh
# complete.zsh SHELL ROOT LINE: types LINE and one TAB into a real
# interactive SHELL (zsh or bash, on a terminal of zsh's zpty) and prints
# the line as it then stands; for zsh, then every match it offered, each
# as "match: WORD". Where the shell looks for completions (zsh's fpath,
# bash-completion's XDG_DATA_DIRS, both Debian's defaults) the same
# directories under ROOT come first, so it finds what
# `make install DESTDIR=ROOT` put there. Exit 2 when the shell did not
# answer within 10 s, 3 when it could not be started.
emulate -L zsh
zmodload zsh/zpty || exit 3
local sh=$1 root=$2 line=$3 out chunk i rc=0 ready
# Removed at the end, not by an EXIT trap: zpty's child would inherit it.
out=$(mktemp -d) || exit 3

case $sh in
zsh)
	# Each compadd call also writes the words it would add that match
	# what was typed (-O); TAB completes, then writes the line.
	<<-EOF >$out/setup
	PS1= RPS1= PROMPT_EOL_MARK=
	fpath=(${(q)root}\${^fpath} \$fpath)
	autoload -Uz compinit && compinit -u -D
	compadd() {
		if (( \${@[(I)-[OAD]]} )); then
			builtin compadd "\$@"
			return
		fi
		local -a m
		builtin compadd -O m "\$@"
		(( \$#m )) && print -rl -- "match: "\${^m} >>${(q)out}/matches
		builtin compadd "\$@"
	}
	tf_tab() {
		zle complete-word
		print -r -- "\$BUFFER" >${(q)out}/line
		: >${(q)out}/done
	}
	zle -N tf_tab
	bindkey '^I' tf_tab
	EOF
	zpty tfc zsh -f -i || { rm -rf -- $out; exit 3 }
	;;
bash)
	# bash-completion loads a command's completion on its first TAB;
	# Ctrl-T then writes the line.
	<<-EOF >$out/setup
	PS1=
	export XDG_DATA_DIRS=${(q)root}/usr/local/share:${(q)root}/usr/share
	. /usr/share/bash-completion/bash_completion
	bind -x '"\\C-t": printf "%s\\n" "\$READLINE_LINE" >${(q)out}/line; : >${(q)out}/done'
	EOF
	HOME=$out zpty tfc bash --norc --noprofile -i || { rm -rf -- $out; exit 3 }
	;;
*)
	rm -rf -- $out
	exit 3
	;;
esac
# The shell says it is ready: the echo of this command does not match.
zpty -w tfc ". ${(q)out}/setup; echo TF_\$((1))_READY"
if zpty -r tfc chunk '*TF_1_READY*'; then
	if [[ $sh == bash ]]; then
		zpty -w -n tfc "$line"$'\t\x14'
	else
		zpty -w -n tfc "$line"$'\t'
	fi
	for ((i = 0; i < 200; i++)); do
		[[ -e $out/done ]] && break
		# Keep the terminal drained: the shell never blocks writing.
		while zpty -rt tfc chunk 2>/dev/null; do :; done
		sleep 0.05
	done
	if [[ -e $out/done ]]; then
		cat $out/line
		[[ -e $out/matches ]] && sort -u $out/matches
	else
		rc=2
	fi
else
	rc=3
fi
zpty -d tfc
rm -rf -- $out
exit $rc
