#!/bin/sh
# amends init and amends id: a new identity, refusals, the key file's mode.
set -u
amends=$1
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
export AMENDS_HOME="$dir/home"
fails=0
fail() { echo "FAIL: $*"; fails=$((fails + 1)); }

out=$("$amends" init --name Sam) || fail "init failed"
echo "$out" | grep -q '^id: *am[0-9a-z]\{56\}$' || fail "init does not print the ID: $out"
[ "$(stat -c %a "$AMENDS_HOME/id.key")" = 600 ] || fail "key file is not 0600"
[ "$(stat -c %a "$AMENDS_HOME")" = 700 ] || fail "data directory is not 0700"

id=$("$amends" id) || fail "id failed"
echo "$id" | grep -q '^name: *Sam$' || fail "id does not show the name: $id"
echo "$id" | grep -q '^fingerprint: *[0-9a-z]\{4\}-[0-9a-z]\{4\}$' || fail "no fingerprint: $id"
# the ID printed by init is the ID printed by id
idtext() { grep '^id:' | sed 's/^id: *\(am[0-9a-z]*\).*/\1/'; }
[ "$(echo "$out" | idtext)" = "$(echo "$id" | idtext)" ] || fail "init and id disagree"

json=$("$amends" id --json) || fail "id --json failed"
echo "$json" | grep -q '^{"id":"am[0-9a-z]\{56\}","fingerprint":"[0-9a-z]\{4\}-[0-9a-z]\{4\}","key":"[0-9a-f]\{64\}","name":"Sam","safety_number":"[0-9]\{5\}\( [0-9]\{5\}\)\{6\}","signed_name":null,"you":true}$' ||
	fail "id --json: $json"
# the safety number: 7 groups of 5 digits, the same in both forms
echo "$id" | grep -q '^safety number: *[0-9]\{5\}\( [0-9]\{5\}\)\{6\}$' || fail "no safety number: $id"
sn=$(echo "$json" | sed 's/.*"safety_number":"\([^"]*\)".*/\1/')
echo "$id" | grep -qF "safety number: $sn" || fail "id and id --json disagree on the safety number"
# amends id ID: one's own ID, given as text, says it is you
myid=$(echo "$json" | sed 's/.*"id":"\([^"]*\)".*/\1/')
"$amends" id "$myid" | grep -q "^id: *$myid (you)$" || fail "id ID of oneself: $("$amends" id "$myid")"
if err=$("$amends" id "12345 12345 12345 12345 12345 12345 12345" 2>&1); then
	fail "id accepted a safety number nobody here has"
fi
echo "$err" | grep -q "is no member's of a circle held here" || fail "unknown safety number: $err"

# init refuses to overwrite, and the key is unchanged
before=$(sha256sum "$AMENDS_HOME/id.key")
if err=$("$amends" init 2>&1); then fail "second init succeeded"; fi
echo "$err" | grep -q '^amends: an identity already exists in .*; not overwriting it$' ||
	fail "second init message: $err"
[ "$(sha256sum "$AMENDS_HOME/id.key")" = "$before" ] || fail "second init changed the key"

# a loose key file is refused with a sentence saying how to fix it
chmod 644 "$AMENDS_HOME/id.key"
if err=$("$amends" id 2>&1); then fail "id accepted a 0644 key file"; fi
echo "$err" | grep -q "^amends: key file .*/id.key is readable by others; run chmod 600 .*/id.key$" ||
	fail "loose key message: $err"
chmod 600 "$AMENDS_HOME/id.key"

# a key file that is a symbolic link is refused
mv "$AMENDS_HOME/id.key" "$dir/real.key"
ln -s "$dir/real.key" "$AMENDS_HOME/id.key"
if err=$("$amends" id 2>&1); then fail "id accepted a symlinked key"; fi
echo "$err" | grep -q "symbolic link" || fail "symlink message: $err"
rm "$AMENDS_HOME/id.key"
mv "$dir/real.key" "$AMENDS_HOME/id.key"

# no identity at all
if err=$(AMENDS_HOME="$dir/none" "$amends" id 2>&1); then fail "id without identity succeeded"; fi
echo "$err" | grep -q "run amends init first" || fail "no identity message: $err"

# help lists the commands, and unknown commands are refused
"$amends" --help | grep -q '^  init ' || fail "--help does not list init"
"$amends" init --help | grep -q 'usage: amends init' || fail "init --help"
if "$amends" frobnicate 2>/dev/null; then fail "unknown command accepted"; fi

# the data directory defaults to XDG_DATA_HOME, then HOME
unset AMENDS_HOME
XDG_DATA_HOME="$dir/xdg" "$amends" init >/dev/null || fail "init under XDG_DATA_HOME"
[ -f "$dir/xdg/amends/id.key" ] || fail "XDG_DATA_HOME not used"
env -u XDG_DATA_HOME HOME="$dir/h" "$amends" init >/dev/null || fail "init under HOME"
[ -f "$dir/h/.local/share/amends/id.key" ] || fail "HOME not used"

[ "$fails" -eq 0 ] && echo "cli init: ok"
exit "$fails"
