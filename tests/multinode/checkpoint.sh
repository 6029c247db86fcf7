#!/bin/sh
# Checkpoints on real nodes: two, then three members converge; each node
# writes one checkpoint of the same heads and status says "same record for
# everyone"; a new entry brings exactly one more checkpoint per member (no
# checkpoint feeds another). Then Alex's node is stopped and its database
# put back to an older copy: the others' nodes catch it showing a feed
# shorter than the checkpoints, log it, and list it in status and verify;
# Alex's node then gets its entries back without forking.
. "$(dirname "$0")/lib.sh"

# checkpoints NAME: CHECKPOINT entries of circle $C in NAME's store
checkpoints() {
	sqlite3 "$T/$1/amends.db" "SELECT count(*) FROM entries e JOIN feeds f
		ON f.id = e.feed WHERE hex(f.circle) = upper('$C') AND e.kind = 12"
}

# everyone_same NAME...: every NAME holds the same record, and its status
# says everyone has checkpointed the heads it holds now
everyone_same() {
	same "$C" "$@" || return 1
	for node in "$@"; do
		am "$node" status --json | grep -q '"same_record":true,"as_of":"[^"]*","current":true' ||
			return 1
	done
	return 0
}

# settled COUNT NAME...: everyone_same, with COUNT checkpoints in all
settled() {
	count=$1
	shift
	for node in "$@"; do
		[ "$(checkpoints "$node")" = "$count" ] || return 1
	done
	everyone_same "$@"
}

init sam
init alex
init lee
start sam
start alex
C=$(circle_new sam us)
[ -n "$C" ] || fail "no circle"

step "two nodes converge and each writes a checkpoint"
am alex join --accept "$(invite sam us)" --name Sam >/dev/null || fail "alex's join"
converge 30 "$C" sam alex
wait_for 30 everyone_same sam alex || fail "no same record for sam and alex"
wait_for 10 log_has sam "checkpoint written" || fail "sam's node wrote no checkpoint"
wait_for 10 log_has alex "checkpoint written" || fail "alex's node wrote no checkpoint"
converge 30 "$C" sam alex
am sam status | grep -q "same record for everyone as of" ||
	fail "sam's status does not say same record for everyone"
am alex status | grep -q "same record for everyone as of" ||
	fail "alex's status does not say same record for everyone"

step "one new entry: exactly one more checkpoint each"
before=$(checkpoints sam)
am sam say us "thank you for listening" >/dev/null || fail "say"
wait_for 30 settled $((before + 2)) sam alex || fail "not one checkpoint each after a new entry"
[ "$(checkpoints alex)" = $((before + 2)) ] || fail "more checkpoints than members"

step "three nodes, each reaching both others"
start lee
am lee join --accept "$(invite sam us --witness)" --name Sam >/dev/null || fail "lee's join"
wait_for 30 sh -c "AMENDS_HOME='$T/alex' '$AMENDS' status --json | grep -q '\"kind\":\"member\"'" ||
	fail "alex never saw the proposal to add lee"
P=$(am alex status --json | grep -o '"kind":"member","hash":"[0-9a-f]*"' |
	head -n 1 | sed 's/.*"hash":"\([0-9a-f]*\)"/\1/')
am alex accept "$P" >/dev/null || fail "alex's accept"
am alex peer add "$(id_of lee)" "$ADDR_lee" >/dev/null || fail "alex's address of lee"
am lee peer add "$(id_of alex)" "$ADDR_alex" >/dev/null || fail "lee's address of alex"
converge 60 "$C" sam alex lee
wait_for 60 everyone_same sam alex lee || fail "no same record for three"
wait_for 10 log_has lee "checkpoint written" || fail "lee's node wrote no checkpoint"
before=$(checkpoints sam)
am lee say us "I see the same" >/dev/null || fail "lee's say"
wait_for 30 settled $((before + 3)) sam alex lee || fail "not one checkpoint each of three"
am lee status --json | grep -q '"withholding":\[\]' || fail "withholding reported by lee already"

step "export carries the checkpoints"
am sam export us -o "$T/us.bundle" >"$T/export.out" 2>&1 || { cat "$T/export.out"; fail "export"; }
init kim
am kim import "$T/us.bundle" >"$T/import.out" 2>&1 || { cat "$T/import.out"; fail "import"; }
[ "$(checkpoints kim)" = "$(checkpoints sam)" ] || fail "the export lacks checkpoints"

step "alex's database goes back to an older copy"
# nodes restart at the addresses the others know
stop alex
sqlite3 "$T/alex/amends.db" ".backup '$T/alex-old.db'" || fail "backup"
before=$(checkpoints sam)
start alex "$ADDR_alex"
am alex say us "a week of evenings kept" >/dev/null || fail "alex's say"
wait_for 30 settled $((before + 3)) sam alex lee || fail "no checkpoints of alex's statement"

# old_alex: alex's node starts again on the older copy. It fetches what it
# lacks from the first node it reaches, so only one other node runs at a
# time: each must see the truncated feed for itself.
old_alex() {
	stop alex
	rm -f "$T/alex/amends.db-wal" "$T/alex/amends.db-shm"
	cp "$T/alex-old.db" "$T/alex/amends.db" || fail "restore"
	same "$C" sam alex && fail "alex's old copy holds the same record"
	start alex "$ADDR_alex"
}

step "sam's node reports withholding or truncation"
stop lee
old_alex
wait_for 30 log_has sam "shows a shorter feed of its own than the checkpoint of .*withholding or truncation" ||
	fail "sam's node did not report alex's shorter feed"
am sam status | grep -q "showed a shorter feed of its own than the checkpoint" ||
	fail "sam's status does not list the report"
am sam status --json | grep -q '"withholding":\[{"peer"' ||
	fail "sam's status --json does not list the report"

step "lee's node reports it too"
converge 30 "$C" sam alex
stop sam
old_alex
start lee "$ADDR_lee"
wait_for 30 log_has lee "shows a shorter feed of its own than the checkpoint of .*withholding or truncation" ||
	fail "lee's node did not report alex's shorter feed"
am lee verify >"$T/verify.out" 2>&1 || { cat "$T/verify.out"; fail "lee's verify"; }
grep -q "^withholding: .*showed [0-9]* of its own entries where the checkpoint of .* names [0-9]*: withholding or truncation" \
	"$T/verify.out" || fail "lee's verify does not list the report"
am lee verify --json | grep -q '"withholding":\[{"circle"' ||
	fail "lee's verify --json does not list the report"
start sam "$ADDR_sam"

step "alex's node gets its entries back, unforked"
converge 60 "$C" sam alex lee
am alex verify >/dev/null 2>&1 || fail "alex's record does not verify"
am alex log us | grep -q "a week of evenings kept" || fail "alex's statement is not back"
intact alex
# a clean stop of each node exits 0 (a sanitizer's report would not)
stop sam
stop alex
stop lee
echo "MN-CHECKPOINT: pass"
