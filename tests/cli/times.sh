#!/bin/sh
# Claimed times are data (issue 16): a member whose own client writes at
# year 9999, INT64_MAX or INT64_MIN (craft.c: the CLI refuses a clock
# outside 2000..2199) proposes and speaks; the entries reach Alex, whose
# every reader must still work and show the rest (status, list, log, show,
# verify and verify --file), and the state ignores them (rule "time"),
# which verify lists. Within the bounds, entries dated ahead or before
# what they answer are marked, and an honest writer stamps the latest of
# its clock and its own previous entry.
#   times.sh AMENDS CRAFT
set -u
amends=$1
craft=$2
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
C=$(am sam circles --json | grep -o '"id":"[0-9a-f]*"' | head -n 1 | cut -d'"' -f4)
# the CLI refuses a clock outside the bounds, before anything is signed
at 253402300799
if am sam say us "not written" >/dev/null 2>"$dir/err"; then
	fail "the CLI wrote at year 9999"
fi
grep -q "the clock says a time in 2200 or later" "$dir/err" || fail "refusal: $(cat "$dir/err")"
n=0
for t in 253402300799000 9223372036854775807 -9223372036854775808; do
	n=$((n + 1))
	B=$("$craft" "$dir/sam" "$C" "$t" "Bad $n" "at $t") || fail "craft propose at $t"
	"$craft" "$dir/sam" "$C" "$t" --say "said at $t" >/dev/null || fail "craft say at $t"
	eval "B$n=\$B"
done
carry sam alex

at 2026-03-05T08:00:00Z
for cmd in status list log "show $G" \
    "status --json" "list --json" "log --json" "show $G --json"; do
	# shellcheck disable=SC2086
	am alex $cmd >"$dir/out" 2>"$dir/err" || fail "alex $cmd: $(cat "$dir/err")"
	grep -q "invalid argument" "$dir/out" "$dir/err" && fail "alex $cmd: invalid argument"
	grep -Eq -- "-[0-9]{6,}-|[0-9]{6,}-[0-9][0-9]-" "$dir/out" &&
		fail "alex $cmd shows an unreadable date: $(grep -E -- '[0-9]{6,}-' "$dir/out")"
	grep -q "Bad [123]\|said at [-0-9]" "$dir/out" &&
		fail "alex $cmd shows an entry dated outside the bounds"
done
# verify lists each of them as ignored for its time (and fails on nothing)
am alex verify >"$dir/out" 2>&1
[ "$(grep -c "^ignored: .*(time)" "$dir/out")" = 6 ] ||
	fail "verify does not list the 6 entries ignored for their time: $(cat "$dir/out")"
for n in 1 2 3; do
	eval "B=\$B$n"
	if am alex show "$(echo "$B" | cut -c1-8)" >"$dir/out" 2>&1; then
		fail "show of an agreement dated outside the bounds succeeded"
	fi
done
am alex list >"$dir/out" 2>&1
grep -q "Good.*kept 1/" "$dir/out" || fail "list does not show the good agreement kept: $(cat "$dir/out")"
# the reader's own clock at the ends of int64: readers still work
for now in 9223372036854775 -9223372036854775; do
	at "$now"
	for cmd in status list log "show $G"; do
		# shellcheck disable=SC2086
		am alex $cmd >"$dir/out" 2>"$dir/err" || fail "alex $cmd at $now: $(cat "$dir/err")"
	done
done
at 2026-03-05T08:00:00Z

am alex export -o "$dir/all.bundle" >/dev/null || fail "export by alex"
am alex verify --file "$dir/all.bundle" >"$dir/out" 2>"$dir/err" ||
	fail "verify --file: $(cat "$dir/err")"
grep -q "agreement 'Good'" "$dir/out" || fail "verify --file does not show the good agreement"
am alex verify --file "$dir/all.bundle" --json >/dev/null 2>"$dir/err" ||
	fail "verify --file --json: $(cat "$dir/err")"

# ---- marks: dated in the future, dated before what it refers to ----
# Sam checks in on the good agreement with his clock a day ahead; Alex,
# whose clock is right, confirms it: Alex's confirmation is dated before
# the check-in it confirms (an honest writer adopts the time of what it
# answers only within its skew tolerance), Sam's check-in is dated in the
# future as Alex reads it; both count. A statement from 2099 is marked.
at 2026-03-05T08:09:00Z
am sam say us "nine minutes ahead" >/dev/null || fail "say nine minutes ahead"
at 2026-03-06T08:00:00Z
am sam checkin "$G" --kept --period 2026-03-05 >/dev/null || fail "checkin ahead"
am sam say us "from the future" >/dev/null || fail "say ahead"
at 2099-01-01T00:00:00Z
am sam say us "from 2099" >/dev/null || fail "say 2099"
carry sam alex
at 2026-03-05T08:00:00Z
hash_of() { # TEXT: the hash of alex's log item whose line holds TEXT
	am alex log | grep "$1" | sed -n 's/^.\{16,18\}  \([0-9a-f]\{8\}\) .*/\1/p' | head -1
}
am alex status >"$dir/out" 2>&1 || fail "status with marks"
grep -q "said: from 2099 (dated in the future)   amends confirm" "$dir/out" ||
	fail "status does not mark what it asks to confirm: $(cat "$dir/out")"
