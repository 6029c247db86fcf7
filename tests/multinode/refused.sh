#!/bin/sh
# A needed member refuses a stranger. Sam's invite code leaks to Eve, who
# joins with it: Sam's node proposes her on its own. Alex, whose consent
# her admission needs, declines ("I do not know this person"): his first
# answer to the proposal is a refusal (protocol/state.md, "Membership"),
# even when he accepts it afterwards. Eve is then neither a member nor
# pending on any node, the nodes of Sam and Alex refuse her key, and what
# they write afterwards never reaches her node, which keeps running.
. "$(dirname "$0")/lib.sh"

# entries NAME CIRCLE-ID: how many entries of the circle NAME's store holds
entries() {
	sqlite3 "$T/$1/amends.db" "SELECT count(*) FROM entries e JOIN feeds f
		ON f.id = e.feed WHERE hex(f.circle) = upper('$2')"
}

# eve_listed NAME: NAME's node lists Eve among the circle's members
eve_listed() {
	am "$1" circles --json | grep -q "\"id\":\"$EVE\""
}

init sam
init alex
init eve
start sam
start alex
start eve
C=$(circle_new sam us)
am alex join --accept "$(invite sam us)" --name Sam >/dev/null || fail "alex's join"
converge 30 "$C" sam alex
EVE=$(id_of eve)

step "eve joins with a leaked code; her admission waits for alex"
am eve join --accept "$(invite sam us)" --name Sam >"$T/eve-join.out" 2>&1 ||
	{ cat "$T/eve-join.out"; fail "eve's join"; }
grep -q "waits for 1 other member" "$T/eve-join.out" || fail "eve's join did not wait for alex"
wait_for 30 sh -c "AMENDS_HOME='$T/alex' '$AMENDS' status --json | grep -q '\"kind\":\"member\"'" ||
	fail "alex never saw the proposal to add eve"
P=$(am alex status --json | grep -o '"kind":"member","hash":"[0-9a-f]*"' |
	head -n 1 | sed 's/.*"hash":"\([0-9a-f]*\)"/\1/')

step "alex declines her, then accepts: the first answer stands"
am alex decline "$P" --reason "I do not know this person" >/dev/null ||
	fail "alex's decline"
if am alex accept "$P" >"$T/accept.out" 2>&1; then
	fail "alex could accept a proposal he had refused"
fi
grep -q "first answer is final" "$T/accept.out" ||
	fail "no clear refusal of the late accept: $(cat "$T/accept.out")"
converge 30 "$C" sam alex
wait_for 30 sh -c "! AMENDS_HOME='$T/sam' '$AMENDS' circles --json | grep -q '\"id\":\"$EVE\"'" ||
	fail "sam's node still lists eve"
eve_listed alex && fail "alex's node still lists eve"

step "sam and alex write; nothing reaches eve"
before=$(entries eve "$C")
am sam say us "just the two of us" >/dev/null || fail "sam's statement"
"$AUTHOR" "$T/alex" "$C" 50 || fail "alex's entries"
converge 30 "$C" sam alex
after_sam=$(entries sam "$C")
# eve's node knows only sam's address (from the code), and sam's node
# refuses her key at the handshake: nothing can come to her
wait_for 30 log_has sam "refused key" || fail "sam's node did not refuse eve's key"
log_has eve "connected (" && fail "eve's node connected to sam's"
after=$(entries eve "$C")
[ "$after" = "$before" ] ||
	fail "eve's node holds $after entries of the circle, $before before the refusal"
[ "$after" -lt "$after_sam" ] || fail "eve holds as much as sam ($after)"
intact eve
echo "MN-REFUSED: pass (eve holds $after entries, sam $after_sam)"
