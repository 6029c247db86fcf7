#!/bin/sh
# amends verify --with PEER: asks the peer's running node for its heads and
# says "same record", or which feeds differ and by how much. While our own
# node runs, it asks on its own live session (a second connection under
# our key would take that session over at the peer): with both nodes
# running and Alex's disk full, the feeds Alex lacks are named and
# measured; a peer whose node is down is named as not connected.
. "$(dirname "$0")/lib.sh"

# size NAME: the larger of NAME's database and WAL, in bytes
size() {
	d=$(stat -c %s "$T/$1/amends.db")
	w=$(stat -c %s "$T/$1/amends.db-wal" 2>/dev/null || echo 0)
	[ "$d" -gt "$w" ] && echo "$d" || echo "$w"
}

# with_says PATTERN: sam's verify --with Alex prints PATTERN
with_says() {
	AMENDS_HOME="$T/sam" "$AMENDS" verify --with Alex >"$T/with.out" 2>&1
	grep -q -- "$1" "$T/with.out"
}

init sam
init alex
start sam
NO_XFSZ=1 start alex
C=$(circle_new sam us)
am alex join --accept "$(invite sam us)" --name Sam >/dev/null || fail "alex's join"
am sam name "$(id_of alex)" Alex >/dev/null || fail "name"
# alex's node connected to sam's: sam learns where alex listens by hand
am sam peer add Alex "$ADDR_alex" >/dev/null || fail "peer add"
"$AUTHOR" "$T/sam" "$C" 20 || fail "sam writes"
converge 30 "$C" sam alex

step "equal records, while sam's own node runs"
wait_for 20 sh -c "AMENDS_HOME='$T/sam' '$AMENDS' verify --with Alex" ||
	fail "verify --with with sam's node running: $(am sam verify --with Alex 2>&1)"
am sam verify --with Alex | grep -q "^same record as Alex$" || fail "not the same"

step "both nodes running, alex's disk full: the feed alex lacks, measured"
limit=$(( $(size alex) + 16384 ))
prlimit --pid "$PID_alex" --fsize=$limit:unlimited || fail "prlimit on alex"
"$AUTHOR" "$T/sam" "$C" 300 || fail "sam writes 300"
wait_for 60 log_has alex "disk is full" || fail "alex's node never found its disk full"
wait_for 30 with_says "sam's feed: Alex holds [0-9]* entries, [0-9]* fewer than here" ||
	fail "no per-feed difference through sam's node: $(cat "$T/with.out")"
grep -q "differs from Alex" "$T/with.out" || fail "no difference named: $(cat "$T/with.out")"
if am sam verify --with Alex >/dev/null 2>&1; then fail "verify --with said same"; fi
kill -0 "$PID_alex" || fail "alex's node died under its limit"

step "the limit lifted: alex catches up, and sam's node says same record"
prlimit --pid "$PID_alex" --fsize=unlimited:unlimited || fail "prlimit on alex"
# sam's next entry, pushed, shows alex what it lacks
am sam say us "one more" >/dev/null || fail "sam's say"
converge 60 "$C" sam alex
wait_for 30 with_says "^same record as Alex$" ||
	fail "not the same record after catching up: $(cat "$T/with.out")"

step "alex's node stopped: sam's node says alex is not connected"
stop alex
wait_for 30 with_says "cannot ask Alex through this node: the peer's node is not connected" ||
	fail "no clear message for a peer not connected: $(cat "$T/with.out")"
if am sam verify --with Alex >/dev/null 2>&1; then fail "verify --with succeeded"; fi
start alex "$ADDR_alex"
converge 30 "$C" sam alex

step "equal records, asked directly"
stop sam
am sam verify --with Alex >"$T/with.out" 2>&1 || { cat "$T/with.out"; fail "verify --with"; }
grep -q "^same record as Alex$" "$T/with.out" || fail "not the same: $(cat "$T/with.out")"

step "sam writes 5 entries while its node is down: alex holds 5 fewer"
"$AUTHOR" "$T/sam" "$C" 5 || fail "sam writes offline"
if am sam verify --with Alex >"$T/with.out" 2>&1; then fail "verify --with said same"; fi
grep -q "differs from Alex" "$T/with.out" || fail "no difference named: $(cat "$T/with.out")"
grep -q "sam's feed: Alex holds [0-9]* entries, 5 fewer than here" "$T/with.out" ||
	fail "the difference is not measured: $(cat "$T/with.out")"

step "a peer with no known address"
init lee
if am sam verify --with "$(id_of lee)" 2>"$T/err"; then fail "verify --with a stranger"; fi
grep -q "no address known" "$T/err" || fail "stranger message: $(cat "$T/err")"
echo "$TESTID: pass"
