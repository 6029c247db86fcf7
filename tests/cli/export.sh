#!/bin/sh
# Verifiable exports: Sam and Alex, with Dr. Lee as witness, agree on an
# evening check-in and log three days of it. Sam exports the circle; the
# file verifies with no data directory at all, and every kind of tampering
# (an entry changed, one removed from the middle of a feed, two reordered
# or all reversed, which import refuses whole with the same sentence,
# a feed's newest entries cut off, the file cut short, the manifest
# altered, a stranger's entry added) fails with the reason naming it.
set -u
amends=$1
craft=$2
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
export TZ=UTC
fails=0
fail() { echo "FAIL: $*"; fails=$((fails + 1)); }

am() {
	who=$1
	shift
	AMENDS_HOME="$dir/$who" "$amends" "$@"
}
at() { export AMENDS_NOW="$1"; }
share() {
	am "$1" export -o "$dir/$1.bundle" >/dev/null || fail "export by $1"
	for other in sam alex lee; do
		[ "$other" = "$1" ] && continue
		am "$other" import "$dir/$1.bundle" >/dev/null ||
			fail "import of $1's bundle by $other"
	done
}
idof() { am "$1" id --json | sed 's/^{"id":"\([^"]*\)".*/\1/'; }
# how verify --file names someone: short ID and fingerprint
whoof() {
	am "$1" id --json |
		sed 's/^{"id":"\(am......\)[^"]*","fingerprint":"\([^"]*\)".*/\1 (\2)/'
}
# how verify --file names someone in the record of an intact file when
# the file holds the display name they signed (problems and findings
# name people as whoof does)
namedof() {
	am "$1" id --json |
		sed 's/^{"id":"\(am......\)[^"]*","fingerprint":"\([^"]*\)".*/'"$1"' (\1, \2)/'
}
# verify FILE: runs verify --file with no data directory; sets out and rc
verify() {
	out=$(env -u AMENDS_HOME HOME="$dir/nowhere" "$amends" verify --file "$1" 2>&1)
	rc=$?
}
expect_fail() {
	what=$1
	shift
	[ "$rc" -eq 1 ] || fail "$what: exit status $rc, not 1"
	for want in "$@"; do
		printf '%s\n' "$out" | grep -qF -- "$want" ||
			fail "$what: no line with '$want' in: $out"
	done
	printf '%s\n' "$out" | grep -q '^FAILED: [0-9]* problems\{0,1\}$' ||
		fail "$what: no FAILED line"
}

# edit IN OUT OP ARGS: rewrites an export's entries (perl, so that the
# test needs nothing but the binary). Ops: info (index, author prefix and
# number of each entry), drop I, swap I J, reverse (every entry and piece
# of fork evidence in reverse order), add FILE I (entry I of another
# export, appended), sig (flips the manifest's last byte), head (a named
# hash in the manifest altered).
edit() {
	perl -e '
use strict;
my ($in, $out, $op, @a) = @ARGV;
sub slurp { local $/; open my $f, "<:raw", $_[0] or die; return <$f>; }
sub rbin { my ($s, $o) = @_; my $t = ord substr($s, $o, 1); my ($l, $h);
	if ($t == 0xc4) { $l = ord substr($s, $o + 1, 1); $h = 2 }
	elsif ($t == 0xc5) { $l = unpack "n", substr($s, $o + 1, 2); $h = 3 }
	else { $l = unpack "N", substr($s, $o + 1, 4); $h = 5 }
	return (substr($s, $o + $h, $l), $o + $h + $l); }
sub rarr { my ($s, $o) = @_; my $t = ord substr($s, $o, 1);
	return ($t & 15, $o + 1) if ($t & 0xf0) == 0x90;
	return (unpack("n", substr($s, $o + 1, 2)), $o + 3) if $t == 0xdc;
	return (unpack("N", substr($s, $o + 1, 4)), $o + 5); }
sub wbin { my $d = shift; my $l = length $d;
	return ($l < 256 ? pack("CC", 0xc4, $l) : $l < 65536 ?
		pack("Cn", 0xc5, $l) : pack("CN", 0xc6, $l)) . $d; }
sub warr { my $n = shift; return $n < 16 ? pack("C", 0x90 | $n) :
	$n < 65536 ? pack("Cn", 0xdc, $n) : pack("CN", 0xdd, $n); }
# a file may start with the 11 bytes of the file magic
sub pre { return substr($_[0], 0, 1) eq "\x89" ? 11 : 0; }
sub parse { my $s = shift; my $o = 16 + pre($s); my ($m, $n, @e, @f, $x);
	($m, $o) = rbin($s, $o); ($n, $o) = rarr($s, $o);
	for (1 .. $n) { ($x, $o) = rbin($s, $o); push @e, $x; }
	($n, $o) = rarr($s, $o);
	for (1 .. $n) { ($x, $o) = rbin($s, $o); push @f, $x; }
	return ($m, \@e, \@f); }
my ($m, $e, $f) = parse(slurp($in));
if ($op eq "info") {
	for my $i (0 .. $#$e) { my ($sg) = rbin($e->[$i], 1);
		printf "%d %s %d\n", $i, unpack("H8", substr($sg, 38, 4)),
			ord substr($sg, 70, 1); }
	exit 0; }
if ($op eq "drop") { splice @$e, $a[0], 1 }
elsif ($op eq "swap") { @$e[$a[0], $a[1]] = @$e[$a[1], $a[0]] }
elsif ($op eq "reverse") { @$e = reverse @$e; @$f = reverse @$f }
elsif ($op eq "add") { my (undef, $o) = parse(slurp($a[0])); push @$e, $o->[$a[1]] }
elsif ($op eq "sig") { substr($m, -1, 1) = chr(ord(substr($m, -1, 1)) ^ 1) }
elsif ($op eq "head") {
	# the first feed named: array(6) [bin32 circle, bin32 author, seq
	# (one byte here), bin32 hash, ...]: the first byte of the hash
	my $p = index($m, "\x96\xc4\x20") + 1 + 34 + 34 + 3;
	substr($m, $p, 1) = chr(ord(substr($m, $p, 1)) ^ 1) }
my $s = substr(slurp($in), 0, 16 + pre(slurp($in))) . wbin($m) . warr(scalar @$e);
$s .= wbin($_) for @$e;
$s .= warr(scalar @$f);
$s .= wbin($_) for @$f;
open my $w, ">:raw", $out or die; print $w $s;
' "$@"
}

