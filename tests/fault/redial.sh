#!/bin/sh
# F12: a peer that goes away hard and comes back on the same port, again
# and again. B dials A through the fault proxy (A does not know B's
# address: only B's outbound link joins them). Each round breaks that link
# one way, idle or while A writes, and restarts A on its port when it was
# killed; B must reach A again (a new "connected" line in its log) and the
# two must converge, every time:
#
#   kill     kill -9 of A
#   abort    kill -ABRT of A (as when libzmq or a sanitizer aborts it)
#   garble   the proxy sends B a frame header longer than any node takes:
#            a protocol error, after which libzmq never dials again
#   both     garble, then kill -9 of A at once (the CI failure of F6: B
#            logged "lost" and then nothing for minutes)
#   flip     the proxy flips a bit of the next chunk to B: it fails
#            CurveZMQ's check after the handshake
#   dialing  with the proxy slow (400 +- 200 ms a chunk), A is killed,
#            restarted, and killed again while B's new handshake may be
#            under way, then restarted
#
# Waits are bounded (60 s a round); the figure is the time from the fault
# to B's new connection. CI: 12 rounds, each fault idle and while A
# writes. AMENDS_LONG=1: 90 rounds, faults and moments drawn from
# AMENDS_FAULT_SEED.
. "$(dirname "$0")/lib.sh"

rounds=12
[ "$LONG" = 1 ] && rounds=90
fill A B 200
launch_low A
proxy_start P "$(port "$ADDR_A")"
am B peer add "$ID_A" "tcp://127.0.0.1:$PORT_P" >/dev/null || fail "peer add"
launch B
converge 60 "$C" A B

ups() {
	lines B "connected (tcp"
}
ups_since() {
	[ "$(ups)" -gt "$1" ]
}

# restart_a: A again, on the same port
restart_a() {
	launch A "$ADDR_A"
}

# kill_a SIGNAL: A dies by SIGNAL; its store must be sound
kill_a() {
	kill "-$1" "$PID_A" 2>/dev/null
	wait "$PID_A" 2>/dev/null
	forget "$PID_A"
	PID_A=
}

W=
writer_start() {
	"$FAULTKIT" author "$T/A" "$C" 100 100 >>"$T/acked.txt" 2>>"$T/author.log" &
	W=$!
	PIDS="$PIDS $W"
}
writer_end() {
	[ -n "$W" ] || return 0
	wait_for 60 sh -c "! kill -0 $W 2>/dev/null" || fail "the writer did not end"
	wait "$W" 2>/dev/null
	forget "$W"
	W=
}

faults="kill abort garble both flip dialing"
round=0 worst=0 sum=0
: >"$T/acked.txt"
while [ $round -lt $rounds ]; do
	round=$((round + 1))
	if [ "$LONG" = 1 ]; then
		rand 6
		k=$RAND
		rand 2
		busy=$RAND
	else
		k=$(( (round - 1) % 6 ))
		busy=$(( (round - 1) / 6 % 2 ))
	fi
	fault=$(echo $faults | cut -d' ' -f$((k + 1)))
	moment=idle
	[ $busy = 1 ] && moment=writing
	step "round $round: $fault, $moment"
	before=$(ups)
	if [ $busy = 1 ]; then
		writer_start
		# some of the writes on their way to B
		wait_for 30 sh -c "[ \$(wc -l <'$T/acked.txt') -gt 0 ]" ||
			fail "round $round: A's writer acknowledged nothing"
	fi
	t0=$(now_ms)
	case $fault in
	kill)
		kill_a KILL
		restart_a
		;;
	abort)
		kill_a ABRT
		restart_a
		;;
	garble)
		proxy P garble
		;;
	both)
		proxy P garble
		kill_a KILL
		restart_a
		;;
	flip)
		proxy P flip
		;;
	dialing)
		proxy P delay 400 200
		kill_a KILL
		restart_a
		rand 2000
		sleep "$(awk -v ms="$RAND" 'BEGIN { printf "%.3f", ms / 1000 }')"
		kill_a KILL
		restart_a
		proxy P pass
		;;
	esac
	wait_for 60 ups_since "$before" ||
		bad F12 "round $round ($fault, $moment): B did not reach A again within 60 s"
	dt=$(( $(now_ms) - t0 ))
	sum=$((sum + dt))
	[ $dt -gt $worst ] && worst=$dt
	writer_end
	# one more entry, written after the link is back, must travel too
	"$FAULTKIT" author "$T/A" "$C" 1 100 >>"$T/acked.txt" 2>>"$T/author.log" ||
		fail "round $round: A's writer"
	wait_for 60 converged A B ||
		bad F12 "round $round ($fault, $moment): no convergence within 60 s"
done

sql B "SELECT e.seq || ' ' || lower(hex(e.hash)) FROM entries e" | sort >"$T/held.txt"
grep -E '^[0-9]+ [0-9a-f]{64}$' "$T/acked.txt" | sort | comm -23 - "$T/held.txt" |
	grep -q . && bad F12 "B lacks an entry A acknowledged"
halt B
halt A
for n in A B; do
	sound F12 $n
	[ "$(gaps $n)" = 0 ] || bad F12 "a gap in $n's feeds"
	verified $n || bad F12 "amends verify fails at $n: $(cat "$T/verify-$n.out")"
done
sanitizer_clean || bad F12 "a sanitizer report in a node's log"
result F12 "$rounds rounds (seed $SEED): B reached A again every time," \
	"max $(seconds $worst) s, mean $(seconds $((sum / rounds))) s after the" \
	"fault; converged every round; $(lines B "dialling") redials logged by B"
