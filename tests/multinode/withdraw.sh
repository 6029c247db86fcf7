#!/bin/sh
# Withdrawing: Sam takes back a member proposal and a version before they
# complete, and no later acceptance completes them. Then the race: Alex
# accepts a version while Sam, offline from Alex, withdraws it; once they
# meet, completion wins on every node. After each step every node holds
# the same record.
. "$(dirname "$0")/lib.sh"

three_members
init kim
KIM=$(id_of kim)

step "sam withdraws a member proposal before it completes"
am sam circle add us "$KIM" >"$T/out" 2>&1 || { cat "$T/out"; fail "circle add"; }
P=$(grep -o "amends accept [0-9a-f]*" "$T/out" | sed 's/amends accept //')
converge 30 "$C" sam alex lee
am alex withdraw "$P" >"$T/out" 2>&1 && fail "alex withdrew sam's proposal"
grep -q "only what you proposed" "$T/out" || { cat "$T/out"; fail "no sentence for another's proposal"; }
am sam withdraw "$P" >"$T/out" 2>&1 || { cat "$T/out"; fail "withdraw the member proposal"; }
grep -q "^withdrew" "$T/out" || { cat "$T/out"; fail "no sentence for the withdrawal"; }
converge 30 "$C" sam alex lee
am alex accept "$P" >/dev/null 2>&1
am lee accept "$P" >/dev/null 2>&1
converge 30 "$C" sam alex lee
for n in sam alex lee; do
	[ "$(joined_count "$n")" = 3 ] || fail "$n counts a withdrawn newcomer as joined"
done

step "sam withdraws a version before it completes"
am sam propose us --title "Weekly walk" --text "we walk on sundays" >"$T/out" 2>&1 ||
	{ cat "$T/out"; fail "propose"; }
V=$(grep -o "agreement [0-9a-f]*" "$T/out" | head -n 1 | sed 's/agreement //')
converge 30 "$C" sam alex lee
am alex accept "$V" >/dev/null || fail "alex's accept of the version"
am sam withdraw "$V" >"$T/out" 2>&1 || { cat "$T/out"; fail "withdraw the version"; }
converge 30 "$C" sam alex lee
am lee accept "$V" >/dev/null 2>&1
converge 30 "$C" sam alex lee
for n in sam alex lee; do
	am "$n" list | grep "Weekly walk" | grep -q "in force" && fail "$n has a withdrawn version in force"
	am "$n" show "$V" | grep -q "withdrawn (its author declined it" ||
		{ am "$n" show "$V"; fail "$n's show does not say the version was withdrawn"; }
done

step "completion wins: alex accepts while sam withdraws, apart"
am sam propose us --title "Call on fridays" --party "$(id_of alex)" --party "$(id_of sam)" \
	>"$T/out" 2>&1 || { cat "$T/out"; fail "propose"; }
W=$(grep -o "agreement [0-9a-f]*" "$T/out" | head -n 1 | sed 's/agreement //')
converge 30 "$C" sam alex lee
stop sam
stop alex
am alex accept "$W" >/dev/null || fail "alex's accept, offline"
am sam withdraw "$W" >"$T/out" 2>&1 || { cat "$T/out"; fail "sam's withdrawal, offline"; }
start sam "$ADDR_sam"
start alex "$ADDR_alex"
converge 60 "$C" sam alex lee
for n in sam alex lee; do
	am "$n" list | grep "Call on fridays" | grep -q "in force" ||
		{ am "$n" list; fail "$n does not hold the completed version in force"; }
done
echo "MN-WITHDRAW: pass"
