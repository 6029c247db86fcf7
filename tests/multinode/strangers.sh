#!/bin/sh
# Strangers cannot flood the node's log: 5 s of connections with fresh
# CurveZMQ keys and 5 s of connections with no security at all add at
# most one minute's budget of lines about them (20) per minute they span,
# and a line that counts the rest; meanwhile an honest member still gets
# sam's writes. Prints the figures.
#   strangers.sh AMENDS AUTHOR STRANGERS
STRANGERS=${3:?usage: sh strangers.sh AMENDS AUTHOR STRANGERS}
. "$(dirname "$0")/lib.sh"

init sam
init alex
start sam
start alex
C=$(circle_new sam us)
am alex join --accept "$(invite sam us)" --name Sam >/dev/null || fail "alex's join"
converge 30 "$C" sam alex
SAM_ID=$(id_of sam)

step "5 s of fresh keys, then 5 s of NULL greetings, while sam writes"
lines0=$(wc -l <"$T/sam.log")
"$STRANGERS" "$ADDR_sam" "$SAM_ID" 5 curve >"$T/curve.out" 2>&1 &
k1=$!
"$AUTHOR" "$T/sam" "$C" 5 >/dev/null || fail "sam writes"
converge 60 "$C" sam alex
wait "$k1" || fail "strangers (curve): $(cat "$T/curve.out")"
"$STRANGERS" "$ADDR_sam" "$SAM_ID" 5 null >"$T/null.out" 2>&1 ||
	fail "strangers (null): $(cat "$T/null.out")"
"$AUTHOR" "$T/sam" "$C" 5 >/dev/null || fail "sam writes again"
converge 60 "$C" sam alex
kill -0 "$PID_sam" 2>/dev/null || fail "sam's node died"

step "the rest is counted in one line within the minute"
wait_for 90 log_has sam "more connections and messages from outside the circles in the last minute" ||
	fail "no summary line: $(tail -n 5 "$T/sam.log")"
lines=$(($(wc -l <"$T/sam.log") - lines0))
about=$(tail -n +"$((lines0 + 1))" "$T/sam.log" |
	grep -c "refused key\|refused a connection\|from outside the circles")
# two minutes of budget at most (the knocking may span a minute's turn),
# and their two summaries
[ "$about" -le 42 ] || fail "$about lines about strangers"
knocked=$(($(sed -n 's/^knocked \([0-9]*\).*/\1/p' "$T/curve.out") + \
	$(sed -n 's/^knocked \([0-9]*\).*/\1/p' "$T/null.out")))
[ "$knocked" -gt 42 ] || fail "only $knocked knocks: the budget was never tested"
echo "MN-STRANGERS: pass ($knocked connections by strangers in 10 s added $about lines about them, $lines in all; $(grep "from outside the circles" "$T/sam.log" | tail -n 1 | cut -d' ' -f2-))"
