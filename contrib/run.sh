#!/bin/sh
# make run: start annalsd on ./var in the foreground with the demo data.
set -eu
bin=${1:-build}
mkdir -p var
sock=var/annalsd.sock
"$bin/annalsd" --data var/data --socket "$sock" &
pid=$!
trap 'kill -TERM $pid 2>/dev/null; wait $pid' INT TERM
i=0
until "$bin/annals" -s "$sock" ping >/dev/null 2>&1; do
	i=$((i + 1))
	if [ $i -gt 100 ] || ! kill -0 $pid 2>/dev/null; then
		echo "annalsd did not start" >&2
		exit 1
	fi
	sleep 0.1
done
"$bin/annals" -s "$sock" add - < contrib/demo/events.jsonl > /dev/null
cat <<MSG

annalsd is running on $sock with the demo events loaded
($("$bin/annals" -s "$sock" stats | grep -E "^(events|actors)" | tr -s " \n" " ")).
From another terminal, try:

  ./annals -s $sock range 2014-12 2015-02
  ./annals -s $sock actor RUS
  ./annals -s $sock actor 'SYR*' 2015
  ./annals -s $sock --format jsonl range 2015-01-28 2015-01-28
  ./annals -s $sock actors

or export ANNALS_SOCKET=$PWD/$sock and leave out -s.
Press Ctrl-C to stop it.
MSG
wait $pid
