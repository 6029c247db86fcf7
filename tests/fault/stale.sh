#!/bin/sh
# F3b: a stale copy of a node's store, started as that node (issue 22).
# A, B and D share a circle. A's store is copied at a moment when a
# checkpoint is due in it (B and D said they hold what A holds; A has not
# checkpointed yet). The real A then writes three more entries, which B
# holds and D, offline, does not. The copy is started as A's node while B
# is down, with only D to talk to: it must write no checkpoint (what B
# said before the copy started proves nothing now), and once B is back it
# must fetch A's newer entries instead of numbering over them: no fork
# anywhere, and A writes on with the next number.
. "$(dirname "$0")/lib.sh"

init A
init B
init D
# A writes no checkpoint before the copy, so that one is due in it
sql A "INSERT INTO settings(key, value) VALUES ('checkpoints', 'off')" ||
	fail "setting"
launch_low A
launch_low B
launch_low D
# every node comes back at its own address: the others dial it there
addr_A=$ADDR_A
addr_B=$ADDR_B
addr_D=$ADDR_D
C=$(circle_new A us)
[ -n "$C" ] || fail "no circle"
am B join --accept "$(invite A us)" --name A >/dev/null || fail "B's join"
converge 30 "$C" A B
am D join --accept "$(invite A us)" --name A >/dev/null || fail "D's join"
member_proposal() {
	am B status --json | grep -o '"kind":"member","hash":"[0-9a-f]*"' |
		head -n 1 | sed 's/.*"hash":"\([0-9a-f]*\)"/\1/'
}
wait_for 30 sh -c "AMENDS_HOME='$T/B' '$AMENDS' status --json | grep -q '\"kind\":\"member\"'" ||
	fail "B never saw the proposal to add D"
am B accept "$(member_proposal)" >/dev/null || fail "B's accept"
converge 30 "$C" A B D
# A has heard from both that they hold what it holds
mine() {
	d=$(digest A "$C" | sed 's/.*:"\([0-9a-f]*\)"/\1/')
	[ -n "$d" ] && [ "$(sql A "SELECT count(*) FROM peer_digests WHERE hex(circle) = upper('$C')
		AND lower(hex(digest)) = '$d'")" -ge 2 ]
}
wait_for 60 mine || fail "A never recorded that B and D hold its record"

# the head of A's feed (the one holding the circle's genesis) at NAME
a_head() {
	sql "$1" "SELECT f.head_seq FROM feeds f WHERE hex(f.circle) = upper('$C')
		AND f.author = (SELECT g.author FROM entries e JOIN feeds g ON e.feed = g.id
		WHERE e.kind = 1 AND hex(g.circle) = upper('$C'))"
}

step "A's store is copied; the real A goes on writing while D is offline"
halt A
cp -a "$T/A" "$T/A.stale" || fail "copy"
rm -f "$T/A.stale/node.lock" "$T/A.stale/node.sock" 2>/dev/null
sql A.stale "DELETE FROM settings WHERE key = 'checkpoints'" || fail "setting"
sql A "DELETE FROM settings WHERE key = 'checkpoints'" || fail "setting"
halt D
launch A "$addr_A"
# its commands write once the node has compared with B
wait_for 30 compared A || fail "A's node never compared with B"
for i in 1 2 3; do
	am A say us "written by the real A, $i" >/dev/null || fail "A's say $i"
done
converge 30 "$C" A B
real=$(a_head A)
halt A
halt B
mv "$T/A" "$T/A.real" || fail "move"
mv "$T/A.stale" "$T/A" || fail "move"
stale=$(a_head A)
[ "$stale" -lt "$real" ] || fail "the copy is not stale ($stale of $real)"

step "the stale copy starts with only D to talk to"
launch D "$addr_D"
before=$(lines A "checkpoint written")
launch A "$addr_A"
wait_for 60 log_has A "in step with" || fail "the copy never got in step with D"
# in step with D, the copy settles: with D's word now and B's from before
# the copy, a checkpoint would be due within a quarter of a second; give it
# ten, then count (a checkpoint here would fork A's feed, whose next
# number B holds)
wait_for 10 sh -c "[ \$(grep -c 'checkpoint written' '$T/A.log') -gt $before ]"
early=$(( $(lines A "checkpoint written") - before ))
[ "$early" -eq 0 ] ||
	bad F3b "the stale copy wrote a checkpoint before B, which holds A's newer entries, was back"

step "B is back: the copy fetches A's newer entries and writes on"
launch B "$addr_B"
converge 60 "$C" A B D
caught=$(a_head A)
[ "$caught" -ge "$real" ] || bad F3b "the copy holds $caught of A's $real entries"
wait_for 30 sh -c "AMENDS_HOME='$T/A' '$AMENDS' say us 'the copy writes on' >/dev/null 2>&1" ||
	bad F3b "the copy never could write again"
converge 30 "$C" A B D
forks=0
for n in A B D; do
	forks=$((forks + $(sql $n "SELECT count(*) FROM forks")))
done
[ "$forks" -eq 0 ] || bad F3b "$forks fork evidence entries after the stale copy ran"
for n in A B D; do
	verified $n || bad F3b "amends verify fails at $n: $(cat "$T/verify-$n.out")"
	[ "$(gaps $n)" = 0 ] || bad F3b "a feed with a gap at $n"
done
halt A
halt B
halt D
for n in A B D; do
	sound F3b $n
done
sanitizer_clean || bad F3b "a sanitizer report in a node's log"
result F3b "stale copy ($stale of $real entries of its own) wrote $early" \
	"checkpoints before B was back; then fetched to $caught; forks: $forks"
