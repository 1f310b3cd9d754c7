#!/bin/sh
# make run: start annalsd on ./var in the foreground, with the demo data
# in a new store.
set -eu
bin=${1:-build}
mkdir -p var
sock=var/annalsd.sock
log=var/annalsd.log
fifo=var/annalsd.fifo
# A second make run would find the first's socket answering, and take
# it for its own daemon.
if "$bin/annals" -s "$sock" ping >/dev/null 2>&1; then
	echo "an annalsd already answers on $sock (make run in another" \
	    "terminal?): use it, or stop it first" >&2
	exit 1
fi
# The timeline page on 127.0.0.1:8080, or the next port that is free.
# annalsd exits 1 whatever kept it from starting, and only a busy port
# is worth trying the next one: anything else (var/data held by another
# annalsd, say) would fail again on every port.  Only the message tells
# them apart, so annalsd's stderr reaches the terminal through tee, which
# keeps a copy in $log.  strerror() speaks English there: annalsd never
# calls setlocale().
port=${ANNALS_HTTP_PORT:-8080}
last=$((port + 9))
while :; do
	rm -f "$fifo"
	mkfifo "$fifo"
	tee "$log" < "$fifo" >&2 &
	tee=$!
	"$bin/annalsd" --data var/data --socket "$sock" \
	    --http "127.0.0.1:$port" 2> "$fifo" &
	pid=$!
	i=0
	until "$bin/annals" -s "$sock" ping >/dev/null 2>&1; do
		i=$((i + 1))
		if [ $i -gt 100 ] || ! kill -0 $pid 2>/dev/null; then
			break
		fi
		sleep 0.1
	done
	# Both ends are open by now (a fifo opens once both are there).
	rm -f "$fifo"
	kill -0 $pid 2>/dev/null && break
	wait $pid || true
	# All annalsd said is in $log once tee has seen it exit.
	wait $tee || true
	if ! grep -qF -- "--http 127.0.0.1:$port: Address already in use" \
	    "$log"; then
		exit 1
	fi
	if [ $port -ge $last ]; then
		echo "annalsd did not start: ports $((last - 9)) to $last are" \
		    "in use (ANNALS_HTTP_PORT=PORT make run starts from" \
		    "another)" >&2
		exit 1
	fi
	port=$((port + 1))
done
trap 'kill -TERM $pid 2>/dev/null; wait $pid' INT TERM
# Stop annalsd and fail (annals said why).
fail() {
	kill -TERM $pid 2>/dev/null
	wait $pid || true
	exit 1
}
# One figure of annals stats: events, actors, last_seq ...
figure() {
	"$bin/annals" -s "$sock" --format table stats |
	    awk -v name="$1" '$1 == name && !n++ { print $2 }'
}
# The demo events go into a new store only.  A store that ever took a
# change holds the user's own edits and deletions, which loading the
# demo again would undo: an edited event back as it was, a deleted one
# back under a new id.  last_seq, the number of the store's last
# change, is 0 only in a store never written to; the number of events
# would also be 0 once every event was deleted.  A store that a run
# made but stopped before filling still gets the demo events.
seq=$(figure last_seq)
[ -n "$seq" ] || fail
if [ "$seq" = 0 ]; then
	"$bin/annals" -s "$sock" add - < contrib/demo/events.jsonl \
	    > /dev/null || fail
	store="with the demo events loaded"
	after=.
else
	store="with the store kept from an earlier run"
	after="; to start again from the demo events,
stop it and remove var/data."
fi
cat <<MSG

annalsd is running on $sock $store
(events $(figure events), actors $(figure actors))$after

The timeline page: http://127.0.0.1:$port/
The HTTP API:      http://127.0.0.1:$port/v1/events?from=2015-01&to=2015-01

From another terminal, try:

  ./annals -s $sock range 2014-12 2015-02
  ./annals -s $sock actor RUS
  ./annals -s $sock actor 'SYR*' 2015
  ./annals -s $sock --format jsonl range 2015-01-28 2015-01-28
  ./annals -s $sock actors
  ./annals -s $sock histogram 2014 2016 --by month
  ./annals -s $sock top 2011 2016

or export ANNALS_SOCKET=$PWD/$sock and leave out -s.
Press Ctrl-C to stop it.
MSG
wait $pid
