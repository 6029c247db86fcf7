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
# The receiving side: B's node gets the same limit while A writes more
# than B's files could hold under it; B must store a clean prefix (no gap,
# integrity ok), say why in its log, and catch up once its limit is lifted
# and A writes again, without a restart.
#
# RLIMIT_FSIZE fails a write that reaches past the limit's offset, in any
# file; a write inside the limit succeeds whatever the file's size. SQLite
# writes its log (amends.db-wal) from the start again once a checkpoint
# has copied all of it into the database, so a limit set just above the
# files' sizes bites only if the writes must go past it. Each side makes
# sure they must:
# - the writing side holds a read transaction open on A's database while
#   the commands run: no checkpoint can then finish, the log cannot start
#   over, and every command that stores appends at least one page to it;
#   so after at most limit / 4096 commands stored, the next ones must fail;
# - the receiving side stops B's node first (at a clean close SQLite copies
#   the log into the database and removes it), so the limit is just above
#   the database, and A writes entries whose bytes are more than twice the
#   limit: below the limit the database and the log together cannot hold
#   them, so B must refuse some.
. "$(dirname "$0")/lib.sh"

fill A B 100
launch A
am B peer add "$ID_A" "$ADDR_A" >/dev/null || fail "peer add"
NO_XFSZ=1 launch B
converge 30 "$C" A B

# size NAME: the largest of the files NAME's node writes, in bytes: the
# database, its log and shared-memory index, and the node's own log (which
# must stay writable under the limit, to say that the disk is full)
size() {
	m=0
	for f in "$T/$1/amends.db" "$T/$1/amends.db-wal" "$T/$1/amends.db-shm" \
	    "$T/$1.log"; do
		z=$(stat -c %s "$f" 2>/dev/null || echo 0)
		[ "$z" -gt "$m" ] && m=$z
	done
	echo "$m"
}

# hold NAME: a reader keeps a read transaction open on NAME's database
# until `release`: no checkpoint can finish meanwhile, so SQLite's log is
# not started over and every commit appends to it
hold() {
	rm -f "$T/hold.fifo" "$T/held.txt"
	mkfifo "$T/hold.fifo" || fail "mkfifo"
	sqlite3 -cmd ".timeout 10000" "$T/$1/amends.db" <"$T/hold.fifo" \
		>/dev/null 2>>"$T/reader.log" &
	PID_reader=$!
	PIDS="$PIDS $PID_reader"
	exec 7>"$T/hold.fifo"
	# a reader that ended must fail the test here, not end it with SIGPIPE
	trap '' PIPE
	printf '%s\n' ".output $T/held.txt" "BEGIN;" \
		"SELECT count(*) FROM entries;" ".output stdout" >&7 2>/dev/null
	trap - PIPE
	# .output closes the file once the count is in it: the snapshot is taken
	wait_for 30 test -s "$T/held.txt" || fail "no reader on $1's database"
}

release() {
	trap '' PIPE
	printf '%s\n' "COMMIT;" ".quit" >&7 2>/dev/null
	trap - PIPE
	exec 7>&-
	wait_for 30 sh -c "! kill -0 $PID_reader 2>/dev/null" || fail "the reader did not end"
	wait "$PID_reader" || fail "the reader failed: $(cat "$T/reader.log")"
	forget "$PID_reader"
}

step "the writing side: amends say under the limit"
hold A
limit=$(( $(size A) + 16384 ))
# a stored command appends a page (4096 bytes and a header) or more to the
# log, which cannot start over: by then at least 5 must have failed
attempts=$((limit / 4096 + 10))
ok=0 full=0 other=0 attempt=0
: >"$T/said.txt"
while [ $attempt -lt $attempts ] && [ $full -lt 5 ]; do
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
release
[ $full -ge 5 ] || bad F8 "$full commands failed in $attempt attempts under a limit of $limit bytes"
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
halt B
wal=$(stat -c %s "$T/B/amends.db-wal" 2>/dev/null || echo 0)
[ "$wal" = 0 ] || fail "B's node left a log of $wal bytes beside its database at a clean stop"
NO_XFSZ=1 launch B
errs=$(lines B "disk is full")
limit_b=$(( $(size B) + 16384 ))
prlimit --pid "$PID_B" --fsize=$limit_b:unlimited || fail "prlimit on B"
# A writes until its new entries hold more than twice the limit in bytes
written=0 rounds=0 feed=
: >"$T/a.txt"
while [ $written -le $((2 * limit_b)) ]; do
	rounds=$((rounds + 1))
	[ $rounds -le 50 ] || fail "A wrote only $written bytes in 50 rounds"
	"$FAULTKIT" author "$T/A" "$C" 250 >>"$T/a.txt" 2>>"$T/author.log" || fail "A's writer"
	if [ -z "$feed" ]; then
		first=$(head -n 1 "$T/a.txt")
		feed=$(sql A "SELECT feed FROM entries WHERE hash = x'${first#* }'")
		from=${first%% *}
	fi
	written=$(sql A "SELECT sum(length(raw)) FROM entries WHERE feed = $feed AND seq >= $from")
done
full_logged() {
	[ "$(lines B "disk is full")" -gt "$errs" ]
}
wait_for 60 full_logged || bad F8 "B's node did not log that its disk is full" \
	"(A wrote $written bytes of entries, B's limit is $limit_b bytes)"
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
	"$other with another sentence; receiver: A wrote $(grep -c . "$T/a.txt")" \
	"entries ($written bytes) under B's limit of $limit_b bytes, B stopped at" \
	"$held_full entries," \
	"caught up $(seconds $resume) s after the limit was lifted; integrity" \
	"failures 0, half-stored 0"
