#!/bin/sh
# Other people's text reaches the terminal escaped: Alex, a member with a
# client of his own (craft.c writes what the CLI refuses), writes a circle
# name, titles, terms, a statement and a check-in note carrying ESC
# sequences, BEL, CR, a newline that forges a "confirmed by" line, and
# U+202E (right-to-left override). Every text output on Sam's side
# (status, list, log, show, circles, verify --file) shows them as visible
# escapes and carries none of those bytes; JSON carries the exact text,
# JSON-escaped.
#   escape.sh AMENDS CRAFT
set -u
amends=$1
craft=$2
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
export TZ=UTC
fails=0
fail() { printf "FAIL: %s\n" "$*"; fails=$((fails + 1)); }
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

ESC=$(printf '\033')
BEL=$(printf '\007')
CR=$(printf '\r')
RLO=$(printf '\342\200\256')     # U+202E
CSI=$(printf '\302\233')        # U+009B, the C1 control sequence introducer
NL='
'

at 2026-03-01T08:00:00Z
am sam init --name sam >/dev/null || fail "init sam"
am alex init --name alex >/dev/null || fail "init alex"
am sam name "$(idof alex)" alex >/dev/null || fail "name"
am alex circle new "home${RLO}emoh" >/dev/null || fail "circle new"
C=$(am alex circles --json | grep -o '"id":"[0-9a-f]*"' | head -n 1 | cut -d'"' -f4)
m=$(am alex circle add "$C" "$(idof sam)" | sed -n 's/.*(\([0-9a-f]\{8\}\)).*/\1/p')
carry alex sam
am sam accept "$m" >/dev/null || fail "sam joins"
carry sam alex

A=$(am alex propose "$C" --title "Call${RLO}llac" --text "I call every day" \
	--by alex --every day --at 21:00 |
	sed -n "s/^proposed agreement \([0-9a-f]\{8\}\) .*/\1/p")
[ -n "$A" ] || fail "propose"
B=$("$craft" "$dir/alex" "$C" 1772352000000 "Walk${ESC}[2K${RLO}klaw" \
	"I walk${BEL} every day${CR}I never walk" | cut -c1-8)
[ -n "$B" ] || fail "craft"
carry alex sam
am sam accept "$A" >/dev/null || fail "accept"
carry sam alex
at 2026-03-01T21:00:00Z
am alex checkin "$A" --kept --note "done${NL}      confirmed by sam" >/dev/null ||
	fail "checkin"
am alex say "$C" "sorry${ESC}]0;owned${BEL} ${RLO}gnol" >/dev/null || fail "say"
carry alex sam
at 2026-03-02T08:00:00Z
am sam export "$C" -o "$dir/record.amends" >/dev/null || fail "export"

# raw NAME FILE: FILE carries none of the bytes that drive a terminal
raw() {
	if grep -q "$ESC\|$BEL\|$CR\|$RLO\|$CSI" "$2"; then
		fail "$1 prints raw control bytes: $(cat -v "$2")"
	fi
}
shows() {
	grep -qF -- "$2" "$3" || fail "$1 does not show '$2': $(cat -v "$3")"
}

for cmd in status list log circles "show $A" "show $B"; do
	# shellcheck disable=SC2086
	am sam $cmd >"$dir/out" 2>&1 || fail "$cmd failed: $(cat -v "$dir/out")"
	raw "$cmd" "$dir/out"
done
am sam log >"$dir/log" 2>&1
shows log 'done\n      confirmed by sam' "$dir/log"
shows log 'sorry\e]0;owned\x07 \u{202e}gnol' "$dir/log"
grep -q '^      confirmed by sam' "$dir/log" &&
	fail "log shows a line the note forged: $(cat -v "$dir/log")"
am sam show "$A" >"$dir/show" 2>&1
shows show 'Call\u{202e}llac' "$dir/show"
am sam show "$B" >"$dir/show" 2>&1
shows show 'Walk\e[2K\u{202e}klaw' "$dir/show"
shows show 'I walk\x07 every day\rI never walk' "$dir/show"
am sam circles >"$dir/circles" 2>&1
shows circles 'home\u{202e}emoh' "$dir/circles"
am sam list >"$dir/list" 2>&1
shows list 'Call\u{202e}llac' "$dir/list"
shows list 'Walk\e[2K\u{202e}klaw' "$dir/list"

am sam verify --file "$dir/record.amends" >"$dir/vf" 2>&1
raw "verify --file" "$dir/vf"
shows "verify --file" 'done\n      confirmed by sam' "$dir/vf"

# JSON keeps the exact text: control characters as JSON escapes, other
# characters (U+202E too) as they are, for programs to judge
am sam log --json >"$dir/json" 2>&1 || fail "log --json"
grep -q "$ESC\|$BEL\|$CR" "$dir/json" && fail "log --json carries raw control bytes"
shows "log --json" 'sorry\u001b]0;owned\u0007 ' "$dir/json"

# A circle named by Alex's own client with bytes that clear the screen and
# reverse the text shows escaped where status names the circle
# (misbehaviour on record: Alex forks his feed there) and in the problem
# sentences verify --file prints (Alex is not among the people expected).
at 2026-03-03T08:00:00Z
D=$("$craft" "$dir/alex" "$C" 1772524800000 --genesis "ring${ESC}[2J${CSI}${RLO}gnir")
[ -n "$D" ] || fail "craft genesis"
m=$(am alex circle add "$D" "$(idof sam)" | sed -n 's/.*(\([0-9a-f]\{8\}\)).*/\1/p')
carry alex sam
am sam accept "$m" >/dev/null || fail "sam joins the crafted circle"
carry sam alex
"$craft" "$dir/alex" "$D" 1772524801000 --say "before the fork" >/dev/null ||
	fail "craft say"
"$craft" "$dir/alex" "$D" 1772524802000 --fork "the fork" >/dev/null ||
	fail "craft fork"
carry alex sam
am sam status >"$dir/status" 2>&1
raw status "$dir/status"
shows status 'ring\e[2J\u{009b}\u{202e}gnir: two different entries' "$dir/status"
am sam export "$D" -o "$dir/ring.amends" >/dev/null || fail "export ring"
am sam verify --file "$dir/ring.amends" --expect "$(idof sam)" \
	>"$dir/vf2" 2>&1
raw "verify --file --expect" "$dir/vf2"
shows "verify --file --expect" "circle 'ring\e[2J\u{009b}\u{202e}gnir'" "$dir/vf2"

[ "$fails" -eq 0 ] && echo "cli escape: ok"
exit "$fails"
