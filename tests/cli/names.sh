#!/bin/sh
# Names travel and fingerprints are long enough to trust, with no node:
# entries go from one data directory to the others as bundles (export,
# import). Each person's name, given at init or with `amends name --self`,
# shows on the others' nodes; a local nickname wins and is marked as the
# reader's own; a name that is someone else's does not pass for theirs;
# every view that lists people for a trust decision shows a safety number
# (35 digits, 116 bits) that reads back to the same ID.
set -u
amends=$1
dir=$(mktemp -d)
trap '[ -n "${KEEP:-}" ] || rm -rf "$dir"' EXIT
export TZ=UTC
fails=0
fail() { echo "FAIL: $*"; fails=$((fails + 1)); }

am() {
	who=$1
	shift
	AMENDS_HOME="$dir/$who" "$amends" "$@"
}
at() { export AMENDS_NOW="$1"; }
share() {
	am "$1" export -o "$dir/$1.bundle" >/dev/null || fail "export by $1"
	for other in sam alex lee kim; do
		[ "$other" = "$1" ] && continue
		am "$other" import "$dir/$1.bundle" >/dev/null 2>&1
	done
}
idof() { am "$1" id --json | sed 's/^{"id":"\([^"]*\)".*/\1/'; }
snof() { am "$1" id --json | sed 's/.*"safety_number":"\([0-9 ]*\)".*/\1/'; }
member_hash() { sed -n 's/.*(\([0-9a-f]\{8\}\)).*/\1/p'; }

at 2026-03-01T08:00:00Z
am sam init --name Sam >/dev/null || fail "init sam"
am alex init --name Alex >/dev/null || fail "init alex"
am lee init --name "Dr. Lee" >/dev/null || fail "init lee"
am kim init >/dev/null || fail "init kim"
SAM=$(idof sam)
ALEX=$(idof alex)
LEE=$(idof lee)
KIM=$(idof kim)

# ---- names travel ----
am sam circle new us >/dev/null || fail "circle new"
m_alex=$(am sam circle add us "$ALEX" | member_hash)
share sam
out=$(am alex accept "$m_alex") || fail "alex joins: $out"
share alex
m_lee=$(am sam circle add us "$LEE" --witness | member_hash)
share sam
am alex accept "$m_lee" >/dev/null || fail "alex accepts lee"
share alex
am lee accept "$m_lee" >/dev/null || fail "lee joins"
share lee

out=$(am sam circles)
echo "$out" | grep -q "  Alex$" || fail "sam does not see alex's name: $out"
echo "$out" | grep -q "  Dr\. Lee (witness)$" || fail "sam does not see lee's name: $out"
out=$(am lee circles)
echo "$out" | grep -q "  Sam$" || fail "lee does not see sam's name: $out"
echo "$out" | grep -q "  Alex$" || fail "lee does not see alex's name: $out"
am sam circles --json | grep -q "\"signed_names\":{.*\"$ALEX\":\"Alex\"" ||
	fail "sam's circles --json does not list alex's signed name"
am sam id "$ALEX" | grep -q "^signed name:   Alex$" || fail "sam's id of alex"
am sam log --json >/dev/null || fail "log"

# a second person's status names the proposer by the name they signed
am kim export -o "$dir/kim.bundle" >/dev/null 2>&1
m_kim=$(am sam circle add us "$KIM" | member_hash)
share sam
out=$(am alex status)
echo "$out" | grep -q "$m_kim  amq\?[0-9a-z]* *joining as member, proposed by Sam\|joining as member, proposed by Sam" ||
	fail "alex's status does not name sam: $out"

# ---- fingerprints where a trust decision is made ----
SN_KIM=$(snof kim)
echo "$out" | grep -qF "safety number $SN_KIM (check it with them)" ||
	fail "alex's status does not show the proposed member's safety number: $out"
am alex status --json | grep -qF "\"member_safety_number\":\"$SN_KIM\"" ||
	fail "alex's status --json does not carry kim's safety number"
out=$(am sam circles)
for who in sam alex lee kim; do
	sn=$(snof "$who")
	echo "$out" | grep -qF "  $sn  " || fail "circles does not show $who's safety number: $out"
