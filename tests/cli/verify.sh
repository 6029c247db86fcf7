#!/bin/sh
# amends verify: a clean record verifies; bytes altered at rest are found
# and named (circle, author, entry, what is wrong), with a failing status.
set -u
amends=$1
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
export AMENDS_HOME="$dir/sam"
fails=0
fail() { echo "FAIL: $*"; fails=$((fails + 1)); }

"$amends" init --name Sam >/dev/null || fail "init"
"$amends" circle new "Sam and Alex" >/dev/null || fail "circle new"
for i in 1 2 3 4 5; do
	"$amends" say "Sam and Alex" "statement $i" >/dev/null || fail "say $i"
done

out=$("$amends" verify) || fail "verify of a clean record failed: $out"
echo "$out" | grep -q '^checked: 7 entries, 1 author, 1 feed, 1 circle$' || fail "counts: $out"
echo "$out" | grep -q '^verified: 0 problems$' || fail "summary: $out"
"$amends" verify "Sam and Alex" >/dev/null || fail "verify CIRCLE"
json=$("$amends" verify --json) || fail "verify --json"
echo "$json" | grep -q '"problems":\[\]' || fail "json problems: $json"
echo "$json" | grep -q '"ok":true' || fail "json ok: $json"
if "$amends" verify "no such circle" 2>"$dir/err"; then fail "unknown circle accepted"; fi
[ -s "$dir/err" ] || fail "no message for an unknown circle"

# the stored state emptied in a copy (every st_ fact table): the replay of
# the rules, run beside the entries' check, finds it
cp -r "$AMENDS_HOME" "$dir/facts" || fail "copying"
for t in $(sqlite3 "$dir/facts/amends.db" "SELECT name FROM sqlite_schema
	WHERE type = 'table' AND name LIKE 'st\_%' ESCAPE '\'"); do
	sqlite3 "$dir/facts/amends.db" "DELETE FROM $t" || fail "emptying $t"
done
if out=$(AMENDS_HOME=$dir/facts "$amends" verify); then fail "verify passed an emptied state"; fi
echo "$out" | grep -q "^problem: circle [0-9a-f]\{8\}, Sam's feed: the stored state differs from a replay" ||
	fail "emptied state not named: $out"
echo "$out" | grep -q '^checked: 7 entries' || fail "counts with an emptied state: $out"

# flip one byte of entry 3's signature (its last byte) at rest
db=$AMENDS_HOME/amends.db
sqlite3 "$db" "UPDATE entries SET raw = CAST(substr(raw, 1, length(raw) - 1) ||
	CASE WHEN substr(raw, -1) = x'00' THEN x'01' ELSE x'00' END AS BLOB) WHERE seq = 3" ||
	fail "tampering"
if out=$("$amends" verify); then fail "verify passed a tampered record"; fi
echo "$out" | grep -q "^problem: circle [0-9a-f]\{8\}, Sam's entry 3: the signature does not verify" ||
	fail "tampered signature not named: $out"
echo "$out" | grep -q '^FAILED: [1-9][0-9]* problems\?$' || fail "failed summary: $out"

# an entry removed from the middle of the feed
sqlite3 "$db" "DELETE FROM entries WHERE seq = 5" || fail "deleting"
out=$("$amends" verify) && fail "verify passed a record with a hole"
echo "$out" | grep -q "Sam's entry 6: entries 5 to 5 are missing" || fail "gap not named: $out"

[ "$fails" -eq 0 ] && echo "cli verify: ok"
exit "$fails"
