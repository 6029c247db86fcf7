#!/bin/sh
# Claimed times are data (issue 16): a member whose clock reads year 9999,
# INT64_MAX or INT64_MIN proposes, accepts, checks in and speaks; the
# entries reach Alex, whose every reader must still work and show the rest:
# status, list, log, show of another agreement, verify and verify --file.
# Times past year 9999 or before year 1 are shown as such, never as a
# date of nine digits or a negative year.
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
carry() {
	am "$1" export -o "$dir/$1.bundle" >/dev/null || fail "export by $1"
	am "$2" import "$dir/$1.bundle" >/dev/null || fail "import by $2"
}
idof() { am "$1" id --json | sed 's/^{"id":"\([^"]*\)".*/\1/'; }
agreement_of() { sed -n "s/^proposed agreement \([0-9a-f]\{8\}\) .*/\1/p"; }

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
G=$(am sam propose us --title "Good" --text "Sam checks in" --by sam \
	--every day --at 21:00 | agreement_of)
carry sam alex
am alex accept "$G" >/dev/null || fail "alex accepts good"
carry alex sam
at 2026-03-02T20:00:00Z
am sam checkin "$G" --kept >/dev/null || fail "checkin on good"

# ---- Sam's clock at the ends of time ----
n=0
for t in 253402300799 9223372036854775807 -9223372036854775808; do
	n=$((n + 1))
	at "$t"
	B=$(am sam propose us --title "Bad $n" --text "at $t" --by sam \
		--every day --at 21:00 --notice 7d | agreement_of)
	[ -n "$B" ] || fail "propose at $t"
	am sam say us "said at $t" >/dev/null || fail "say at $t"
	carry sam alex
	at 2026-03-05T08:00:00Z
	am alex accept "$B" >/dev/null || fail "alex accepts bad $n"
	carry alex sam
	at "$t"
	am sam checkin "$B" --kept >/dev/null 2>&1
	carry sam alex
	eval "B$n=\$B"
done

at 2026-03-05T08:00:00Z
for cmd in status list log verify "show $G" "show $B1" "show $B2" "show $B3" \
    "status --json" "list --json" "log --json" "show $G --json"; do
	# shellcheck disable=SC2086
	am alex $cmd >"$dir/out" 2>"$dir/err" || fail "alex $cmd: $(cat "$dir/err")"
	grep -q "invalid argument" "$dir/out" "$dir/err" && fail "alex $cmd: invalid argument"
	grep -Eq -- "-[0-9]{6,}-|[0-9]{6,}-[0-9][0-9]-" "$dir/out" &&
		fail "alex $cmd shows an unreadable date: $(grep -E -- '[0-9]{6,}-' "$dir/out")"
done
am alex list >"$dir/out" 2>&1
grep -q "Good.*kept 1/" "$dir/out" || fail "list does not show the good agreement kept: $(cat "$dir/out")"
am alex show "$B2" | grep -q "after year 9999" || fail "a time past 9999 is not shown as such"
am alex show "$B3" | grep -q "before year 1" || fail "a time before year 1 is not shown as such"
am alex log >"$dir/out" 2>&1
grep -q "said at 9223372036854775807" "$dir/out" && grep -q "said at -9223372036854775808" "$dir/out" ||
	fail "log does not show every statement: $(cat "$dir/out")"

am alex export -o "$dir/all.bundle" >/dev/null || fail "export by alex"
am alex verify --file "$dir/all.bundle" >"$dir/out" 2>"$dir/err" ||
	fail "verify --file: $(cat "$dir/err")"
grep -q "agreement 'Good'" "$dir/out" || fail "verify --file does not show the good agreement"
am alex verify --file "$dir/all.bundle" --json >/dev/null 2>"$dir/err" ||
	fail "verify --file --json: $(cat "$dir/err")"

# ---- verify --file lists the entries the state ignores, as verify does ----
# Sam's key on two machines forks his feed: his entries from the fork on
# are ignored (rule "forked"); with the rules of issue 16, so are entries
# whose claimed time is out of bounds (rule "time")
cp -R "$dir/sam" "$dir/twin"
am sam say us "one" >/dev/null || fail "say one"
am twin say us "the other" >/dev/null || fail "say the other"
carry sam alex
carry twin alex
am alex verify >"$dir/node" 2>&1
grep -q "^ignored: .*(forked)" "$dir/node" || fail "verify does not list the fork: $(cat "$dir/node")"
am alex export -o "$dir/all.bundle" >/dev/null || fail "export by alex"
am alex verify --file "$dir/all.bundle" >"$dir/out" 2>"$dir/err" ||
	fail "verify --file after the fork: $(cat "$dir/err")"
grep -q "^  ignored: .*(forked)" "$dir/out" || fail "verify --file does not list the fork: $(cat "$dir/out")"
[ "$(grep -c "ignored: " "$dir/node")" = "$(grep -c "ignored: " "$dir/out")" ] ||
	fail "verify and verify --file list different ignored entries"
am alex verify --file "$dir/all.bundle" --json >"$dir/out" 2>"$dir/err" ||
	fail "verify --file --json after the fork: $(cat "$dir/err")"
grep -q '"ignored":\[{"author":"[^"]*","seq":[0-9]*,"kind":[0-9]*,"rule":"forked"' "$dir/out" ||
	fail "verify --file --json does not list the fork: $(cat "$dir/out")"

[ "$fails" -eq 0 ] || exit 1
echo "times: ok"
