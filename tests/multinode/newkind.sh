#!/bin/sh
# A node that does not know a kind of entry (built without STATEMENT, as a
# node that predates a kind would be) syncs with one that writes it: it
# stores those entries, its circle digest meets the other node's, the
# author's feed goes on past them, and its state ignores them ("unknown
# kind"). Started again with a build that knows the kind, the same store
# derives its state again and shows them (protocol/entry.md, "Kinds a node
# does not know"; protocol/state.md, "Rules version").
#
#   sh newkind.sh AMENDS AUTHOR AMENDS-WITHOUT-STATEMENTS
. "$(dirname "$0")/lib.sh"
NEW=$AMENDS
OLD=${3:?usage: sh newkind.sh AMENDS AUTHOR AMENDS-WITHOUT-STATEMENTS}

# old CMD...: runs CMD with alex's build, the one without statements
old() {
	AMENDS=$OLD
	"$@"
	rc=$?
	AMENDS=$NEW
	return $rc
}

init sam
old init alex
start sam
old start alex
C=$(circle_new sam us)
[ -n "$C" ] || fail "no circle"

step "alex, on a build without statements, joins sam's circle"
code=$(invite sam us)
old am alex join --accept "$code" --name Sam >"$T/join.out" 2>&1 ||
	{ cat "$T/join.out"; fail "join"; }
converge 30 "$C" sam alex

step "sam writes statements, then an agreement after them"
am sam say us "I am sorry I missed Tuesday" >/dev/null || fail "say"
am sam say us "and I will call if I am late" >/dev/null || fail "say"
am sam propose us --title "Evening check-in" --text "Sam checks in by 21:00" \
	--every day --at 21:00 --tz UTC --by sam >"$T/propose.out" 2>&1 ||
	{ cat "$T/propose.out"; fail "propose"; }
A=$(grep -o 'agreement [0-9a-f]*' "$T/propose.out" | head -n 1 | cut -d' ' -f2)
[ -n "$A" ] || fail "no agreement id"
converge 30 "$C" sam alex
echo "circle digests equal: $(digest alex "$C")"

step "alex's build stored the statements and goes on past them"
n=$(sqlite3 "$T/alex/amends.db" "SELECT count(*) FROM entries e JOIN feeds f
	ON f.id = e.feed WHERE hex(f.circle) = upper('$C') AND e.kind = 11")
[ "$n" = 2 ] || fail "alex's store holds $n statements, not 2"
old am alex list --json | grep -q "$A" ||
	fail "alex does not see the agreement sam proposed after the statements"
old am alex log us --json >"$T/alex-log.json" 2>"$T/alex-log.err" ||
	{ cat "$T/alex-log.err"; fail "alex's log"; }
grep -q '"type":"statement"' "$T/alex-log.json" &&
	fail "a build without statements shows one"
old am alex verify us >"$T/verify.out" 2>&1 ||
	{ cat "$T/verify.out"; fail "alex's verify of a record with unknown kinds"; }
[ "$(grep -c "^ignored: .*does not know (unknown-kind)$" "$T/verify.out")" = 2 ] ||
	{ cat "$T/verify.out"; fail "alex's verify does not list the two statements it ignores"; }
sqlite3 "$T/alex/amends.db" "SELECT value FROM settings WHERE key = 'state_rules'" |
	grep -q "kinds 1 2 3 4 5 6 7 8 9 10 12 13 14 15 16 17$" || fail "alex's store is not labelled with its build's kinds"

step "alex's build exports the record, and checks the file"
old am alex export us -o "$T/old.amends" >"$T/export.out" 2>&1 ||
	{ cat "$T/export.out"; fail "alex's export"; }
old am alex export us --agreement "$A" -o "$T/old-ag.amends" >"$T/export.out" 2>&1 ||
	{ cat "$T/export.out"; fail "alex's export of one agreement"; }
old am alex verify --file "$T/old.amends" >"$T/vf.out" 2>&1 ||
	{ cat "$T/vf.out"; fail "alex's verify --file of a record with unknown kinds"; }
am sam verify --file "$T/old.amends" >"$T/vf2.out" 2>&1 ||
	{ cat "$T/vf2.out"; fail "sam's verify --file of alex's export"; }

step "alex's build cannot write one, and says so"
if old am alex say us "hello" >"$T/say.out" 2>&1; then
	fail "a build without statements wrote one"
fi
grep -q "unknown entry kind" "$T/say.out" || { cat "$T/say.out"; fail "no sentence"; }
converge 30 "$C" sam alex

step "alex's node, started with a build that knows statements, shows them"
stop alex
start alex
am alex log us --json >"$T/alex-log2.json" || fail "alex's log"
grep -q "I am sorry I missed Tuesday" "$T/alex-log2.json" ||
	fail "the statement is not shown once the build knows its kind"
am alex verify us >"$T/verify2.out" 2>&1 || { cat "$T/verify2.out"; fail "alex's verify"; }
grep -q "^ignored:" "$T/verify2.out" &&
	{ cat "$T/verify2.out"; fail "alex's verify still ignores entries"; }
am sam log us --json >"$T/sam-log.json" || fail "sam's log"
# the same record, shown the same way (names aside: each names others itself)
strip() { sed 's/"names":{[^}]*}//' "$1"; }
[ "$(strip "$T/alex-log2.json")" = "$(strip "$T/sam-log.json")" ] ||
	fail "alex's log differs from sam's after deriving again"
sqlite3 "$T/alex/amends.db" "SELECT value FROM settings WHERE key = 'state_rules'" |
	grep -q "kinds 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17$" || fail "alex's store keeps the old label"
converge 30 "$C" sam alex

echo "$TESTID: pass"
