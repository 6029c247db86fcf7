# Shared by the fault tests: tests/multinode/lib.sh (real nodes on
# 127.0.0.1 in one temporary directory, bounded waits, everything stopped
# at the end), plus the fault proxy, process faults, paired stores filled
# in bulk, seeded random numbers and the one summary line per test.
#
# A test is run as:
#   sh TEST.sh AMENDS AUTHOR FAULTPROXY FAULTKIT AMENDS-BENCH [ZAPOFF.so]

. "$(dirname "$0")/../multinode/lib.sh"

FAULTPROXY=${3:?usage: sh TEST.sh AMENDS AUTHOR FAULTPROXY FAULTKIT BENCH}
FAULTKIT=${4:?usage: sh TEST.sh AMENDS AUTHOR FAULTPROXY FAULTKIT BENCH}
BENCH=${5:?usage: sh TEST.sh AMENDS AUTHOR FAULTPROXY FAULTKIT BENCH}
ZAPOFF=${6:-}
LONG=${AMENDS_LONG:-0}
SEED=${AMENDS_FAULT_SEED:-1}
R=$SEED

# Stopped processes cannot act on SIGTERM: continue them first, so that
# lib.sh's cleanup ends everything however the test ends.
fault_cleanup() {
	for p in $PIDS; do
		kill -CONT "$p" 2>/dev/null
	done
	cleanup
}
trap fault_cleanup EXIT

# result ID FIGURE...: the passing summary line
result() {
	id=$1
	shift
	echo "$id: pass $*"
}

# bad ID FIGURE...: the failing summary line, then the test fails
bad() {
	id=$1
	shift
	echo "$id: fail $*"
	fail "$id: $*"
}

# rand N: the next seeded number in [0, N) into $RAND
rand() {
	R=$(( (R * 1103515245 + 12345) % 2147483648 ))
	RAND=$(( (R / 65536) % $1 ))
}

now_ms() {
	date +%s%3N
}

# forget PID: removes PID from the processes cleanup stops (once it is
# dead and reaped, its number may be reused by anyone)
forget() {
	rest=
	for p in $PIDS; do
		[ "$p" = "$1" ] || rest="$rest $p"
	done
	PIDS=$rest
}

# crash NAME: kill -9 of NAME's node
crash() {
	eval "pid=\$PID_$1"
	kill -KILL "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
	forget "$pid"
	eval "PID_$1="
}

# lines NAME PATTERN: how many lines of NAME's log match (0 without a log)
lines() {
	if [ -f "$T/$1.log" ]; then
		grep -c -- "$2" "$T/$1.log"
	else
		echo 0
	fi
}

# launch NAME [ENDPOINT]: starts NAME's node, as lib.sh's start, but also
# for the second and later times in one log; sets PID_<NAME>, ADDR_<NAME>
launch() {
	name=$1
	started=$(lines "$name" "started, listening")
	# with NO_XFSZ=1, the node ignores SIGXFSZ (for a file size limit)
	NO_XFSZ="${NO_XFSZ:-0}" AMENDS_HOME="$T/$name" sh -c 'if [ "$NO_XFSZ" = 1 ]; then trap "" XFSZ; fi
		exec "$@"' sh "$AMENDS" node --listen "${2:-tcp://127.0.0.1:*}" \
		>>"$T/$name.log" 2>&1 &
	pid=$!
	PIDS="$PIDS $pid"
	eval "PID_$name=$pid"
	i=0
	while [ "$(lines "$name" "started, listening")" -le "$started" ]; do
		i=$((i + 1))
		[ $i -ge 300 ] && fail "node $name did not start"
		kill -0 "$pid" 2>/dev/null || fail "node $name exited at start"
		sleep 0.1
	done
	addr=$(grep -o 'listening on tcp://[0-9.]*:[0-9]*' "$T/$name.log" |
		tail -n 1 | sed 's/listening on //')
	eval "ADDR_$name=$addr"
}

# launch_low NAME: launch NAME's node on a free port below the kernel's
# range for outgoing connections, so that while it is down nothing else
# (not even a connection to it from the proxy, which could connect to
# itself) can take its port before it restarts there
launch_low() {
	tries=0
	while :; do
		tries=$((tries + 1))
		[ $tries -ge 50 ] && fail "no free port for $1"
		rand 12000
		p=$((20000 + RAND))
		port_in_use $p || break
	done
	launch "$1" "tcp://127.0.0.1:$p"
}

