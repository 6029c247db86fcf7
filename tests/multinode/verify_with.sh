#!/bin/sh
# amends verify --with PEER: asks the peer's running node for its heads and
# says "same record", or which feeds differ and by how much.
. "$(dirname "$0")/lib.sh"

init sam
init alex
start sam
start alex
C=$(circle_new sam us)
am alex join "$(invite sam us)" --name Sam >/dev/null || fail "alex's join"
am sam name "$(id_of alex)" Alex >/dev/null || fail "name"
# alex's node connected to sam's: sam learns where alex listens by hand
am sam peer add Alex "$ADDR_alex" >/dev/null || fail "peer add"
"$AUTHOR" "$T/sam" "$C" 20 || fail "sam writes"
converge 30 "$C" sam alex

step "equal records, while sam's own node runs"
wait_for 20 sh -c "AMENDS_HOME='$T/sam' '$AMENDS' verify --with Alex" ||
	fail "verify --with with sam's node running: $(am sam verify --with Alex 2>&1)"
am sam verify --with Alex | grep -q "^same record as Alex$" || fail "not the same"

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
