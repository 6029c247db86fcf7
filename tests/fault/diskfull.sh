#!/bin/sh
# F8: disk full, modelled with RLIMIT_FSIZE just above the database's size
# and SIGXFSZ ignored, so that writes past it fail as on a full disk.
#
# The writing side: `amends say` at A under the limit, repeatedly, while
# A's and B's nodes run. Every command that fails must say "disk is full"
# (not some other sentence), and nothing may be half-stored: A's database
# passes integrity_check and verify, every statement a command reported
# is there, and B, which converges with A, holds nothing A does not. Once
# the limit is lifted, writing works again and reaches B.
#
# The receiving side: B's node gets the same limit while A writes 300
# entries; it must store a clean prefix (no gap, integrity ok), say why in
# its log, and catch up once its limit is lifted and A writes again,
# without a restart.
. "$(dirname "$0")/lib.sh"

fill A B 100
launch A
am B peer add "$ID_A" "$ADDR_A" >/dev/null || fail "peer add"
NO_XFSZ=1 launch B
converge 30 "$C" A B

# size NAME: the larger of NAME's database and WAL, in bytes
size() {
	d=$(stat -c %s "$T/$1/amends.db")
	w=$(stat -c %s "$T/$1/amends.db-wal" 2>/dev/null || echo 0)
	[ "$d" -gt "$w" ] && echo "$d" || echo "$w"
}

step "the writing side: amends say under the limit"
limit=$(( $(size A) + 16384 ))
ok=0 full=0 other=0 attempt=0
: >"$T/said.txt"
while [ $attempt -lt 2000 ] && [ $full -lt 5 ]; do
	attempt=$((attempt + 1))
	if (trap '' XFSZ; AMENDS_HOME="$T/A" exec prlimit --fsize=$limit "$AMENDS" \
	    say "$C" "statement $attempt under a full disk") >"$T/say.out" 2>"$T/say.err"; then
		ok=$((ok + 1))
		grep -o 'statement [0-9a-f]*' "$T/say.out" | cut -d' ' -f2 >>"$T/said.txt"
	elif grep -q "disk is full" "$T/say.err"; then
		full=$((full + 1))
		[ -s "$T/say.out" ] && bad F8 "a refused command wrote to stdout: $(cat "$T/say.out")"
	else
		other=$((other + 1))
		cp "$T/say.err" "$T/other.err"
	fi
done
[ $full -gt 0 ] || bad F8 "no command failed in $attempt attempts under a limit of $limit bytes"
[ $other = 0 ] || bad F8 "$other failures did not say the disk is full: $(cat "$T/other.err")"
sound F8 A
[ "$(gaps A)" = 0 ] || bad F8 "a gap in A's feeds after the failures"
converge 60 "$C" A B
for h in $(cat "$T/said.txt"); do
	[ "$(sql A "SELECT count(*) FROM st_objects WHERE lower(hex(hash)) LIKE '$h%'")" -ge 1 ] ||
		bad F8 "statement $h, reported written, is not at A"
done
step "the limit lifted: writing works again"
am A say "$C" "statement after the disk was freed" >/dev/null ||
	bad F8 "writing failed after the limit was lifted"
converge 30 "$C" A B

step "the receiving side: B's node under the limit"
errs=$(lines B "disk is full")
limit_b=$(( $(size B) + 16384 ))
prlimit --pid "$PID_B" --fsize=$limit_b:unlimited || fail "prlimit on B"
"$FAULTKIT" author "$T/A" "$C" 300 >"$T/a.txt" 2>>"$T/author.log" || fail "A's writer"
full_logged() {
	[ "$(lines B "disk is full")" -gt "$errs" ]
}
wait_for 60 full_logged || bad F8 "B's node did not log that its disk is full"
converged A B && bad F8 "B stored everything under its limit"
kill -0 "$PID_B" || bad F8 "B's node died under the limit"
sound F8 B
[ "$(gaps B)" = 0 ] || bad F8 "a gap in B's feeds under the limit"
held_full=$(count B)
prlimit --pid "$PID_B" --fsize=unlimited:unlimited || fail "prlimit on B"
t0=$(now_ms)
# life goes on: A's next entry, pushed to B, shows B what it lacks (with no
# new entry, B's next comparison of records, within a minute, would)
am A say "$C" "one more after B's disk was freed" >/dev/null || fail "say at A"
wait_for 120 converged A B || bad F8 "B did not catch up within 120 s of the limit's lifting"
resume=$(( $(now_ms) - t0 ))

halt B
halt A
for n in A B; do
	sound F8 $n
	verified $n || bad F8 "amends verify fails at $n: $(cat "$T/verify-$n.out")"
done
sanitizer_clean || bad F8 "a sanitizer report in a node's log"
result F8 "writer: $ok commands stored, $full refused saying the disk is full," \
	"$other with another sentence; receiver: stopped at $held_full entries," \
	"caught up $(seconds $resume) s after the limit was lifted; integrity" \
	"failures 0, half-stored 0"