# port_in_use PORT: a socket of this machine has the local port PORT
port_in_use() {
	awk -v p="$(printf '%04X' "$1")" 'NR > 1 { split($2, a, ":");
		if (a[2] == p) found = 1 } END { exit !found }' /proc/net/tcp
}

# halt NAME: lib.sh's stop (SIGTERM, exit status 0), then forgets the pid
halt() {
	eval "pid=\$PID_$1"
	stop "$1"
	forget "$pid"
	eval "PID_$1="
}

# port ADDRESS: the port of tcp://127.0.0.1:PORT
port() {
	echo "${1##*:}"
}

# proxy_start NAME TARGET-PORT: a fault proxy to 127.0.0.1:TARGET-PORT,
# controlled with `proxy NAME COMMAND`; sets PORT_<NAME>
proxy_start() {
	rm -f "$T/$1.port"
	"$FAULTPROXY" --listen 0 --to "$2" --control "$T/$1.ctl" --seed "$SEED" \
		--port-file "$T/$1.port" >/dev/null 2>>"$T/$1.log" &
	pid=$!
	PIDS="$PIDS $pid"
	eval "PID_$1=$pid"
	wait_for 10 test -s "$T/$1.port" || fail "proxy $1 did not start"
	eval "PORT_$1=$(cat "$T/$1.port")"
}

proxy() {
	name=$1
	shift
	"$FAULTPROXY" ctl "$T/$name.ctl" "$@" >/dev/null || fail "proxy $name: $*"
}

# fill A B N: data directories A and B of two members of one circle, A's
# store holding N entries of its own (tools/bench.c); sets C and ID_A, ID_B
fill() {
	"$BENCH" fill "$T/$1" "$T/$2" 1 "$3" >/dev/null || fail "fill"
	C=$(am "$1" circles --json | grep -o '"circles":\[{"id":"[0-9a-f]*"' |
		sed 's/.*"id":"//; s/"$//')
	[ -n "$C" ] || fail "no circle after fill"
	eval "ID_$1=$(id_of "$1")"
	eval "ID_$2=$(id_of "$2")"
}

# sql NAME QUERY: a query on NAME's database (a reader, never in the way)
sql() {
	sqlite3 -cmd ".timeout 10000" "$T/$1/amends.db" "$2"
}

count() {
	sql "$1" "SELECT count(*) FROM entries"
}

# gaps NAME: feeds whose entries are not exactly 1..head
gaps() {
	sql "$1" "SELECT count(*) FROM feeds f WHERE head_seq != (SELECT count(*)
		FROM entries e WHERE e.feed = f.id) OR head_seq != (SELECT max(seq)
		FROM entries e WHERE e.feed = f.id)"
}

# sound ID NAME: PRAGMA integrity_check says ok for NAME's database
sound() {
	r=$(sql "$2" "PRAGMA integrity_check")
	[ "$r" = ok ] || bad "$1" "$2's database is damaged: $r"
}

# verified NAME: `amends verify` finds nothing wrong at NAME
verified() {
	am "$1" verify >"$T/verify-$1.out" 2>&1
}

# sanitizer_clean: no sanitizer report in any log
sanitizer_clean() {
	! grep -l -E "ERROR: (Address|Leak)Sanitizer|runtime error:" "$T"/*.log \
		>/dev/null 2>&1
}

fds() {
	ls "/proc/$1/fd" 2>/dev/null | wc -l
}

# hwm PID: peak resident memory in KiB
hwm() {
	awk '$1 == "VmHWM:" { print $2 }' "/proc/$1/status"
}

rss() {
	awk '$1 == "VmRSS:" { print $2 }' "/proc/$1/status"
}

# seconds MS: milliseconds as seconds with one decimal
seconds() {
	echo "$1" | awk '{ printf "%.1f", $1 / 1000 }'
}

# converged NAME NAME: both hold the same record of $C
converged() {
	same "$C" "$1" "$2"
}

# settle NAME NAME: waits (bounded) until the first sync of the two nodes
# is over: each has written the checkpoint it writes once every member
# holds the same record, and each holds the other's
settle() {
	for n in "$1" "$2"; do
		wait_for 60 log_has "$n" "checkpoint written" ||
			fail "node $n wrote no checkpoint after the first sync"
	done
	converge 60 "$C" "$1" "$2"
}
