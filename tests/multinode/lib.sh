# Shared by the multinode tests: real `amends node` processes on 127.0.0.1,
# each in its own data directory under one temporary directory, every one
# stopped when the test ends, however it ends. Every wait polls with a
# bound; nothing sleeps hoping something happened.
#
# A test is run as: sh TEST.sh path/to/amends path/to/author

AMENDS=${1:?usage: sh TEST.sh AMENDS AUTHOR}
AUTHOR=${2:?usage: sh TEST.sh AMENDS AUTHOR}
T=$(mktemp -d /tmp/amends-mn-XXXXXX)
PIDS=
FAILED=0
unset AMENDS_NOW

# ours PID: the process is still one of our amends nodes (a PID of ours
# that ended may have been given to somebody else's process since)
ours() {
	grep -q "amends" "/proc/$1/cmdline" 2>/dev/null
}

cleanup() {
	for p in $PIDS; do
		ours "$p" && kill -TERM "$p" 2>/dev/null
	done
	for p in $PIDS; do
		i=0
		while ours "$p" && [ $i -lt 100 ]; do
			sleep 0.1
			i=$((i + 1))
		done
		ours "$p" && kill -KILL "$p" 2>/dev/null
	done
	if [ "$FAILED" != 0 ]; then
		for f in "$T"/*.log; do
			[ -f "$f" ] || continue
			echo "---- $f" >&2
			tail -n 40 "$f" >&2
		done
	fi
	[ -n "${KEEP:-}" ] && echo "kept $T" >&2 || rm -rf "$T"
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP

TESTID=MN-$(basename "$0" .sh | tr '[:lower:]' '[:upper:]')

fail() {
	FAILED=1
	echo "$TESTID: fail ($*)"
	exit 1
}

step() {
	echo "-- $*"
}

# am NAME ARGS...: the command as NAME
am() {
	name=$1
	shift
	AMENDS_HOME="$T/$name" "$AMENDS" "$@"
}

# wait_for SECONDS CMD...: polls CMD every 0.1 s until it succeeds
wait_for() {
	limit=$(($1 * 10))
	shift
	i=0
	while ! "$@" >/dev/null 2>&1; do
		i=$((i + 1))
		[ $i -ge $limit ] && return 1
		sleep 0.1
	done
	return 0
}

init() {
	am "$1" init --name "$1" >/dev/null || fail "init $1"
}

# id NAME: prints NAME's ID
id_of() {
	am "$1" id --json | sed 's/.*"id":"\([^"]*\)".*/\1/'
}

log_has() {
	grep -q -- "$2" "$T/$1.log"
}

# started_since NAME COUNT: NAME's log says "started, listening" more
# than COUNT times
started_since() {
	[ "$(grep -c "started, listening" "$T/$1.log" 2>/dev/null)" -gt "$2" ]
}

# compared NAME: NAME's running node has compared its record with a peer
# since it started (until then its commands write no entry)
compared() {
	[ "$(sqlite3 "$T/$1/amends.db" "SELECT count(*) FROM settings s, settings c
		WHERE s.key = 'node-started' AND c.key = 'node-compared'
		AND s.value = c.value")" = 1 ]
}

# start NAME [ENDPOINT]: starts NAME's node (on a free port unless told);
# sets ADDR_<NAME>. With NO_XFSZ set, the node ignores SIGXFSZ, so that a
# file size limit (prlimit --fsize) makes its writes fail as on a full disk.
# NODE_OPTS holds more options for `amends node`, if any.
start() {
	name=$1
	# the log is appended to: a node started before left its line there
	# (a name of its own: sh has no local variables, and tests use
	# "before")
	start_seen=$(grep -c "started, listening" "$T/$name.log" 2>/dev/null)
	start_seen=${start_seen:-0}
	if [ -n "${NO_XFSZ:-}" ]; then
		# shellcheck disable=SC2086
		(trap '' XFSZ; AMENDS_HOME="$T/$name" exec "$AMENDS" node \
			--listen "${2:-tcp://127.0.0.1:*}" ${NODE_OPTS:-}) \
			>>"$T/$name.log" 2>&1 &
	else
		# shellcheck disable=SC2086
		AMENDS_HOME="$T/$name" "$AMENDS" node --listen "${2:-tcp://127.0.0.1:*}" \
			${NODE_OPTS:-} >>"$T/$name.log" 2>&1 &
	fi
	pid=$!
	PIDS="$PIDS $pid"
	eval "PID_$name=$pid"
	wait_for 20 started_since "$name" "$start_seen" ||
		fail "node $name did not start"
	addr=$(grep -o 'listening on tcp://[0-9.]*:[0-9]*' "$T/$name.log" |
		tail -n 1 | sed 's/listening on //')
	eval "ADDR_$name=$addr"
}

