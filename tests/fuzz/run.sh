#!/bin/sh
# Run each libFuzzer harness for a bounded time, as many at once as there
# are CPUs, then print one line per harness: executions, coverage
# (libFuzzer's cov: edges and ft: features) and corpus size.  Exit 1 if
# any harness failed; its crashing input is kept in BUILD/crashes/NAME/
# and its log in BUILD/log/NAME.log.
#
# Usage: tests/fuzz/run.sh BUILD SECONDS NAME...
set -u
build=$1
secs=$2
shift 2
src=$(dirname "$0")
failed=0
summary=""

# One harness in the background; its pid in $pid.
start() {
	n=$1
	mkdir -p "$build/corpus/$n" "$build/crashes/$n" "$build/log"
	dict=""
	[ -f "$src/$n.dict" ] && dict="-dict=$src/$n.dict"
	echo "fuzz: $n for ${secs}s"
	# New inputs go to build/corpus/NAME; the committed seeds stay as
	# they are.
	"$build/fuzz-$n" -max_total_time="$secs" -timeout=25 \
	    -rss_limit_mb=2048 -print_final_stats=1 \
	    -artifact_prefix="$build/crashes/$n/" $dict \
	    "$build/corpus/$n" "$src/corpus/$n" >"$build/log/$n.log" 2>&1 &
	pid=$!
}

# The line of harness n, which exited with rc, in the summary.
report() {
	n=$1
	rc=$2
	log="$build/log/$n.log"
	# -print_final_stats says it also after a crash, unlike "Done".
	runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" |
	    tail -n 1)
	last=$(grep -E '^#[0-9]+' "$log" | grep 'cov:' | tail -n 1)
	cov=$(echo "$last" | sed -n 's/.* cov: \([0-9]*\).*/\1/p')
	ft=$(echo "$last" | sed -n 's/.* ft: \([0-9]*\).*/\1/p')
	corp=$(echo "$last" | sed -n 's/.* corp: \([0-9]*\)\/.*/\1/p')
	if [ "$rc" -eq 0 ]; then
		result=ok
	else
		result="FAILED (exit $rc)"
		failed=1
		echo "fuzz: $n failed; the end of $log:"
		tail -n 40 "$log"
		ls "$build/crashes/$n"
	fi
	summary="$summary$(printf '%-10s %12s %8s %8s %8s  %s' "$n" \
	    "${runs:--}" "${cov:--}" "${ft:--}" "${corp:--}" "$result")
"
}

# As many at once as there are CPUs: each harness is one process.
jobs=$(nproc 2>/dev/null || echo 1)
while [ $# -gt 0 ]; do
	running=""
	i=0
	while [ $i -lt "$jobs" ] && [ $# -gt 0 ]; do
		start "$1"
		running="$running $1:$pid"
		shift
		i=$((i + 1))
	done
	for np in $running; do
		wait "${np#*:}"
		report "${np%%:*}" $?
	done
done

printf '%-10s %12s %8s %8s %8s  %s\n' target execs cov ft corpus result
printf '%s' "$summary"
exit $failed
