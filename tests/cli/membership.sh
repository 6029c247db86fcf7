#!/bin/sh
# Membership that ends, through the real binary and bundles: the verbs of
# amends circle, renaming, withdrawing a member proposal, a removal that
# is refused for now (the state has no removal rules yet), and leaving.
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

# ---- remove: refused until the state's removal rules exist ----
out=$(am sam circle remove "us again" lee 2>&1) && fail "a removal was written"
echo "$out" | grep -q "no effect under these rules yet" || fail "remove said: $out"

# ---- alex leaves ----
out=$(am alex circle leave "us again") || fail "leave"
echo "$out" | grep -q "what you already hold stays with you" || fail "leave said: $out"
share alex
am sam circles | grep -q "  alex .*(left)$" || fail "sam's circles do not show alex left: $(am sam circles)"
am sam circles --json | grep -q '"status":"left"' || fail "sam's JSON does not show alex left"
[ "$(joined sam)" = 2 ] || fail "sam counts $(joined sam) joined members"
am sam verify >/dev/null || fail "verify after leave and removal"

[ "$fails" = 0 ] || exit 1
echo "membership: ok"
