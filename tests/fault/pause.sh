#!/bin/sh
# F7: a paused peer. B's node is stopped with SIGSTOP (its connection stays
# open but nothing answers) while A writes 1,000 entries. A must notice
# within the heartbeat timeout (15 s; the test allows 30) and keep its
# memory bounded: its peak resident size may not grow by more than 32 MiB
# (reported, not limited, under AddressSanitizer). After SIGCONT, B must
# catch up: every entry A acknowledged, the same record, verified.
#
# CI: B stays stopped until A noticed, at least 20 s. AMENDS_LONG=1: 60 s.
. "$(dirname "$0")/lib.sh"

hold=20
[ "$LONG" = 1 ] && hold=60
sanitized=0
ldd "$AMENDS" 2>/dev/null | grep -q libasan && sanitized=1

fill A B 100
launch A
am B peer add "$ID_A" "$ADDR_A" >/dev/null || fail "peer add"
launch B
converge 30 "$C" A B
# both nodes done with the first sync and its checkpoints
settle A B
hwm_before=$(hwm "$PID_A")
lost_before=$(lines A "lost")

kill -STOP "$PID_B"
t0=$(now_ms)
"$FAULTKIT" author "$T/A" "$C" 1000 >"$T/a.txt" 2>>"$T/author.log" ||
	fail "A's writer failed"
lost_after() {
	[ "$(lines A "lost")" -gt "$lost_before" ]
}
wait_for 30 lost_after || bad F7 "A did not notice B's pause within 30 s"
detect=$(( $(now_ms) - t0 ))
left=$(( hold * 1000 - ($(now_ms) - t0) ))
[ $left -gt 0 ] && sleep "$(seconds $left)"
hwm_after=$(hwm "$PID_A")
grow=$((hwm_after - hwm_before))
if [ $sanitized = 0 ] && [ $grow -gt 32768 ]; then
	bad F7 "A's peak memory grew by $grow KiB while B was stopped"
fi
converged A B && bad F7 "B's record equal to A's while it was stopped"

kill -CONT "$PID_B"
t0=$(now_ms)
wait_for 120 converged A B || bad F7 "B did not catch up within 120 s of SIGCONT"
conv=$(( $(now_ms) - t0 ))
sql B "SELECT e.seq || ' ' || lower(hex(e.hash)) FROM entries e" | sort >"$T/held.txt"
sort "$T/a.txt" | comm -23 - "$T/held.txt" | grep -q . &&
	bad F7 "B lacks an entry A acknowledged"
halt B
halt A
for n in A B; do
	sound F7 $n
	verified $n || bad F7 "amends verify fails at $n: $(cat "$T/verify-$n.out")"
done
sanitizer_clean || bad F7 "a sanitizer report in a node's log"
result F7 "B stopped $hold s while A wrote 1000 entries: detected after" \
	"$(seconds $detect) s; A peak RSS $hwm_before -> $hwm_after KiB" \
	"(+$grow); B caught up $(seconds $conv) s after SIGCONT"
