#!/bin/sh
# Refusals: each one is a single sentence on stderr, a non-zero exit,
# nothing on stdout, and the record unchanged (the circle's digest and the
# number of entries are the same before and after). Checking in to an
# agreement not in force, a non-party accepting, a witness accepting terms,
# unknown, short and ambiguous hash prefixes, bad periods, an ID with a
# typo, bad option values, files that are not bundles.
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
	for other in sam alex lee kim; do
		[ "$other" = "$1" ] && continue
		am "$other" import "$dir/$1.bundle" >/dev/null ||
			fail "import of $1's bundle by $other"
	done
}
idof() { am "$1" id --json | sed 's/^{"id":"\([^"]*\)".*/\1/'; }
hash8() { sed -n 's/.*(\([0-9a-f]\{8\}\)).*/\1/p' | tail -n 1; }

# What must not change: every digest this node states, and its entries.
record() {
	am "$1" status --json | grep -o '"digest":"[0-9a-f]*"'
	am "$1" export -o - 2>&1 >/dev/null
}

# refused WHO MESSAGE ARGS...: amends ARGS run as WHO is refused with
# exactly "amends: MESSAGE" and changes nothing
refused() {
	who=$1
	want=$2
	shift 2
	before=$(record "$who")
	if out=$(am "$who" "$@" 2>"$dir/err"); then
		fail "accepted: $who: $*"
	fi
	[ -z "$out" ] || fail "refusal printed on stdout: $*: $out"
	[ "$(cat "$dir/err")" = "amends: $want" ] ||
		fail "$*: wanted 'amends: $want', got '$(cat "$dir/err")'"
	[ "$(record "$who")" = "$before" ] || fail "the record changed: $who: $*"
}

# ---- a circle of four: sam, alex and kim members, lee witness ----
for who in sam alex lee kim; do
	am "$who" init --name "$who" >/dev/null || fail "init $who"
done
SAM=$(idof sam)
ALEX=$(idof alex)
LEE=$(idof lee)
KIM=$(idof kim)
for who in sam alex lee kim; do
	for pair in sam:$SAM alex:$ALEX lee:$LEE kim:$KIM; do
		[ "${pair%%:*}" = "$who" ] && continue
		am "$who" name "${pair#*:}" "${pair%%:*}" >/dev/null
	done
done
am sam circle new us >/dev/null || fail "circle new"
m_alex=$(am sam circle add us alex | hash8)
m_lee=$(am sam circle add us lee --witness | hash8)
m_kim=$(am sam circle add us kim | hash8)
share sam
# who joins when depends on the proposals' hashes (protocol/state.md):
# everyone accepts what awaits them, rounds until all have joined
round=0
while [ "$round" -lt 5 ] &&
    [ "$(am sam circles --json | grep -o '"status":"joined"' | wc -l)" -lt 4 ]; do
	round=$((round + 1))
	for who in alex lee kim sam; do
		for h in $(am "$who" status --json |
		    grep -o '"kind":"member","hash":"[0-9a-f]*"' | sed 's/.*:"//; s/"$//'); do
			am "$who" accept "$h" >/dev/null || fail "$who accepts $h"
		done
		share "$who"
	done
done
[ "$(am sam circles --json | grep -o '"status":"joined"' | wc -l)" -eq 4 ] ||
	fail "not everyone joined: $(am sam circles)"

# an agreement between sam and alex, proposed, not yet accepted
out=$(am sam propose us --title "Evening check-in" --party sam --party alex --by sam \
	--every day --at 21:00) || fail "propose"
AG=$(echo "$out" | sed -n "s/^proposed agreement \([0-9a-f]\{8\}\) .*/\1/p")
share sam

# ---- the refusals the issue names ----
refused sam "the agreement is not in force" checkin "$AG"
refused kim "your acceptance is not asked for this version" accept "$AG"
refused lee "a witness cannot accept or decline terms" accept "$AG"
refused lee "a witness cannot accept or decline terms" decline "$AG"
refused alex "no version, member proposal, removal, new key or end here has a hash starting with ffffffff" \
	accept ffffffff
refused alex "'abc' is too short to name the version, member proposal, removal, new key or end safely; give at least 4 hex digits of its hash" \
	accept abc
refused alex "'xyz1' is not a hash; name the version, member proposal, removal, new key or end by the start of its hash, in hex" \
	accept xyz1

# an ID with a typo: one character changed keeps the form, breaks the checksum
last=$(echo "$ALEX" | sed 's/.*\(.\)$/\1/')
if [ "$last" = x ]; then typo="${ALEX%?}y"; else typo="${ALEX%?}x"; fi
refused sam "ID $typo has a typo: its checksum does not match" circle add us "$typo"
refused sam "ID $typo has a typo: its checksum does not match" \
	propose us --title X --party "$typo"
