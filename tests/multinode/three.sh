#!/bin/sh
# Two parties and a witness: Sam and Alex pair, Sam invites Dr. Lee as a
# witness, who stays pending until Alex accepts too; all three converge,
# Alex's entries reaching Lee through Sam. Then Lee's node stops while the
# others write 1,000 entries, and catches up after it restarts.
. "$(dirname "$0")/lib.sh"

init sam
init alex
init lee
start sam
start alex
start lee
C=$(circle_new sam us)

step "alex joins"
am alex join --accept "$(invite sam us)" --name Sam >/dev/null || fail "alex's join"
converge 30 "$C" sam alex

step "lee joins as a witness and waits for alex"
am lee join --accept "$(invite sam us --witness)" --name Sam >"$T/lee-join.out" 2>&1 ||
	{ cat "$T/lee-join.out"; fail "lee's join"; }
grep -q "waits for 1 other member" "$T/lee-join.out" || fail "lee's join did not wait for alex"
proposal_for_alex() {
	am alex status --json | grep -o '"kind":"member","hash":"[0-9a-f]*"' |
		head -n 1 | sed 's/.*"hash":"\([0-9a-f]*\)"/\1/'
}
wait_for 30 sh -c "AMENDS_HOME='$T/alex' '$AMENDS' status --json | grep -q '\"kind\":\"member\"'" ||
	fail "alex never saw the proposal to add lee"
P=$(proposal_for_alex)
am alex accept "$P" >/dev/null || fail "alex's accept"
converge 30 "$C" sam alex lee
am lee circles --json | grep -q '"you":"witness"' || fail "lee is not a witness"
am sam circles --json | grep -o '"status":"joined"' | wc -l | grep -q 3 ||
	fail "sam does not show three joined members"

step "an entry from alex reaches lee through sam"
am alex say us "thank you both" >/dev/null || fail "say"
converge 30 "$C" sam alex lee

step "lee's node stops; sam and alex write 1,000 entries"
stop lee
"$AUTHOR" "$T/sam" "$C" 500 || fail "sam's entries"
"$AUTHOR" "$T/alex" "$C" 500 || fail "alex's entries"
converge 60 "$C" sam alex
same "$C" sam lee && fail "lee's stopped node changed"

step "lee's node restarts and catches up"
start lee
converge 60 "$C" sam alex lee
intact lee
echo "MN-THREE: pass"
