#!/bin/sh
# S6: an equivocating member. A, B and M share a circle (paired by
# invites, M accepted by both). M signs two different entries at the same
# number; A receives one, B the other, while B's node is down. When B's
# node comes back, both must detect the fork, keep the proof (each keeps
# the other's entry as fork evidence), log it, show it in `amends verify`
# (which then names the fork and exits 1, with no other problem), reach
# the same digest, and go on syncing everyone else's entries.
. "$(dirname "$0")/lib.sh"

init A
init B
init M
launch A
launch B
launch M
C=$(circle_new A us)
[ -n "$C" ] || fail "no circle"
am B join --accept "$(invite A us)" --name A >/dev/null || fail "B's join"
converge 30 "$C" A B
am M join --accept "$(invite A us)" --name A >/dev/null || fail "M's join"
member_proposal() {
	am B status --json | grep -o '"kind":"member","hash":"[0-9a-f]*"' |
		head -n 1 | sed 's/.*"hash":"\([0-9a-f]*\)"/\1/'
}
wait_for 30 sh -c "AMENDS_HOME='$T/B' '$AMENDS' status --json | grep -q '\"kind\":\"member\"'" ||
	fail "B never saw the proposal to add M"
am B accept "$(member_proposal)" >/dev/null || fail "B's accept"
converge 30 "$C" A B M
halt M
halt B

step "M signs two entries at one number: X reaches A, Y reaches B"
seq=$("$FAULTKIT" fork "$T/M" "$C" "$T/x.bin" "$T/y.bin") || fail "fork"
"$FAULTKIT" ingest "$T/A" "$T/x.bin" | grep -q stored || fail "A did not store X"
"$FAULTKIT" ingest "$T/B" "$T/y.bin" | grep -q stored || fail "B did not store Y"
[ "$(sql A "SELECT count(*) FROM forks")" = 0 ] || fail "evidence before the sync"
t0=$(now_ms)
launch B

forks() {
	[ "$(sql A "SELECT count(*) FROM forks")" -ge 1 ] &&
		[ "$(sql B "SELECT count(*) FROM forks")" -ge 1 ]
}
wait_for 60 forks || bad S6 "the fork was not detected on both sides within 60 s" \
	"(A: $(sql A "SELECT count(*) FROM forks"), B: $(sql B "SELECT count(*) FROM forks"))"
detect=$(( $(now_ms) - t0 ))
wait_for 30 log_has A "fork evidence from" || bad S6 "A's log does not report the fork"
wait_for 30 log_has B "fork evidence from" || bad S6 "B's log does not report the fork"
converge 30 "$C" A B

step "the proof is shown by verify on both; others' entries still flow"
for n in A B; do
	am $n verify >"$T/verify-$n.out" 2>&1
	vrc=$?
	[ "$vrc" -eq 3 ] || bad S6 "amends verify at $n exits $vrc with a fork held, not 3"
	grep -q "^finding: .*fork" "$T/verify-$n.out" || bad S6 "amends verify at $n does not name the fork"
	grep -q "0 problems, 1 finding" "$T/verify-$n.out" ||
		bad S6 "amends verify at $n finds more than the fork: $(cat "$T/verify-$n.out")"
done
status_shows=no
am A status 2>&1 | grep -qi "fork\|equivocat" && status_shows=yes
am A say "$C" "life goes on after the fork" >/dev/null || bad S6 "A cannot write after the fork"
am B say "$C" "so it does" >/dev/null || bad S6 "B cannot write after the fork"
converge 30 "$C" A B

step "M's node learns of its own fork; M's CLI refuses to write after it"
launch M
wait_for 60 sh -c "[ \$(sqlite3 '$T/M/amends.db' 'SELECT count(*) FROM forks') -ge 1 ]" ||
	bad S6 "M's node never stored the evidence of its own fork"
# its commands write (or say why not) once the node has compared
wait_for 30 compared M || bad S6 "M's node never compared with a peer"
if am M say "$C" "this would be ignored by everyone" >/dev/null 2>"$T/m-say.err"; then
	bad S6 "M's CLI wrote into its forked feed"
fi
grep -q "your feed in this circle has forked" "$T/m-say.err" ||
	bad S6 "M's refusal does not say its feed forked: $(cat "$T/m-say.err")"
halt M
halt B
halt A
for n in A B; do
	sound S6 $n
done
sanitizer_clean || bad S6 "a sanitizer report in a node's log"
result S6 "fork at M's entry $seq detected on both A and B in $(seconds $detect) s;" \
	"proof kept and named by amends verify on both; digests equal;" \
	"others' entries still sync; M's CLI refuses to write after it;" \
	"shown by amends status: $status_shows"
