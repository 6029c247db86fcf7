#!/bin/sh
# A stranger cannot complete a handshake: a node whose key shares no
# circle with Sam's is refused by Sam's ZAP handler (both sides log it) and
# receives nothing. And a node pinning the wrong key for an address (Alex's
# ID at Sam's address) fails its handshake: nobody can pose as a member.
. "$(dirname "$0")/lib.sh"

init sam
init alex
init eve
start sam
start alex
start eve
C=$(circle_new sam us)
am alex join --accept "$(invite sam us)" --name Sam >/dev/null || fail "alex's join"
converge 30 "$C" sam alex

step "eve points her node at sam's"
# eve's node only connects to members of her circles: make sam one of a
# circle of hers, which sam's node knows nothing of
E=$(circle_new eve mine)
am eve circle add mine "$(id_of sam)" >/dev/null || fail "eve's proposal"
am eve peer add "$(id_of sam)" "$ADDR_sam" >/dev/null || fail "eve's peer add"
wait_for 30 log_has sam "refused key" || fail "sam's node did not log the refusal"
wait_for 30 log_has eve "handshake with .* failed: the peer refused our key" ||
	fail "eve's node did not see the refusal"
log_has eve "connected (" && fail "eve's node connected to sam's"
[ "$(feeds eve "$C")" = 0 ] || fail "eve received entries of sam's circle"
[ "$(feeds sam "$E")" = 0 ] || fail "sam received entries of eve's circle"

step "a node pinning the wrong key for sam's address fails"
init mallory
start mallory
# mallory is in a circle with alex, and claims alex lives at sam's address
M=$(circle_new mallory trap)
am mallory circle add trap "$(id_of alex)" >/dev/null || fail "mallory's proposal"
am mallory peer add "$(id_of alex)" "$ADDR_sam" >/dev/null || fail "mallory's peer add"
wait_for 30 log_has mallory "handshake with .* failed" ||
	fail "mallory's node did not fail its handshake"
log_has mallory "connected (" && fail "mallory's node connected"
[ "$(feeds mallory "$C")" = 0 ] || fail "mallory received entries"
# checkpoints written while mallory knocked may still be crossing
wait_for 30 same "$C" sam alex || fail "sam and alex no longer agree"
echo "MN-STRANGER: pass"
