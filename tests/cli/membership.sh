#!/bin/sh
# Membership that ends, through the real binary and bundles: the verbs of
# amends circle, renaming, withdrawing a member proposal, a removal that
# needs the other member, and leaving.
# Each command prints one sentence, and every view shows who left and the
# circle's new name.
set -u
amends=$1
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
export TZ=UTC
export AMENDS_NOW=2026-03-01T09:00:00Z
fails=0
fail() { echo "FAIL: $*"; fails=$((fails + 1)); }

am() {
	who=$1
	shift
	AMENDS_HOME="$dir/$who" "$amends" "$@"
}
share() {
	am "$1" export -o "$dir/$1.bundle" >/dev/null || fail "export by $1"
	for other in sam alex lee; do
		[ "$other" = "$1" ] && continue
		am "$other" import "$dir/$1.bundle" >/dev/null 2>&1
	done
}
idof() { am "$1" id --json | sed 's/^{"id":"\([^"]*\)".*/\1/'; }
hash8() { sed -n 's/.*(\([0-9a-f]\{8\}\)).*/\1/p' | tail -n 1; }
joined() { am "$1" circles --json | grep -o '"status":"joined"' | wc -l | tr -d ' '; }

for who in sam alex lee kim; do
	am "$who" init --name "$who" >/dev/null || fail "init $who"
done
SAM=$(idof sam)
ALEX=$(idof alex)
LEE=$(idof lee)
KIM=$(idof kim)
for who in sam alex lee; do
	for pair in sam:$SAM alex:$ALEX lee:$LEE kim:$KIM; do
		[ "${pair%%:*}" = "$who" ] && continue
		am "$who" name "${pair#*:}" "${pair%%:*}" >/dev/null
	done
done

# ---- the verbs ----
if am sam circle >/dev/null 2>"$dir/err"; then fail "circle without a verb succeeded"; fi
for verb in new add leave remove rename; do
	grep -q "amends circle $verb" "$dir/err" || fail "the usage does not list $verb"
done

# ---- three members ----
am sam circle new us >/dev/null || fail "circle new"
am sam circle add us alex >/dev/null || fail "add alex"
am sam circle add us lee >/dev/null || fail "add lee"
share sam
round=0
while [ "$round" -lt 5 ] && [ "$(joined sam)" -lt 3 ]; do
	round=$((round + 1))
	for who in alex lee sam; do
		for h in $(am "$who" status --json |
		    grep -o '"kind":"member","hash":"[0-9a-f]*"' | sed 's/.*:"//; s/"$//'); do
			am "$who" accept "$h" >/dev/null || fail "$who accepts $h"
		done
		share "$who"
	done
done
[ "$(joined sam)" = 3 ] || fail "not everyone joined: $(am sam circles)"

# ---- rename ----
out=$(am sam circle rename us "the three of us") || fail "rename"
echo "$out" | grep -q "is now called 'the three of us'" || fail "rename said: $out"
share sam
am alex circles | grep -q "^the three of us" || fail "alex does not see the new name: $(am alex circles)"
am alex status | grep -q "the three of us" || fail "status does not show the new name"
out=$(am alex circle rename "the three of us" "us again") || fail "a second rename"
share alex
am sam circles | grep -q "^us again" || fail "sam does not see the second name: $(am sam circles)"

# ---- withdraw a member proposal ----
P=$(am sam circle add "us again" kim | hash8)
share sam
out=$(am alex withdraw "$P" 2>&1) && fail "alex withdrew sam's proposal"
echo "$out" | grep -q "only what you proposed" || fail "withdraw by another said: $out"
out=$(am sam withdraw "$P") || fail "withdraw"
echo "$out" | grep -q "^withdrew" || fail "withdraw said: $out"
share sam

# ---- remove lee ----
out=$(am sam circle remove "us again" sam 2>&1) && fail "sam removed himself"
echo "$out" | grep -q "amends circle leave" || fail "removing oneself said: $out"
# sam invited kim (the proposal he withdrew): his removal needs her too,
# as his member proposals would (protocol/state.md, "Removal")
R1=$(am sam circle remove "us again" lee | hash8)
[ -n "$R1" ] || fail "the removal printed no hash"
am sam status | grep -q "removals awaiting acceptance" || fail "sam's status lists no removal"
am sam status | grep "$R1" | grep "waiting for" | grep kim | grep -q alex || fail "sam's removal does not wait for kim and alex: $(am sam status)"
am sam withdraw "$R1" >/dev/null || fail "sam withdraws his removal"
am sam status | grep -q "$R1" && fail "a withdrawn removal is still listed"
share sam
# alex never knew of kim: his removal needs sam only
R=$(am alex circle remove "us again" lee --reason "it is over" | hash8)
am alex status | grep "$R" | grep -q "waiting for sam$" || fail "alex's removal does not wait for sam: $(am alex status)"
share alex
am lee status | grep "$R" | grep -q "proposes removing you" || fail "lee is not told: $(am lee status)"
am sam status --json | grep -q "\"kind\":\"removal\",\"hash\":\"$R" || fail "sam is not asked: $(am sam status)"
out=$(am lee accept "$R" 2>&1) && fail "lee answered his own removal"
echo "$out" | grep -q "removal is of you" || fail "lee's answer said: $out"
# until sam accepts, lee is a member and what he writes counts
am lee say "us again" "before" >/dev/null || fail "lee wrote before the removal took effect"
share lee
out=$(am sam accept "$R" 2>&1) || fail "sam accepts the removal: $out"
echo "$out" | grep -q "^accepted the removal ($R) of lee$" || fail "the accept said: $out"
echo "$out" | grep -q "lee is removed from the circle: .* what they already hold stays with them" ||
	fail "the accept does not say lee is removed: $out"
share sam
am alex circles | grep -q "  lee .*(removed)$" || fail "alex's circles do not show lee removed: $(am alex circles)"
am alex circles --json | grep -q '"status":"removed"' || fail "alex's JSON does not show lee removed"
am alex status | grep -q "removals awaiting acceptance" && fail "the removal is still listed as open"
am lee circles | grep -q "you: removed" || fail "lee's circles do not say he was removed: $(am lee circles)"
out=$(am lee say "us again" "after" 2>&1) && fail "lee wrote after his removal"
echo "$out" | grep -q "you were removed" || fail "lee's refusal said: $out"
out=$(am sam circle remove "us again" alex 2>&1) && fail "a removal with nobody left to accept it was written"
echo "$out" | grep -q "leave the circle instead" || fail "a removal in a circle of two said: $out"

# ---- alex leaves ----
out=$(am alex circle leave "us again") || fail "leave"
echo "$out" | grep -q "what you already hold stays with you" || fail "leave said: $out"
share alex
am sam circles | grep -q "  alex .*(left)$" || fail "sam's circles do not show alex left: $(am sam circles)"
am sam circles --json | grep -q '"status":"left"' || fail "sam's JSON does not show alex left"
[ "$(joined sam)" = 1 ] || fail "sam counts $(joined sam) joined members"
am sam verify >/dev/null || fail "verify after leave and removal"

[ "$fails" = 0 ] || exit 1
echo "membership: ok"
