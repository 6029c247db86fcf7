#!/bin/sh
# F4: partition and heal. A and B talk only through the fault proxy. The
# proxy turns into a black hole (it forwards nothing and reads nothing, but
# keeps every socket open, as a partitioned network does) while each side
# writes 100 entries; then the link heals. Both must converge, hold every
# entry either side acknowledged, and verify. The figure is the time from
# the heal until both hold the same record. One partition is shorter than
# the heartbeat timeout (15 s), one longer, so that the nodes also notice
# it and must reconnect afterwards; a last one resets every connection
# (the proxy's reset mode) instead of keeping them silently open.
#
# CI: black holes of 10 s and 20 s, resets for 10 s. AMENDS_LONG=1: 20
# black holes of 60 s, then the resets.
. "$(dirname "$0")/lib.sh"

if [ "$LONG" = 1 ]; then
	holds="60 60 60 60 60 60 60 60 60 60 60 60 60 60 60 60 60 60 60 60"
else
	holds="10 20"
fi
holds="$holds reset10"
fill A B 100
launch A
proxy_start P "$(port "$ADDR_A")"
am B peer add "$ID_A" "tcp://127.0.0.1:$PORT_P" >/dev/null || fail "peer add"
launch B
converge 30 "$C" A B

# held NAME FILE: every "SEQ HASH" line of FILE is an entry NAME holds
held() {
	sql "$1" "SELECT e.seq || ' ' || lower(hex(e.hash)) FROM entries e" |
		sort >"$T/held.txt"
	sort "$2" | comm -23 - "$T/held.txt" | grep -q . && return 1
	return 0
}

times=
desc=
noticed=0
run=0
for hold in $holds; do
	run=$((run + 1))
	lost_a=$(lines A "lost")
	lost_b=$(lines B "lost")
	case $hold in
	reset*)
		hold=${hold#reset}
		proxy P reset
		desc="$desc${desc:+, }$hold s of resets"
		;;
	*)
		proxy P blackhole
		desc="$desc${desc:+, }$hold s black hole"
		;;
	esac
	t0=$(now_ms)
	"$FAULTKIT" author "$T/A" "$C" 100 20 >"$T/a-$run.txt" 2>>"$T/author.log" &
	wa=$!
	"$FAULTKIT" author "$T/B" "$C" 100 20 >"$T/b-$run.txt" 2>>"$T/author.log" &
	wb=$!
	PIDS="$PIDS $wa $wb"
	wait "$wa" || fail "A's writer failed"
	wait "$wb" || fail "B's writer failed"
	forget "$wa"
	forget "$wb"
	# the partition held: neither side has the other's new entries
	converged A B && bad F4 "run $run: records equal during the partition"
	left=$(( hold * 1000 - ($(now_ms) - t0) ))
	[ $left -gt 0 ] && sleep "$(seconds $left)"
	if [ "$(lines A "lost")" -gt "$lost_a" ] || [ "$(lines B "lost")" -gt "$lost_b" ]; then
		noticed=$((noticed + 1))
	fi
	proxy P pass
	t0=$(now_ms)
	wait_for 120 converged A B || bad F4 "run $run: no convergence within 120 s of the heal"
	dt=$(( $(now_ms) - t0 ))
	times="$times $dt"
	for n in A B; do
		held $n "$T/a-$run.txt" || bad F4 "run $run: $n lacks an entry A acknowledged"
		held $n "$T/b-$run.txt" || bad F4 "run $run: $n lacks an entry B acknowledged"
		[ "$(gaps $n)" = 0 ] || bad F4 "run $run: a gap in $n's feeds"
	done
done

halt B
halt A
for n in A B; do
	sound F4 $n
	verified $n || bad F4 "amends verify fails at $n: $(cat "$T/verify-$n.out")"
done
sanitizer_clean || bad F4 "a sanitizer report in a node's log"
sorted=$(echo $times | tr ' ' '\n' | sort -n)
count=$(echo "$sorted" | wc -l)
p50=$(echo "$sorted" | sed -n "$(( (count + 1) / 2 ))p")
max=$(echo "$sorted" | tail -n 1)
result F4 "partitions $run ($desc) with 100 entries written on each side:" \
	"convergence after heal p50 $(seconds $p50) s, max $(seconds $max) s;" \
	"partition noticed by a node in $noticed of $run; digest mismatches 0," \
	"lost 0"