# ---- the record ----
at 2026-03-01T08:00:00Z
for who in sam alex lee; do am "$who" init --name "$who" >/dev/null || fail "init $who"; done
ALEX=$(idof alex)
LEE=$(idof lee)
am sam name "$ALEX" alex >/dev/null
am sam name "$LEE" lee >/dev/null
am sam circle new us >/dev/null || fail "circle new"
m_alex=$(am sam circle add us alex | sed -n 's/.*(\([0-9a-f]\{8\}\)).*/\1/p')
m_lee=$(am sam circle add us lee --witness | sed -n 's/.*(\([0-9a-f]\{8\}\)).*/\1/p')
share sam
am alex accept "$m_alex" >/dev/null || fail "alex joins"
am lee accept "$m_lee" >/dev/null || fail "lee joins"
share alex
share lee
am alex accept "$m_lee" >/dev/null || fail "alex accepts lee"
share alex
at 2026-03-01T10:00:00Z
out=$(am sam propose us --title "Evening check-in" --text "Sam checks in every evening by 21:00" \
	--by sam --every day --at 21:00) || fail "propose"
AG=$(echo "$out" | sed -n "s/^proposed agreement \([0-9a-f]\{8\}\) .*/\1/p")
share sam
am alex accept "$AG" >/dev/null || fail "accept"
share alex
for day in 1 2 3; do
	at "2026-03-0${day}T21:00:00Z"
	h=$(am sam checkin "$AG" --kept --note "evening$day" | sed -n 's/.*(\([0-9a-f]\{8\}\))$/\1/p' | tail -n 1)
	[ -n "$h" ] || fail "check-in $day"
	share sam
	if [ "$day" -eq 2 ]; then
		am alex dispute "$h" --note "you did not call" >/dev/null || fail "dispute"
		am lee confirm "$h" >/dev/null || fail "witness confirm"
		share lee
	else
		am alex confirm "$h" >/dev/null || fail "confirm $day"
	fi
	share alex