done
am sam peer add "$ALEX" tcp://127.0.0.1:7411 >/dev/null || fail "peer add"
out=$(am sam peers)
echo "$out" | grep -qF "safety number $(snof alex)  Alex" || fail "peers: $out"
am sam peers --json | grep -qF "\"safety_number\":\"$(snof alex)\"" || fail "peers --json"
# every number shown has 35 digits (116 bits), and reads back to its ID
for sn in $(am sam circles --json | grep -o '"safety_number":"[0-9 ]*"' | cut -d'"' -f4 | tr ' ' '_'); do
	sn=$(echo "$sn" | tr '_' ' ')
	digits=$(printf '%s' "$sn" | tr -cd '0-9' | wc -c)
	[ "$digits" -eq 35 ] || fail "a safety number of $digits digits: $sn"
	id=$(am sam id "$sn" --json | sed 's/^{"id":"\([^"]*\)".*/\1/')
	[ "$(am sam id "$id" --json | sed 's/.*"safety_number":"\([0-9 ]*\)".*/\1/')" = "$sn" ] ||
		fail "safety number $sn does not read back"
	dashed=$(echo "$sn" | tr ' ' '-')
	[ "$(am sam id "$dashed" --json | sed 's/^{"id":"\([^"]*\)".*/\1/')" = "$id" ] ||
		fail "safety number $dashed (dashes) does not read back"
done
[ "$(am sam id "$(snof lee)" --json | sed 's/^{"id":"\([^"]*\)".*/\1/')" = "$LEE" ] ||
	fail "lee's safety number does not name lee"

# ---- a local name wins, and says it is the reader's own ----
am sam name "$ALEX" Al >/dev/null || fail "sam names alex"
out=$(am sam circles)
echo "$out" | grep -q '  Al (your name for them; they call themselves "Alex")$' ||
	fail "sam's own name for alex: $out"
am sam peers | grep -qF "safety number $(snof alex)  Al (your name for them; they call themselves \"Alex\")" ||
	fail "peers with sam's own name for alex: $(am sam peers)"
am sam id "$ALEX" | grep -q "^name:          Al (your name for them)$" ||
	fail "sam's id of alex does not mark the name as sam's"
am sam status | grep -q "^    Al  *not heard from yet$" ||
	fail "sam's status does not use sam's own name for alex: $(am sam status)"

# ---- renaming oneself travels ----
at 2026-03-01T09:00:00Z
out=$(am alex name --self Alexandra) || fail "alex renames: $out"
[ "$out" = "you are now called Alexandra; signed into 1 circle" ] || fail "rename: $out"
out=$(am alex name --self Alexandra) || fail "alex renames again"
[ "$out" = "you are now called Alexandra; signed into 0 circles" ] ||
	fail "the same name was signed twice: $out"
share alex
am lee circles | grep -q "  Alexandra$" || fail "lee does not see alex's new name"
am sam circles | grep -q '  Al (your name for them; they call themselves "Alexandra")$' ||
	fail "sam does not see alex's new name beside his own"

# ---- nobody passes for another ----
am lee name --self Sam >/dev/null || fail "lee takes sam's name"
share lee
out=$(am alex circles)
LEE8=$(echo "$LEE" | cut -c1-8)
echo "$out" | grep -q "  Sam ($LEE8) (witness)$" || fail "lee passes for sam: $out"
# nor with a character that shows nothing, another case or a space more:
# the invisible one shows as an escape, and the ID stands beside each
at 2026-03-01T10:00:00Z
am lee name --self "$(printf 'Sam\342\200\213')" >/dev/null || fail "lee takes Sam+ZWSP"
share lee
out=$(am alex circles)
echo "$out" | grep -qF "  Sam\u{200b} ($LEE8) (witness)" ||
	fail "lee passes for sam with U+200B: $out"
at 2026-03-01T10:01:00Z
am lee name --self "$(printf '\357\273\277Sam\302\255')" >/dev/null ||
	fail "lee takes BOM+Sam+SHY"
share lee
out=$(am alex circles)
echo "$out" | grep -qF "  \u{feff}Sam\u{00ad} ($LEE8) (witness)" ||
	fail "lee passes for sam with U+FEFF and U+00AD: $out"
at 2026-03-01T10:02:00Z
am lee name --self "sam " >/dev/null || fail "lee takes 'sam '"
share lee
out=$(am alex circles)
echo "$out" | grep -qF "  sam  ($LEE8) (witness)" ||
	fail "lee passes for sam by case and a space: $out"

# ---- bounds ----
long=$(printf 'x%.0s' $(seq 1 65))
am alex name --self "$long" 2>/dev/null && fail "a name of 65 bytes was signed"
am alex name --self "$(printf 'a\tb')" 2>/dev/null && fail "a name with a tab was signed"

[ -n "${KEEP:-}" ] && echo "kept $dir"
[ "$fails" -eq 0 ] && echo "cli names: ok"
exit "$fails"
