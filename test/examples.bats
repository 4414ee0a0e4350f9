#!/usr/bin/env bats
# The scripts in examples/ run, as the README says they do.

load helper

@test "the demo (make run) records tf-sim into a recording and says how to replay it" {
	run_err env B="${B:-build}" DB="$BATS_TEST_TMPDIR/demo.db" DURATION=1s RATE=50 \
		"$TF_ROOT/examples/demo.sh"
	assert_success
	[[ $stderr == *"tf-replay --speed 10 $BATS_TEST_TMPDIR/demo.db"* ]]
	[[ $stderr == *"tf-record: recorded "* ]]
	# What went by on the terminal is what was recorded.
	n=$(sqlite3 "$BATS_TEST_TMPDIR/demo.db" "select count(*) from events")
	[ "$n" -gt 10 ]
	assert_equal "$(printf '%s\n' "$output" | wc -l)" "$n"
	run tf-replay --speed max "$BATS_TEST_TMPDIR/demo.db"
	assert_success
	assert_line --index 0 --partial '"type":"bot_started"'
}
