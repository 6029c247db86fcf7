#!/bin/sh
# S9: a peer shows a truncated record. A and B converge on 300 entries of
# A's feed, and B's node writes a checkpoint: a signed statement that it
# held them. Then 250 of A's entries are cut out of B's store (the feed
# head put back to 50, the rows of those entries and of their state
# removed), as a peer that drops or withholds another's entries would, and
# B's node starts again showing 50 entries of A's feed. A must delete
# nothing and report it against B's own checkpoint (its log, and `amends
# status` and `amends verify` list it), and B must fetch again what it
# lost, until both hold the same record.
. "$(dirname "$0")/lib.sh"

fill A B 100
launch A
am B peer add "$ID_A" "$ADDR_A" >/dev/null || fail "peer add"
launch B
converge 30 "$C" A B

step "A writes 200 more; B holds them and says so in a checkpoint"
"$FAULTKIT" author "$T/A" "$C" 200 >"$T/a.txt" 2>>"$T/author.log" || fail "A's writer"
converge 60 "$C" A B
cp_before=$(lines B "checkpoint written")
am A say "$C" "one more, for the last checkpoint" >/dev/null || fail "say"
checkpointed() {
	[ "$(lines B "checkpoint written")" -gt "$cp_before" ] && converged A B
}
wait_for 30 checkpointed || fail "B wrote no checkpoint after it caught up"
halt B

step "250 of A's entries are cut out of B's store"
a_hex=$(sql A "SELECT lower(hex(author)) FROM feeds ORDER BY head_seq DESC LIMIT 1")
sql B "BEGIN;
	DELETE FROM entries WHERE seq > 50 AND feed = (SELECT id FROM feeds
		WHERE lower(hex(author)) = '$a_hex');
	UPDATE feeds SET head_seq = 50, head_hash = (SELECT hash FROM entries
		WHERE seq = 50 AND feed = feeds.id) WHERE lower(hex(author)) = '$a_hex';
	DELETE FROM st_objects WHERE seq > 50 AND lower(hex(author)) = '$a_hex';
	DELETE FROM st_acts WHERE seq > 50 AND lower(hex(author)) = '$a_hex';
	COMMIT;" || fail "cutting B's store"

step "B comes back showing a shorter feed of A"
held_a=$(count A)
reports=$(lines A "than the checkpoint")
launch B
reported() {
	[ "$(lines A "than the checkpoint")" -gt "$reports" ]
}
wait_for 30 reported || bad S9 "A's log does not report B's shorter feed against the checkpoint"
grep "than the checkpoint" "$T/A.log" | tail -n 1 >"$T/s9.txt"
converge 60 "$C" A B
[ "$(count A)" -ge "$held_a" ] || bad S9 "A held $held_a entries, now $(count A)"
sort "$T/a.txt" >"$T/acked.txt"
sql A "SELECT e.seq || ' ' || lower(hex(e.hash)) FROM entries e" | sort >"$T/held.txt"
comm -23 "$T/acked.txt" "$T/held.txt" | grep -q . && bad S9 "A lost entries it had written"
am A status >"$T/status.out" 2>&1 || fail "status"
grep -q "shorter feed" "$T/status.out" || bad S9 "amends status at A does not list the shorter feed"
am A verify >"$T/verify-A.out" 2>&1 || bad S9 "amends verify at A fails: $(cat "$T/verify-A.out")"
grep -q "withholding" "$T/verify-A.out" ||
	bad S9 "amends verify at A does not list the shorter feed"
halt B
halt A
for n in A B; do
	sound S9 $n
	verified $n || bad S9 "amends verify fails at $n: $(cat "$T/verify-$n.out")"
done
sanitizer_clean || bad S9 "a sanitizer report in a node's log"
result S9 "B showed $(grep -o '[0-9]* of [0-9]* entries' "$T/s9.txt") of A's feed" \
	"against its own checkpoint: deleted at A 0; reported in A's log, status" \
	"and verify; B fetched again and converged"
