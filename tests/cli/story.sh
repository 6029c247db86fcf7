#!/bin/sh
# The story: Sam and Alex, with Dr. Lee as witness, each on their own node
# (three data directories), carrying bundles between them. A circle,
# membership, a proposal, a decline, an amendment, acceptance, a week of
# daily check-ins with confirmations, one dispute, one missed day, a
# statement, an end. At each step the three nodes must say the same thing:
# status --json and show --json agree once the per-node parts are removed,
# and the adherence figures are the expected ones.
set -u
amends=$1
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
export TZ=UTC
fails=0
fail() { echo "FAIL: $*"; fails=$((fails + 1)); }

# am WHO ARGS...: runs amends as WHO (sam, alex or lee)
am() {
	who=$1
	shift
	AMENDS_HOME="$dir/$who" "$amends" "$@"
}
at() { export AMENDS_NOW="$1"; }

# share WHO: WHO's whole record goes to the two others as a bundle
share() {
	am "$1" export -o "$dir/$1.bundle" >/dev/null || fail "export by $1"
	for other in sam alex lee; do
		[ "$other" = "$1" ] && continue
		am "$other" import "$dir/$1.bundle" >/dev/null ||
			fail "import of $1's bundle by $other"
	done
}
share_all() { share sam; share alex; share lee; }

# The parts of status --json that every node shares: from "disputes" to
# "names" (you, awaiting, to_confirm, due and names are this node's own).
shared_status() {
	am "$1" status --json | sed -e 's/^.*\("disputes":\)/\1/' -e 's/,"names":{[^}]*}}$//'
}
# show --json without this node's nicknames
shared_show() {
	am "$1" show "$2" --json | sed -e 's/,"names":{[^}]*}}$//'
}
shared_log() {
	am "$1" log --json | sed -e 's/,"names":{[^}]*}}$//'
}
# all three nodes agree on status (and on show/log of $1 when given)
agree() {
	what=$1
	s=$(shared_status sam)
	[ "$s" = "$(shared_status alex)" ] || fail "$what: sam and alex disagree on status"
	[ "$s" = "$(shared_status lee)" ] || fail "$what: sam and lee disagree on status"
	if [ -n "${2:-}" ]; then
		s=$(shared_show sam "$2")
		[ "$s" = "$(shared_show alex "$2")" ] || fail "$what: sam and alex disagree on show"
		[ "$s" = "$(shared_show lee "$2")" ] || fail "$what: sam and lee disagree on show"
		s=$(shared_log sam)
		[ "$s" = "$(shared_log alex)" ] || fail "$what: sam and alex disagree on log"
		[ "$s" = "$(shared_log lee)" ] || fail "$what: sam and lee disagree on log"
	fi
}
idof() { am "$1" id --json | sed 's/^{"id":"\([^"]*\)".*/\1/'; }
# the 8-digit hash at the end of a command's output, in parentheses
hash_of() { sed -n 's/.*(\([0-9a-f]\{8\}\))$/\1/p' | tail -n 1; }

# ---- three people, each naming the others alike ----
at 2026-03-01T08:00:00Z
am sam init --name sam >/dev/null || fail "init sam"
am alex init --name alex >/dev/null || fail "init alex"
am lee init --name lee >/dev/null || fail "init lee"
SAM=$(idof sam)
ALEX=$(idof alex)
LEE=$(idof lee)
for who in sam alex lee; do
	for pair in sam:$SAM alex:$ALEX lee:$LEE; do
		[ "${pair%%:*}" = "$who" ] && continue
		am "$who" name "${pair#*:}" "${pair%%:*}" >/dev/null || fail "name by $who"
	done
done

# ---- the circle: Sam creates it, proposes Alex and Dr. Lee ----
out=$(am sam circle new us) || fail "circle new"
echo "$out" | grep -q "^created circle 'us' ([0-9a-f]\{8\})$" || fail "circle new: $out"
m_alex=$(am sam circle add us alex | sed -n 's/.*(\([0-9a-f]\{8\}\)).*/\1/p')
m_lee=$(am sam circle add us lee --witness | sed -n 's/.*(\([0-9a-f]\{8\}\)).*/\1/p')
[ -n "$m_alex" ] && [ -n "$m_lee" ] || fail "circle add printed no proposal hash"
share sam
# importing the same bundle twice changes nothing
out=$(am alex import "$dir/sam.bundle") || fail "second import"
[ "$out" = "0 new, 4 already here, 0 fork evidence, 0 refused" ] || fail "second import: $out"
am alex status --json | grep -q "\"awaiting\":\[.*{\"kind\":\"member\",\"hash\":\"$m_alex" ||
	fail "alex does not see the proposal awaiting him"

