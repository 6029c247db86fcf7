#!/bin/sh
# Key rotation through the real binary and bundles (issue 24): a plain
# rotation (the old key writes each succession, the new key accepts it,
# the others accept), and a succession written by a member for someone
# whose key is lost, with a decline that refuses it for good.
set -u
amends=$1
dir=$(mktemp -d)
trap '[ -n "${KEEP:-}" ] && echo "kept $dir" || rm -rf "$dir"' EXIT
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
	for other in ${PEOPLE:-sam alex lee}; do
		[ "$other" = "$1" ] && continue
		am "$other" import "$dir/$1.bundle" >/dev/null 2>&1
	done
}
idof() { am "$1" id --json | sed 's/^{"id":"\([^"]*\)".*/\1/'; }
hash8() { sed -n 's/.*(\([0-9a-f]\{8\}\)).*/\1/p' | tail -n 1; }
joined() { am "$1" circles --json | grep -o '"status":"joined"' | wc -l | tr -d ' '; }

for who in sam alex lee; do
	am "$who" init --name "$who" >/dev/null || fail "init $who"
done
SAM=$(idof sam)
ALEX=$(idof alex)
LEE=$(idof lee)
for who in sam alex lee; do
	for pair in sam:$SAM alex:$ALEX lee:$LEE; do
		[ "${pair%%:*}" = "$who" ] && continue
		am "$who" name "${pair#*:}" "${pair%%:*}" >/dev/null
	done
done
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

# ---- a plain rotation ----
if am sam key rotate </dev/null >/dev/null 2>"$dir/err"; then
	fail "a rotation without --yes and without a terminal went on"
