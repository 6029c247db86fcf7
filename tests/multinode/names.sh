#!/bin/sh
# Who is who, with three running nodes. Each person's name, given at init,
# reaches the others' nodes; one who joins late has it written by their
# node once the circle comes. `amends join` shows the inviter's name and
# full safety number, answers nothing without --yes when there is no
# terminal, and asks y/N on one (script(1) gives it one); `amends invite` prints the number the invitee compares. A
# local nickname wins over a signed name and is marked as the reader's.
. "$(dirname "$0")/lib.sh"

# no local nicknames here: every name below was signed by its person
am sam init --name "Sam" >/dev/null || fail "init sam"
am alex init --name "Alex" >/dev/null || fail "init alex"
am lee init --name "Dr. Lee" >/dev/null || fail "init lee"
start sam
start alex
start lee
SAM=$(id_of sam)
ALEX=$(id_of alex)
LEE=$(id_of lee)
sn_of() {
	am "$1" id --json | sed 's/.*"safety_number":"\([0-9 ]*\)".*/\1/'
}
C=$(circle_new sam us)
[ -n "$C" ] || fail "no circle"

step "invite prints the inviter's safety number"
eval "addr=\$ADDR_sam"
am sam invite us --address "$addr" >"$T/invite.out" 2>&1 || { cat "$T/invite.out"; fail "invite"; }
grep -qF "$(sn_of sam)" "$T/invite.out" || { cat "$T/invite.out"; fail "invite does not print sam's safety number"; }
code=$(sed -n 's/^\(aminvite[^ ]*\)$/\1/p' "$T/invite.out")
[ -n "$code" ] || fail "no code in the invite"

step "join with no terminal: shows who invites, answers nothing"
am alex join "$code" </dev/null >"$T/look.out" 2>&1 && { cat "$T/look.out"; fail "joined without --yes"; }
grep -q "invited by \"Sam\"" "$T/look.out" || { cat "$T/look.out"; fail "the inviter's name is not shown"; }
grep -qF "safety number  $(sn_of sam)" "$T/look.out" || fail "the inviter's safety number is not shown"
grep -q "not joined: there is no terminal" "$T/look.out" || fail "no sentence for the refusal"
am alex circles --json | grep -q "\"id\":\"$C\"" && fail "alex holds the circle without answering"

step "join --yes: alex joins, and her name reaches sam"
am alex join --yes "$code" >"$T/join.out" 2>&1 || { cat "$T/join.out"; fail "join --yes"; }
grep -q "joined circle" "$T/join.out" || { cat "$T/join.out"; fail "alex did not join"; }
converge 30 "$C" sam alex
wait_for 20 sh -c "AMENDS_HOME='$T/sam' '$AMENDS' circles | grep -q '  Alex\$'" ||
	fail "sam's node does not show alex's name: $(am sam circles)"
am alex circles | grep -q "  Sam\$" || fail "alex's node does not show sam's name: $(am alex circles)"

step "lee joins as a witness; alex accepts him after: his node writes his name"
code=$(invite sam us --witness)
am lee join --accept "$code" >"$T/lee-join.out" 2>&1 || { cat "$T/lee-join.out"; fail "lee's join"; }
grep -q "waits for 1 other member" "$T/lee-join.out" || fail "lee's join did not wait for alex"
wait_for 20 sh -c "AMENDS_HOME='$T/alex' '$AMENDS' status | grep -qF '$(sn_of lee) (check it with them)'" ||
	fail "alex's status does not show lee's safety number: $(am alex status)"
P=$(am alex status --json | grep -o '"kind":"member","hash":"[0-9a-f]*' | head -n 1 | cut -d'"' -f8)
[ -n "$P" ] || fail "no member proposal awaits alex"
am alex accept "$P" >/dev/null || fail "alex accepts lee"
converge 60 "$C" sam alex lee
for who in sam alex; do
	wait_for 30 sh -c "AMENDS_HOME='$T/$who' '$AMENDS' circles | grep -q '  Dr\\. Lee (witness)\$'" ||
		fail "$who's node does not show lee's name: $(am "$who" circles)"
done
am lee circles | grep -q "  Alex\$" || fail "lee's node does not show alex's name"
wait_for 10 log_has lee "our name written into circle" || fail "lee's node did not log its name"

step "join on a terminal asks: no answers nothing, y joins"
am kim init --name "Kim" >/dev/null || fail "init kim"
KIM=$(id_of kim)
code=$(invite sam us)
# script(1) gives the join a terminal; what it reads is the answer typed
if command -v script >/dev/null 2>&1; then
	printf 'n\n' | AMENDS_HOME="$T/kim" script -qec "'$AMENDS' join '$code'" /dev/null \
		>"$T/kim-no.out" 2>&1 || { cat "$T/kim-no.out"; fail "kim's join, answering no"; }
	grep -q "join circle .* as a member? \[y/N\]" "$T/kim-no.out" ||
		{ cat "$T/kim-no.out"; fail "kim was not asked"; }
	grep -q "nothing answered" "$T/kim-no.out" || fail "no answered as yes: $(cat "$T/kim-no.out")"
	grep -qF "$(sn_of sam)" "$T/kim-no.out" || fail "kim was not shown sam's safety number"
	printf 'y\n' | AMENDS_HOME="$T/kim" script -qec "'$AMENDS' join '$code'" /dev/null \
		>"$T/kim-yes.out" 2>&1 || { cat "$T/kim-yes.out"; fail "kim's join, answering y"; }
	grep -q "waits for 2 other members\|waits for 1 other member\|joined circle" "$T/kim-yes.out" ||
		{ cat "$T/kim-yes.out"; fail "y did not answer the invitation"; }
else
	echo "script(1) missing: the terminal prompt is not tried"
fi

step "a local name wins and is marked; a new name travels"
am sam name "$ALEX" Al >/dev/null || fail "sam names alex"
am sam circles | grep -q '  Al (your name for them; they call themselves "Alex")$' ||
	fail "sam's own name for alex: $(am sam circles)"
am alex name --self "Alexandra" >"$T/rename.out" || fail "alex renames herself"
grep -q "signed into 1 circle" "$T/rename.out" || fail "rename: $(cat "$T/rename.out")"
converge 30 "$C" sam alex lee
wait_for 20 sh -c "AMENDS_HOME='$T/lee' '$AMENDS' circles | grep -q '  Alexandra\$'" ||
	fail "lee's node does not show alex's new name"
am sam circles | grep -q '  Al (your name for them; they call themselves "Alexandra")$' ||
	fail "sam's node: $(am sam circles)"

step "safety numbers in every view have 35 digits and read back"
for who in sam alex lee; do
	for sn in $(am "$who" circles --json | grep -o '"safety_number":"[0-9 ]*"' | cut -d'"' -f4 | tr ' ' '_'); do
		sn=$(echo "$sn" | tr '_' ' ')
		[ "$(printf '%s' "$sn" | tr -cd '0-9' | wc -c)" -eq 35 ] || fail "short number $sn"
		id=$(am "$who" id "$sn" --json | sed 's/^{"id":"\([^"]*\)".*/\1/')
		case $id in "$SAM"|"$ALEX"|"$LEE"|"$KIM") ;; *) fail "$sn names $id" ;; esac
	done
done
am alex peers | grep -qF "safety number $(sn_of sam)" || fail "alex's peers: $(am alex peers)"

stop lee
stop alex
stop sam
intact sam
intact alex
intact lee
echo "MN-NAMES: pass"
