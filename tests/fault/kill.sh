#!/bin/sh
# F1 and F11: kill -9 during a sync of 10,000 entries. A holds 10,000
# entries of its own and keeps writing more (faultkit author, which prints
# each entry once it is acknowledged); B receives them through a throttled
# fault proxy, so that a sync takes a few seconds. At seeded random moments
# during the sync the test kills, with SIGKILL, B's node (the receiver), A's
# node (the sender) or A's writing process, then checks the victim's store:
# PRAGMA integrity_check ok, every entry it held just before the kill still
# there (for the writer: every entry it had acknowledged), each feed
# numbered 1..head with no gap, and no self-fork (`amends verify` exits 0).
# The victim is restarted and the sync goes on, to the next kill (at most
# eight in one sync) or to the end: the two must converge. Then B starts
# again from its store before any sync, for a new sync of the whole
# backlog.
#
# CI: 30 kill points; AMENDS_LONG=1: 200. AMENDS_FAULT_SEED picks others.
. "$(dirname "$0")/lib.sh"

points=30
[ "$LONG" = 1 ] && points=200
fill A B 10000
launch_low A
proxy_start P "$(port "$ADDR_A")"
proxy P throttle 2000000
am B peer add "$ID_A" "tcp://127.0.0.1:$PORT_P" >/dev/null || fail "peer add"
sqlite3 "$T/B/amends.db" ".backup '$T/B0.db'" || fail "backup of B"
author=$(sql A "SELECT lower(hex(author)) FROM feeds ORDER BY head_seq DESC LIMIT 1")

received_since() {
	[ "$(lines B received)" -gt "$1" ]
}

# acked_present FILE: every "SEQ HASH" line of FILE is A's entry SEQ
acked_present() {
	missing=0
	grep -E '^[0-9]+ [0-9a-f]{64}$' "$1" | sort >"$T/acked.txt"
	[ -s "$T/acked.txt" ] || return 0
	lo=$(sort -n "$T/acked.txt" | head -n 1 | cut -d' ' -f1)
	hi=$(sort -n "$T/acked.txt" | tail -n 1 | cut -d' ' -f1)
	sql A "SELECT e.seq || ' ' || lower(hex(e.hash)) FROM entries e JOIN feeds f
		ON f.id = e.feed WHERE lower(hex(f.author)) = '$author'
		AND e.seq BETWEEN $lo AND $hi" | sort >"$T/held.txt"
	missing=$(comm -23 "$T/acked.txt" "$T/held.txt" | wc -l)
	[ "$missing" -eq 0 ]
}

# writer: starts A's writing process (200 entries, 100 a second)
writer() {
	writes=$((writes + 1))
	"$FAULTKIT" author "$T/A" "$C" 200 100 >"$T/acked-$writes.txt" 2>>"$T/author.log" &
	W=$!
	PIDS="$PIDS $W"
}

# writer_end: waits for the writer (bounded), checks what it acknowledged
writer_end() {
	wait_for 60 sh -c "! kill -0 $W 2>/dev/null" || fail "the writer did not end"
	wait "$W" 2>/dev/null
	forget "$W"
	acked=$((acked + $(grep -c . "$T/acked-$writes.txt")))
	acked_present "$T/acked-$writes.txt" ||
		bad F1 "$missing acknowledged entries of A's writer missing (seed $SEED)"
}

kills_a=0 kills_b=0 kills_w=0 acked=0 writes=0 syncs=0 conv_max=0 conv_sum=0
round=0
while [ $round -lt $points ]; do
	# a new sync of the whole backlog, while A writes more
	syncs=$((syncs + 1))
	[ -n "$PID_B" ] && halt B
	sqlite3 "$T/B/amends.db" ".restore '$T/B0.db'" || fail "restore of B"
	writer
	before=$(lines B received)
	launch B
	wait_for 30 received_since "$before" || fail "sync $syncs: B received nothing"
	# at most 8 kills in one sync, so that several syncs run to the end
	kills=0
	while [ $round -lt $points ] && [ $kills -lt 8 ]; do
		rand 800
		sleep "$(awk -v ms="$RAND" 'BEGIN { printf "%.3f", ms / 1000 }')"
		converged A B && break
		round=$((round + 1))
		kills=$((kills + 1))
		rand 3
		case $RAND in
		0) victim=B ;;
		1) victim=A ;;
		2) victim=W ;;
		esac
		if [ $victim = W ]; then
			kill -KILL "$W" 2>/dev/null
			kills_w=$((kills_w + 1))
			writer_end
			sound F1 A
			[ "$(gaps A)" = 0 ] || bad F1 "kill $round: a gap in A's feeds"
			writer
			continue
		fi
		held=$(count $victim)
		crash $victim
		# the writer waits while the store is checked: `amends verify`
		# compares the state with a replay of the rules, and a commit
		# between the two reads would look like a difference
		kill -STOP "$W" 2>/dev/null
		sound F11 $victim
		[ "$(count $victim)" -ge "$held" ] ||
			bad F11 "kill $round: $victim held $held entries before kill -9, $(count $victim) after"
		[ "$(gaps $victim)" = 0 ] || bad F11 "kill $round: a gap in $victim's feeds"
		verified $victim ||
			bad F1 "kill $round: amends verify fails at $victim: $(cat "$T/verify-$victim.out")"
		kill -CONT "$W" 2>/dev/null
		if [ $victim = A ]; then
			kills_a=$((kills_a + 1))
			launch A "$ADDR_A"
		else
			kills_b=$((kills_b + 1))
			launch B
		fi
	done
	writer_end
	t0=$(now_ms)
	converge 120 "$C" A B
	dt=$(( $(now_ms) - t0 ))
	conv_sum=$((conv_sum + dt))
	[ $dt -gt $conv_max ] && conv_max=$dt
done

halt B
halt A
for n in A B; do
	sound F11 "$n"
	[ "$(gaps "$n")" = 0 ] || bad F11 "a gap in $n's feeds at the end"
	verified "$n" || bad F1 "amends verify fails at $n: $(cat "$T/verify-$n.out")"
done
sanitizer_clean || bad F1 "a sanitizer report in a node's log"
result F1 "kill points $points in $syncs syncs (seed $SEED): writer $kills_w," \
	"sender node $kills_a; acked entries $acked, acked-but-missing 0," \
	"integrity failures 0, self-forks 0"
result F11 "receiver node killed $kills_b times; gaps 0, lost 0;" \
	"converged after each sync within max $(seconds $conv_max) s," \
	"mean $(seconds $((conv_sum / syncs))) s; A reported B withholding" \
	"$(lines A "withholding or truncation") times (B's store is put back" \
	"before each sync: expected after the first)"
