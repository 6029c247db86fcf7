#!/bin/sh
# A stale copy's first seconds (issue 22): while a node runs on the data
# directory and has not compared its record with any peer since it
# started, commands that write an entry refuse, saying why; they write
# again once it has. With the node stopped, writing offline stays
# allowed; a node that knows no peer at all never makes its user wait.
. "$(dirname "$0")/lib.sh"

init sam
init alex
start sam
start alex
C=$(circle_new sam us)
am alex join --accept "$(invite sam us)" --name Sam >/dev/null || fail "alex's join"
converge 30 "$C" sam alex
am sam say us "while in step" >/dev/null || fail "a write with the node in step"
converge 30 "$C" sam alex
addr_alex=$ADDR_alex
addr_sam=$ADDR_sam     # where alex's node dials sam

step "sam's node restarts while its only peer is down: writes refused"
stop alex
stop sam
start sam "$addr_sam"
if am sam say us "too early" 2>"$T/early.err"; then
	fail "a write went through before the node compared with a peer"
fi
grep -q "the node started [0-9]*s ago and has not compared with a peer yet" \
	"$T/early.err" || fail "no clear refusal: $(cat "$T/early.err")"
grep -q "stop the node to write offline" "$T/early.err" ||
	fail "the refusal does not say the way out: $(cat "$T/early.err")"
holds_text sam "too early" && fail "the refused statement was stored"
am sam name --self Samuel >"$T/name.out" 2>&1 || fail "name --self: $(cat "$T/name.out")"
grep -q "once it has compared" "$T/name.out" || fail "name --self says: $(cat "$T/name.out")"

step "with the node stopped, writing offline is allowed"
stop sam
am sam say us "offline" >/dev/null || fail "an offline write was refused"

step "the peer comes back: writes go through once the node has compared"
start sam "$addr_sam"
if am sam say us "still early" 2>/dev/null; then
	fail "a write went through before the node compared (second start)"
fi
start alex "$addr_alex"
wait_for 60 sh -c "AMENDS_HOME='$T/sam' '$AMENDS' say us 'after the comparison' >/dev/null 2>&1" ||
	fail "sam could not write after the node compared with alex"
converge 60 "$C" sam alex
holds_text alex "after the comparison" || fail "alex lacks the statement"
holds_text alex "offline" || fail "alex lacks the offline statement"

step "a node that knows no peer never makes its user wait"
init lee
start lee
circle_new lee solo >/dev/null
am lee say solo "alone" >/dev/null || fail "a node alone refused a write"
for n in sam alex; do
	[ "$(sqlite3 "$T/$n/amends.db" "SELECT count(*) FROM forks")" = 0 ] ||
		fail "a fork at $n"
	intact "$n"
done
echo "$TESTID: pass"