done
# a statement about the agreement by the witness, which alex confirms
at 2026-03-03T22:00:00Z
st=$(am lee say us "Alex was unfair on the 2nd" --about "$AG" | sed -n 's/.*statement \([0-9a-f]\{8\}\)).*/\1/p')
[ -n "$st" ] || fail "statement"
share lee
at 2026-03-03T22:30:00Z
am alex confirm "$st" >/dev/null || fail "confirm the statement"
share alex
# a proposal that is never accepted, after everything about the first
at 2026-03-04T09:00:00Z
am alex propose us --title "Sunday walk" --text "We walk on Sundays" >/dev/null || fail "second proposal"
share alex
# amends id finds a member by the safety number read aloud, however typed
sn=$(am alex id --json | sed 's/.*"safety_number":"\([^"]*\)".*/\1/')
out=$(am sam id "$(echo "$sn" | tr ' ' '-')") || fail "id by safety number: $out"
printf '%s\n' "$out" | grep -q "^id: *$(idof alex)$" || fail "id by safety number found: $out"
printf '%s\n' "$out" | grep -qF "safety number: $sn" || fail "id by safety number shows: $out"
SAMW=$(whoof sam)
ALEXW=$(whoof alex)
LEEW=$(whoof lee)
# sam and alex signed their names into the circle (circle new, and an
# accept that completed the proposal); lee accepted while the proposal
# still waited for alex, so the record holds no name of lee's
SAMN=$(namedof sam)
ALEXN=$(namedof alex)

# ---- an untouched export verifies, with no data directory ----
at 2026-03-05T09:00:00Z
am sam export us -o "$dir/us.amends" >/dev/null || fail "export"
verify "$dir/us.amends"
[ "$rc" -eq 0 ] || fail "untouched export: exit $rc: $out"
for want in \
	"exported by $SAMN at 2026-03-05 09:00" \
	"  member  $SAMN, member, created the circle" \
	"  member  $LEEW, witness" \
	"agreement 'Evening check-in' ($AG): in force" \
	"  terms $AG signed by $SAMN, $ALEXN" \
	"agreement 'Sunday walk' " \
	"$SAMN checked in kept for 2026-03-01 on 'Evening check-in': evening1" \
	"      disputed by $ALEXN on 2026-03-02 21:00: you did not call" \
	"      confirmed by $LEEW (witness) on 2026-03-02 21:00" \
	"  proposed by $SAMN on 2026-03-01 10:00" \
	"  text: \"Sam checks in every evening by 21:00\"" \
	"  schedule: every day at 21:00" \
	"  parties: $SAMN, $ALEXN" \
	"  checks in: $SAMN" \
	"    2026-03-03 22:00  $LEEW said about agreement $AG: \"Alex was unfair on the 2nd\"" \
	"        confirmed by $ALEXN on 2026-03-03 22:30" \
	"verified: 20 entries, 3 authors, 0 problems"; do
	printf '%s\n' "$out" | grep -qF -- "$want" || fail "untouched export: no '$want' in: $out"
done
n=$(printf '%s\n' "$out" | grep -c "      confirmed by $ALEXN on 2026-03-0[13] 21:00$")
[ "$n" -eq 2 ] || fail "untouched export: $n check-ins confirmed by alex, not 2"
[ "$(printf '%s\n' "$out" | tail -n 1)" = "verified: 20 entries, 3 authors, 0 problems" ] ||
	fail "untouched export: last line"
# AMENDS_HOME pointing nowhere does just as well, and nothing is left behind
out2=$(AMENDS_HOME="$dir/nowhere/at/all" TMPDIR="$dir/tmp" sh -c 'mkdir -p "$TMPDIR" && "$1" verify --file "$2"' sh "$amends" "$dir/us.amends") ||
	fail "verify with AMENDS_HOME pointing nowhere"
[ "$out2" = "$out" ] || fail "verify differs with AMENDS_HOME pointing nowhere"
[ -z "$(ls -A "$dir/tmp")" ] || fail "verify left files in TMPDIR: $(ls -A "$dir/tmp")"
[ ! -e "$dir/nowhere" ] || fail "verify created a data directory"
# the JSON form says the same
j=$(env -u AMENDS_HOME "$amends" verify --file "$dir/us.amends" --json) || fail "verify --json"
echo "$j" | grep -q '^{"problems":\[\],"manifest":{"exporter":"'"$(idof sam)"'"' || fail "json head: $j"
echo "$j" | grep -q '"entries":20,"authors":3,"ok":true}$' || fail "json tail: $j"

# ---- one agreement ----
am sam export us --agreement "$AG" -o "$dir/ag.amends" >/dev/null || fail "export --agreement"
verify "$dir/ag.amends"
[ "$rc" -eq 0 ] || fail "agreement export: exit $rc: $out"
printf '%s\n' "$out" | grep -qF "only what proves agreement $AG" || fail "agreement export: scope: $out"
printf '%s\n' "$out" | grep -qF "agreement 'Evening check-in' ($AG): in force" ||
	fail "agreement export: the agreement: $out"