fi
grep -q -- "--yes" "$dir/err" || fail "the refusal does not name --yes: $(cat "$dir/err")"
[ -e "$dir/sam/id.next.key" ] && fail "a refused rotation made a key"
am sam key rotate --yes >"$dir/rot.out" 2>&1 || fail "rotate: $(cat "$dir/rot.out")"
grep -q "made the new key" "$dir/rot.out" || fail "rotate said: $(cat "$dir/rot.out")"
grep -q "wrote the succession" "$dir/rot.out" || fail "no succession written: $(cat "$dir/rot.out")"
grep -q "the new key accepted it" "$dir/rot.out" || fail "the new key did not accept: $(cat "$dir/rot.out")"
grep "waits for" "$dir/rot.out" | grep alex | grep -q lee || fail "whom it waits for: $(cat "$dir/rot.out")"
[ "$(stat -c %a "$dir/sam/id.next.key")" = 600 ] || fail "the new key file is not 0600"
NEW=$(grep -o 'new key am[a-z0-9]*' "$dir/rot.out" | head -n 1 | sed 's/new key //')
[ ${#NEW} = 58 ] || fail "no new ID printed: $(cat "$dir/rot.out")"
am sam id | grep -q "^new key: *$NEW" || fail "id does not show the new key: $(am sam id)"
am sam id --json | grep -q "\"next\":\"$NEW\"" || fail "id --json does not show the new key"
# again: the same key, nothing written twice
am sam key rotate --yes >"$dir/rot2.out" 2>&1 || fail "rotate again: $(cat "$dir/rot2.out")"
grep -q "resuming the rotation to the new key $NEW" "$dir/rot2.out" || fail "a second key? $(cat "$dir/rot2.out")"
grep -q "wrote the succession" "$dir/rot2.out" && fail "a second succession was written"
[ "$(ls "$dir/sam" | grep -c 'key$')" = 2 ] || fail "key files: $(ls "$dir/sam")"
share sam
S=$(am alex status --json | grep -o '"kind":"succession","hash":"[0-9a-f]*"' | head -n 1 | sed 's/.*:"//; s/"$//')
[ -n "$S" ] || fail "alex is not asked to accept the succession: $(am alex status)"
am alex status | grep -q "successions awaiting acceptance" || fail "alex's status lists no succession: $(am alex status)"
out=$(am alex accept "$S") || fail "alex accepts"
echo "$out" | grep -q "^accepted the succession" || fail "alex's accept said: $out"
share alex
out=$(am lee accept "$S") || fail "lee accepts"
echo "$out" | grep -q "now holds the place of sam" || fail "lee's accept said: $out"
share lee
for who in alex lee sam; do
	am "$who" circles | grep -q "replaced by" || fail "$who's circles do not show sam's old key replaced: $(am "$who" circles)"
	am "$who" circles | grep -q "succeeds" || fail "$who's circles do not show the new key: $(am "$who" circles)"
	[ "$(joined "$who")" = 3 ] || fail "$who does not show 3 joined: $(am "$who" circles)"
done

# with no node running, rotate finishes what the node would
[ "$(idof sam)" = "$SAM" ] || fail "sam's key changed before the switch"
out=$(am sam key rotate --yes) || fail "rotate after the successions: $out"
echo "$out" | grep -q "^rotation done" || fail "the finishing rotate said: $out"
[ "$(idof sam)" = "$NEW" ] || fail "sam's key is not the new one"
[ -e "$dir/sam/id.next.key" ] && fail "the new key still waits"
ls "$dir/sam" | grep -q '^id\.replaced-[0-9a-f]\{64\}\.key$' || fail "the old key is not kept: $(ls "$dir/sam")"
[ "$(stat -c %a "$dir/sam/id.key")" = 600 ] || fail "the key file is not 0600"

# ---- a lost key: alex writes lee's succession to kim's fresh key ----
am kim init --name kim >/dev/null || fail "init kim"
KIM=$(idof kim)
am alex name "$KIM" kim >/dev/null
out=$(am alex circle succeed us lee "not-an-id" 2>&1) && fail "a bad new ID was taken"
echo "$out" | grep -q "whole ID" || fail "the bad ID said: $out"
out=$(am alex circle succeed us "$SAM" "$KIM" 2>&1) && fail "a succession of a replaced key"
out=$(am alex circle succeed us lee "$NEW" 2>&1) && fail "a new key already in the circle"
out=$(am alex circle succeed us lee "$KIM" --reason "lee lost the laptop") || fail "succeed: $out"
echo "$out" | grep -q "in the place of lee" || fail "succeed said: $out"
L=$(echo "$out" | hash8)
out=$(am alex circle succeed us lee "$KIM" 2>&1) && fail "a second succession by alex"
echo "$out" | grep -q "already" || fail "the second said: $out"
# kim's node is no member: the record reaches it by a bundle alex gives
share alex
am alex export -o "$dir/for-kim.bundle" >/dev/null || fail "export for kim"
am kim import "$dir/for-kim.bundle" >/dev/null 2>&1 || fail "kim imports"
am kim status | grep "$L" | grep -q "amends accept" || fail "kim is not asked: $(am kim status)"
out=$(am kim accept "$L") || fail "kim accepts: $out"
am kim export -o "$dir/kim.bundle" >/dev/null || fail "kim's export"
am alex import "$dir/kim.bundle" >/dev/null 2>&1 || fail "alex imports kim's answer"
am sam import "$dir/kim.bundle" >/dev/null 2>&1 || fail "sam imports kim's answer"
am sam status | grep "$L" | grep -q "amends accept" || fail "sam's new key is not asked: $(am sam status)"
out=$(am sam accept "$L") || fail "sam's new key accepts: $out"
echo "$out" | grep -q "now holds the place of lee" || fail "sam's accept said: $out"
share sam
am alex circles | grep "kim" | grep -q "succeeds lee" || fail "alex's circles: $(am alex circles)"
am alex circles | grep "lee" | grep -q "replaced by" || fail "alex's circles: $(am alex circles)"
out=$(am lee say us "the thief writes" 2>&1) && fail "the replaced key wrote"

# ---- a stolen key: the thief's succession and a member's, in that order ----
# a thief copies alex's data directory, key and all, and writes with it a
# succession of alex's key to a key of their own, which accepts it; sam
# and kim hold it before the real one, which sam writes for alex's new key
PEOPLE="sam alex kim"
share alex
share kim
# the last entry the real alex wrote, as sam holds it
ALEXKEY=$(am alex id --json | sed 's/.*"key":"\([0-9a-f]*\)".*/\1/')
H=$(sqlite3 "$dir/sam/amends.db" "SELECT head_seq FROM feeds WHERE hex(author) = upper('$ALEXKEY')")
[ -n "$H" ] || fail "no head of alex's feed at sam"
cp -a "$dir/alex" "$dir/thief"
am thiefkey init --name thief >/dev/null || fail "init the thief's key"
am alexnew init --name alex >/dev/null || fail "init alex's new key"
THIEF=$(idof thiefkey)
ANEW=$(idof alexnew)
out=$(am thief circle succeed us "$ALEX" "$THIEF" 2>&1) || fail "the thief's succession: $out"
X=$(echo "$out" | hash8)
am thief export -o "$dir/thief.bundle" >/dev/null || fail "the thief's export"
am thiefkey import "$dir/thief.bundle" >/dev/null 2>&1 || fail "the thief's key imports"
am thiefkey accept "$X" >/dev/null || fail "the thief's key accepts"
am thiefkey export -o "$dir/thiefkey.bundle" >/dev/null || fail "the thief's key exports"
for who in sam kim; do
	am "$who" import "$dir/thief.bundle" >/dev/null 2>&1 || fail "$who imports the thief's"
	am "$who" import "$dir/thiefkey.bundle" >/dev/null 2>&1 || fail "$who imports the thief's key's"
	am "$who" status | grep "$X" | grep -q "waiting for" || fail "$who is not shown the thief's succession"
done
# the real alex cannot write with his key any more without forking it:
# sam writes the succession to alex's new key (his first acceptance for
# alex, so he can never accept the thief's)
# naming the newest entry held (the thief's) would make it ask the
# thief's key too (protocol/state.md, "Succession"); sam names alex's last
out=$(am sam circle succeed us "$ALEX" "$ANEW" --head "$((H + 2))" 2>&1) &&
	fail "a head beyond the feed was taken"
echo "$out" | grep -q -- "--head takes" || fail "the bad head said: $out"
out=$(am sam circle succeed us "$ALEX" "$ANEW" --head "$H") || fail "sam's succession for alex: $out"
echo "$out" | grep -q "up to entry $H counts" || fail "sam's succession said: $out"
Y=$(echo "$out" | hash8)
out=$(am sam accept "$X" 2>&1) && fail "sam accepted a second new key for alex"
echo "$out" | grep -q "first acceptance is final" || fail "sam's second acceptance said: $out"
share sam
# kim is told what accepting sets aside: the thief's entry past the head
am kim status | grep "$Y" | grep -q "sets aside the 1 after them" ||
	fail "kim is not told what accepting sets aside: $(am kim status)"
am kim accept "$Y" >/dev/null || fail "kim accepts alex's new key"
out=$(am kim accept "$X" 2>&1) && fail "kim accepted the thief's after alex's new key"
share kim
am sam export -o "$dir/for-alexnew.bundle" >/dev/null || fail "export for alex's new key"
am alexnew import "$dir/for-alexnew.bundle" >/dev/null 2>&1 || fail "alex's new key imports"
out=$(am alexnew accept "$Y") || fail "alex's new key accepts: $out"
echo "$out" | grep -q "now holds the place of" || fail "the last acceptance said: $out"
am alexnew export -o "$dir/alexnew.bundle" >/dev/null || fail "alex's new key exports"
for who in sam kim; do
	am "$who" import "$dir/alexnew.bundle" >/dev/null 2>&1 || fail "$who imports alex's new key's"
	j=$(am "$who" circles --json)
	echo "$j" | grep -q "\"id\":\"$ANEW\",[^}]*\"status\":\"joined\"" || fail "$who: alex's new key not joined: $j"
	echo "$j" | grep -q "\"id\":\"$THIEF\",[^}]*\"status\":\"joined\"" && fail "$who: the thief's key joined"
	am "$who" status | grep -q "$X" && fail "$who still lists the thief's succession as open"
done
[ "$fails" = 0 ] && echo "rotate: pass"
exit "$fails"
