#!/bin/sh
# Two nodes pair by invite and hold the same record after each step of an
# agreement's life: propose, accept, check-in, confirm, dispute. Every
# entry is written by a command while both nodes run and reaches the other
# node with no further command (the nudge, then a live push).
. "$(dirname "$0")/lib.sh"

init sam
init alex
start sam
start alex
C=$(circle_new sam us)
[ -n "$C" ] || fail "no circle"

step "alex joins with sam's invite"
code=$(invite sam us)
case $code in aminvite*) ;; *) fail "no invite code: $code" ;; esac
am alex join --accept "$code" --name Sam >"$T/join.out" 2>&1 || { cat "$T/join.out"; fail "join"; }
grep -q "joined circle" "$T/join.out" || fail "join did not say it joined"
am sam name "$(id_of alex)" Alex >/dev/null || fail "name"
converge 30 "$C" sam alex
wait_for 30 log_has alex "peer Sam .*connected" || fail "alex's node did not connect"
wait_for 10 log_has sam "joined circle" || fail "sam's node did not log the join"

step "a second node on the same data directory refuses to start"
if am sam node --listen 'tcp://127.0.0.1:*' 2>"$T/second.out"; then
	fail "a second node ran on sam's data directory"
fi
grep -q "another node is already running" "$T/second.out" || fail "no sentence for a second node"

step "peers lists the connection"
wait_for 20 sh -c "AMENDS_HOME='$T/alex' '$AMENDS' peers --json | grep -q '\"connected\":true'" ||
	fail "alex's peers does not show sam connected"
am alex peers | grep -q "$ADDR_sam" || fail "alex's peers does not show sam's address"

step "propose"
am sam propose us --title "Evening check-in" --text "Sam checks in by 21:00" \
	--every day --at 21:00 --tz UTC --by sam >"$T/propose.out" 2>&1 ||
	{ cat "$T/propose.out"; fail "propose"; }
A=$(grep -o 'agreement [0-9a-f]*' "$T/propose.out" | head -n 1 | cut -d' ' -f2)
[ -n "$A" ] || fail "no agreement id"
converge 30 "$C" sam alex

step "accept"
wait_for 10 sh -c "AMENDS_HOME='$T/alex' '$AMENDS' status | grep -q $A" || fail "alex does not see the proposal"
am alex accept "$A" >/dev/null || fail "accept"
converge 30 "$C" sam alex
am sam list --json | grep -q '"status":"in_force"' || fail "not in force on sam's node"

step "check-in"
am sam checkin "$A" --kept --note "home by nine" >"$T/checkin.out" 2>&1 ||
	{ cat "$T/checkin.out"; fail "checkin"; }
K=$(grep -o '[0-9a-f]\{8\}' "$T/checkin.out" | head -n 1)
converge 30 "$C" sam alex

step "confirm"
am alex confirm "$K" >/dev/null || fail "confirm"
converge 30 "$C" sam alex

step "dispute"
am sam checkin "$A" --partial --note "home at ten" \
	>"$T/checkin2.out" 2>&1 || { cat "$T/checkin2.out"; fail "second checkin"; }
K2=$(grep -o '[0-9a-f]\{8\}' "$T/checkin2.out" | head -n 1)
converge 30 "$C" sam alex
am alex dispute "$K2" --note "it was after ten" >/dev/null || fail "dispute"
converge 30 "$C" sam alex
wait_for 10 log_has sam "received 1 entry from Alex" || fail "sam's node did not log the entry"

step "status says both hold the same record"
for who in sam alex; do
	wait_for 10 sh -c "AMENDS_HOME='$T/$who' '$AMENDS' status --json | grep -q '\"everyone_same\":true'" ||
		fail "$who's status does not say everyone holds the same record"
done
am sam status | grep -q "everyone holds the same record" || fail "no plain sentence in status"

step "both logs read the same"
am sam log --json | sed 's/"names":.*//' >"$T/sam.json"
am alex log --json | sed 's/"names":.*//' >"$T/alex.json"
cmp -s "$T/sam.json" "$T/alex.json" || fail "the logs differ"
grep -q '"disputed"' "$T/sam.json" || grep -q 'disput' "$T/sam.json" || fail "no dispute in the log"

stop alex
stop sam
intact sam
intact alex
echo "MN-PAIR: pass"
