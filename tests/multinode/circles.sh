#!/bin/sh
# Sam is in two circles: X with Alex, Y with Dr. Lee. Sam's node talks to
# both, yet Alex receives nothing of Y and Lee nothing of X, while each
# circle's members converge.
. "$(dirname "$0")/lib.sh"

init sam
init alex
init lee
start sam
start alex
start lee
X=$(circle_new sam x)
Y=$(circle_new sam y)
am alex join --accept "$(invite sam x)" --name Sam >/dev/null || fail "alex's join"
am lee join --accept "$(invite sam y --witness)" --name Sam >/dev/null || fail "lee's join"
converge 30 "$X" sam alex
converge 30 "$Y" sam lee

step "both circles grow while every node runs"
am sam say x "for alex only" >/dev/null || fail "say x"
am sam say y "for lee only" >/dev/null || fail "say y"
"$AUTHOR" "$T/sam" "$Y" 50 || fail "sam's entries in y"
"$AUTHOR" "$T/alex" "$X" 50 || fail "alex's entries in x"
converge 30 "$X" sam alex
converge 30 "$Y" sam lee

step "nothing of one circle reached the other's member"
[ "$(feeds alex "$Y")" = 0 ] || fail "alex holds entries of circle y"
[ "$(feeds lee "$X")" = 0 ] || fail "lee holds entries of circle x"
[ "$(feeds alex "$X")" = 2 ] || fail "alex does not hold both feeds of x"
[ "$(feeds lee "$Y")" = 2 ] || fail "lee does not hold both feeds of y"
am alex circles --json | grep -q "$Y" && fail "alex's circles show y"
am lee circles --json | grep -q "$X" && fail "lee's circles show x"
echo "MN-CIRCLES: pass"
