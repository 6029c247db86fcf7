#!/bin/sh
# Key rotation on real nodes (issue 24). Sam, Alex and Lee share a
# circle; Sam and Alex an agreement in force, with check-ins by Sam that
# Alex confirmed. Sam's feed is forked (an old copy of his data
# directory restored and written to), so nothing more he signs counts.
# Sam runs amends key rotate: for the forked circle it prints the
# command a member must run; Alex runs it, Sam accepts with the new key,
# Lee accepts. On every node the old key is replaced by the new one,
# which is a party to the agreement with Sam's check-ins counting for
# it; Sam's node switched its identity and writes again.
# A thief holding a copy of Sam's old key writes a succession to a key
# of their own with that key's acceptance, delivered to Lee before
# Alex's succession, and another one after it: neither ever completes.
. "$(dirname "$0")/lib.sh"
CRAFT=${3:?usage: sh rotate.sh AMENDS AUTHOR CRAFT}

# hex ID of NAME's key, from its key file (NAME may be a copy)
keyhex() {
	am "$1" id --json | sed 's/.*"key":"\([0-9a-f]*\)".*/\1/'
}

NODE_OPTS="--compare-every 2"
three_members
SAM=$(id_of sam)
ALEX=$(id_of alex)
LEE=$(id_of lee)
am alex name "$SAM" sam >/dev/null
am lee name "$SAM" sam >/dev/null
am lee name "$ALEX" alex >/dev/null

step "an agreement sam-alex in force, two check-ins by sam confirmed"
D2=$(date -u -d '-2 day' +%Y-%m-%d)
D1=$(date -u -d '-1 day' +%Y-%m-%d)
am sam propose us --title "Evening check-in" --text "Sam checks in by 21:00" \
	--party sam --party alex --by sam --every day --at 21:00 --tz UTC \
	--from "$D2" >"$T/propose.out" 2>&1 || { cat "$T/propose.out"; fail "propose"; }
A=$(grep -o 'agreement [0-9a-f]*' "$T/propose.out" | head -n 1 | cut -d' ' -f2)
[ -n "$A" ] || fail "no agreement id: $(cat "$T/propose.out")"
converge 30 "$C" sam alex lee
am alex accept "$A" >/dev/null || fail "alex accepts the agreement"
converge 30 "$C" sam alex lee
for d in "$D2" "$D1"; do
	am sam checkin "$A" --kept --period "$d" >"$T/checkin.out" 2>&1 ||
		{ cat "$T/checkin.out"; fail "checkin $d"; }
	K=$(grep -o '[0-9a-f]\{8\}' "$T/checkin.out" | head -n 1)
	converge 30 "$C" sam alex lee
	am alex confirm "$K" >/dev/null || fail "alex confirms $d"
done
converge 30 "$C" sam alex lee
am alex list --json | grep -q '"status":"in_force"' || fail "not in force"

step "sam's feed forks: an old copy of his data directory is restored and written to"
stop sam
cp -a "$T/sam" "$T/sam.old"
start sam "$ADDR_sam"
wait_for 30 compared sam || fail "sam's node never compared"
am sam say us "written before the restore" >/dev/null || fail "say before the restore"
converge 30 "$C" sam alex lee
am alex log us 2>&1 | grep -q "written before the restore" || fail "alex's log lacks sam's statement"
stop sam
cp -a "$T/sam.old" "$T/thief"
cp -a "$T/sam.old" "$T/thief2"
rm -rf "$T/sam"
cp -a "$T/sam.old" "$T/sam"
am sam say us "written on the stale copy" >/dev/null || fail "say on the stale copy"
start sam "$ADDR_sam"
forked() {
	[ "$(sqlite3 "$T/$1/amends.db" "SELECT count(*) FROM forks")" -ge 1 ]
}
for n in sam alex lee; do
	wait_for 60 forked "$n" || fail "$n never held the fork evidence"
done
converge 60 "$C" sam alex lee
wait_for 30 compared sam || fail "sam's node never compared after the fork"
if am sam say us "after the fork" >/dev/null 2>"$T/err"; then
	fail "sam wrote into his forked feed"
fi
grep -q "forked" "$T/err" || fail "sam's refusal does not say the feed forked: $(cat "$T/err")"
for n in alex lee; do
	am "$n" log us 2>&1 | grep -q "written before the restore\|written on the stale copy" &&
		fail "$n still counts sam's entries at the forked number"
done

