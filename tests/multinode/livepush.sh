#!/bin/sh
# A live push is never lost (protocol/sync.md, "Writing while comparing"):
# Sam writes while Alex's node compares records with Sam's, again and
# again, and every entry reaches Alex's node by a push. Both nodes compare
# on their own only every ten hours (--compare-every), so nothing but a
# push, or a round that a comparison opens, can deliver an entry.
#
# Each try moves Alex's link to Sam's node to an equivalent address
# (`amends peer add`, 127.0.0.1 and localhost in turn): Alex's node drops
# that connection and starts a new session, which compares records (and so
# does Sam's node, whose connection from Alex is gone), while the author
# helper writes one entry into Sam's store at the same moment, as a command
# would, 0 to 75 ms after the move began. The two nodes share 24 circles,
# so that each comparison reads for a while. Then the test polls Alex's
# store until it holds the entry, for at most BOUND seconds, before the
# next try: an entry lost by one try cannot arrive with the comparison of
# the next.
#
# Dr. Lee, a witness of the circle written to, joined and then went
# offline for good: so no checkpoint is ever due there (it needs every
# member's word), and none written by a node that wrongly believes Alex in
# step can bring the lost entry along with it.
#
# AMENDS_LIVEPUSH_WRITES sets the number of tries (default 200; tools/test
# gives the sanitizer build 50, each try being about four times slower).
. "$(dirname "$0")/lib.sh"

WRITES=${AMENDS_LIVEPUSH_WRITES:-200}
BOUND=30
CIRCLES=24
NODE_OPTS="--compare-every 36000"

ms() {
	date +%s%3N
}

init sam
init alex
start sam
start alex
C=$(circle_new sam us)
[ -n "$C" ] || fail "no circle"
code=$(invite sam us)
am alex join --accept "$code" --name Sam >"$T/join.out" 2>&1 || { cat "$T/join.out"; fail "join"; }
am sam name "$(id_of alex)" Alex >/dev/null || fail "name"
converge 30 "$C" sam alex

step "lee joins as a witness, then her node goes away for good"
init lee
start lee
am lee join --accept "$(invite sam us --witness)" --name Sam >"$T/lee-join.out" 2>&1 ||
	{ cat "$T/lee-join.out"; fail "lee's join"; }
wait_for 30 sh -c "AMENDS_HOME='$T/alex' '$AMENDS' status --json |
	grep -q '\"kind\":\"member\"'" || fail "alex never saw the proposal to add lee"
P=$(am alex status --json | grep -o '"kind":"member","hash":"[0-9a-f]*"' |
	head -n 1 | sed 's/.*"hash":"\([0-9a-f]*\)"/\1/')
am alex accept "$P" >/dev/null || fail "alex's accept"
converge 30 "$C" sam alex lee
stop lee

step "sam shares $CIRCLES circles with alex"
k=1
while [ $k -lt $CIRCLES ]; do
	k=$((k + 1))
	ck=$(circle_new sam "c$k")
	# a joined member reads a circle's feeds, a proposed one does not:
	# alex joins each through an invite
	am alex join --accept "$(invite sam "c$k")" >"$T/joink.out" 2>&1 || { cat "$T/joink.out"; fail "alex's join of c$k"; }
	converge 30 "$ck" sam alex
done

# Sam's feed in circle us: the first feed Sam's store holds there
SAM_HEX=$(sqlite3 "$T/sam/amends.db" "SELECT hex(author) FROM feeds
	WHERE hex(circle) = upper('$C') ORDER BY id LIMIT 1")
[ -n "$SAM_HEX" ] || fail "no feed of sam's"

# held NAME: how many entries of Sam's feed in circle us NAME's store holds
held() {
	sqlite3 "$T/$1/amends.db" "SELECT coalesce(max(head_seq), 0) FROM feeds
		WHERE hex(circle) = upper('$C') AND hex(author) = '$SAM_HEX'"
}

step "$WRITES writes while alex's node compares"
port=${ADDR_sam##*:}
began=$(ms)
slowest=0
i=0
while [ $i -lt $WRITES ]; do
	i=$((i + 1))
	if [ $((i % 2)) -eq 1 ]; then
		addr=tcp://localhost:$port
	else
		addr=$ADDR_sam
	fi
	am alex peer add Sam "$addr" >"$T/peer.out" 2>&1 &
	moving=$!
	# spread the write over the comparison: 0 to 75 ms after the move
	j=$(((i * 7) % 16))
	[ $j -gt 0 ] && sleep "$(printf '0.%03d' $((j * 5)))"
	"$AUTHOR" "$T/sam" "$C" 1 || fail "write $i"
	wrote=$(ms)
	wait "$moving" || { cat "$T/peer.out"; fail "peer add, try $i"; }
	want=$(held sam)
	while [ "$(held alex)" -lt "$want" ]; do
		if [ $(($(ms) - wrote)) -ge $((BOUND * 1000)) ]; then
			echo "MN-LIVEPUSH: fail $((i - 1)) of $WRITES delivered: entry $want" \
				"of sam's feed did not reach alex within $BOUND s"
			FAILED=1
			exit 1
		fi
		sleep 0.02
	done
	took=$(($(ms) - wrote))
	[ $took -gt $slowest ] && slowest=$took
done
elapsed=$(($(ms) - began))

step "both hold the same record"
converge 30 "$C" sam alex
stop alex
stop sam
intact sam
intact alex
echo "MN-LIVEPUSH: pass $WRITES of $WRITES delivered within $BOUND s" \
	"(slowest ${slowest} ms, $((elapsed / 1000)) s in all)"
