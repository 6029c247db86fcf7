#!/bin/sh
# Nothing answered is quietly rewritten (protocol/state.md, "Check-ins"):
# tried with the CLI as Sam would if he wanted a better record. Sam checks
# in "missed", Alex confirms it, Sam checks in "kept" for the same day: on
# Alex's node the "missed" stays in show, log, their --json and verify
# --file, and counts until Alex confirms the correction. Alex disputes a
# check-in, then confirms it: Sam's node still shows the dispute and its
# note. Alex declines a proposal, then accepts it: the reason stays.
set -u
amends=$1
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
export TZ=UTC
fails=0
fail() { echo "FAIL: $*"; fails=$((fails + 1)); }
am() {
	who=$1
	shift
	AMENDS_HOME="$dir/$who" "$amends" "$@"
}
at() { export AMENDS_NOW="$1"; }
# carry WHO OTHER: WHO's record reaches OTHER as a bundle
carry() {
	am "$1" export -o "$dir/$1.bundle" >/dev/null || fail "export by $1"
	am "$2" import "$dir/$1.bundle" >/dev/null || fail "import by $2"
}
idof() { am "$1" id --json | sed 's/^{"id":"\([^"]*\)".*/\1/'; }
hash_of() { sed -n 's/.*(\([0-9a-f]\{8\}\))$/\1/p' | tail -n 1; }
# the JSON object of check-in HASH in WHO's show --json of AGREEMENT
checkin_json() {
	am "$1" show "$2" --json | sed 's/{"hash":/\
{"hash":/g' | grep "^{\"hash\":\"$3"
}
# adherence of sam on WHO's node: "kept missed"
figures() {
	am "$1" show "$AG" --json | sed -n 's/.*"people":\[{"id":"'"$SAM"'","adherence":{"due":[0-9]*,"kept":\([0-9]*\),"partial":[0-9]*,"missed":\([0-9]*\),.*/\1 \2/p'
}

at 2026-03-01T08:00:00Z
am sam init --name sam >/dev/null || fail "init sam"
am alex init --name alex >/dev/null || fail "init alex"
SAM=$(idof sam)
ALEX=$(idof alex)
am sam name "$ALEX" alex >/dev/null && am alex name "$SAM" sam >/dev/null || fail "names"
am sam circle new us >/dev/null || fail "circle new"
m=$(am sam circle add us alex | sed -n 's/.*(\([0-9a-f]\{8\}\)).*/\1/p')
carry sam alex
am alex accept "$m" >/dev/null || fail "alex joins"
carry alex sam

at 2026-03-01T09:00:00Z
out=$(am sam propose us --title "Evening check-in" --text "Sam checks in by 21:00" \
	--by sam --every day --at 21:00) || fail "propose"
AG=$(echo "$out" | sed -n "s/^proposed agreement \([0-9a-f]\{8\}\) .*/\1/p")
carry sam alex
am alex accept "$AG" >/dev/null || fail "alex accepts"
carry alex sam

# ---- the erased check-in ----
at 2026-03-01T21:00:00Z
H1=$(am sam checkin "$AG" --missed --note "relapsed" | hash_of)
[ -n "$H1" ] || fail "check-in"
carry sam alex
at 2026-03-01T21:30:00Z
am alex confirm "$H1" >/dev/null || fail "alex confirms"
carry alex sam
at 2026-03-01T22:00:00Z
out=$(am sam checkin "$AG" --kept --period 2026-03-01) || fail "correction: $out"
H2=$(echo "$out" | hash_of)
echo "$out" | grep -q "this corrects your check-in $H1 of 2026-03-01" ||
	fail "the correction does not say what it corrects: $out"
echo "$out" | grep -q "it counts once alex confirms it" ||
	fail "the correction does not say alex must confirm it: $out"
carry sam alex
at 2026-03-02T09:00:00Z
[ "$(figures alex)" = "0 1" ] || fail "alex's adherence is not the confirmed 'missed': $(figures alex)"
[ "$(figures sam)" = "0 1" ] || fail "sam's adherence is not the confirmed 'missed': $(figures sam)"
s=$(am alex show "$AG")
echo "$s" | grep -q "missed .*$H1 *relapsed; alex confirmed" || fail "show lost the missed check-in: $s"
echo "$s" | grep -q "corrects $H1: counts once alex confirms it" ||
	fail "show does not mark the correction: $s"
