#!/bin/sh
# The node's local socket never holds up its loop: while a local process
# keeps 16 connections to it open that say nothing (twice its slots, the
# rest waiting in the backlog), what sam writes still reaches alex by
# push, and sam's verify --with Alex is still answered. Prints how long
# each took (figures, not asserted). Before the socket was read without
# waiting, each silent connection held the loop for 500 ms.
#   localask.sh AMENDS AUTHOR LOCALASK
LOCALASK=${3:?usage: sh localask.sh AMENDS AUTHOR LOCALASK}
. "$(dirname "$0")/lib.sh"

ms() { date +%s%3N; }

init sam
init alex
start sam
start alex
C=$(circle_new sam us)
am alex join --accept "$(invite sam us)" --name Sam >/dev/null || fail "alex's join"
am sam name "$(id_of alex)" Alex >/dev/null || fail "name"
am sam peer add Alex "$ADDR_alex" >/dev/null || fail "peer add"
converge 30 "$C" sam alex
wait_for 30 sh -c "AMENDS_HOME='$T/sam' '$AMENDS' verify --with Alex" ||
	fail "verify --with before the silent connections"

step "16 silent connections to sam's local socket for 25 s"
"$LOCALASK" "$T/sam" 25 16 >"$T/localask.out" 2>&1 &
held=$!
wait_for 10 grep -q "^connected:" "$T/localask.out" ||
	fail "no silent connection: $(cat "$T/localask.out")"
t0=$(ms)
"$AUTHOR" "$T/sam" "$C" 5 >/dev/null || fail "sam writes"
converge 30 "$C" sam alex
t1=$(ms)
wait_for 30 sh -c "AMENDS_HOME='$T/sam' '$AMENDS' verify --with Alex | grep -q '^same record as Alex$'" ||
	fail "verify --with Alex was not answered: $(am sam verify --with Alex 2>&1)"
t2=$(ms)
kill -0 "$held" 2>/dev/null || fail "the silent connections ended early: $(cat "$T/localask.out")"
wait "$held" || fail "localask: $(cat "$T/localask.out")"
kill -0 "$PID_sam" 2>/dev/null || fail "sam's node died"
grep -q "^held 16 silent connections for 25 s; the node closed [1-9]" "$T/localask.out" ||
	fail "the node did not let silent connections go: $(tail -n 1 "$T/localask.out")"

step "after they end, the node answers at once again"
wait_for 30 sh -c "AMENDS_HOME='$T/sam' '$AMENDS' verify --with Alex | grep -q '^same record as Alex$'" ||
	fail "verify --with after the silent connections"

echo "MN-LOCALASK: pass (5 writes reached alex in $((t1 - t0)) ms and verify --with was answered $((t2 - t1)) ms later, with 16 silent local connections; $(tail -n 1 "$T/localask.out" | sed 's/^held 16 silent connections for 25 s; //')"
