#!/bin/sh
# S11: the key file at rest. `amends node` must refuse to start, with one
# clear sentence, when the key file is readable or writable by others
# (0644, 0640, 0620, 0604), a symbolic link, a directory, missing, empty,
# cut short, one byte too long, or has one bit flipped: one bit of every
# byte (the magic, the seed and the public key), or, with AMENDS_LONG=1,
# each of its 576 bits. It
# must never print the secret: after a real session (two nodes syncing,
# then every refusal above) no log or output holds the seed, the signing
# key or the CurveZMQ secret in hex, base64 or base32. A running node must
# not be able to dump core (RLIMIT_CORE 0).
. "$(dirname "$0")/lib.sh"

fill A B 20
KEY="$T/A/id.key"
cp "$KEY" "$T/good.key"

# refused WHAT PATTERN: `amends node` at A exits non-zero at once, starts
# nothing and says PATTERN
refusals=0
refused() {
	if timeout 20 env AMENDS_HOME="$T/A" "$AMENDS" node --listen 'tcp://127.0.0.1:*' \
	    >"$T/refusal.out" 2>"$T/refusal.err"; then
		bad S11 "$1: the node exited 0"
	fi
	grep -q "started, listening" "$T/refusal.err" && bad S11 "$1: the node started"
	grep -q -- "$2" "$T/refusal.err" || bad S11 "$1: no clear sentence: $(cat "$T/refusal.err")"
	[ "$(wc -l <"$T/refusal.err")" -eq 1 ] ||
		bad S11 "$1: more than one sentence: $(cat "$T/refusal.err")"
	cat "$T/refusal.out" "$T/refusal.err" >>"$T/refusals.log"
	refusals=$((refusals + 1))
}

restore_key() {
	rm -rf "$KEY"
	cp "$T/good.key" "$KEY"
	chmod 600 "$KEY"
}

step "a real session first: the secret must not show in its logs"
launch A
am B peer add "$ID_A" "$ADDR_A" >/dev/null || fail "peer add"
launch B
converge 30 "$C" A B
grep -q "Max core file size *0 *0" "/proc/$PID_A/limits" ||
	bad S11 "the node may dump core: $(grep core "/proc/$PID_A/limits")"
halt B
halt A

step "loose permissions"
for mode in 644 640 620 604; do
	restore_key
	chmod $mode "$KEY"
	refused "mode $mode" "readable by others"
done

step "a symbolic link, a directory, a missing file"
restore_key
mv "$KEY" "$T/A/real.key"
ln -s real.key "$KEY"
refused "symbolic link" "symbolic link"
rm -f "$KEY" "$T/A/real.key"
mkdir "$KEY"
refused "directory" "not a regular file"
rmdir "$KEY"
refused "missing" "no identity"

step "damaged contents"
size=$(stat -c %s "$T/good.key")
for cut in 0 1 8 40 $((size - 1)); do
	restore_key
	head -c $cut "$T/good.key" >"$KEY"
	refused "cut to $cut bytes" "damaged"
done
restore_key
printf 'x' >>"$KEY"
refused "one byte too long" "damaged"

# every bit of every byte in the long run; one bit of each byte (a
# different one each time) otherwise
flips=0
byte=0
while [ $byte -lt "$size" ]; do
	bit=0
	last=7
	if [ "$LONG" != 1 ]; then
		bit=$((byte % 8))
		last=$bit
	fi
	while [ $bit -le $last ]; do
		restore_key
		old=$(od -An -tu1 -j $byte -N1 "$T/good.key" | tr -d ' ')
		new=$(( old ^ (1 << bit) ))
		printf "$(printf '\\%03o' $new)" |
			dd of="$KEY" bs=1 seek=$byte conv=notrunc status=none
		cmp -s "$KEY" "$T/good.key" && fail "byte $byte bit $bit: the flip did not change the file"
		refused "bit $bit of byte $byte flipped" "damaged"
		flips=$((flips + 1))
		bit=$((bit + 1))
	done
	byte=$((byte + 1))
done

step "the secret is in no log and no output"
restore_key
"$FAULTKIT" secrets "$T/A" >"$T/secrets.txt" || fail "secrets"
[ "$(wc -l <"$T/secrets.txt")" -ge 18 ] || fail "too few forms of the secret"
found=$(cat "$T"/*.log "$T"/*.out "$T"/*.err 2>/dev/null | grep -c -F -f "$T/secrets.txt")
rm -f "$T/secrets.txt"
[ "$found" = 0 ] || bad S11 "the secret key appears $found times in the logs"
result S11 "$refusals key file variants refused with a clear sentence" \
	"($flips single-bit flips, 4 loose modes, link, directory, missing," \
	"6 sizes); secret found in logs 0; core dumps off"