grep -q "checked in kept for 2026-03-05 on 'Good' (dated in the future)" "$dir/out" ||
	fail "status does not mark the check-in it asks to confirm: $(cat "$dir/out")"
K=$(hash_of "checked in kept for 2026-03-05")
[ -n "$K" ] || fail "no check-in for 2026-03-05 in alex's log"
am alex confirm "$K" >/dev/null || fail "alex confirms $K"
S9=$(hash_of "nine minutes ahead")
am alex confirm "$S9" >/dev/null || fail "alex confirms the statement nine minutes ahead"
S2099=$(hash_of "from 2099")
am alex confirm "$S2099" >/dev/null || fail "alex confirms the statement from 2099"
am alex say us "alex after answering 2099" >/dev/null || fail "alex says"
am alex log >"$dir/out" 2>&1 || fail "log with marks"
grep -q "2026-03-05.*(dated in the future)" "$dir/out" ||
	fail "the check-in a day ahead is not dated in the future: $(cat "$dir/out")"
grep -q "alex confirmed (dated before the check-in it confirms)" "$dir/out" ||
	fail "alex's confirmation is not dated before the check-in: $(cat "$dir/out")"
grep -q "said: from 2099 (dated in the future)" "$dir/out" ||
	fail "a statement from 2099 is not dated in the future"
grep -q "by alex (dated before the statement it confirms)" "$dir/out" ||
	fail "alex's confirmation of 2099 is not dated before it: $(cat "$dir/out")"
# within the tolerance: not marked, and alex's answer adopts its time
grep -q "nine minutes ahead (dated" "$dir/out" && fail "nine minutes ahead is marked"
grep -q "^2026-03-05 08:09 .*nine minutes ahead" "$dir/out" || fail "nine minutes ahead not at 08:09"
am alex log --json | grep -q '"kind":"confirmed","witness":false,"time":"2026-03-05T08:09:00Z","dated":null,' ||
	fail "alex's answer did not adopt the time of what it answers, 9 minutes ahead"
# answering an entry dated 2099 does not date alex's later entries 2099:
# the next is at the latest of his clock and his previous entry (08:09)
grep -q "^2026-03-05 08:09 .*alex after answering 2099" "$dir/out" ||
	fail "alex's entry after answering 2099 is not at alex's clock: $(grep 'alex after' "$dir/out")"
am alex show "$G" >"$dir/out" 2>&1 || fail "show with marks"
grep -q "2026-03-05 .*dated in the future.*alex confirmed (dated before the check-in it confirms)" "$dir/out" ||
	fail "show does not mark the check-in and its confirmation: $(cat "$dir/out")"
am alex show "$G" --json | grep -q '"dated":"future"' || fail "show --json does not date in the future"
am alex log --json | grep -q '"dated":"before"' || fail "log --json does not date before"
# the marks follow the reader's clock: a day later, none is in the future
at 2026-03-07T08:00:00Z
am alex log | grep -q "2026-03-05.*(dated in the future)" && fail "a past check-in is still marked"
# Sam's own feed: his next entry is no earlier than his 2099 one (the
# latest of his clock and his previous entry, within the bounds); his
# entries at 9999 and INT64 were past the bounds and never followed
am sam say us "sam after 2099" >/dev/null || fail "sam says after 2099"
am sam log | grep -q "^2099-01-01 00:00 .*sam after 2099" || fail "sam's feed went back in time"

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
# the fork is a finding against sam: the file is intact (exit 3)
am alex verify --file "$dir/all.bundle" >"$dir/out" 2>"$dir/err"
[ $? -eq 3 ] || fail "verify --file after the fork: $(cat "$dir/err" "$dir/out")"
grep -q "^  ignored: .*(forked)" "$dir/out" || fail "verify --file does not list the fork: $(cat "$dir/out")"
[ "$(grep -c "ignored: " "$dir/node")" = "$(grep -c "ignored: " "$dir/out")" ] ||
	fail "verify and verify --file list different ignored entries"
am alex verify --file "$dir/all.bundle" --json >"$dir/out" 2>"$dir/err"
[ $? -eq 3 ] || fail "verify --file --json after the fork: $(cat "$dir/err")"
grep -q '"ignored":\[.*{"author":"[^"]*","seq":[0-9]*,"kind":[0-9]*,"rule":"forked"' "$dir/out" ||
	fail "verify --file --json does not list the fork: $(cat "$dir/out")"

am alex log >"$dir/last" 2>&1; am alex show "$G" >>"$dir/last"; [ -n "${KEEP:-}" ] && cp "$dir/last" /tmp/tr-last
[ "$fails" -eq 0 ] || exit 1
echo "times: ok"
