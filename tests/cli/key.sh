#!/bin/sh
# amends key backup and amends init --restore: the same identity comes back
# only with the right passphrase, and nothing is ever overwritten.
set -u
amends=$1
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
fails=0
fail() { echo "FAIL: $*"; fails=$((fails + 1)); }

export AMENDS_HOME="$dir/old"
"$amends" init --name Sam >/dev/null || fail "init"
id=$("$amends" id --json)

printf 'correct horse\n' | "$amends" key backup -o "$dir/sam.backup" --passphrase-fd 0 \
	>/dev/null || fail "backup"
[ "$(stat -c %a "$dir/sam.backup")" = 600 ] || fail "backup file is not 0600"
if printf 'x\n' | "$amends" key backup -o "$dir/sam.backup" --passphrase-fd 0 2>"$dir/err"; then
	fail "backup overwrote a file"
fi
grep -q "already exists; not overwriting it" "$dir/err" || fail "overwrite message: $(cat "$dir/err")"
# the key's public half is not in the backup in clear
pub=$(echo "$id" | sed 's/.*"id":"\([^"]*\)".*/\1/')
grep -q "$pub" "$dir/sam.backup" && fail "ID text found in the backup"

# wrong passphrase: refused, nothing created
export AMENDS_HOME="$dir/new"
if printf 'wrong horse\n' | "$amends" init --restore "$dir/sam.backup" --passphrase-fd 0 \
	2>"$dir/err" >/dev/null; then fail "restore with a wrong passphrase"; fi
grep -q "wrong passphrase" "$dir/err" || fail "wrong passphrase message: $(cat "$dir/err")"
[ -e "$AMENDS_HOME/id.key" ] && fail "a key was written on a failed restore"

# not a backup at all
echo "hello" > "$dir/junk"
if printf 'x\n' | "$amends" init --restore "$dir/junk" --passphrase-fd 0 2>"$dir/err"; then
	fail "restored from junk"
fi
grep -q "is not an amends key backup" "$dir/err" || fail "junk message: $(cat "$dir/err")"

# the right passphrase brings back the same ID
out=$(printf 'correct horse\n' | "$amends" init --restore "$dir/sam.backup" --passphrase-fd 0) ||
	fail "restore"
echo "$out" | grep -q "^restored identity in" || fail "restore output: $out"
[ "$("$amends" id --json | sed 's/"name":.*//')" = "$(echo "$id" | sed 's/"name":.*//')" ] ||
	fail "restored ID differs"
[ "$(stat -c %a "$AMENDS_HOME/id.key")" = 600 ] || fail "restored key is not 0600"

# a circle made after the restore holds no entry of ours anywhere else:
# it is writable at once, and an invite to it can be made (issue 22)
"$amends" circle new after >/dev/null || fail "circle new after the restore"
"$amends" say after "made after the restore" >/dev/null 2>"$dir/err" ||
	fail "a circle made after the restore is not writable: $(cat "$dir/err")"
"$amends" invite after --address tcp://127.0.0.1:7411 >"$dir/invite" 2>"$dir/err" ||
	fail "no invite to a circle made after the restore: $(cat "$dir/err")"
grep -q "^aminvite" "$dir/invite" || fail "invite output: $(cat "$dir/invite")"

# a backup of the key part alone (as written before backups carried the
# peers' addresses and names) is still read, and says what it cannot find
head -c 137 "$dir/sam.backup" >"$dir/old.backup"
export AMENDS_HOME="$dir/older"
out=$(printf 'correct horse\n' | "$amends" init --restore "$dir/old.backup" --passphrase-fd 0) ||
	fail "restore of a key-only backup"
echo "$out" | grep -q "carries no peer addresses" || fail "old backup output: $out"
[ "$("$amends" id --json | sed 's/"name":.*//')" = "$(echo "$id" | sed 's/"name":.*//')" ] ||
	fail "ID restored from the old backup differs"
# a book that was altered is refused as a whole
cp "$dir/sam.backup" "$dir/bent.backup"
size=$(stat -c %s "$dir/bent.backup")
printf 'x' | dd of="$dir/bent.backup" bs=1 seek=$((size - 1)) conv=notrunc 2>/dev/null
export AMENDS_HOME="$dir/bent"
if printf 'correct horse\n' | "$amends" init --restore "$dir/bent.backup" --passphrase-fd 0 \
	>/dev/null 2>"$dir/err"; then fail "restore of an altered backup"; fi
[ -e "$AMENDS_HOME/id.key" ] && fail "a key was written from an altered backup"
export AMENDS_HOME="$dir/new"

# restoring over an identity is refused
if printf 'correct horse\n' | "$amends" init --restore "$dir/sam.backup" --passphrase-fd 0 \
	2>"$dir/err"; then fail "restore overwrote an identity"; fi
grep -q "already exists" "$dir/err" || fail "restore-over message: $(cat "$dir/err")"

# without a terminal or --passphrase-fd, a clear refusal
if "$amends" key backup -o "$dir/other" </dev/null 2>"$dir/err" >/dev/null; then
	: # a terminal was available to ask on; nothing to check
else
	grep -q "passphrase" "$dir/err" || fail "no-terminal message: $(cat "$dir/err")"
fi

[ "$fails" -eq 0 ] && echo "cli key: ok"
exit "$fails"