checkin_json alex "$AG" "$H1" | grep -q "\"period\":\"2026-03-01\",\"author\":\"$SAM\",\"status\":\"missed\",\"note\":\"relapsed\",.*\"counts\":true" ||
	fail "show --json lost the missed check-in"
checkin_json alex "$AG" "$H2" | grep -q "\"counts\":false,\"correction\":true,\"corrects\":\"$H1" ||
	fail "show --json does not mark the correction"
am alex log | grep -q "$H1 .*checked in missed for 2026-03-01.*relapsed" || fail "log lost the missed check-in"
am alex log --json | grep -q "\"hash\":\"$H1[0-9a-f]*\"" || fail "log --json lost the missed check-in"
am alex export -o "$dir/alex.export" >/dev/null || fail "export"
am alex verify --file "$dir/alex.export" | grep -q "$H1 .*missed for 2026-03-01.*relapsed" ||
	fail "verify --file lost the missed check-in"
am alex verify --file "$dir/alex.export" | grep -q "corrects $H1" ||
	fail "verify --file does not mark the correction"
# once Alex confirms the correction, it counts; the original stays shown
am alex confirm "$H2" >/dev/null || fail "alex confirms the correction"
carry alex sam
[ "$(figures sam)" = "1 0" ] || fail "the confirmed correction does not count: $(figures sam)"
am sam show "$AG" | grep -q "$H1 *relapsed" || fail "the corrected check-in is gone"
am sam show "$AG" | grep -q "corrected: no longer counts" || fail "the original is not marked corrected"
# a correction of the correction that Alex disputes does not count
at 2026-03-02T10:00:00Z
H3=$(am sam checkin "$AG" --partial --period 2026-03-01 | hash_of)
carry sam alex
am alex dispute "$H3" --note "it was kept" >/dev/null || fail "alex disputes the second correction"
carry alex sam
[ "$(figures sam)" = "1 0" ] || fail "a disputed correction counts: $(figures sam)"
am sam show "$AG" | grep -q "corrects $H2: disputed, does not count" ||
	fail "the disputed correction is not marked: $(am sam show "$AG")"

# ---- the lost dispute ----
at 2026-03-02T21:00:00Z
D=$(am sam checkin "$AG" --kept | hash_of)
carry sam alex
am alex dispute "$D" --note "you did not call" >/dev/null || fail "dispute"
at 2026-03-02T22:00:00Z
am alex confirm "$D" >/dev/null || fail "confirm after dispute"
carry alex sam
s=$(am sam show "$AG")
echo "$s" | grep -q "$D .*alex disputed: you did not call; alex confirmed" ||
	fail "sam's show lost the dispute: $s"
checkin_json sam "$AG" "$D" | grep -q "\"state\":\"confirmed\"" ||
	fail "the standing confirmation is not shown"
checkin_json sam "$AG" "$D" | grep -q "\"answers\":\[{\"id\":\"$ALEX\",\"kind\":\"disputed\",[^}]*\"note\":\"you did not call\"},{\"id\":\"$ALEX\",\"kind\":\"confirmed\"" ||
	fail "show --json lost the dispute"
am sam log | grep -q "alex disputed: you did not call; alex confirmed" || fail "log lost the dispute"

# ---- the lost decline reason ----
at 2026-03-03T09:00:00Z
out=$(am sam propose us --title "Counselling" --text "Thursdays at 18:00") || fail "propose 2"
C=$(echo "$out" | sed -n "s/^proposed agreement \([0-9a-f]\{8\}\) .*/\1/p")
carry sam alex
am alex decline "$C" --reason "Thursdays I work late" >/dev/null || fail "decline"
at 2026-03-04T09:00:00Z
am alex accept "$C" >/dev/null || fail "accept after decline"
carry alex sam
s=$(am sam show "$C")
echo "$s" | grep -q "alex .*accepted .*after declining .*: Thursdays I work late" ||
	fail "sam's show lost the decline reason: $s"
am sam show "$C" --json | grep -q "\"declined_before\":{\"entry\":\"[0-9a-f]*\",\"time\":\"2026-03-03T09:00:00Z\",\"note\":\"Thursdays I work late\"}" ||
	fail "show --json lost the decline reason"
am sam export -o "$dir/sam.export" >/dev/null || fail "export after the accept"
am sam verify --file "$dir/sam.export" | grep -q "accepted after declining: Thursdays I work late" ||
	fail "verify --file lost the decline reason"

am sam verify >/dev/null || fail "verify at sam's"
am alex verify >/dev/null || fail "verify at alex's"
[ "$fails" -eq 0 ] || exit 1
echo "corrections: ok"