# stop NAME: SIGTERM, then waits (bounded) for the process to end
stop() {
	eval "pid=\$PID_$1"
	kill -TERM "$pid" 2>/dev/null
	i=0
	while kill -0 "$pid" 2>/dev/null; do
		i=$((i + 1))
		[ $i -ge 200 ] && fail "node $1 did not stop on SIGTERM"
		sleep 0.1
	done
	# a clean stop exits 0 (a sanitizer's report would not)
	wait "$pid" 2>/dev/null || fail "node $1 stopped with status $?"
}

# circle_new NAME CIRCLE: NAME creates CIRCLE; prints its full ID
circle_new() {
	am "$1" circle new "$2" >/dev/null || fail "circle new $2"
	am "$1" circles --json | tr '{' '\n' | grep "\"name\":\"$2\"" |
		sed 's/.*"id":"\([0-9a-f]*\)".*/\1/'
}

# invite NAME CIRCLE [OPTIONS]: prints a code from NAME's running node
invite() {
	name=$1
	circle=$2
	shift 2
	eval "addr=\$ADDR_$name"
	am "$name" invite "$circle" --address "$addr" --json "$@" |
		sed 's/.*"code":"\([^"]*\)".*/\1/'
}

# digest NAME CIRCLE-ID: NAME's store digest of the circle ("" if none)
digest() {
	am "$1" circles --json 2>/dev/null | tr '{' '\n' | grep "\"id\":\"$2\"" |
		grep -o '"digest":"[0-9a-f]*"' | head -n 1
}

# same CIRCLE NAME...: every NAME holds the same record of CIRCLE
same() {
	c=$1
	shift
	first=$(digest "$1" "$c")
	[ -n "$first" ] || return 1
	for n in "$@"; do
		[ "$(digest "$n" "$c")" = "$first" ] || return 1
	done
	return 0
}

# converge SECONDS CIRCLE NAME...: waits until every NAME holds the same record
converge() {
	s=$1
	shift
	wait_for "$s" same "$@" || fail "no convergence on $* within $s s"
}

# feeds NAME CIRCLE-ID: how many feeds of the circle NAME's store holds
feeds() {
	sqlite3 "$T/$1/amends.db" \
		"SELECT count(*) FROM feeds WHERE hex(circle) = upper('$2')"
}

intact() {
	r=$(sqlite3 "$T/$1/amends.db" "PRAGMA integrity_check")
	[ "$r" = ok ] || fail "$1's database is damaged: $r"
}

# three_members: sam, alex and lee, each a running node, all three joined
# members of circle "us" (its ID in C); alex and lee reach each other
# through sam, and lee's proposal waited for alex's acceptance
three_members() {
	init sam
	init alex
	init lee
	start sam
	start alex
	start lee
	C=$(circle_new sam us)
	am alex join --accept "$(invite sam us)" --name Sam >/dev/null || fail "alex's join"
	converge 30 "$C" sam alex
	am lee join --accept "$(invite sam us)" --name Sam >/dev/null || fail "lee's join"
	wait_for 30 awaits alex member || fail "alex never saw the proposal to add lee"
	am alex accept "$(awaiting alex member)" >/dev/null || fail "alex's accept of lee"
	converge 30 "$C" sam alex lee
	[ "$(joined_count sam)" = 3 ] || fail "sam does not show three joined members"
	am sam name "$(id_of alex)" alex >/dev/null
	am sam name "$(id_of lee)" lee >/dev/null
	am alex name "$(id_of lee)" lee >/dev/null
}

# awaits NAME KIND: NAME's status lists something of KIND awaiting them
awaits() {
	am "$1" status --json | grep -q "\"kind\":\"$2\""
}

# awaiting NAME KIND: the hash of the first thing of KIND awaiting NAME
awaiting() {
	am "$1" status --json | grep -o "\"kind\":\"$2\",\"hash\":\"[0-9a-f]*\"" |
		head -n 1 | sed 's/.*"hash":"\([0-9a-f]*\)"/\1/'
}

# joined_count NAME: how many joined members NAME's copy of "us" lists
joined_count() {
	am "$1" circles --json | grep -o '"status":"joined"' | wc -l | tr -d ' '
}

# holds_text NAME TEXT: NAME's database holds an entry whose bytes carry
# TEXT (statements are stored as written)
holds_text() {
	n=$(sqlite3 "$T/$1/amends.db" \
		"SELECT count(*) FROM entries WHERE instr(raw, CAST('$2' AS BLOB)) > 0")
	[ "$n" != 0 ]
}
