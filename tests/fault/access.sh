#!/bin/sh
# S1, S2 and S3: who can reach a node.
#
# S1: a stranger's random CurveZMQ key connects to A and tries to send an
# entry: refused by A's ZAP handler (the client sees "the peer refused our
# key", status 400), a line in A's log, nothing stored.
#
# S2: A's start-up self-test is logged, and fails closed. The test loads
# a library into `amends node` (zapoff.so) that simulates the mistakes that
# would leave the server without authentication: the ZAP handler not
# listening, ZMQ_ZAP_ENFORCE_DOMAIN not set, ZMQ_ZAP_DOMAIN not set, and
# combinations. In each case the node must either refuse to start (its
# self-test saw a stranger get in, or no answer) or run and refuse a
# stranger: a stranger let into a running node counts as a bypass.
#
# S3: B is told that a third member lives at A's address, so it pins the
# wrong server key for A's socket: the handshake fails, B's log says so
# (how soon is the figure; RELIABILITY.md's target is 5 s), and nothing is
# exchanged on that link.
. "$(dirname "$0")/lib.sh"

fill A B 20
launch A
am B peer add "$ID_A" "$ADDR_A" >/dev/null || fail "peer add"
launch B
converge 30 "$C" A B

step "S1: a stranger's key"
log_has A "self-test passed: strangers are refused" || bad S2 "no self-test line in A's log"
# the stranger's entry opens a circle of its own: stored, it would be a
# new feed (A's and B's checkpoints may still arrive meanwhile, as new
# entries of feeds A holds already, so the entries are not counted)
feeds_before=$(sql A "SELECT count(*) FROM feeds")
refused_before=$(lines A "refused key")
"$FAULTKIT" probe "$ADDR_A" "$ID_A" 30000 >"$T/probe.out" 2>&1
rc=$?
[ $rc = 0 ] || bad S1 "the stranger was not refused (exit $rc): $(cat "$T/probe.out")"
grep -q "refused: the peer refused our key" "$T/probe.out" ||
	bad S1 "the stranger saw no refusal by key: $(cat "$T/probe.out")"
refused_after() {
	[ "$(lines A "refused key")" -gt "$refused_before" ]
}
wait_for 30 refused_after || bad S1 "A's log does not show the refusal"
[ "$(sql A "SELECT count(*) FROM feeds")" = "$feeds_before" ] ||
	bad S1 "A stored something from the stranger"
wait_for 30 converged A B || bad S1 "A and B did not agree again within 30 s"

step "S2: the self-test fails closed"
if [ -z "$ZAPOFF" ] || [ ! -f "$ZAPOFF" ]; then
	bad S2 "zapoff.so not given"
fi
# a library loaded before the sanitizer runtime needs this said
ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0"
export ASAN_OPTIONS
"$BENCH" fill "$T/Z" "$T/Y" 1 1 >/dev/null || fail "fill Z"
ID_Z=$(id_of Z)
refusedstart=0 refusedkey=0 bypass=0 outcomes=
for variant in unbound noenforce nodomain "unbound,noenforce" "nodomain,noenforce" \
    "unbound,nodomain,noenforce"; do
	: >"$T/Z.log"
	AMENDS_FAULT_ZAP=$variant LD_PRELOAD="$ZAPOFF" AMENDS_HOME="$T/Z" \
		"$AMENDS" node --listen 'tcp://127.0.0.1:*' >>"$T/Z.log" 2>&1 &
	pid=$!
	PIDS="$PIDS $pid"
	up_or_down() {
		grep -q "started, listening" "$T/Z.log" || ! kill -0 "$pid" 2>/dev/null
	}
	wait_for 30 up_or_down || bad S2 "$variant: the node neither started nor stopped"
	if ! grep -q "started, listening" "$T/Z.log"; then
		wait "$pid" && bad S2 "$variant: the node stopped with status 0"
		forget "$pid"
		grep -q "self-test failed" "$T/Z.log" ||
			bad S2 "$variant: the node stopped without saying its self-test failed: $(cat "$T/Z.log")"
		refusedstart=$((refusedstart + 1))
		outcomes="$outcomes $variant=refused-to-start"
		continue
	fi
	addr=$(grep -o 'listening on tcp://[0-9.]*:[0-9]*' "$T/Z.log" | sed 's/listening on //')
	if "$FAULTKIT" probe "$addr" "$ID_Z" 30000 >"$T/probe.out" 2>&1; then
		refusedkey=$((refusedkey + 1))
		outcomes="$outcomes $variant=stranger-refused"
	else
		bypass=$((bypass + 1))
		outcomes="$outcomes $variant=BYPASS"
	fi
	kill -TERM "$pid"
	wait "$pid"
	forget "$pid"
done
unset ASAN_OPTIONS LD_PRELOAD
[ $bypass = 0 ] || bad S2 "a stranger got into a running node:$outcomes"
[ $refusedstart -gt 0 ] || bad S2 "no variant made the self-test fail:$outcomes"

step "S3: B pins the wrong key for A's address"
init D
ID_D=$(id_of D)
am B circle new other >/dev/null || fail "circle new"
am B circle add other "$ID_D" >/dev/null || fail "circle add"
failed_before=$(lines B "handshake with .* failed")
t0=$(now_ms)
am B peer add "$ID_D" "$ADDR_A" >/dev/null || fail "peer add D"
handshake_failed() {
	[ "$(lines B "handshake with .* failed")" -gt "$failed_before" ]
}
# the time is the figure (target 5 s); the bound only ends the wait
wait_for 30 handshake_failed || bad S3 "B did not report the failed handshake within 30 s"
detect=$(( $(now_ms) - t0 ))
grep "handshake with .* failed" "$T/B.log" | tail -n 1 >"$T/s3.txt"
log_has B "peer .*(am$(echo "$ID_D" | cut -c3-12)).* connected" &&
	bad S3 "B connected to A's socket as if it were D"
wait_for 30 converged A B || bad S3 "A and B did not agree again within 30 s"
halt B
halt A
sanitizer_clean || bad S3 "a sanitizer report in a node's log"
result S1 "a stranger's key refused (400, logged at A); delivered 0, stored 0"
result S2 "self-test logged; fail-closed variants:$outcomes; bypasses 0"
result S3 "wrong server key: the failed handshake reported in $(seconds $detect) s" \
	"($(sed 's/.*failed: //' "$T/s3.txt")); messages exchanged 0"