at 2026-03-01T08:10:00Z
am alex accept "$m_alex" >/dev/null || fail "alex accepts membership"
am lee accept "$m_lee" >/dev/null || fail "lee accepts membership"
share_all
# Alex joined first, so he too must accept Dr. Lee
am alex accept "$m_lee" >/dev/null || fail "alex accepts lee"
share alex
am sam circles --json | grep -q "\"members\":\[{\"id\":\"$SAM\",\"role\":\"member\",\"status\":\"joined\"" ||
	fail "sam is not the first member"
for who in sam alex lee; do
	n=$(am "$who" circles --json | grep -o '"status":"joined"' | wc -l)
	[ "$n" -eq 3 ] || fail "$who sees $n joined members, not 3"
	am "$who" circles --json | grep -q "{\"id\":\"$LEE\",\"role\":\"witness\",\"status\":\"joined\"" ||
		fail "$who does not see lee as a joined witness"
done
agree "membership"

# ---- a proposal, declined; an amendment, accepted ----
at 2026-03-01T10:00:00Z
out=$(am sam propose us --title "Evening check-in" --text "Sam checks in every evening by 21:00" \
	--by sam --every day --at 21:00 --grace 30m) || fail "propose"
AG=$(echo "$out" | sed -n "s/^proposed agreement \([0-9a-f]\{8\}\) .*/\1/p")
[ -n "$AG" ] || fail "propose printed no hash: $out"
share sam
at 2026-03-01T10:10:00Z
am alex decline "$AG" --reason "21:00 is too early on work days" >/dev/null || fail "decline"
share alex
agree "decline" "$AG"
am sam show "$AG" --json | grep -q "^{\"id\":\"$AG[0-9a-f]*\",\"circle\":\"[0-9a-f]*\",\"title\":\"Evening check-in\",\"status\":\"declined\"" ||
	fail "the declined proposal is not shown declined"

at 2026-03-01T10:20:00Z
out=$(am sam amend "$AG" --at 22:00 --text "Sam checks in every evening by 22:00") || fail "amend"
V2=$(echo "$out" | sed -n "s/^proposed version \([0-9a-f]\{8\}\) .*/\1/p")
[ -n "$V2" ] || fail "amend printed no hash: $out"
share sam
am alex status --json | grep -q "\"kind\":\"version\",\"hash\":\"$V2" || fail "alex does not see the amendment awaiting"
at 2026-03-01T10:30:00Z
out=$(am alex accept "$V2") || fail "accept amendment"
echo "$out" | grep -q "^'Evening check-in' is in force$" || fail "accept does not say in force: $out"
share alex
agree "acceptance" "$AG"
for who in sam alex lee; do
	j=$(am "$who" show "$AG" --json)
	echo "$j" | grep -q '"status":"in_force"' || fail "$who: not in force"
	echo "$j" | grep -q '"schedule":{"every":"day","at":"22:00"},"tz":"UTC","grace":1800' ||
		fail "$who: the amended schedule is not in force"
	echo "$j" | grep -q '"in_force_since":"2026-03-01T10:30:00Z"' || fail "$who: in force since"
done

# ---- a week of daily check-ins ----
# day 3 partial, day 4 missed (reported), days 1-7 otherwise kept; Alex
# confirms each but disputes day 6; Dr. Lee confirms day 2 as witness
for day in 1 2 3 4 5 6 7; do
	at "2026-03-0${day}T21:00:00Z"
	case $day in
	3) how="--partial --note got-home-late" ;;
	4) how="--missed --note relapsed" ;;
	*) how="--kept" ;;
	esac
	# shellcheck disable=SC2086
	h=$(am sam checkin "$AG" $how | hash_of)
	[ -n "$h" ] || fail "check-in of day $day"
	share sam
	at "2026-03-0${day}T21:30:00Z"
	if [ "$day" -eq 6 ]; then
		am alex dispute "$h" --note "you did not call" >/dev/null || fail "dispute"
	else
		am alex confirm "$h" >/dev/null || fail "confirm of day $day"
	fi
	[ "$day" -eq 2 ] && { am lee confirm "$h" >/dev/null || fail "witness confirm"; share lee; }
	share alex
	eval "day$day=$h"
done
agree "the week" "$AG"

