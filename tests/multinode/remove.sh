#!/bin/sh
# Removal: Sam proposes removing Lee; it needs Alex's acceptance too, and
# until then Lee is a member and still receives the record. Once Alex
# accepts, the removal takes effect on every node, the digests agree, and
# nothing written afterwards reaches Lee's node.
. "$(dirname "$0")/lib.sh"

three_members
LEE=$(id_of lee)

step "sam proposes removing lee"
am sam circle remove us "$LEE" --reason "we agreed" >"$T/out" 2>&1 || { cat "$T/out"; fail "remove"; }
grep -q "already holds stays with them" "$T/out" ||
	{ cat "$T/out"; fail "the removal does not say what stays"; }
wait_for 30 awaits alex remove || fail "alex never saw the removal"
R=$(awaiting alex remove)

step "until alex accepts, lee is a member"
[ "$(joined_count sam)" = 3 ] || fail "the removal took effect with sam's word alone"
am sam say us "while the removal waits" >/dev/null || fail "say while waiting"
converge 30 "$C" sam alex lee
holds_text lee "while the removal waits" || fail "lee missed an entry before the removal took effect"

step "alex accepts: lee is removed"
am alex accept "$R" >"$T/out" 2>&1 || { cat "$T/out"; fail "alex's accept"; }
for n in sam alex; do
	wait_for 30 sh -c "AMENDS_HOME='$T/$n' '$AMENDS' circles --json | grep -q '\"status\":\"removed\"'" ||
		fail "$n does not show lee as removed"
done
converge 30 "$C" sam alex
am sam circles | grep -q "lee (removed)" || { am sam circles; fail "the text view does not mark lee as removed"; }

step "what sam and alex write now does not reach lee"
am sam say us "sam after the removal" >/dev/null || fail "say after (sam)"
am alex say us "alex after the removal" >/dev/null || fail "say after (alex)"
converge 30 "$C" sam alex
holds_text alex "sam after the removal" || fail "alex lacks sam's entry"
wait_for 8 holds_text lee "after the removal" && fail "lee received an entry written after the removal"
holds_text lee "while the removal waits" || fail "lee lost what it held"

step "what lee writes now does not count"
am lee say us "lee after the removal" >/dev/null 2>&1 || true
converge 30 "$C" sam alex
am sam log us 2>/dev/null | grep -q "lee after the removal" && fail "sam counts lee's entry after the removal"
intact lee
echo "MN-REMOVE: pass"
