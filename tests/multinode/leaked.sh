#!/bin/sh
# A leaked invite code (protocol/invite.md): the stranger who uses it is
# proposed and gets a preview signed by the inviter (the circle's name,
# its members), never an entry of the record: her database holds none of
# the circle's texts. Her ACCEPT travels back and is stored by the
# inviter's node; the record comes only once the other member, whose
# acceptance the proposal needs, accepts her too. Another stranger who
# declines keeps only the preview.
. "$(dirname "$0")/lib.sh"

SECRET="the-rent-is-split-evenly-4471"

# holds_text NAME: NAME's data directory holds the agreement's text
holds_text() {
	cat "$T/$1"/amends.db* 2>/dev/null | grep -a -q -- "$SECRET"
}
entries() {
	sqlite3 "$T/$1/amends.db" "SELECT count(*) FROM entries"
}
previews() {
	sqlite3 "$T/$1/amends.db" "SELECT count(*) FROM proposed_to"
}

init sam
init alex
init eve
init mallory
start sam
start alex
C=$(circle_new sam us)
am alex join --accept "$(invite sam us)" --name Sam >/dev/null || fail "alex's join"
converge 30 "$C" sam alex
am sam propose us --title "Rent" --text "$SECRET" --every week --on monday \
	--at 09:00 --tz UTC --by sam >"$T/propose.out" 2>&1 ||
	{ cat "$T/propose.out"; fail "propose"; }
converge 30 "$C" sam alex
holds_text alex || fail "alex does not hold the agreement's text"

sent_count() {
	grep -c "sent .* entr.* of circle" "$T/sam.log"
}

step "eve uses a leaked code: a preview, no entry"
sent_before=$(sent_count)
code=$(invite sam us)
# no terminal and no --yes: the preview is shown, nothing is answered
am eve join "$code" >"$T/eve.out" 2>&1 </dev/null && { cat "$T/eve.out"; fail "eve's look joined without --yes"; }
cat "$T/eve.out"
grep -q "not joined: there is no terminal to ask you on" "$T/eve.out" ||
	fail "eve's look did not say why nothing was answered"
grep -qF "safety number  $(am sam id --json | sed 's/.*"safety_number":"\([0-9 ]*\)".*/\1/')" "$T/eve.out" ||
	fail "the preview does not show sam's safety number"
holds_text eve && fail "eve's database holds the agreement's text"
[ "$(entries eve)" = 0 ] || fail "eve's database holds $(entries eve) entries"
[ "$(previews eve)" = 1 ] || fail "eve's database holds no preview"
grep -q 'invitation to circle .* "us" as a member' "$T/eve.out" ||
	fail "eve was not shown the circle"
grep -q "$(id_of sam)" "$T/eve.out" || fail "the preview does not list sam"
grep -q "$(id_of alex)" "$T/eve.out" || fail "the preview does not list alex"
wait_for 10 log_has sam "sent them a preview" || fail "sam's node did not log the preview"
[ "$(sent_count)" = "$sent_before" ] || fail "sam's node sent entries to eve"

step "eve accepts: stored by sam's node, and she waits for alex"
am eve join --accept --json "$code" >"$T/eve.json" 2>&1 ||
	{ cat "$T/eve.json"; fail "eve's accept"; }
grep -q '"joined":false' "$T/eve.json" || { cat "$T/eve.json"; fail "eve joined without alex"; }
grep -q '"waiting":1' "$T/eve.json" || { cat "$T/eve.json"; fail "eve does not wait for alex"; }
P=$(grep -o '"proposal":"[0-9a-f]*"' "$T/eve.json" | cut -d'"' -f4)
[ -n "$P" ] || fail "no proposal in eve's answer"
wait_for 10 log_has sam "accepted; circle .* still waits for 1 member" ||
	fail "sam's node did not store eve's acceptance"
[ "$(entries eve)" = 0 ] || fail "eve's database holds entries before alex accepts"
holds_text eve && fail "eve's database holds the agreement's text before alex accepts"
[ "$(sent_count)" = "$sent_before" ] || fail "sam's node sent entries to eve"
# a second answer of another kind is refused: only the first counts
if am eve join --decline "$code" >"$T/out" 2>&1; then fail "eve answered twice"; fi
grep -q "only your first answer counts" "$T/out" || { cat "$T/out"; fail "no sentence for a second answer"; }

step "mallory declines another code: she keeps the preview only"
am mallory join --decline --reason "I do not know these people" "$(invite sam us)" \
	>"$T/mallory.out" 2>&1 || { cat "$T/mallory.out"; fail "mallory's decline"; }
grep -q "declined the invitation" "$T/mallory.out" || { cat "$T/mallory.out"; fail "no sentence"; }
wait_for 10 log_has sam "declined the invite to circle" || fail "sam's node did not log the decline"
[ "$(entries mallory)" = 0 ] || fail "mallory's database holds entries"
[ "$(previews mallory)" = 1 ] || fail "mallory's database holds no preview"
holds_text mallory && fail "mallory's database holds the agreement's text"

step "eve's node runs while alex has not accepted: it receives nothing"
start eve
# her node dials her proposer; sam's node admits only joined members
wait_for 30 log_has sam "refused key" || fail "sam's node did not refuse eve's key"
[ "$(entries eve)" = 0 ] || fail "eve's node received entries while she is only proposed"
holds_text eve && fail "eve's node received the agreement's text while only proposed"

step "alex accepts eve too: she is in, and her node receives the record"
converge 30 "$C" sam alex
am alex accept "$P" >"$T/accept.out" 2>&1 || { cat "$T/accept.out"; fail "alex's accept"; }
converge 60 "$C" sam alex eve
holds_text eve || fail "eve, now a member, does not hold the agreement's text"
intact eve
echo "MN-LEAKED: pass"
