#!/bin/sh
# A clean-room join: tests/multinode/cleanroom_join.py, a joiner written
# from protocol/invite.md alone (Debian's python3-nacl, python3-zmq,
# python3-msgpack), first checks itself against protocol/invite-vectors.txt,
# then joins a real node with a real code: it gets the preview, verifies
# its signatures, sends its ACCEPT, which the node stores, and (joined at
# once: the inviter is the only member) walks the record, its own answer
# in it. A second code is declined, and that DECLINE is stored too.
# Skips (77) only when python3 or those modules are missing and tools/deps
# could not install them.
. "$(dirname "$0")/lib.sh"

SRC=${AMENDS_SRC:-$(dirname "$0")/../..}
PY=/usr/bin/python3
[ -x "$PY" ] || PY=$(command -v python3 || true)
modules_ok() {
	[ -n "$PY" ] && "$PY" -c "import nacl.signing, zmq, msgpack" 2>/dev/null
}
if ! modules_ok; then
	sh "$SRC/tools/deps" >/dev/null 2>&1 || true
	PY=/usr/bin/python3
	if ! modules_ok; then
		echo "MN-CLEANROOM: skip (python3 with nacl, zmq and msgpack is missing)"
		exit 77
	fi
fi
CLEAN="$SRC/tests/multinode/cleanroom_join.py"

step "the clean-room joiner agrees with the vectors"
"$PY" "$CLEAN" vectors "$SRC/protocol/invite-vectors.txt" || fail "vectors"

init sam
start sam
C=$(circle_new sam us)
am sam say us "only members read this" >/dev/null || fail "say"

step "it joins with a real code"
"$PY" "$CLEAN" join "$(invite sam us)" >"$T/clean.json" 2>"$T/clean.err" ||
	{ cat "$T/clean.err"; fail "the clean-room join"; }
cat "$T/clean.json"
J=$(sed 's/.*"id": "\([0-9a-f]*\)".*/\1/' "$T/clean.json")
H=$(sed 's/.*"answer_hash": "\([0-9a-f]*\)".*/\1/' "$T/clean.json")
grep -q '"joined": true' "$T/clean.json" || fail "not joined"
grep -q '"own_answer_served": true' "$T/clean.json" || fail "its answer was not in the record"
grep -q "\"circle\": \"$C\"" "$T/clean.json" || fail "another circle"
wait_for 10 log_has sam "joined circle" || fail "sam's node did not log the join"
stored=$(sqlite3 "$T/sam/amends.db" "SELECT count(*) FROM entries e
	JOIN feeds f ON f.id = e.feed WHERE hex(f.author) = upper('$J')
	AND e.kind = 5 AND e.seq = 1 AND hex(e.hash) = upper('$H')")
[ "$stored" = 1 ] || fail "sam's node did not store the clean-room ACCEPT"
am sam circles --json | grep -o '"status":"joined"' | wc -l | grep -q 2 ||
	fail "sam does not show two joined members"
intact sam

step "it declines another code"
"$PY" "$CLEAN" join "$(invite sam us)" --decline >"$T/clean2.json" 2>"$T/clean2.err" ||
	{ cat "$T/clean2.err"; fail "the clean-room decline"; }
J2=$(sed 's/.*"id": "\([0-9a-f]*\)".*/\1/' "$T/clean2.json")
grep -q '"entries": 0' "$T/clean2.json" || fail "a declining joiner received entries"
stored=$(sqlite3 "$T/sam/amends.db" "SELECT count(*) FROM entries e
	JOIN feeds f ON f.id = e.feed WHERE hex(f.author) = upper('$J2')
	AND e.kind = 6")
[ "$stored" = 1 ] || fail "sam's node did not store the clean-room DECLINE"
echo "MN-CLEANROOM: pass"