refused sam "'bob' is neither an ID nor a name given with amends name" circle add us bob
refused sam "'amzzzzzz' is the start of no ID known here" circle add us amzzzzzz

# in force now; periods that are not the schedule's
am alex accept "$AG" >/dev/null || fail "alex accepts"
share alex
refused sam "'2026-13-01' is not a period of this agreement (the current one is 2026-03-01)" \
	checkin "$AG" --period 2026-13-01
refused sam "'2026-W09' is not a period of this agreement (the current one is 2026-03-01)" \
	checkin "$AG" --period 2026-W09
refused sam "'yesterday' is not a period of this agreement (the current one is 2026-03-01)" \
	checkin "$AG" --period yesterday
refused sam "period 2026-03-02 has not started yet" checkin "$AG" --period 2026-03-02
refused alex "you are not one of those who check in for this agreement" checkin "$AG"
refused sam "choose one of --kept, --partial and --missed" checkin "$AG" --kept --missed

ck=$(am sam checkin "$AG" | hash8)
[ -n "$ck" ] || fail "check-in"
share sam
refused sam "you cannot confirm or dispute your own check-in" confirm "$ck"
refused alex "a dispute says why: give --note" dispute "$ck"
refused kim "no check-in here has a hash starting with $AG" dispute "$AG" --note no

# ---- an ambiguous prefix: statements until two share 4 hex digits ----
: >"$dir/seen"
amb=
i=0
while [ -z "$amb" ] && [ "$i" -lt 5000 ]; do
	i=$((i + 1))
	h=$(am kim say us "note $i" | sed -n 's/.*(statement \([0-9a-f]\{4\}\).*/\1/p')
	[ -n "$h" ] || { fail "say $i"; break; }
	if grep -qx "$h" "$dir/seen"; then amb=$h; fi
	echo "$h" >>"$dir/seen"
done
[ -n "$amb" ] || fail "no two statements share 4 hex digits"
refused kim "$amb is the start of several hashes; give more of it" confirm "$amb"

# ---- bad values of options ----
refused sam "--every week needs --on WEEKDAY, the day a check-in is due" \
	propose us --title X --every week --at 10:00
refused sam "--at and --on need a schedule: give --every too" propose us --title X --at 10:00
refused sam "--at '25:00' is not a time of day; write it as HH:MM, e.g. 21:00" \
	propose us --title X --every day --at 25:00
refused sam "--every 'fortnight' is not a schedule; use day, week or a number of hours such as 12h" \
	propose us --title X --every fortnight
refused sam "--grace '5y' is not a duration; write it like 30m, 2h, 1d or 7d" \
	propose us --title X --grace 5y
refused sam "--tz 'Mars/Base' is not a time zone known here (an IANA name such as Europe/Paris)" \
	propose us --title X --tz Mars/Base
refused sam "--from '2026-02-30' is not a date; write it as YYYY-MM-DD" \
	propose us --title X --from 2026-02-30
refused sam "--pause '2026-03-09..2026-03-08' ends before it starts" \
	amend "$AG" --pause 2026-03-09..2026-03-08
refused sam "an agreement needs a title: give --title" propose us
refused sam "--compare-every '0' is not a number of seconds from 1 to 604800" \
	node --compare-every 0
refused sam "--compare-every '1h' is not a number of seconds from 1 to 604800" \
	node --compare-every 1h
refused sam "an amendment changes something: give the new --text, --title, --pause or schedule" \
	amend "$AG"
refused sam "no circle here is named 'them' (see amends circles)" say them hello
# a clock outside the times the state reads (protocol/state.md, "Claimed
# times"): the entry would be stored and ignored, so it is not written
AMENDS_NOW=2300-01-01T00:00:00Z
refused sam "the clock says a time in 2200 or later; the state ignores entries dated outside 2000 to 2199, so nothing was written" \
	say us hello
AMENDS_NOW=1999-12-31T23:59:59Z
refused sam "the clock says a time before 2000; the state ignores entries dated outside 2000 to 2199, so nothing was written" \
	say us hello
# an invite too writes a proposal dated now (and its expiry adds to now)
AMENDS_NOW=9223372036854775807
refused sam "the clock says a time in 2200 or later; the state ignores entries dated outside 2000 to 2199, so nothing was written" \
	invite us --address tcp://127.0.0.1:7411
AMENDS_NOW=2026-03-01T09:00:00Z

# ---- files that are not bundles ----
printf 'hello' >"$dir/text"
refused sam "$dir/text is not an amends bundle" import "$dir/text"
refused sam "cannot read $dir/nothing" import "$dir/nothing"
am sam export -o "$dir/whole" >/dev/null || fail "export"
head -c 100 "$dir/whole" >"$dir/cut"
refused sam "$dir/cut is a damaged bundle: a length header claims more bytes than the input holds" \
	import "$dir/cut"

[ "$fails" -eq 0 ] && echo "cli refusals: ok"
exit "$fails"