printf '%s\n' "$out" | grep -q "Sunday walk" && fail "agreement export shows the other agreement"
# alex's last entry (the second proposal) does not bear on it: left out
printf '%s\n' "$out" | grep -q '^verified: 19 entries, 3 authors, 0 problems$' ||
	fail "agreement export: count: $out"

# ---- an export still imports ----
am eve init --name eve >/dev/null || fail "init eve"
out=$(am eve import "$dir/us.amends") || fail "import of an export"
[ "$out" = "20 new, 0 already here, 0 fork evidence, 0 refused" ] || fail "import: $out"
out=$(am alex import "$dir/us.amends") || fail "import of an export where all is held"
[ "$out" = "0 new, 20 already here, 0 fork evidence, 0 refused" ] || fail "re-import: $out"

# ---- the file magic ----
# an export starts with it; file(1) knows it from the README's magic line;
# a file written before it (no magic) still verifies
[ "$(head -c 11 "$dir/us.amends" | od -An -tx1 | tr -d ' \n')" = "89616d656e64730d0a1a0a" ] ||
	fail "the export does not start with the file magic"
if command -v file >/dev/null 2>&1; then
	sed -n 's/^    \(0 string .*\)$/\1/p' "$AMENDS_SRC/README.md" >"$dir/magic"
	[ -s "$dir/magic" ] || fail "no magic line in the README"
	file -m "$dir/magic" "$dir/us.amends" | grep -q "amends record" ||
		fail "file(1) with the README's magic: $(file -m "$dir/magic" "$dir/us.amends")"
fi
tail -c +12 "$dir/us.amends" >"$dir/old.amends"
verify "$dir/old.amends"
[ "$rc" -eq 0 ] || fail "an export without the magic: exit $rc: $out"
printf '\211amends\n\032\n' | cat - "$dir/old.amends" >"$dir/t-eol"
verify "$dir/t-eol"
[ "$rc" -eq 1 ] || fail "a magic damaged by a line-ending conversion: exit $rc: $out"

# ---- who signed the manifest ----
# the exporter's role in each circle is named; the witness may export
verify "$dir/us.amends"
printf '%s\n' "$out" | grep -qF "signed by $SAMN, member of circle 'us'" ||
	fail "signer's role not named: $out"
am lee export us -o "$dir/lee.amends" >/dev/null || fail "export by the witness"
verify "$dir/lee.amends"
[ "$rc" -eq 0 ] || fail "witness's export: exit $rc: $out"
printf '%s\n' "$out" | grep -qF "signed by $LEEW, witness of circle 'us'" ||
	fail "witness's export: role not named: $out"
# eve holds the record (she imported it) but is no member: her manifest
# proves nothing of who exported the file
am eve export us -o "$dir/eve-us.amends" >/dev/null || fail "export by eve"
verify "$dir/eve-us.amends"
expect_fail "stranger's manifest" \
	"problem: manifest: it is signed by $(whoof eve), who is neither a member nor a witness of circle 'us'"

# ---- tampering ----
SAMP=$(idof sam | cut -c1-8)
info=$(edit "$dir/us.amends" - info)
# index of sam's entry N in the file: sam's feed is the one whose author
# key starts with sam's (amends id --json gives the key in hex)
sam_hex=$(am sam id --json | sed 's/.*"key":"\([0-9a-f]\{8\}\).*/\1/')
idx() { printf '%s\n' "$info" | awk -v a="$sam_hex" -v s="$1" '$2 == a && $3 == s { print $1 }'; }
last=$(printf '%s\n' "$info" | awk -v a="$sam_hex" '$2 == a' | wc -l)
[ "$last" -eq 8 ] || fail "sam's feed has $last entries in the export, not 8"

# an entry changed (same length, so the file still parses)
perl -pe 's/evening2/evening9/' "$dir/us.amends" >"$dir/t-changed"
verify "$dir/t-changed"
expect_fail "changed" "problem: $SAMW's entry 7 (circle" \
	"its signature does not verify: the entry was altered after its author signed it"

# an entry removed from the middle of a feed
edit "$dir/us.amends" "$dir/t-removed" drop "$(idx 4)"
verify "$dir/t-removed"
expect_fail "removed" "problem: $SAMW's feed (circle" \
	"entry 4 was removed from the middle of the feed: the file holds entries 3 and 5" \
	"  $SAMW's feed: proven up to entry 3 of 8 named by the manifest"

# two entries reordered
edit "$dir/us.amends" "$dir/t-reordered" swap "$(idx 5)" "$(idx 6)"
verify "$dir/t-reordered"
expect_fail "reordered" "problem: $SAMW's entry 5 (circle" \
	"it comes after entry 6 of the same feed: the entries were reordered"

