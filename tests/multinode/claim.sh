#!/bin/sh
# A false checkpoint cannot keep a restored node from writing for good
# (issue 22). Alex, hostile, signs a checkpoint naming Sam's feed at
# 1,000,000 with a made-up hash (craft --claim). Sam's machine is lost;
# restored, his node fetches the circle from Lee while Alex's node is
# down, and waits: Alex's claim stands until Alex's own node answers.
# First Sam lifts the wait by hand (amends resume, which needs --yes
# without a terminal, and refuses while an entry Sam signed is known to
# exist beyond his copy). Then Sam's machine is lost again, Alex's node is
# up this time, and the wait lifts by itself once Alex's node has shown
# Sam's feed as it is. The refuted claim is logged and listed by status;
# no fork anywhere.
#
# Run as: sh claim.sh AMENDS AUTHOR CRAFT
. "$(dirname "$0")/lib.sh"
CRAFT=${3:?usage: sh claim.sh AMENDS AUTHOR CRAFT}

three_members
am sam say us "before the loss" >/dev/null || fail "sam's say"
converge 30 "$C" sam alex lee
sam_id=$(id_of sam)
addr_sam=$ADDR_sam
addr_alex=$ADDR_alex

step "alex signs a checkpoint naming sam's feed at 1000000"
now=$(($(date +%s) * 1000))
"$CRAFT" "$T/alex" "$C" "$now" --claim "$sam_id:1000000" >/dev/null ||
	fail "craft the claim"
am alex status >/dev/null     # a command: the node looks at the store now
converge 30 "$C" sam alex lee
printf 'a long passphrase\n' | am sam key backup -o "$T/sam.backup" --passphrase-fd 0 \
	>/dev/null || fail "key backup"

# lose: sam's data directory is wiped and restored from the backup
lose() {
	stop sam
	rm -rf "$T/sam"
	printf 'a long passphrase\n' | am sam init --restore "$T/sam.backup" \
		--passphrase-fd 0 >"$T/restore.out" 2>&1 ||
		{ cat "$T/restore.out"; fail "restore"; }
	start sam "$addr_sam"
}

step "sam's machine is lost while alex's node is down; restored from lee"
stop alex
lose
converge 60 "$C" sam lee
# the claim is alex's: only alex's node can refute it, and it is down
if am sam say us "too early" 2>"$T/us.err"; then
	fail "the restored node wrote while alex's claim stands"
fi
grep -q "restored" "$T/us.err" || fail "no clear refusal: $(cat "$T/us.err")"
am sam status >"$T/status1.out" 2>&1 || fail "status"
grep -q "signed a checkpoint naming 1000000 entries of your feed" "$T/status1.out" ||
	fail "status does not say who claims what: $(cat "$T/status1.out")"
am sam status --json | grep -q '"reason":"restored","claims":\[{"author":"'"$(id_of alex)"'","named":1000000' ||
	fail "status --json does not list the claim: $(am sam status --json)"

step "amends resume never sets aside entries signed by sam"
# as if a peer had served sam's own entry 50, which this copy lacks
sqlite3 "$T/sam/amends.db" "INSERT INTO settings(key, value)
	VALUES ('own-seen:$C', '50')" || fail "setting"
if am sam resume us --yes >"$T/resume0.out" 2>&1; then
	fail "resume set aside an entry sam signed"
fi
grep -q "signed by you.*fetch it first" "$T/resume0.out" || fail "resume says: $(cat "$T/resume0.out")"
sqlite3 "$T/sam/amends.db" "DELETE FROM settings WHERE key = 'own-seen:$C'" ||
	fail "setting"

step "amends resume lifts the wait by hand"
if am sam resume us </dev/null >"$T/resume1.out" 2>&1; then
	fail "resume went ahead without a terminal or --yes"
fi
grep -q -- "--yes" "$T/resume1.out" || fail "resume does not say --yes: $(cat "$T/resume1.out")"
grep -q "forks your feed" "$T/resume1.out" || fail "resume does not say the risk: $(cat "$T/resume1.out")"
am sam resume us --yes >"$T/resume2.out" 2>&1 || fail "resume --yes: $(cat "$T/resume2.out")"
grep -q "resumed" "$T/resume2.out" || fail "resume says: $(cat "$T/resume2.out")"
am sam say us "after resume" >/dev/null || fail "no write after resume"
converge 30 "$C" sam lee
start alex "$addr_alex"
converge 60 "$C" sam alex lee

step "lost again, alex's node up: its own answer refutes the claim"
lose
wait_for 60 sh -c "AMENDS_HOME='$T/sam' '$AMENDS' say us 'back again' >/dev/null 2>&1" ||
	fail "the restored node never wrote after alex's node answered"
wait_for 20 log_has sam "signed a checkpoint naming 1000000 entries of our own feed" ||
	fail "the refuted claim is not logged"
am sam status >"$T/status2.out" 2>&1 || fail "status"
grep -q "signed a checkpoint naming 1000000 entries of your feed, yet their node" \
	"$T/status2.out" || fail "status does not list the false checkpoint: $(cat "$T/status2.out")"
converge 60 "$C" sam alex lee
for n in sam alex lee; do
	[ "$(sqlite3 "$T/$n/amends.db" "SELECT count(*) FROM forks")" = 0 ] ||
		fail "a fork at $n"
	am "$n" verify >/dev/null || fail "$n's record does not verify"
	intact "$n"
done
echo "$TESTID: pass"
