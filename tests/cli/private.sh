#!/bin/sh
# Local safety: a data directory others can read is refused with the chmod
# to run; every file amends makes there is the user's alone, under umask
# 022 too; exports are 0600; a key file interrupted at each step of its
# writing leaves no key or a whole one; weak backup passphrases are refused.
#   private.sh AMENDS CRASHAT_SO
set -u
amends=$1
crashat=$2
dir=$(mktemp -d)
node_pid=
trap '[ -n "$node_pid" ] && kill "$node_pid" 2>/dev/null; rm -rf "$dir"' EXIT
fails=0
fail() { echo "FAIL: $*"; fails=$((fails + 1)); }
umask 022

# files of DIR that group or others may use, one per line
loose() { find "$1" -perm /077 ! -type l -print; }

echo "-- a pre-existing 0755 data directory is refused, and left empty"
export AMENDS_HOME="$dir/open"
mkdir -m 755 "$AMENDS_HOME"
if err=$("$amends" init --name Sam 2>&1); then fail "init used a 0755 directory"; fi
echo "$err" | grep -q "^amends: data directory $AMENDS_HOME can be read or entered by others; run chmod 700 $AMENDS_HOME$" ||
	fail "0755 message: $err"
[ -z "$(ls -A "$AMENDS_HOME")" ] || fail "init wrote into a 0755 directory: $(ls -A "$AMENDS_HOME")"
chmod 700 "$AMENDS_HOME"
"$amends" init --name Sam >/dev/null || fail "init after chmod 700"
"$amends" circle new home >/dev/null || fail "circle new"
"$amends" propose home --title "Weekly call" --every week --on mon \
	--at 20:00 --tz UTC >/dev/null ||
	fail "propose"
l=$(loose "$AMENDS_HOME")
[ -z "$l" ] || fail "files open to others after init and writes: $l"
for f in id.key amends.db; do
	[ -f "$AMENDS_HOME/$f" ] || fail "no $f"
done

echo "-- a directory that became readable is refused by every command"
chmod 750 "$AMENDS_HOME"
for cmd in status list id circles; do
	if err=$("$amends" $cmd 2>&1); then fail "$cmd used a 0750 directory"; fi
	echo "$err" | grep -q "run chmod 700 $AMENDS_HOME$" || fail "$cmd message: $err"
done
chmod 700 "$AMENDS_HOME"

echo "-- a database an older version left 0644 is closed to others when opened"
chmod 644 "$AMENDS_HOME/amends.db"
"$amends" status >/dev/null || fail "status"
[ "$(stat -c %a "$AMENDS_HOME/amends.db")" = 600 ] ||
	fail "amends.db is $(stat -c %a "$AMENDS_HOME/amends.db") after opening"

if [ "$(id -u)" = 0 ] && id nobody >/dev/null 2>&1; then
	echo "-- a data directory owned by another user is refused"
	mkdir -m 700 "$dir/theirs"
	chown nobody "$dir/theirs"
	if err=$(AMENDS_HOME="$dir/theirs" "$amends" init 2>&1); then
		fail "init used another user's directory"
	fi
	echo "$err" | grep -q "belongs to another user" || fail "owner message: $err"
fi

echo "-- the node's lock, sockets and database files are private"
"$amends" node --listen tcp://127.0.0.1:0 >"$dir/node.log" 2>&1 &
node_pid=$!
i=0
while ! grep -q "started, listening" "$dir/node.log" && [ $i -lt 200 ]; do
	kill -0 "$node_pid" 2>/dev/null || break
	sleep 0.1
	i=$((i + 1))
done
grep -q "started, listening" "$dir/node.log" || fail "node did not start: $(cat "$dir/node.log")"
"$amends" say home "a statement while the node runs" >/dev/null || fail "say"
for f in node.lock node.sock node.ask amends.db-wal amends.db-shm; do
	[ -e "$AMENDS_HOME/$f" ] || fail "the running node has no $f"
done
l=$(loose "$AMENDS_HOME")
[ -z "$l" ] || fail "files open to others while the node runs: $l"
kill "$node_pid"
wait "$node_pid"
node_pid=

echo "-- an export is 0600 under umask 022"
"$amends" export home -o "$dir/home.amends" >/dev/null || fail "export"
[ "$(stat -c %a "$dir/home.amends")" = 600 ] ||
	fail "export is $(stat -c %a "$dir/home.amends")"

echo "-- weak backup passphrases are refused, before anything is written"
for weak in 'x' 'short words' 'aaaaaaaaaaaaaaaa' '1212121212121212'; do
	if err=$(printf '%s\n' "$weak" |
	    "$amends" key backup -o "$dir/weak.backup" --passphrase-fd 0 2>&1); then
		fail "backup accepted the passphrase '$weak'"
	fi
	echo "$err" | grep -q "passphrase is too weak: use at least 12 characters" ||
		fail "weak passphrase message for '$weak': $err"
	[ ! -e "$dir/weak.backup" ] || fail "a refused backup left a file"
done
"$amends" key backup --help | grep -q "at least 12 characters" ||
	fail "the help does not say the minimum"
printf 'river lamp october\n' |
	"$amends" key backup -o "$dir/good.backup" --passphrase-fd 0 >/dev/null ||
	fail "backup with a good passphrase"

echo "-- a key file interrupted at each step of its writing"
# crashat.so kills init just before its N-th write, fsync, link, rename or
# unlink; N grows until init runs to its end
n=1
whole=0
none=0
while [ $n -le 400 ]; do
	home="$dir/crash$n"
	mkdir -m 700 "$home"
	if AMENDS_HOME="$home" AMENDS_CRASH_AT=$n LD_PRELOAD="$crashat" \
	    ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0" \
	    "$amends" init >/dev/null 2>&1; then
		break
	fi
	if [ -e "$home/id.key" ]; then
		# a whole key: it loads, and init refuses to replace it
		AMENDS_HOME="$home" "$amends" id >/dev/null 2>&1 ||
			fail "crash at step $n left a key file that does not load"
		whole=$((whole + 1))
	else
		# no key: a fresh init works despite what the crash left
		AMENDS_HOME="$home" "$amends" init >/dev/null 2>&1 ||
			fail "init after a crash at step $n failed: $(AMENDS_HOME="$home" "$amends" init 2>&1)"
		none=$((none + 1))
	fi
	rm -rf "$home"
	n=$((n + 1))
done
[ $n -le 400 ] || fail "init never ran to its end under crashat"
[ $none -gt 0 ] && [ $whole -gt 0 ] ||
	fail "the crashes hit no step before or after the key's link ($none, $whole)"
echo "crashes at $((n - 1)) steps: $none left no key, $whole a whole one"

[ $fails -eq 0 ] || exit 1
echo "cli-private: all tests passed"