# import refuses what verify --file refuses for its order, whole, with the
# same sentence: the two reordered entries, and the whole file reversed
am fay init --name fay >/dev/null || fail "init fay"
for t in reordered reversed; do
	[ "$t" = reversed ] && edit "$dir/us.amends" "$dir/t-reversed" reverse
	verify "$dir/t-$t"
	expect_fail "$t" "the entries were reordered"
	said=$(printf '%s\n' "$out" | sed -n 's/^problem: [^:]*: //p' | head -n 1)
	if err=$(am fay import "$dir/t-$t" 2>&1); then fail "import of the $t file succeeded: $err"; fi
	case $(printf '%s\n' "$err" | head -n 1) in
	"amends: $dir/t-$t is out of order, so nothing was imported: item "*": $said") ;;
	*) fail "import of the $t file: not the sentence of verify ('$said'): $err" ;;
	esac
done
out=$(am fay import "$dir/us.amends") || fail "import after the refusals"
[ "$out" = "20 new, 0 already here, 0 fork evidence, 0 refused" ] ||
	fail "the refused imports left something behind: $out"

# a feed's newest entries cut off, the manifest kept
edit "$dir/us.amends" "$dir/t-cut1" drop "$(idx 8)"
edit "$dir/t-cut1" "$dir/t-cut" drop "$(idx 7)"
verify "$dir/t-cut"
expect_fail "truncated" \
	"problem: $SAMW's feed (circle" \
	"proven up to entry 6 of 8 named by the manifest: the newest entries were cut off"

# the file itself cut short: what precedes the cut is still proven
size=$(wc -c <"$dir/us.amends")
head -c $((size - 60)) "$dir/us.amends" >"$dir/t-short"
verify "$dir/t-short"
expect_fail "cut short" "problem: the file is cut short after item" \
	"the newest entries were cut off" "named by the manifest"

# the manifest's signature, and a head it names
edit "$dir/us.amends" "$dir/t-sig" sig
verify "$dir/t-sig"
expect_fail "manifest signature" \
	"problem: manifest: the manifest's signature does not verify: the manifest was altered"
edit "$dir/us.amends" "$dir/t-head" head
verify "$dir/t-head"
expect_fail "manifest head" \
	"problem: manifest: the manifest's signature does not verify: the manifest was altered"

# a stranger's entry added: eve's own circle's first entry
am eve circle new elsewhere >/dev/null || fail "eve's circle"
am eve export elsewhere -o "$dir/eve.amends" >/dev/null || fail "eve's export"
edit "$dir/us.amends" "$dir/t-stranger" add "$dir/eve.amends" 0
verify "$dir/t-stranger"
expect_fail "stranger" "problem: $(whoof eve)'s feed (circle" \
	"the manifest does not name this feed (1 entry in the file): it was added to the file"

# a file that is not an export at all
printf 'hello' >"$dir/t-text"
verify "$dir/t-text"
[ "$rc" -eq 1 ] && [ "$out" = "amends: $dir/t-text is not an amends export" ] ||
	fail "not an export: exit $rc: $out"

# ---- what travels with one agreement, said in the output and the help ----
# alex's "Sunday walk" comes before alex's confirmation of a fourth
# check-in: the agreement's export must carry it, and says so
at 2026-03-04T21:00:00Z
h=$(am sam checkin "$AG" --kept --note "evening4" | sed -n 's/.*(\([0-9a-f]\{8\}\))$/\1/p' | tail -n 1)
share sam
am alex confirm "$h" >/dev/null || fail "confirm 4"
share alex
exp=$(am sam export us --agreement "$AG" -o "$dir/ag2.amends") || fail "export --agreement again"
printf '%s\n' "$exp" | grep -qF "3 of those entries are not about agreement $AG: they were written before entries that are, and travel with them" ||
	fail "agreement export does not say what travels with it: $exp"
am sam export --help | grep -q "carries everything its author wrote before" ||
	fail "the export help does not say what travels with an agreement"

# ---- the people the reader knows ----
snof() { am "$1" id --json | sed 's/.*"safety_number":"\([^"]*\)".*/\1/'; }
SAMSN=$(snof sam)
ALEXSN=$(snof alex)
LEESN=$(snof lee)
# without --expect: anyone could have made the file; the safety numbers
# to compare by voice are listed, the signer's and each member's
verify "$dir/us.amends"
[ "$rc" -eq 0 ] || fail "plain verify: exit $rc"
for want in "anyone can make a file like this one with keys of their own" \
	"  $SAMN: $SAMSN" "  $ALEXN: $ALEXSN" "  $LEEW: $LEESN"; do
	printf '%s\n' "$out" | grep -qF -- "$want" || fail "no warning line '$want' in: $out"
