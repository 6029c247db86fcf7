#!/bin/sh
# SIGTERM during a sync: Alex's node is stopped while it receives a
# backlog from Sam's. Both stores stay intact (PRAGMA integrity_check),
# what Alex holds is a clean prefix of each feed, and after a restart the
# sync completes. Repeated a few times, each at a different point.
. "$(dirname "$0")/lib.sh"

init sam
init alex
start sam
start alex
C=$(circle_new sam us)
am alex join --accept "$(invite sam us)" --name Sam >/dev/null || fail "alex's join"
converge 30 "$C" sam alex

mid=0
for round in 1 2 3; do
	step "round $round: a backlog, and SIGTERM as it arrives"
	stop alex
	"$AUTHOR" "$T/sam" "$C" 1000 || fail "sam's entries"
	before=$(grep -c "received" "$T/alex.log")
	start alex
	# stop the node as soon as the first batch is stored (bounded spin)
	i=0
	while [ "$(grep -c "received" "$T/alex.log")" = "$before" ] && [ $i -lt 20000 ]; do
		i=$((i + 1))
	done
	stop alex
	same "$C" sam alex || mid=$((mid + 1))
	intact sam
	intact alex
	start alex
	converge 60 "$C" sam alex
done
stop alex
stop sam
intact sam
intact alex
echo "MN-SIGTERM: pass (stopped mid-sync in $mid of 3 rounds)"
