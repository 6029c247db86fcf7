#!/bin/sh
# Backup and restore without forking: Sam's node, with 200 entries in a
# circle shared with Alex, is wiped and restored from its key backup. The
# restored node refuses to write in the circle until it has fetched its own
# latest entries from Alex; then its next entry continues its feed with the
# next number,
# and both records verify with no fork.
. "$(dirname "$0")/lib.sh"

init sam
init alex
start sam
start alex
C=$(circle_new sam us)
am alex join --accept "$(invite sam us)" --name Sam >/dev/null || fail "alex's join"
converge 30 "$C" sam alex

step "sam backs up the key, writes, and keeps an early bundle"
printf 'a long passphrase\n' | am sam key backup -o "$T/sam.backup" --passphrase-fd 0 \
	>/dev/null || fail "key backup"
am sam export us -o "$T/early.bundle" >/dev/null || fail "export"
"$AUTHOR" "$T/sam" "$C" 200 || fail "sam writes 200 entries"
converge 60 "$C" sam alex
# sam's feed is the one that holds the circle's genesis
sam_feed() {
	sqlite3 "$T/$1/amends.db" "SELECT f.head_seq || '|' || (SELECT count(*)
		FROM entries x WHERE x.feed = f.id) FROM feeds f JOIN entries e
		ON e.feed = f.id AND e.seq = 1 AND e.kind = 1 WHERE hex(f.circle) = upper('$C')"
}
head_before=$(sam_feed alex | cut -d'|' -f1)
[ "$head_before" -ge 200 ] || fail "sam's feed at alex is only $head_before long"
alex_id=$(id_of alex)
stop sam

step "sam's machine is lost; the identity is restored on a new one"
rm -rf "$T/sam"
printf 'a long passphrase\n' | am sam init --restore "$T/sam.backup" --passphrase-fd 0 \
	>"$T/restore.out" 2>&1 || { cat "$T/restore.out"; fail "restore"; }
grep -q "fetch its own entries" "$T/restore.out" || fail "restore did not say it will fetch"

step "with only an old bundle, writing is refused"
am sam import "$T/early.bundle" >/dev/null || fail "import of the early bundle"
if am sam say us "too early" 2>"$T/early.err"; then
	fail "a restored node wrote before catching up its own feed"
fi
grep -q "restored" "$T/early.err" || fail "no clear refusal: $(cat "$T/early.err")"
am sam status >"$T/status.out" 2>&1 || fail "status"
grep -q "^writing paused" "$T/status.out" || fail "status does not say writing waits: $(cat "$T/status.out")"
grep -q "this identity was restored" "$T/status.out" || fail "status does not say why"
mine=$(sqlite3 "$T/sam/amends.db" "SELECT max(head_seq) FROM feeds WHERE hex(circle) = upper('$C')")
[ "$mine" -lt "$head_before" ] || fail "the early bundle already held everything"

step "sam's node fetches its own feed from alex, then writes"
am sam peer add "$alex_id" "$ADDR_alex" >/dev/null || fail "peer add"
start sam
converge 60 "$C" sam alex
caught=$(sam_feed sam | cut -d'|' -f1)
[ "$caught" -ge "$head_before" ] || fail "sam caught up to $caught of $head_before"
wait_for 30 sh -c "AMENDS_HOME='$T/sam' '$AMENDS' say us 'back again' 2>/dev/null" ||
	fail "the restored node never could write"
converge 30 "$C" sam alex
# the feed continued: longer, numbered without a gap, and no fork (verify)
after=$(sam_feed alex)
[ "${after%|*}" -gt "$caught" ] || fail "sam's feed did not grow past $caught: $after"
[ "${after%|*}" = "${after#*|}" ] || fail "sam's feed at alex has a gap: $after"
am sam verify >/dev/null || fail "sam's record does not verify"
am alex verify >/dev/null || fail "alex's record does not verify (a fork?)"
intact sam
intact alex
echo "$TESTID: pass"