done
# the real export passes with the real people, by ID or safety number
# (typed with dashes), and says so instead of warning
out=$(env -u AMENDS_HOME "$amends" verify --file "$dir/us.amends" \
	--expect "$(idof sam)" --expect "$(echo "$ALEXSN" | tr ' ' '-')" --expect "$LEESN") ||
	fail "real export with --expect: $out"
printf '%s\n' "$out" | grep -q "anyone can make" && fail "warning despite --expect: $out"
printf '%s\n' "$out" | grep -qF "the signer and every member are people you expect" ||
	fail "--expect does not say it holds: $out"
# leaving out a member (the witness) fails, naming them
out=$(env -u AMENDS_HOME "$amends" verify --file "$dir/us.amends" \
	--expect "$(idof sam)" --expect "$(idof alex)" 2>&1)
rc=$?
expect_fail "--expect without lee" \
	"problem: $LEEW, witness of circle 'us', is not among the people you expect"
# a record made up from scratch with two fresh keys: an agreement in
# force, a check-in confirmed; it verifies alone, and fails against the
# real people
for who in fsam falex; do am "$who" init --name "${who#f}" >/dev/null || fail "init $who"; done
am fsam name "$(idof falex)" alex >/dev/null
am fsam circle new us >/dev/null || fail "fake circle"
m=$(am fsam circle add us alex | sed -n 's/.*(\([0-9a-f]\{8\}\)).*/\1/p')
am fsam export -o "$dir/f1" >/dev/null && am falex import "$dir/f1" >/dev/null || fail "fake share 1"
am falex accept "$m" >/dev/null || fail "fake join"
am falex export -o "$dir/f2" >/dev/null && am fsam import "$dir/f2" >/dev/null || fail "fake share 2"
fag=$(am fsam propose us --title "Evening check-in" --text "Alex checks in every evening" --by alex --every day --at 21:00 |
	sed -n "s/^proposed agreement \([0-9a-f]\{8\}\) .*/\1/p")
am fsam export -o "$dir/f3" >/dev/null && am falex import "$dir/f3" >/dev/null || fail "fake share 3"
am falex accept "$fag" >/dev/null || fail "fake accept"
am falex export us -o "$dir/fake.amends" >/dev/null || fail "fake export"
verify "$dir/fake.amends"
[ "$rc" -eq 0 ] || fail "the made-up record alone: exit $rc: $out"
printf '%s\n' "$out" | grep -qF "anyone can make a file like this one" || fail "made-up record: no warning: $out"
out=$(env -u AMENDS_HOME "$amends" verify --file "$dir/fake.amends" \
	--expect "$(idof sam)" --expect "$ALEXSN" 2>&1)
rc=$?
expect_fail "made-up record with --expect" \
	"problem: $(whoof fsam), member of circle 'us', is not among the people you expect" \
	"problem: $(whoof falex), member of circle 'us', who signed the manifest, is not among the people you expect"
# in JSON, "expected" is true only when --expect named everyone
out=$(env -u AMENDS_HOME "$amends" verify --file "$dir/fake.amends" --json \
	--expect "$(idof sam)" --expect "$ALEXSN" 2>&1)
printf '%s\n' "$out" | grep -q '"expected":false' ||
	fail "made-up record with --expect --json: not expected false: $out"
printf '%s\n' "$out" | grep -q '"expected":true' &&
	fail "made-up record with --expect --json: expected true: $out"
out=$(env -u AMENDS_HOME "$amends" verify --file "$dir/fake.amends" --json \
	--expect "$(idof fsam)" --expect "$(idof falex)" 2>&1)
printf '%s\n' "$out" | grep -q '"expected":true' ||
	fail "made-up record, its own people expected, --json: not expected true: $out"
out=$(env -u AMENDS_HOME "$amends" verify --file "$dir/fake.amends" --json 2>&1)
printf '%s\n' "$out" | grep -q '"expected":false' ||
	fail "made-up record without --expect --json: not expected false: $out"
# what --expect takes is checked
out=$(env -u AMENDS_HOME "$amends" verify --file "$dir/us.amends" --expect "12345" 2>&1)
rc=$?
[ "$rc" -eq 1 ] && [ "$out" = "amends: '12345' is neither an ID nor a safety number" ] ||
	fail "bad --expect: exit $rc: $out"

