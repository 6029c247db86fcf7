#!/bin/sh
# No one changes an agreement alone (protocol/state.md, "Versions"), tried
# with the CLI as a hostile party would: Sam, on his own node, amends the
# agreement he and Alex signed to himself alone, amends that again, ends
# it, and amends the original of an agreement he once signed alone; the
# bundles reach Alex, whose node must still show the version Alex signed in
# force, the end waiting its notice, and every version found by its hash.
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
current_of() { am "$1" show "$2" --json | sed -n 's/.*"current":"\([0-9a-f]*\)".*/\1/p'; }

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
	--by sam --every day --at 21:00 --notice 7d) || fail "propose"
AG=$(echo "$out" | sed -n "s/^proposed agreement \([0-9a-f]\{8\}\) .*/\1/p")
carry sam alex
am alex accept "$AG" >/dev/null || fail "alex accepts"
carry alex sam
V0=$(current_of alex "$AG")
[ -n "$V0" ] || fail "nothing in force at alex's"

# ---- Sam amends it to himself alone ----
at 2026-03-02T09:00:00Z
out=$(am sam amend "$AG" --party "$SAM" --by "$SAM" \
	--text "Sam checks in when he feels like it") || fail "amend: $out"
echo "$out" | grep -q "it is in force once accepted by alex" ||
	fail "amend does not say alex must accept: $out"
V1=$(echo "$out" | sed -n "s/^proposed version \([0-9a-f]\{8\}\) .*/\1/p")
# and again, amending his own amendment
out=$(am sam amend "$V1" --text "Sam checks in on weekdays, if at all") || fail "amend again: $out"
carry sam alex
[ "$(current_of alex "$AG")" = "$V0" ] || fail "alex's node shows another version in force"
[ "$(current_of sam "$AG")" = "$V0" ] || fail "sam's node shows another version in force"
am alex show "$AG" --json | grep -q "\"hash\":\"$V0[0-9a-f]*\",[^}]*\"status\":\"in_force\"" ||
	fail "the version alex signed is not shown in force"
am alex show "$AG" | grep -q "feels like it" && ! am alex show "$AG" | grep -q "pending" &&
	fail "sam's text is shown without saying it is pending"
# any version's hash finds the agreement
am alex show "$V1" >/dev/null 2>"$dir/err" || fail "show by a version's hash: $(cat "$dir/err")"
am alex status --json | grep -q "\"kind\":\"version\",\"hash\":\"$V1" ||
	fail "alex is not asked to accept sam's amendment"
am alex verify >/dev/null || fail "verify at alex's"

# ---- an end by Sam alone waits its notice ----
at 2026-03-03T09:00:00Z
am sam end "$AG" --reason "done" >/dev/null || fail "end"
carry sam alex
j=$(am alex show "$AG" --json)
echo "$j" | grep -q '"status":"ending"' || fail "the end did not wait its notice: $j"
echo "$j" | grep -q '"mutual":false' || fail "an end by one party is shown mutual"
echo "$j" | grep -q "\"at\":\"2026-03-10T09:00:00Z\"" || fail "not seven days notice: $j"

# ---- a proposal Alex never accepted, ended by Sam: a withdrawal ----
out=$(am sam propose us --title "Holidays" --text "We go away in May") || fail "propose 2"
H=$(echo "$out" | sed -n "s/^proposed agreement \([0-9a-f]\{8\}\) .*/\1/p")
am sam end "$H" >/dev/null || fail "withdraw"
j=$(am sam show "$H" --json)
echo "$j" | grep -q '"status":"ended"' || fail "a withdrawal did not take effect at once"
echo "$j" | grep -q '"mutual":false' || fail "a withdrawal is shown mutual: $j"

[ "$fails" -eq 0 ] || exit 1
echo "alone: ok"