step "the thief, with a copy of sam's old key, writes a succession to a key of their own (lee holds it before alex's)"
am thiefkey init --name thief >/dev/null || fail "thief's key"
THIEFHEX=$(keyhex thiefkey)
"$CRAFT" "$T/thief" "$C" "$(date +%s)000" --succeed "$T/thiefkey" >"$T/thief.out" 2>&1 ||
	{ cat "$T/thief.out"; fail "the thief's client"; }
am thief export -o "$T/thief.bundle" >/dev/null 2>&1 || fail "the thief's export"
am lee import "$T/thief.bundle" >/dev/null 2>&1 || fail "lee imports the thief's entries"

step "sam rotates: the forked circle needs a member's succession"
am sam key rotate --yes >"$T/rotate.out" 2>&1 || { cat "$T/rotate.out"; fail "rotate"; }
cat "$T/rotate.out"
NEW=$(grep -o 'new key am[a-z0-9]*' "$T/rotate.out" | head -n 1 | sed 's/new key //')
[ ${#NEW} = 58 ] || fail "rotate printed no new ID: $(cat "$T/rotate.out")"
CMD=$(grep -o 'amends circle succeed [0-9a-f]* am[a-z0-9]* am[a-z0-9]* --head [0-9]*' "$T/rotate.out")
[ -n "$CMD" ] || fail "rotate does not print the succeed command: $(cat "$T/rotate.out")"
echo "$CMD" | grep -q "$SAM $NEW" || fail "the command names other keys: $CMD"
grep -q "wrote the succession" "$T/rotate.out" && fail "sam's forked key wrote a succession"
[ "$(am sam id --json | sed 's/.*"id":"\([^"]*\)".*/\1/')" = "$SAM" ] ||
	fail "sam's node changed key before any succession took effect"

step "alex writes sam's succession"
# shellcheck disable=SC2086
am alex ${CMD#amends } --reason "sam's feed forked" >"$T/succeed.out" 2>&1 ||
	{ cat "$T/succeed.out"; fail "alex's succession"; }
S=$(sed -n 's/.*(\([0-9a-f]\{8\}\)): it takes.*/\1/p' "$T/succeed.out")
[ -n "$S" ] || fail "no succession hash: $(cat "$T/succeed.out")"
converge 60 "$C" sam alex lee
for n in alex lee sam; do
	am "$n" status | grep -q "successions awaiting acceptance" ||
		fail "$n's status lists no succession: $(am "$n" status)"
done
am lee status | grep "$S" | grep -q "waiting for.*lee" || fail "lee's status: $(am lee status)"

step "the thief's second succession reaches lee after alex's"
"$CRAFT" "$T/thief2" "$C" "$(date +%s)000" --succeed "$T/thiefkey" >"$T/thief2.out" 2>&1 ||
	{ cat "$T/thief2.out"; fail "the thief's second client"; }
am thief2 export -o "$T/thief2.bundle" >/dev/null 2>&1 || fail "the thief's second export"
am lee import "$T/thief2.bundle" >/dev/null 2>&1 || fail "lee imports the thief's second entries"

step "sam accepts with the new key, then lee"
am sam status | grep -q "your new key" || fail "sam's status does not ask the new key: $(am sam status)"
am sam accept "$S" >"$T/accept.out" 2>&1 || { cat "$T/accept.out"; fail "sam's accept"; }
converge 60 "$C" sam alex lee
am lee accept "$S" >"$T/accept.out" 2>&1 || { cat "$T/accept.out"; fail "lee's accept"; }
cat "$T/accept.out"
grep -q "now holds the place of sam" "$T/accept.out" || fail "lee's accept does not say who holds whose place"

step "sam's node switches to the new key"
wait_for 60 log_has sam "rotation done" || fail "sam's node never switched"
[ "$(id_of sam)" = "$NEW" ] || fail "sam's identity is $(id_of sam), not $NEW"
ls "$T/sam" | grep -q "^id.replaced-.*\.key$" || fail "the old key file is not kept: $(ls "$T/sam")"
[ -e "$T/sam/id.next.key" ] && fail "the new key file is still waiting"
converge 60 "$C" sam alex lee

step "on every node: the old key replaced, the new one joined and a party"
for n in sam alex lee; do
	j=$(am "$n" circles --json)
	echo "$j" | grep -q "\"id\":\"$SAM\",[^}]*\"status\":\"replaced\"" ||
		fail "$n does not show sam's old key replaced: $j"
	echo "$j" | grep -q "\"id\":\"$NEW\",[^}]*\"status\":\"joined\"" ||
		fail "$n does not show the new key joined: $j"
	am "$n" circles | grep -q "replaced by" || fail "$n's circles text: $(am "$n" circles)"
	am "$n" show "$A" --json | grep -q "$NEW" || fail "$n's agreement does not name the new key"
	am "$n" list --json | grep -q '"status":"in_force"' || fail "the agreement is not in force at $n"
	# sam's two confirmed check-ins count for the new key
	am "$n" list --json | grep -q "\"parties\":\[[^]]*\"$NEW\"" ||
		fail "the new key is no party at $n: $(am "$n" list --json)"
	am "$n" list --json | grep -q '"adherence":{"due":[0-9]*,"kept":2,' ||
		fail "sam's adherence did not carry over at $n: $(am "$n" list --json)"
	am "$n" log --json | grep -q "thief" && fail "$n shows the thief"
	am "$n" circles --json | grep -q "$(am thiefkey id --json | sed 's/.*"id":"\([^"]*\)".*/\1/')\",[^}]*\"status\":\"joined\"" &&
		fail "$n shows the thief's key joined"
done

step "sam writes again with the new key; alex confirms"
wait_for 30 compared sam || fail "sam's node never compared after the switch"
am sam checkin "$A" --kept --note "after the new key" >"$T/checkin.out" 2>&1 ||
	{ cat "$T/checkin.out"; fail "checkin with the new key"; }
K=$(grep -o '[0-9a-f]\{8\}' "$T/checkin.out" | head -n 1)
converge 60 "$C" sam alex lee
am alex confirm "$K" >/dev/null || fail "alex confirms the new check-in"
converge 60 "$C" sam alex lee
am alex show "$A" >"$T/show.out" 2>&1
cat "$T/show.out"
for n in sam alex lee; do
	am "$n" log --json >"$T/log-$n.json"
	[ "$(grep -o '"state":"confirmed"' "$T/log-$n.json" | wc -l)" -ge 3 ] ||
		fail "$n does not show 3 confirmed check-ins: $(cat "$T/log-$n.json")"
	intact "$n"
done
step "a plain rotation: alex's key writes its own succession; sam and lee accept"
am alex key rotate --yes >"$T/rotate2.out" 2>&1 || { cat "$T/rotate2.out"; fail "alex's rotate"; }
grep -q "wrote the succession" "$T/rotate2.out" || fail "alex's rotate wrote nothing: $(cat "$T/rotate2.out")"
grep -q "the new key accepted it" "$T/rotate2.out" || fail "alex's new key did not accept"
ANEW=$(grep -o 'new key am[a-z0-9]*' "$T/rotate2.out" | head -n 1 | sed 's/new key //')
[ ${#ANEW} = 58 ] || fail "alex's rotate printed no new ID"
converge 60 "$C" sam alex lee
for n in sam lee; do
	wait_for 30 awaits "$n" succession || fail "$n is not asked to accept alex's new key"
	S2=$(awaiting "$n" succession)
	am "$n" accept "$S2" >"$T/accept2.out" 2>&1 || { cat "$T/accept2.out"; fail "$n accepts alex's new key"; }
done
wait_for 60 log_has alex "rotation done" || fail "alex's node never switched"
[ "$(id_of alex)" = "$ANEW" ] || fail "alex's identity is not the new key"
converge 60 "$C" sam alex lee
for n in sam alex lee; do
	am "$n" circles --json | grep -q "\"id\":\"$ANEW\",[^}]*\"status\":\"joined\"" ||
		fail "$n does not show alex's new key joined"
	am "$n" circles --json | grep -q "\"id\":\"$ALEX\",[^}]*\"status\":\"replaced\"" ||
		fail "$n does not show alex's old key replaced"
done
wait_for 30 compared alex || fail "alex's node never compared after the switch"
am sam checkin "$A" --kept --note "after both new keys" --period "$(date -u +%Y-%m-%d)" \
	>"$T/checkin.out" 2>&1 || { cat "$T/checkin.out"; fail "a check-in after alex's rotation"; }
K=$(grep -o '[0-9a-f]\{8\}' "$T/checkin.out" | head -n 1)
converge 60 "$C" sam alex lee
am alex confirm "$K" >/dev/null || fail "alex's new key confirms"
converge 60 "$C" sam alex lee
am lee show "$A" | grep -q "after both new keys; alex.* confirmed" ||
	fail "lee does not show the check-in confirmed by alex's new key: $(am lee show "$A")"
step "sam's status says everyone holds the same record"
# sam's node is the one connected to both (alex and lee reach each other
# through it): the replaced keys are not among those it waits to hear from
wait_for 30 sh -c "AMENDS_HOME='$T/sam' '$AMENDS' status --json | grep -q '\"everyone_same\":true'" ||
	fail "sam's status: $(am sam status)"
echo "$TESTID: pass"