# ---- how complete a file is: checkpoints ----
C=$(am alex circles --json | grep -o '"id":"[0-9a-f]*"' | head -n 1 | cut -d'"' -f4)
# ckpt WHO TIME: WHO checkpoints the heads it holds, as its node would
ckpt() { "$craft" "$dir/$1" "$C" "$(date -d "$2" +%s)000" --checkpoint - >/dev/null || fail "checkpoint by $1"; }
complete() { # WHAT TIME: the file leads with complete as of TIME
	printf '%s\n' "$out" | head -n 1 | grep -qF "circle 'us' ($(echo "$C" | cut -c1-8)): complete as of $2, confirmed by $SAMN, " ||
		fail "$1: not complete as of $2: $out"
}
# everyone holds the same record and checkpoints it
ckpt sam 2026-03-05T10:00:00Z
ckpt alex 2026-03-05T10:01:00Z
ckpt lee 2026-03-05T10:02:00Z
share sam; share alex; share lee
cp -R "$dir/sam" "$dir/samearly"
# a fifth check-in, which alex disputes; sam's copy before the dispute is kept
at 2026-03-05T21:00:00Z
h5=$(am sam checkin "$AG" --missed --note "evening5" | sed -n 's/.*(\([0-9a-f]\{8\}\))$/\1/p' | tail -n 1)
share sam
cp -R "$dir/sam" "$dir/samcut"
am alex dispute "$h5" --note "you were out all night" >/dev/null || fail "dispute 5"
share alex
ckpt sam 2026-03-05T22:00:00Z
ckpt alex 2026-03-05T22:01:00Z
ckpt lee 2026-03-05T22:02:00Z
share sam; share alex; share lee
am sam export us -o "$dir/whole.amends" >/dev/null || fail "export after the checkpoints"
verify "$dir/whole.amends"
[ "$rc" -eq 0 ] || fail "export after the checkpoints: exit $rc: $out"
complete "whole export" "2026-03-05 22:02"
printf '%s\n' "$out" | grep -qF "disputed by $ALEXN on 2026-03-05 21:00: you were out all night" ||
	fail "whole export: the dispute: $out"
# a file made from sam's copy of the morning: cut at an earlier point
# everyone confirmed, so it shows that earlier time
am samearly export us -o "$dir/early.amends" >/dev/null || fail "export of the morning"
verify "$dir/early.amends"
[ "$rc" -eq 0 ] || fail "early export: exit $rc: $out"
complete "early export" "2026-03-05 10:02"
# sam cuts alex's feed just before the dispute and signs: his own
# checkpoint names the dispute, so the file says it was withheld
info=$(edit "$dir/whole.amends" - info)
alex_hex=$(am alex id --json | sed 's/.*"key":"\([0-9a-f]\{8\}\).*/\1/')
ai=$(printf '%s\n' "$info" | awk -v a="$alex_hex" '$2 == a { print $1 }' | tail -n 2)
edit "$dir/whole.amends" "$dir/t-a" drop "$(echo "$ai" | tail -n 1)"
edit "$dir/t-a" "$dir/t-b" drop "$(echo "$ai" | head -n 1)"
am samcut import "$dir/t-b" >/dev/null || fail "import into sam's cut copy"
am samcut export us -o "$dir/cut.amends" >/dev/null || fail "export of the cut copy"
verify "$dir/cut.amends"
[ "$rc" -eq 3 ] || fail "cut before the dispute: exit $rc, not 3: $out"
printf '%s\n' "$out" | grep -q "^finding: $ALEXW's feed (circle [0-9a-f]*): withheld: the file ends at entry [0-9]* of the feed, where the exporter's own checkpoint" ||
	fail "cut before the dispute: not reported as withheld: $out"
complete "cut export" "2026-03-05 10:02"
# sam's copy of the morning takes the others' entries of the evening,
# which end at their checkpoints of 22:01 and 22:02 that name sam's
# fifth check-in, and signs a file without it (nor his checkpoint after
# it): only the others' checkpoints name what is missing, yet the feed is
# the exporter's own, so he held it and left it out: withheld
si=$(printf '%s\n' "$info" | awk -v a="$sam_hex" '$2 == a { print $1 }' | tail -n 2)
edit "$dir/whole.amends" "$dir/t-s" drop "$(echo "$si" | tail -n 1)"
edit "$dir/t-s" "$dir/t-s2" drop "$(echo "$si" | head -n 1)"
am samearly import "$dir/t-s2" >/dev/null || fail "import into sam's own cut copy"
am samearly export us -o "$dir/owncut.amends" >/dev/null || fail "export of sam's own cut"
verify "$dir/owncut.amends"
[ "$rc" -eq 3 ] || fail "exporter's own feed cut: exit $rc, not 3: $out"
printf '%s\n' "$out" | grep -q "^finding: $SAMW's feed (circle [0-9a-f]*): withheld: the file ends at entry [0-9]* of the feed, where another member's checkpoint .*: the exporter held it and left it out" ||
	fail "exporter's own feed cut: not reported as withheld: $out"
