#!/bin/sh
# F5: a flapping link. A and B talk through the fault proxy, which resets
# every connection after a random 0.5 to 3 s, for 60 s, while both sides
# write 20 entries a second. Afterwards the link holds: they must converge,
# hold every acknowledged entry and verify; each node's open descriptors
# must be as many as before (a few either way), its memory must not have
# grown by more than 10 MiB (not checked under AddressSanitizer, whose
# quarantine holds freed memory), and it must stop cleanly: in the
# sanitizer build a leak or any error report fails the test.
#
# CI: 60 s. AMENDS_LONG=1: 5 minutes.
. "$(dirname "$0")/lib.sh"

secs=60
[ "$LONG" = 1 ] && secs=300
sanitized=0
ldd "$AMENDS" 2>/dev/null | grep -q libasan && sanitized=1

fill A B 100
launch A
proxy_start P "$(port "$ADDR_A")"
am B peer add "$ID_A" "tcp://127.0.0.1:$PORT_P" >/dev/null || fail "peer add"
launch B
converge 30 "$C" A B
# both nodes done with the first sync and its checkpoints
settle A B
fd_a=$(fds "$PID_A")
fd_b=$(fds "$PID_B")
rss_a=$(rss "$PID_A")
rss_b=$(rss "$PID_B")

proxy P flap 500 3000
per=$((secs * 20))
"$FAULTKIT" author "$T/A" "$C" $per 20 >"$T/a.txt" 2>>"$T/author.log" &
wa=$!
"$FAULTKIT" author "$T/B" "$C" $per 20 >"$T/b.txt" 2>>"$T/author.log" &
wb=$!
PIDS="$PIDS $wa $wb"
# the writers' pauses alone take $secs s; the writes themselves may take
# twice as long again on a loaded machine
wait_for $((secs * 3 + 60)) sh -c "! kill -0 $wa 2>/dev/null && ! kill -0 $wb 2>/dev/null" ||
	fail "the writers did not end"
wait "$wa" || fail "A's writer failed"
wait "$wb" || fail "B's writer failed"
forget "$wa"
forget "$wb"
resets=$("$FAULTPROXY" ctl "$T/P.ctl" stats | sed 's/.*resets=\([0-9]*\).*/\1/')
proxy P pass
t0=$(now_ms)
wait_for 120 converged A B || bad F5 "no convergence within 120 s after the flapping stopped"
conv=$(( $(now_ms) - t0 ))

for n in A B; do
	sql $n "SELECT e.seq || ' ' || lower(hex(e.hash)) FROM entries e" |
		sort >"$T/held.txt"
	for w in a b; do
		sort "$T/$w.txt" | comm -23 - "$T/held.txt" | grep -q . &&
			bad F5 "$n lacks an entry acknowledged by the writer at $(echo $w | tr ab AB)"
	done
done

# descriptors settle once the last reset's connections are gone
stable() {
	a=$(fds "$PID_A")
	b=$(fds "$PID_B")
	[ $((a - fd_a)) -le 4 ] && [ $((fd_a - a)) -le 4 ] &&
		[ $((b - fd_b)) -le 4 ] && [ $((fd_b - b)) -le 4 ]
}
wait_for 30 stable ||
	bad F5 "descriptors: A $fd_a then $(fds "$PID_A"), B $fd_b then $(fds "$PID_B")"
grow_a=$(( $(rss "$PID_A") - rss_a ))
grow_b=$(( $(rss "$PID_B") - rss_b ))
if [ $sanitized = 0 ]; then
	[ $grow_a -lt 10240 ] || bad F5 "A's memory grew by $grow_a KiB"
	[ $grow_b -lt 10240 ] || bad F5 "B's memory grew by $grow_b KiB"
fi
halt B
halt A
for n in A B; do
	sound F5 $n
	verified $n || bad F5 "amends verify fails at $n: $(cat "$T/verify-$n.out")"
done
sanitizer_clean || bad F5 "a sanitizer report in a node's log"
result F5 "$secs s of flapping ($resets resets), $((2 * per)) entries written:" \
	"converged $(seconds $conv) s after; descriptors A $fd_a->$(echo $a)," \
	"B $fd_b->$(echo $b); memory growth A $grow_a KiB, B $grow_b KiB" \
	"$([ $sanitized = 1 ] && echo "(sanitizer build: not limited; no reports)")"
