#!/bin/sh
# Finding the record again after a lost machine (issue 22): Sam backs up
# his key (the backup carries the peers' addresses and his names for
# people), his data directory is wiped, and he runs only `amends init
# --restore` and `amends node`. Within a bounded wait his node holds every
# entry it had, with his names; a circle made right after is writable; and
# his next entry in the old circle continues his feed without a fork.
. "$(dirname "$0")/lib.sh"

init sam
init alex
start sam
start alex
C=$(circle_new sam us)
am alex join --accept "$(invite sam us)" --name Sam >/dev/null || fail "alex's join"
converge 30 "$C" sam alex
alex_id=$(id_of alex)
am sam name "$alex_id" Alex >/dev/null || fail "sam names alex"
am sam say us "before the loss" >/dev/null || fail "sam's say"
am alex say us "alex too" >/dev/null || fail "alex's say"
converge 30 "$C" sam alex
entries_before=$(sqlite3 "$T/sam/amends.db" "SELECT count(*) FROM entries")
addr_sam=$ADDR_sam

step "sam backs up his key; the backup carries his peers and names"
printf 'a long passphrase\n' | am sam key backup -o "$T/sam.backup" --passphrase-fd 0 \
	>/dev/null || fail "key backup"
stop sam
rm -rf "$T/sam"

step "restored: init --restore and amends node, nothing else"
printf 'a long passphrase\n' | am sam init --restore "$T/sam.backup" --passphrase-fd 0 \
	>"$T/restore.out" 2>&1 || { cat "$T/restore.out"; fail "restore"; }
grep -q "the backup named 1 peer" "$T/restore.out" || fail "restore says nothing of peers: $(cat "$T/restore.out")"
# the same port: alex's node knows sam there
start sam "$addr_sam"
wait_for 60 sh -c "[ \$(sqlite3 '$T/sam/amends.db' 'SELECT count(*) FROM entries' 2>/dev/null || echo 0) -ge $entries_before ]" ||
	fail "the restored node holds $(sqlite3 "$T/sam/amends.db" "SELECT count(*) FROM entries") of $entries_before entries"
converge 60 "$C" sam alex
am sam circles | grep -q "us" || fail "the circle is not listed: $(am sam circles)"
[ "$(am sam id --json | sed 's/.*"name":"\([^"]*\)".*/\1/')" = sam ] ||
	fail "sam's own name is lost"
am sam log us 2>&1 | grep -q "Alex" || fail "sam's name for alex is lost: $(am sam log us 2>&1 | head -5)"

step "a circle made right after is writable; the old one continues the feed"
am sam circle new later >/dev/null || fail "circle new after the restore"
am sam say later "a new circle" >/dev/null || fail "the new circle is not writable"
wait_for 30 sh -c "AMENDS_HOME='$T/sam' '$AMENDS' say us 'back again' >/dev/null 2>&1" ||
	fail "the restored node never could write in the old circle"
converge 30 "$C" sam alex
am sam verify >/dev/null || fail "sam's record does not verify"
am alex verify >/dev/null || fail "alex's record does not verify (a fork?)"
[ "$(sqlite3 "$T/alex/amends.db" "SELECT count(*) FROM forks")" = 0 ] || fail "a fork at alex"
intact sam
intact alex
echo "$TESTID: pass"
