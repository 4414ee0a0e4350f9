# fish completion for tf-replay
# Session names come from the recording already on the command line.
function __tf_replay_sessions
	set -l f
	for w in (commandline -opc)[2..-1]
		if not string match -q -- '-*' $w; and test -f $w
			set f $w
		end
	end
	test -n "$f"; or return
	tf-replay --list --json -- $f 2>/dev/null | string replace -rf '.*"name":"([^"]*)".*' '$1'
end

complete -c tf-replay -s s -l speed -x -a 'max 0.5 1 2 5 10 100' -d 'playback speed, max for no waiting'
complete -c tf-replay -l from -x -d 'start at TIME or +DURATION'
complete -c tf-replay -l to -x -d 'stop before TIME or +DURATION'
complete -c tf-replay -l session -x -a '(__tf_replay_sessions)' -d 'only these sessions (name or id)'
complete -c tf-replay -l type -x -a 'price_update ticker_update trade_executed order_placed order_cancelled portfolio_update alert ml_prediction pattern_detected system_status bot_started bot_stopped heartbeat' -d 'only events of this type'
complete -c tf-replay -l topic -x -a 'market_data trading portfolio alerts ml patterns system other' -d 'only events of this topic'
complete -c tf-replay -l symbol -x -d 'only events for this symbol'
complete -c tf-replay -l filter -x -d 'only events for which the jq program is true'
complete -c tf-replay -l max-gap -x -d 'cap every pause at DURATION of recorded time'
complete -c tf-replay -l loop -d 'play N times (--loop=N), forever without N'
complete -c tf-replay -s f -l follow -d 'keep playing what a live recorder appends'
complete -c tf-replay -s l -l list -d 'list the sessions instead of playing'
complete -c tf-replay -l json -d 'with --list: one JSON object per session'
complete -c tf-replay -l progress -d 'a progress bar on stderr'
complete -c tf-replay -l strict -d 'a bad event is fatal'
complete -c tf-replay -l max-line -x -d 'skip recorded lines longer than SIZE'
complete -c tf-replay -l metrics-file -r -F -d 'write Prometheus metrics to this file'
complete -c tf-replay -l metrics-interval -x -d 'rewrite the metrics file every TIME'
complete -c tf-replay -l config -r -F -d 'settings file'
complete -c tf-replay -s q -l quiet -d 'errors only'
complete -c tf-replay -s v -l verbose -d 'say more'
complete -c tf-replay -s h -l help -d 'show help'
complete -c tf-replay -s V -l version -d 'show version'
