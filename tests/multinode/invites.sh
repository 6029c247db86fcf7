#!/bin/sh
# Invites that must not work: a code used once already, an expired one
# (refused by the joiner's own clock, and by the inviter's node when the
# joiner's clock is wrong), a damaged one, and one whose inviter's node is
# not running. Each is refused with a sentence, and the refused joiner's
# store holds nothing of the circle.
. "$(dirname "$0")/lib.sh"

init sam
init alex
init eve
start sam
C=$(circle_new sam us)

step "a code works once"
code=$(invite sam us)
echo "$code" >"$T/used"
am alex join --accept "$code" >/dev/null || fail "alex's join"
if am eve join --accept "$code" >"$T/out" 2>&1; then fail "a used code worked twice"; fi
grep -q "already used" "$T/out" || { cat "$T/out"; fail "no sentence for a used code"; }
[ "$(feeds eve "$C")" = 0 ] || fail "eve received entries"
wait_for 10 log_has sam "refused an invite request" || fail "sam's node did not log it"

step "an expired code"
# made an hour ago, for ten minutes
code=$(AMENDS_NOW=$(($(date +%s) - 3600)) invite sam us --expires 10m)
if am eve join --accept "$code" >"$T/out" 2>&1; then fail "an expired code worked"; fi
grep -q "expired" "$T/out" || { cat "$T/out"; fail "no sentence for an expired code"; }
# a joiner whose clock is an hour late: the inviter's node refuses it
if AMENDS_NOW=$(($(date +%s) - 3500)) am eve join --accept "$code" >"$T/out" 2>&1; then
	fail "an expired code worked with a late clock"
fi
grep -q "refused this invite" "$T/out" || { cat "$T/out"; fail "no sentence from the inviter's refusal"; }
[ "$(feeds eve "$C")" = 0 ] || fail "eve received entries"

step "a damaged code"
code=$(invite sam us)
bad=$(echo "$code" | sed 's/.$//')
if am eve join --accept "$bad" >"$T/out" 2>&1; then fail "a truncated code worked"; fi
grep -q "not an invite code" "$T/out" || { cat "$T/out"; fail "no sentence for a damaged code"; }

step "a revoked code"
rcode=$(invite sam us --witness)
am sam invite --list >"$T/out" || fail "invite --list"
[ "$(grep -c "witness" "$T/out")" = 1 ] || { cat "$T/out"; fail "the open invite is not listed once"; }
grep -q "^ID  *ROLE  *MADE  *EXPIRES  *CIRCLE" "$T/out" || { cat "$T/out"; fail "no header in the list"; }
ID=$(grep witness "$T/out" | cut -c1-8)
am sam invite --list --json | grep -q "\"id\":\"$ID\",\"circle\":\"$C\",\"circle_name\":\"us\",\"role\":\"witness\"" ||
	fail "the JSON list does not show the invite"
if am sam invite --revoke zz12 >"$T/out" 2>&1; then fail "revoked a bad ID"; fi
grep -q "give the invite's ID" "$T/out" || { cat "$T/out"; fail "no sentence for a bad ID"; }
if am sam invite --revoke 0000 >"$T/out" 2>&1 && ! grep -q "^0000" "$T/out"; then
	fail "revoked an ID that names nothing"
fi
am sam invite --revoke "$ID" >"$T/out" 2>&1 || { cat "$T/out"; fail "revoke"; }
grep -q "invite $ID is revoked" "$T/out" || { cat "$T/out"; fail "no sentence for the revocation"; }
am sam invite --list | grep -q witness && fail "the revoked invite is still listed"
if am eve join --accept "$rcode" >"$T/out" 2>&1; then fail "a revoked code worked"; fi
grep -q "revoked by the member who made it" "$T/out" || { cat "$T/out"; fail "no sentence for a revoked code"; }
[ "$(feeds eve "$C")" = 0 ] || fail "eve received entries"
# by the code itself, and a used one cannot be revoked
code2=$(invite sam us)
am sam invite --revoke "$code2" >/dev/null || fail "revoke by code"
if am eve join --accept "$code2" >/dev/null 2>&1; then fail "a code revoked by code worked"; fi
if am sam invite --revoke "$(sed -n 1p "$T/used")" >"$T/out" 2>&1; then fail "revoked a used code"; fi
grep -q "already used" "$T/out" || { cat "$T/out"; fail "no sentence for revoking a used code"; }

step "the inviter's node is down"
stop sam
if am eve join --accept "$code" >"$T/out" 2>&1; then fail "joined a stopped node"; fi
grep -q "cannot reach the inviter's node" "$T/out" || { cat "$T/out"; fail "no sentence for a stopped node"; }
[ "$(feeds eve "$C")" = 0 ] || fail "eve received entries"

step "and the unused code still works once the node is back"
start sam "$ADDR_sam"
am eve join --accept "$code" >"$T/out" 2>&1 || { cat "$T/out"; fail "the unused code failed"; }
# alex has to accept eve too: until then she holds the preview, no entry
grep -q "waits for 1 other member" "$T/out" || { cat "$T/out"; fail "eve's join did not wait for alex"; }
[ "$(feeds eve "$C")" = 0 ] || fail "eve received entries while only proposed"
echo "MN-INVITES: pass"
