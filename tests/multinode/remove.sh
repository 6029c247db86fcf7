#!/bin/sh
# Removal. Lee's client, modified, writes a removal of Sam that asks
# nobody: it takes no effect on any node, and Sam is still served. Then
# Sam, one of three members, proposes removing Lee; it takes
# effect only once Alex, the other member, accepts it. Until then Lee's
# node is served like any member's; from then on nothing Sam and Alex
# write reaches Lee's node, every member's node agrees on the record and
# shows Lee as removed, and what Lee held before stays in Lee's database.
. "$(dirname "$0")/lib.sh"
CRAFT=${3:?usage: sh remove.sh AMENDS AUTHOR CRAFT}

three_members

step "sam writes before the removal"
am sam say us "before the removal" >/dev/null || fail "say before"
converge 30 "$C" sam alex lee
holds_text lee "before the removal" || fail "lee did not receive the entry before the removal"

step "lee alone cannot remove sam"
SAMKEY=$(am sam id --json | sed 's/.*"key":"\([0-9a-f]*\)".*/\1/')
"$CRAFT" "$T/lee" "$C" "$(date +%s)000" --remove "$SAMKEY" >"$T/out" 2>&1 ||
	{ cat "$T/out"; fail "lee's client could not write its removal"; }
converge 30 "$C" sam alex lee
for n in sam alex lee; do
	[ "$(joined_count "$n")" = 3 ] || fail "$n counts $(joined_count "$n") joined members after lee's lone removal"
done
am alex status | grep -qi "lee proposes removing sam.*waiting for alex" ||
	{ am alex status; fail "alex is not shown lee's removal of sam as waiting for him"; }
am alex say us "after lee's lone removal" >/dev/null || fail "say after the lone removal"
converge 30 "$C" sam alex lee
holds_text sam "after lee's lone removal" || fail "sam was cut off by lee alone"

step "sam proposes removing lee: it waits for alex"
am sam circle remove us lee --reason "it is over" >"$T/out" 2>&1 || { cat "$T/out"; fail "remove"; }
R=$(sed -n 's/.*(\([0-9a-f]\{8\}\)).*/\1/p' "$T/out" | head -n 1)
[ -n "$R" ] || { cat "$T/out"; fail "the removal printed no hash"; }
grep -q "stays with them" "$T/out" || { cat "$T/out"; fail "remove does not say what stays"; }
converge 30 "$C" sam alex lee
am lee status | grep "$R" | grep -q "proposes removing you" ||
	{ am lee status; fail "lee is not told of the removal proposed"; }
[ "$(joined_count alex)" = 3 ] || fail "the removal took effect before alex accepted"
# not yet in effect: what sam writes still reaches lee
am sam say us "while it waits" >/dev/null || fail "say while it waits"
converge 30 "$C" sam alex lee
holds_text lee "while it waits" || fail "lee was cut off before the removal took effect"

step "alex accepts: lee is removed"
am alex accept "$R" >"$T/out" 2>&1 || { cat "$T/out"; fail "alex accepts"; }
converge 30 "$C" sam alex
for n in sam alex; do
	wait_for 30 sh -c "AMENDS_HOME='$T/$n' '$AMENDS' circles --json | grep -q '\"status\":\"removed\"'" ||
		fail "$n does not show lee as removed"
	[ "$(joined_count "$n")" = 2 ] || fail "$n still counts three joined members"
done
am sam circles | grep -q "  lee .*(removed)$" || { am sam circles; fail "the text view does not mark lee as removed"; }

step "what sam and alex write now does not reach lee"
am sam say us "sam after the removal" >/dev/null || fail "say after (sam)"
am alex say us "alex after the removal" >/dev/null || fail "say after (alex)"
converge 30 "$C" sam alex
holds_text alex "sam after the removal" || fail "alex lacks sam's entry"
holds_text sam "alex after the removal" || fail "sam lacks alex's entry"
# lee's node is up and dials the others: were it served, the push would
# arrive within a second or two
wait_for 8 holds_text lee "after the removal" && fail "lee received an entry written after the removal"
holds_text lee "before the removal" || fail "lee lost what it held"
intact lee
intact sam
echo "MN-REMOVE: pass"
