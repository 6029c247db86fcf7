#!/bin/sh
# Leaving: Lee, one of three members, leaves the circle. The LEAVE reaches
# Sam and Alex, every node agrees on the record, Lee shows as departed,
# and nothing Sam and Alex write afterwards reaches Lee's node; what Lee
# held before stays in Lee's database.
. "$(dirname "$0")/lib.sh"

three_members

step "sam writes before lee leaves"
am sam say us "before lee left" >/dev/null || fail "say before"
converge 30 "$C" sam alex lee
holds_text lee "before lee left" || fail "lee did not receive the entry before leaving"

step "lee leaves"
am lee circle leave us --reason "moving on" >"$T/out" 2>&1 || { cat "$T/out"; fail "leave"; }
grep -q "what you already hold stays with you" "$T/out" ||
	{ cat "$T/out"; fail "the leave does not say what stays"; }
converge 30 "$C" sam alex lee
for n in sam alex; do
	wait_for 30 sh -c "AMENDS_HOME='$T/$n' '$AMENDS' circles --json | grep -q '\"status\":\"left\"'" ||
		fail "$n does not show lee as departed"
	[ "$(joined_count "$n")" = 2 ] || fail "$n still counts three joined members"
done
am sam circles | grep -q "  lee .*(left)$" || { am sam circles; fail "the text view does not mark lee as departed"; }

step "what sam and alex write now does not reach lee"
am sam say us "sam after lee left" >/dev/null || fail "say after (sam)"
am alex say us "alex after lee left" >/dev/null || fail "say after (alex)"
converge 30 "$C" sam alex
holds_text alex "sam after lee left" || fail "alex lacks sam's entry"
# lee's node is up and connected to sam's: were it served, the push
# would arrive within a second or two
wait_for 8 holds_text lee "after lee left" && fail "lee received an entry written after leaving"
holds_text lee "before lee left" || fail "lee lost what it held"
log_has sam "left" || true
intact lee
echo "MN-LEAVE: pass"