printf '%s\n' "$out" | grep -q "incomplete" &&
	fail "exporter's own feed cut: also a note: $out"

# an export of the agreement leaves out what does not bear on it, even
# where a checkpoint names it: alex says something about nothing, all
# checkpoint, sam checks in again (so his checkpoint travels)
at 2026-03-06T08:00:00Z
am alex say us "nice weather" >/dev/null || fail "say"
share alex
ckpt sam 2026-03-06T08:10:00Z
ckpt alex 2026-03-06T08:11:00Z
ckpt lee 2026-03-06T08:12:00Z
share sam; share alex; share lee
at 2026-03-06T21:00:00Z
am sam checkin "$AG" --kept --note "evening6" >/dev/null || fail "check-in 6"
am sam export us --agreement "$AG" -o "$dir/ag3.amends" >/dev/null || fail "agreement export after the checkpoints"
verify "$dir/ag3.amends"
[ "$rc" -eq 0 ] || fail "agreement export after the checkpoints: exit $rc: $out"
printf '%s\n' "$out" | grep -q "withheld\|incomplete" && fail "agreement export: a feed said withheld: $out"

# ---- findings against an author: exit 3, never FAILED ----
# alex's own client writes an entry whose signature is broken and vouches
# for it with the next, validly signed entry (taken as a run, as a peer's
# batch is): the copy is intact, alex signed something invalid
"$craft" "$dir/alex" "$C" "$(date -d 2026-03-06T09:00:00Z +%s)000" --badsig "about the walk" >/dev/null ||
	fail "craft a vouched bad signature"
finds() { # WHAT N: exit 3, no FAILED, N findings and a finding line
	[ "$rc" -eq 3 ] || fail "$1: exit $rc, not 3: $out"
	printf '%s\n' "$out" | grep -q "FAILED" && fail "$1: FAILED for an intact copy: $out"
	printf '%s\n' "$out" | grep -q "^finding: " || fail "$1: no finding line: $out"
	printf '%s\n' "$out" | grep -q "^intact: .*0 problems, $2 findings\{0,1\} against" ||
		fail "$1: summary: $out"
}
out=$(am alex verify 2>&1); rc=$?
finds "vouched bad signature at alex's node" 1
printf '%s\n' "$out" | grep -q "^finding: circle .*'s entry [0-9]*: the signature does not verify against the author's key; its content is vouched for by entry [0-9]* of the same author" ||
	fail "vouched bad signature: the finding: $out"
am alex export us -o "$dir/vouched.amends" >/dev/null || fail "export with a vouched bad signature"
verify "$dir/vouched.amends"
finds "vouched bad signature in a file" 1
printf '%s\n' "$out" | grep -q "^finding: $ALEXW's entry [0-9]* (circle [0-9a-f]*): its signature does not verify; its content is vouched for by entry [0-9]*" ||
	fail "vouched bad signature in a file: the finding: $out"
# importing the file takes the run as a peer's batch would be taken
out=$(am sam import "$dir/vouched.amends") || fail "import of the vouched entry: $out"
printf '%s\n' "$out" | grep -q "^2 new, .* 0 refused$" || fail "import of the vouched entry: $out"
out=$(am sam verify 2>&1); rc=$?
finds "vouched bad signature at sam's node" 1
# then alex signs a second entry at the number of the newest: a fork
"$craft" "$dir/alex" "$C" "$(date -d 2026-03-06T10:00:00Z +%s)000" --fork "the other story" >/dev/null ||
	fail "craft a fork"
out=$(am alex verify 2>&1); rc=$?
finds "fork at alex's node" 2
printf '%s\n' "$out" | grep -q "^finding: .*(fork)" || fail "fork at the node: $out"
am alex export us -o "$dir/forked.amends" >/dev/null || fail "export with a fork"
verify "$dir/forked.amends"
finds "fork in a file" 2
printf '%s\n' "$out" | grep -q "^finding: $ALEXW's entry [0-9]* (circle [0-9a-f]*): the author signed two different entries at this number (fork)" ||
	fail "fork in a file: the finding: $out"

[ "$fails" -eq 0 ] && echo "cli export: ok"
exit "$fails"
