#!/bin/sh
# F6: a slow, then corrupting link. B syncs A's backlog through the fault
# proxy holding each chunk 500 +- 200 ms and passing at most 64 KiB a
# second: the sync must complete with no spurious disconnect (heartbeats
# wait behind the data but within their timeout). Then, at full speed, the
# proxy flips one bit in 5% of the chunks while A writes 200 entries:
# CurveZMQ must catch every flipped bit (the connection is dropped and made
# again; a flipped length may hold it until the heartbeat gives up), so
# that nothing damaged is ever stored; once the link is clean again the
# two converge and verify.
#
# CI: a backlog of 1,000 entries. AMENDS_LONG=1: 10,000.
. "$(dirname "$0")/lib.sh"

backlog=1000
[ "$LONG" = 1 ] && backlog=10000
fill A B $backlog
launch A
proxy_start P "$(port "$ADDR_A")"
proxy P delay 500 200
proxy P throttle 65536
am B peer add "$ID_A" "tcp://127.0.0.1:$PORT_P" >/dev/null || fail "peer add"
t0=$(now_ms)
launch B
wait_for $((backlog / 10 + 120)) converged A B ||
	bad F6 "the backlog of $backlog entries did not arrive within $((backlog / 10 + 120)) s"
took=$(( $(now_ms) - t0 ))
spurious=$(( $(lines A "lost") + $(lines B "lost") ))
[ $spurious = 0 ] || bad F6 "$spurious disconnects on a slow but working link"

# libzmq 4.3.4 can abort a node on bytes damaged in flight (an assertion
# in its stream engine, src/stream_engine_base.cpp, seen about once in
# twenty runs under ASan). In service the unit restarts it
# (tools/amends-node.service, Restart=on-failure); revive does the same
# here, for that abort only, and counts it. Any other exit still fails.
aborts=0
dead() {
	st=$(awk '{ print $3 }' "/proc/$1/stat" 2>/dev/null)
	[ -z "$st" ] || [ "$st" = Z ]
}
revive() {
	for n in A B; do
		eval "pid=\$PID_$n; addr=\$ADDR_$n"
		dead "$pid" || continue
		eval "k=\${revived_$n:-0}"
		[ "$(lines "$n" "Assertion failed: .*stream_engine")" -gt "$k" ] ||
			fail "node $n exited: $(tail -n 3 "$T/$n.log")"
		eval "revived_$n=$((k + 1))"
		[ $aborts -lt 5 ] || fail "libzmq aborted a node 5 times"
		aborts=$((aborts + 1))
		forget "$pid"
		saved_i=$i
		launch "$n" "$addr"
		i=$saved_i
	done
}
revived_converged() {
	revive
	converged A B
}

step "corruption"
proxy P pass
proxy P corrupt 50
"$FAULTKIT" author "$T/A" "$C" 200 50 >"$T/a.txt" 2>>"$T/author.log" || fail "A's writer"
corrupted=$("$FAULTPROXY" ctl "$T/P.ctl" stats | sed 's/.*corrupted=\([0-9]*\).*/\1/')
proxy P pass
t0=$(now_ms)
wait_for 120 revived_converged || { revive; bad F6 "no convergence within 120 s of the link turning clean"; }
conv=$(( $(now_ms) - t0 ))
sql B "SELECT e.seq || ' ' || lower(hex(e.hash)) FROM entries e" | sort >"$T/held.txt"
sort "$T/a.txt" | comm -23 - "$T/held.txt" | grep -q . && bad F6 "B lacks an entry A acknowledged"
halt B
halt A
for n in A B; do
	sound F6 $n
	[ "$(gaps $n)" = 0 ] || bad F6 "a gap in $n's feeds"
	verified $n || bad F6 "amends verify fails at $n: $(cat "$T/verify-$n.out")"
done
sanitizer_clean || bad F6 "a sanitizer report in a node's log"
result F6 "backlog of $backlog entries over 500+-200 ms and 64 KiB/s:" \
	"$(seconds $took) s, spurious disconnects 0; $corrupted chunks corrupted:" \
	"damaged entries stored 0, converged $(seconds $conv) s after;" \
	"libzmq aborts $aborts (restarted as the service unit would)"
