#!/bin/sh
# A peer that goes away right after its ACK: the node must take the ACK as
# the answer to its PUSH and log the peer lost once, not log it connected
# again for an ACK read after the connection that brought it was seen to
# close (nor refuse that ACK as unsolicited, in a session started for it).
#
# Mallory is a member whose node is the hostile test peer
# (tests/hostile/hostile.c, case ack-and-go): it connects, shows its heads,
# has a statement written into Sam's store (as a command would), waits for
# Sam's node to PUSH it, then sends a run of 200 entries of its own (Sam's
# node is busy storing them while the rest arrives), the ACK, and closes at
# once: the ACK and the closing wait for Sam's node together. Once Sam's
# log says mallory was lost, it comes again, TRIES times in all. Sam's log
# must then say, for mallory, "connected" and "lost" in turn, TRIES times
# each, and no refused message.
#
#   sh lastack.sh AMENDS AUTHOR HOSTILE
. "$(dirname "$0")/lib.sh"

HOSTILE=${3:?usage: sh lastack.sh AMENDS AUTHOR HOSTILE}
TRIES=10

init sam
init mallory
start sam
C=$(circle_new sam us)
[ -n "$C" ] || fail "no circle"
am mallory join --accept "$(invite sam us)" --name Sam >"$T/join.out" 2>&1 ||
	{ cat "$T/join.out"; fail "mallory's join"; }
am sam name "$(id_of mallory)" mallory >/dev/null || fail "name"
wait_for 30 log_has sam "joined circle" || fail "mallory did not join"
lines=$(wc -l <"$T/sam.log")

# said: sam's log about mallory since the tries began, without time stamps
said() {
	tail -n "+$((lines + 1))" "$T/sam.log" | cut -d' ' -f2- | grep "mallory"
}
gone() {
	[ "$(said | grep -c "peer mallory.* lost")" -ge "$1" ]
}

step "mallory acknowledges a push and leaves, $TRIES times"
# (not i: wait_for counts with it)
try=0
while [ $try -lt "$TRIES" ]; do
	try=$((try + 1))
	timeout 120 "$HOSTILE" "$T/mallory" "$ADDR_sam" "$(id_of sam)" \
		ack-and-go "$C" "$T/sam" 1 >"$T/case.out" 2>&1 ||
		{ cat "$T/case.out"; fail "try $try, the peer's side: $(tail -n 1 "$T/case.out")"; }
	wait_for 30 gone "$try" ||
		{ said; fail "sam's node did not see mallory leave (try $try)"; }
done
said >"$T/said"
connected=$(grep -c "peer mallory.* connected" "$T/said")
lost=$(grep -c "peer mallory.* lost" "$T/said")
refused=$(grep -c "refused a message from mallory" "$T/said")
# the lines alternate: connected, lost, connected, lost...
order=$(grep -o "peer mallory.* \(connected\|lost\)" "$T/said" |
	sed 's/.* //' | tr '\n' ' ')
want=
try=0
while [ $try -lt "$TRIES" ]; do
	want="${want}connected lost "
	try=$((try + 1))
done
if [ "$connected" -ne "$TRIES" ] || [ "$lost" -ne "$TRIES" ] ||
    [ "$refused" -ne 0 ] || [ "$order" != "$want" ]; then
	sed 's/^/    | /' "$T/said"
	fail "mallory connected $connected and lost $lost times for $TRIES" \
		"connections, $refused messages refused"
fi
stop sam
intact sam
echo "MN-LASTACK: pass $TRIES ACKs taken, each right before the peer left;" \
	"$connected connected, $lost lost, 0 refused"