# ---- the figures, a day later ----
at 2026-03-08T09:00:00Z
want_sam='"people":\[{"id":"'$SAM'","adherence":{"due":7,"kept":5,"partial":1,"missed":1,"unreported":0,"late":0,"paused":0,"streak":3'
for who in sam alex lee; do
	j=$(am "$who" show "$AG" --json)
	echo "$j" | grep -q "$want_sam" || fail "$who: adherence figures: $j"
	echo "$j" | grep -q '"verified":6,"disputed":1}' || fail "$who: verified/disputed counts"
	echo "$j" | grep -q "\"hash\":\"$day6[0-9a-f]*\",\"period\":\"2026-03-06\",[^]]*\"state\":\"disputed\"" ||
		fail "$who: day 6 is not disputed"
	echo "$j" | grep -q "\"hash\":\"$day2[0-9a-f]*\",\"period\":\"2026-03-02\",[^]]*\"state\":\"confirmed\",\"verified\":true,\"disputed\":false,\"marks\":\[{\"id\":\"$ALEX\",\"kind\":\"confirmed\",\"witness\":false[^]]*{\"id\":\"$LEE\",\"kind\":\"confirmed\",\"witness\":true" ||
		fail "$who: day 2 confirmations (alex, then lee as witness)"
	s=$(am "$who" status --json)
	echo "$s" | grep -q '"disputes":\[{"hash":"'"$day6" || fail "$who: status lists no dispute"
	echo "$s" | grep -q '"adherence":{"due":7,"kept":5,"partial":1,"missed":1,"unreported":0,"late":0,"paused":0,"streak":3' ||
		fail "$who: status adherence"
done
agree "the figures" "$AG"
# only Sam has a check-in due (today's), and nothing overdue
am sam status --json | grep -q '"due":\[{"agreement":"'"$AG"'[0-9a-f]*","title":"Evening check-in","period":"2026-03-08","deadline":"2026-03-08T22:00:00Z","state":"due"}\]' ||
	fail "sam's due check-in"
am alex status --json | grep -q '"due":\[\]' || fail "alex has check-ins due"
am sam status | grep -q "^  due      'Evening check-in' 2026-03-08, deadline 2026-03-08 22:00 UTC" ||
	fail "sam's status text: $(am sam status)"
am sam show "$AG" | grep -q '^  sam *7 *5 *1 *1 *3 *0 *6 *1$' || fail "show text adherence row: $(am sam show "$AG")"

# ---- a statement, confirmed ----
out=$(am sam say us "I am sorry about Wednesday." --about "$AG") || fail "say"
st=$(echo "$out" | sed -n 's/.*(statement \([0-9a-f]\{8\}\)).*/\1/p')
[ -n "$st" ] || fail "say printed no hash: $out"
share sam
am alex status --json | grep -q '"to_confirm":\[{"type":"statement","hash":"'"$st" ||
	fail "alex does not see the statement to confirm"
at 2026-03-08T09:30:00Z
am alex confirm "$st" >/dev/null || fail "confirm statement"
share alex
for who in sam alex lee; do
	am "$who" log --json | grep -q '"type":"statement","hash":"'"$st"'[0-9a-f]*","circle":"[0-9a-f]*","author":"'"$SAM"'","time":"2026-03-08T09:00:00Z","text":"I am sorry about Wednesday.","about":"'"$AG"'[0-9a-f]*","state":"confirmed"' ||
		fail "$who: log does not show the confirmed statement"
done
agree "the statement" "$AG"

# ---- the end ----
at 2026-03-08T10:00:00Z
out=$(am alex end "$AG" --reason "we will agree on something new") || fail "end"
echo "$out" | grep -q "^'Evening check-in' has ended ([0-9a-f]\{8\})$" || fail "end: $out"
share alex
at 2026-03-08T23:00:00Z
for who in sam alex lee; do
	j=$(am "$who" show "$AG" --json)
	echo "$j" | grep -q '"status":"ended"' || fail "$who: not ended"
	echo "$j" | grep -q '"end":{"entry":"[0-9a-f]*","by":"'"$ALEX"'","mutual":false,"at":"2026-03-08T10:00:00Z","reason":"we will agree on something new","kind":"end"}' ||
		fail "$who: the end"
	# adherence stops at the end: the 8th is not counted
	echo "$j" | grep -q "$want_sam" || fail "$who: adherence after the end"
done
am sam status --json | grep -q '"due":\[\]' || fail "an ended agreement has check-ins due"
agree "the end" "$AG"

# every node holds the same record: one digest
d=$(am sam circles --json | grep -o '"digest":"[0-9a-f]*"')
[ "$d" = "$(am alex circles --json | grep -o '"digest":"[0-9a-f]*"')" ] || fail "alex's digest differs"
[ "$d" = "$(am lee circles --json | grep -o '"digest":"[0-9a-f]*"')" ] || fail "lee's digest differs"
# and the text forms name people by their nicknames
am alex list | grep -q "Evening check-in .* ended" || fail "list: $(am alex list)"
am lee log | grep -q "sam .*disputed  checked in kept for 2026-03-06" || fail "log text: $(am lee log)"

# on failure, what the nodes said, for whoever reads the log
[ "$fails" -eq 0 ] || { am sam status; am alex show "$AG"; am lee log; }
[ "$fails" -eq 0 ] && echo "cli story: ok"
exit "$fails"
