#!/bin/sh
# F3c: "restore, or start a stale copy, then sync with some of the peers"
# (issue 22). Sam, Alex and Lee share circle "us". Each of 20 schedules,
# drawn from a seed, is one of:
#   restore  Sam writes, every node holds it; Sam backs up his key, his data
#            directory is wiped and `amends init --restore` makes it again;
#   stale    a copy of Sam's data directory is taken, the real Sam writes
#            on (every node holds it), stops, and the copy starts as Sam.
# Then Sam's node runs with only a random non-empty subset of the peers;
# Sam writes a statement as soon as the CLI lets him, and finally every node runs
# and converges. After each schedule: no fork evidence and no forked feed
# on any node, `amends verify` clean everywhere, every entry of Sam's from
# before the schedule still held by every node, the same digest everywhere.
#
# The seed is printed first; replay a run with AMENDS_FAULT_SEED=SEED (or
# the seed as a seventh argument). AMENDS_SCHEDULES sets how many (20).
if [ -n "${7:-}" ]; then
	AMENDS_FAULT_SEED=$7
fi
if [ -z "${AMENDS_FAULT_SEED:-}" ]; then
	# the clock's digits without leading zeros, which the shell would
	# read as an octal number
	ns=$(date +%s%N | cut -c 8-16 | sed 's/^0*//')
	AMENDS_FAULT_SEED=$(( ${ns:-0} % 1000000 + 1 ))
fi
export AMENDS_FAULT_SEED
. "$(dirname "$0")/lib.sh"
TESTID=FAULT-SCHEDULES
SCHEDULES=${AMENDS_SCHEDULES:-20}
echo "seed $SEED (replay: AMENDS_FAULT_SEED=$SEED)"

t0=$(now_ms)
three_members
addr_sam=$ADDR_sam
addr_alex=$ADDR_alex
addr_lee=$ADDR_lee

# sam_entries NAME: the hashes of Sam's entries (his feed holds the
# circle's genesis) in NAME's store, sorted
sam_entries() {
	sql "$1" "SELECT lower(hex(e.hash)) FROM entries e JOIN feeds f
		ON e.feed = f.id WHERE f.author = (SELECT g.author FROM entries x
		JOIN feeds g ON x.feed = g.id WHERE x.kind = 1
		AND hex(g.circle) = upper('$C'))" | sort
}

# say_n NAME N TAG: NAME writes N statements (the node running; a node
# just started lets its CLI write once it has compared with a peer)
say_n() {
	j=1
	while [ "$j" -le "$2" ]; do
		wait_for 60 sh -c "AMENDS_HOME='$T/$1' '$AMENDS' say us '$3, $j' \
			>'$T/say.out' 2>&1" ||
			bad F3c "$WHAT: $1's say $j: $(cat "$T/say.out")"
		j=$((j + 1))
	done
}

# relaunch NAME: NAME's node at the address its peers know
relaunch() {
	eval "launch $1 \"\$addr_$1\""
}

# sam_writes: waits (bounded) until Sam's CLI lets him write once
sam_writes() {
	wait_for 90 sh -c "AMENDS_HOME='$T/sam' '$AMENDS' say us '$1' >'$T/say.out' 2>&1" ||
		bad F3c "$WHAT: Sam's CLI never let him write: $(cat "$T/say.out")"
}

forks_total=0
restores=0
stales=0
sched=1
while [ "$sched" -le "$SCHEDULES" ]; do
	rand 2
	mode=$RAND
	rand 3
	writes=$((RAND + 1))
	# the peers Sam's node syncs with alone: 0 alex, 1 lee, 2 both
	rand 3
	case $RAND in
		0) peers=alex ;;
		1) peers=lee ;;
		*) peers="alex lee" ;;
	esac
	rand 2
	others=$RAND
	if [ "$mode" = 0 ]; then
		kind=restore
		restores=$((restores + 1))
	else
		kind=stale
		stales=$((stales + 1))
	fi
	WHAT="seed $SEED schedule $sched ($kind, $writes writes, Sam with: $peers)"
	step "$WHAT"

	if [ "$kind" = stale ]; then
		halt sam
		rm -rf "$T/sam.stale"
		cp -a "$T/sam" "$T/sam.stale" || fail "copy"
		rm -f "$T/sam.stale/node.lock" "$T/sam.stale/node.sock" 2>/dev/null
		relaunch sam
	fi
	say_n sam "$writes" "sam in schedule $sched"
	[ "$others" = 1 ] && say_n alex 1 "alex in schedule $sched"
	converge 60 "$C" sam alex lee
	sam_entries sam >"$T/before"
	[ -s "$T/before" ] || fail "no entries of Sam's"

	if [ "$kind" = restore ]; then
		rm -f "$T/sam.backup"
		printf 'a long passphrase\n' | am sam key backup -o "$T/sam.backup" \
			--passphrase-fd 0 >/dev/null || bad F3c "$WHAT: key backup"
		halt sam
		rm -rf "$T/sam"
		printf 'a long passphrase\n' | am sam init --restore "$T/sam.backup" \
			--passphrase-fd 0 >"$T/restore.out" 2>&1 ||
			bad F3c "$WHAT: restore: $(cat "$T/restore.out")"
	else
		halt sam
		rm -rf "$T/sam"
		mv "$T/sam.stale" "$T/sam" || fail "move"
	fi
	for n in alex lee; do
		case " $peers " in
			*" $n "*) ;;
			*) halt "$n" ;;
		esac
	done
	relaunch sam
	# Sam writes as soon as his CLI lets him: restored, the restore guard
	# holds it until his entries are back; a stale copy, the CLI waits
	# for the node's first comparison with a peer (README), which brings
	# back the entries the copy lacks, before that his entry would fork
	# Sam's feed
	sam_writes "sam back in schedule $sched"
	for n in alex lee; do
		case " $peers " in
			*" $n "*) ;;
			*) relaunch "$n" ;;
		esac
	done
	wait_for 90 same "$C" sam alex lee ||
		bad F3c "$WHAT: no convergence within 90 s"

	for n in sam alex lee; do
		f=$(sql $n "SELECT (SELECT count(*) FROM forks) +
			(SELECT count(*) FROM feeds WHERE forked_at IS NOT NULL)")
		forks_total=$((forks_total + f))
		[ "$f" = 0 ] || bad F3c "$WHAT: $f fork records at $n"
		verified $n || bad F3c "$WHAT: amends verify at $n: $(cat "$T/verify-$n.out")"
		sam_entries $n >"$T/now-$n"
		lost=$(comm -23 "$T/before" "$T/now-$n" | wc -l)
		[ "$lost" = 0 ] || bad F3c "$WHAT: $n lacks $lost of Sam's earlier entries"
	done
	sched=$((sched + 1))
done

halt sam
halt alex
halt lee
for n in sam alex lee; do
	sound F3c $n
done
sanitizer_clean || bad F3c "a sanitizer report in a node's log"
secs=$(seconds $(( $(now_ms) - t0 )))
result F3c "seed $SEED: $SCHEDULES schedules ($restores restores, $stales stale copies)" \
	"in $secs s; forks: $forks_total"
echo "FAULT-SCHEDULES: pass $SCHEDULES schedules, $forks_total forks"
