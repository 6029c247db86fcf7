/*
 * Writes protocol/state-vectors.txt to stdout:
 *
 *     build/tests/state-vectors-gen > protocol/state-vectors.txt
 *
 * Each case below is a short story told with signed entries: people with
 * keys from fixed seeds, entries at fixed claimed times, signed by the
 * library's own encoder (ed25519 is deterministic, so the same story gives
 * the same bytes on every run). The entries are ingested into a fresh
 * store; what it derives is written as the file's expected values. Run it
 * again whenever the rules change, and read the diff.
 *
 * Adding a case is a function telling the story and a row in cases[].
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "amends/state.h"
#include "fixture.h"
#include "statevec.h"
#include "test.h"

/* Everyone who appears in some case; each case lists those it uses. */
enum { SAM, ALEX, LEE, KIM, PAT, MAX, SAM2, NPEOPLE };
static const char *const names[NPEOPLE] = { "sam", "alex", "lee", "kim", "pat",
	"max", "sam2" };

#define DAY_MS (86400 * (int64_t)1000)
#define START_MS 1767600000000        /* Monday 2026-01-05 08:00:00 UTC */
#define STEP_MS 60000                  /* one minute between entries */

/* The case being written. */
static struct {
	struct sv_case c;
	const char *about[8];
	int nabout;
	struct am_identity *id[NPEOPLE];
	bool used[NPEOPLE];
	uint64_t seq[NPEOPLE];
	uint8_t prev[NPEOPLE][32];       /* hash of each one's latest entry */
	uint8_t before[NPEOPLE][32];     /* ... and of the one before it */
	bool forked[NPEOPLE];
	int64_t clock;
} g;

static void
about(const char *text)
{
	check(g.nabout < 8);
	g.about[g.nabout++] = text;
}

static const uint8_t *
ID(int who)
{
	g.used[who] = true;
	return am_identity_public(g.id[who]);
}

/* Lets the claimed clock run on: the next entry is written ms later. */
static void
later(int64_t ms)
{
	g.clock += ms;
}

/* Sets the claimed clock: the next entry is written at ms. */
static void
at(int64_t ms)
{
	g.clock = ms;
}

/* Keeps raw, a new entry of who's, as the case's next one. */
static void
keep(int who, uint8_t *raw, size_t len, uint8_t *hash)
{
	uint8_t h[32];
	check(g.c.n < SV_ENTRIES_MAX);
	am_hash(raw, len, h);
	if (hash != NULL)
		memcpy(hash, h, 32);
	memcpy(g.before[who], g.prev[who], 32);
	memcpy(g.prev[who], h, 32);
	g.c.raw[g.c.n] = raw;
	g.c.len[g.c.n++] = len;
	g.used[who] = true;
	g.clock += STEP_MS;
}

static void
sign(int who, const struct am_body *b, uint64_t seq, bool has_prev,
	const uint8_t *prev, uint8_t *hash)
{
	struct am_entry_draft d = { .seq = seq, .has_prev = has_prev,
		.time = g.clock, .body = b };
	uint8_t *raw;
	size_t len;
	memcpy(d.circle, g.c.circle, 32);
	if (has_prev)
		memcpy(d.prev, prev, 32);
	check_rc(am_entry_sign(g.id[who], &d, &raw, &len, NULL), AM_OK);
	keep(who, raw, len, hash);
}

/* Appends b to who's feed; hash (may be NULL) gets the entry's hash. */
static void
put(int who, struct am_body b, uint8_t *hash)
{
	uint8_t prev[32];
	check(!g.forked[who]);        /* a forked feed is frozen: write no more */
	memcpy(prev, g.prev[who], 32);
	g.seq[who]++;
	sign(who, &b, g.seq[who], g.seq[who] > 1, prev, hash);
}

/* Signs b at the number of who's latest entry, after the same entry: a
 * fork. That feed takes no more entries in the case. */
static void
twin(int who, struct am_body b, uint8_t *hash)
{
	uint8_t before[32];
	check(g.seq[who] > 0);
	memcpy(before, g.before[who], 32);
	sign(who, &b, g.seq[who], g.seq[who] > 1, before, hash);
	g.forked[who] = true;
}

/* Canonical msgpack, for entries of a kind the library does not encode. */
struct buf {
	uint8_t b[2048];
	size_t n;
};

static void
b_put(struct buf *b, const void *p, size_t n)
{
	check(b->n + n <= sizeof b->b);
	memcpy(b->b + b->n, p, n);
	b->n += n;
}

static void
b_head(struct buf *b, uint8_t tag, uint64_t v, int bytes)
{
	uint8_t x[9] = { tag };
	for (int i = 0; i < bytes; i++)
		x[1 + i] = (uint8_t)(v >> (8 * (bytes - 1 - i)));
	b_put(b, x, 1 + (size_t)bytes);
}

/* The smallest encoding of v (protocol/entry.md). */
static void
b_uint(struct buf *b, uint64_t v)
{
	if (v < 128)
		b_head(b, (uint8_t)v, 0, 0);
	else if (v <= UINT8_MAX)
		b_head(b, 0xcc, v, 1);
	else if (v <= UINT16_MAX)
		b_head(b, 0xcd, v, 2);
	else if (v <= UINT32_MAX)
		b_head(b, 0xce, v, 4);
	else
		b_head(b, 0xcf, v, 8);
}

static void
b_bin(struct buf *b, const uint8_t *p, size_t n)
{
	if (n <= UINT8_MAX)
		b_head(b, 0xc4, n, 1);
	else
		b_head(b, 0xc5, n, 2);
	b_put(b, p, n);
}

/*
 * Appends to who's feed an entry of any kind, whose body is the msgpack
 * array body[0..n): an entry of a kind this build does not know, which
 * am_entry_sign() would refuse to write.
 */
static void
put_kind(int who, uint32_t kind, const uint8_t *body, size_t n, uint8_t *hash)
{
	static const char domain[] = "amends-entry-v1";
	struct buf sig = { .n = 0 }, env = { .n = 0 };
	struct buf *sd = calloc(1, sizeof *sd);
	uint8_t s[AM_SIG_BYTES];
	check(sd != NULL && !g.forked[who]);
	g.seq[who]++;
	b_head(sd, 0x98, 0, 0);                       /* array(8) */
	b_uint(sd, AM_ENTRY_VERSION);
	b_bin(sd, g.c.circle, 32);
	b_bin(sd, ID(who), 32);
	b_uint(sd, g.seq[who]);
	if (g.seq[who] > 1)
		b_bin(sd, g.prev[who], 32);
	else
		b_head(sd, 0xc0, 0, 0);               /* nil */
	b_uint(sd, (uint64_t)g.clock);
	b_uint(sd, kind);
	b_put(sd, body, n);
	b_put(&sig, domain, sizeof domain - 1);
	b_put(&sig, sd->b, sd->n);
	am_identity_sign(g.id[who], sig.b, sig.n, s);
	b_head(&env, 0x92, 0, 0);                     /* array(2) */
	b_bin(&env, sd->b, sd->n);
	b_bin(&env, s, sizeof s);
	free(sd);
	uint8_t *raw = malloc(env.n);
	check(raw != NULL);
	memcpy(raw, env.b, env.n);
	keep(who, raw, env.n, hash);
}

static uint8_t genesis_hash[32];   /* of the case's circle */

/* Sam creates the circle; its nonce comes from the case's name. */
static void
genesis(void)
{
	struct am_body b = { .kind = AM_KIND_GENESIS, .name = am_str_c(g.c.name) };
	am_hash((const uint8_t *)g.c.name, strlen(g.c.name), b.nonce);
	am_circle_id(ID(SAM), b.nonce, g.c.circle);
	put(SAM, b, genesis_hash);
}

/* ---- bodies ---- */

static struct am_body
member(int who, uint32_t role)
{
	struct am_body b = { .kind = AM_KIND_MEMBER, .role = role };
	memcpy(b.target, ID(who), 32);
	return b;
}

/* ACCEPT, DECLINE, CONFIRM, DISPUTE of target, with a note or NULL. */
static struct am_body
answer(uint32_t kind, const uint8_t *target, const char *note)
{
	struct am_body b = { .kind = kind, .note = am_str_c(note) };
	memcpy(b.target, target, 32);
	return b;
}

/* Terms between the parties (a bit per person, in this file's order of
 * people), checked in by those of `by` (0: every party): every day by
 * 21:00 in Paris, a week's notice. */
static struct am_body
agreement(const char *title, unsigned parties, unsigned by)
{
	struct am_body b = { .kind = AM_KIND_PROPOSE };
	struct am_terms *t = &b.terms;
	t->title = am_str_c(title);
	t->text = am_str_c(title);
	for (int p = 0; p < NPEOPLE; p++) {
		if (parties & 1u << p)
			memcpy(t->parties[t->nparties++], ID(p), 32);
		if (by & 1u << p)
			memcpy(t->by[t->nby++], ID(p), 32);
	}
	t->has_schedule = true;
	t->every = AM_EVERY_DAY;
	t->at = 21 * 60;
	t->tz = am_str_c("Europe/Paris");
	t->notice = 7 * 86400;
	return b;
}

static struct am_body
amend(const uint8_t *agreement_id, const uint8_t *base, struct am_body terms)
{
	terms.kind = AM_KIND_AMEND;
	memcpy(terms.target, agreement_id, 32);
	memcpy(terms.base, base, 32);
	return terms;
}

static struct am_body
end(const uint8_t *agreement_id, const char *reason)
{
	return answer(AM_KIND_END, agreement_id, reason);
}

static struct am_body
checkin(const uint8_t *agreement_id, const char *period, uint32_t status)
{
	struct am_body b = { .kind = AM_KIND_CHECKIN, .period = am_str_c(period),
		.status = status };
	memcpy(b.target, agreement_id, 32);
	return b;
}

static struct am_body
statement(const char *text, const uint8_t *about_id)
{
	struct am_body b = { .kind = AM_KIND_STATEMENT, .note = am_str_c(text),
		.has_target = about_id != NULL };
	if (about_id != NULL)
		memcpy(b.target, about_id, 32);
	return b;
}

#define P(x) (1u << (x))
#define ACCEPT(t) answer(AM_KIND_ACCEPT, (t), NULL)
#define CONFIRM(t) answer(AM_KIND_CONFIRM, (t), NULL)

/* Sam creates the circle and invites Alex, who accepts. */
static void
couple(void)
{
	uint8_t p[32];
	genesis();
	put(SAM, member(ALEX, AM_ROLE_MEMBER), p);
	put(ALEX, ACCEPT(p), NULL);
}

/* ... and Sam invites who with role, whom Alex and who accept. */
static void
third(int who, uint32_t role)
{
	uint8_t p[32];
	put(SAM, member(who, role), p);
	put(who, ACCEPT(p), NULL);
	put(ALEX, ACCEPT(p), NULL);
}

/* An agreement between Sam and Alex that Sam checks in to, signed by both. */
static void
evening(const char *title, uint8_t a[32])
{
	put(SAM, agreement(title, P(SAM) | P(ALEX), P(SAM)), a);
	put(ALEX, ACCEPT(a), NULL);
}

/* ---- the cases ---- */

static void
case_in_force(void)
{
	uint8_t a[32], s[32];
	about("Sam creates the circle and invites Alex, who joins. Sam proposes");
	about("an agreement between them; Alex signs it, so it is in force.");
	about("Sam writes a statement about it, which Alex confirms.");
	couple();
	evening("Sam checks in every evening by 21:00", a);
	put(SAM, statement("I am sorry I went quiet.", a), s);
	put(ALEX, CONFIRM(s), NULL);
}

static void
case_amendment(void)
{
	uint8_t a[32], v1[32], v2[32];
	about("An agreement in force; Alex amends it and Sam signs the");
	about("amendment, which supersedes the first version. Sam then amends");
	about("again: the newest version is pending, the current one stays.");
	couple();
	evening("Evening check-in", a);
	struct am_body t = agreement("Evening check-in, weekends off", P(SAM) | P(ALEX),
		P(SAM));
	t.terms.npauses = 1;
	t.terms.pauses[0] = (struct am_pause){ am_str_c("2026-01-10"),
		am_str_c("2026-01-11") };
	put(ALEX, amend(a, a, t), v1);
	put(SAM, ACCEPT(v1), NULL);
	t.terms.until = am_str_c("2026-03-31");
	put(SAM, amend(a, v1, t), v2);
}

static void
case_alone(void)
{
	uint8_t a[32], v1[32], v2[32], q[32], w[32], r1[32], r2[32];
	about("No one changes an agreement alone. Sam amends the agreement both");
	about("signed to himself alone: it needs Alex (needs alex), and the first");
	about("version stays in force; so does a chain of them, and Sam's end");
	about("waits its notice. In another, Sam signs a version alone, then one");
	about("with Alex that Alex signs: that one replaces his, whatever the");
	about("hashes; a later amendment of his own, written knowing it, needs");
	about("Alex. A third: Alex's pending amendment, amended by Sam's that both");
	about("sign, is passed over.");
	couple();
	evening("Evening check-in", a);
	put(SAM, amend(a, a, agreement("Sam checks in when he likes", P(SAM), P(SAM))),
		v1);
	put(SAM, amend(a, v1, agreement("Or not at all", P(SAM), P(SAM))), v2);
	put(SAM, end(a, "done"), NULL);
	put(SAM, agreement("Weekly call", P(SAM), 0), q);
	put(SAM, amend(q, q, agreement("Sam calls", P(SAM), 0)), r1);
	put(SAM, amend(q, q, agreement("We call on Sundays", P(SAM) | P(ALEX), 0)), r2);
	put(ALEX, ACCEPT(r2), NULL);
	put(SAM, amend(q, q, agreement("Sam calls when he likes", P(SAM), 0)), w);
	uint8_t d[32], d1[32], d2[32];
	put(ALEX, agreement("Dinner", P(SAM) | P(ALEX), 0), d);
	put(SAM, ACCEPT(d), NULL);
	put(ALEX, amend(d, d, agreement("Dinner at seven", P(SAM) | P(ALEX), 0)), d1);
	put(SAM, amend(d, d1, agreement("Dinner at eight", P(SAM) | P(ALEX), 0)), d2);
	put(ALEX, ACCEPT(d2), NULL);
}

static void
case_decline(void)
{
	uint8_t a[32], b[32], c[32];
	about("Alex declines Sam's proposal: the decline stands, the agreement is");
	about("declined. Sam declines Alex's, then accepts it: in force. Alex");
	about("signs a third, then declines it: acceptance is final (accepted).");
	couple();
	put(SAM, agreement("No phone at dinner", P(SAM) | P(ALEX), 0), a);
	put(ALEX, answer(AM_KIND_DECLINE, a, "not like this"), NULL);
	put(ALEX, agreement("Weekly walk", P(SAM) | P(ALEX), 0), b);
	put(SAM, answer(AM_KIND_DECLINE, b, "not on Sundays"), NULL);
	put(SAM, ACCEPT(b), NULL);
	evening("Evening check-in", c);
	put(ALEX, answer(AM_KIND_DECLINE, c, "changed my mind"), NULL);
}

static void
case_end_notice(void)
{
	uint8_t a[32];
	about("Sam ends an agreement in force on his own: it is ending, and ends");
	about("at the END's claimed time plus the terms' notice (7 days).");
	couple();
	evening("Evening check-in", a);
	later(DAY_MS);
	put(SAM, end(a, "I need a break"), NULL);
}

static void
case_end_mutual(void)
{
	uint8_t a[32], b[32], e[32];
	about("Alex ends an agreement in force and Sam accepts the end: it ended");
	about("at once, at the later claimed time of the two. Sam withdraws a");
	about("proposal never signed: ended at once, at the END's claimed time.");
	couple();
	evening("Evening check-in", a);
	later(DAY_MS);
	put(ALEX, end(a, "we do not need it any more"), e);
	later(DAY_MS);
	put(SAM, ACCEPT(e), NULL);
	put(SAM, agreement("Morning run", P(SAM) | P(ALEX), 0), b);
	put(SAM, end(b, NULL), NULL);
}

static void
case_checkins(void)
{
	uint8_t a[32], c1[32], c2[32], c3[32], c3b[32], c4[32];
	about("Sam's check-ins: one confirmed (verified), one disputed, one");
	about("corrected by a later one for the same period (Alex confirmed both,");
	about("so the correction counts; both are listed), one Alex confirms and");
	about("then disputes (both answers are listed). Sam confirming his own is");
	about("ignored (own); Alex, not asked to check in, is ignored");
	about("(not-checker).");
	couple();
	evening("Evening check-in", a);
	put(SAM, checkin(a, "2026-01-05", AM_KEPT), c1);
	put(ALEX, CONFIRM(c1), NULL);
	put(SAM, checkin(a, "2026-01-06", AM_PARTIAL), c2);
	put(ALEX, answer(AM_KIND_DISPUTE, c2, "you came home at midnight"), NULL);
	put(SAM, checkin(a, "2026-01-07", AM_MISSED), c3);
	put(ALEX, CONFIRM(c3), NULL);
	put(SAM, checkin(a, "2026-01-07", AM_KEPT), c3b);
	put(ALEX, CONFIRM(c3b), NULL);
	put(SAM, checkin(a, "2026-01-08", AM_KEPT), c4);
	put(ALEX, CONFIRM(c4), NULL);
	put(ALEX, answer(AM_KIND_DISPUTE, c4, "on second thought, no"), NULL);
	put(SAM, CONFIRM(c1), NULL);
	put(ALEX, checkin(a, "2026-01-08", AM_KEPT), NULL);
}

static void
case_witness(void)
{
	uint8_t a[32], b[32], c1[32], c2[32];
	about("Lee joins as a witness (Sam proposes, Lee and Alex accept). Lee");
	about("confirms a check-in beside Alex, and alone verifies a check-in of");
	about("Sam's own one-party agreement. Lee signing terms or checking in");
	about("is ignored (witness); proposing a member too (member). Lee's");
	about("statement counts.");
	couple();
	third(LEE, AM_ROLE_WITNESS);
	evening("Evening check-in", a);
	put(SAM, agreement("Sam's own promise: no drinks", P(SAM), 0), b);
	put(SAM, checkin(a, "2026-01-05", AM_KEPT), c1);
	put(ALEX, CONFIRM(c1), NULL);
	put(LEE, CONFIRM(c1), NULL);
	put(SAM, checkin(b, "2026-01-05", AM_KEPT), c2);
	put(LEE, CONFIRM(c2), NULL);
	put(LEE, ACCEPT(a), NULL);
	put(LEE, checkin(a, "2026-01-06", AM_KEPT), NULL);
	put(LEE, member(KIM, AM_ROLE_MEMBER), NULL);
	put(LEE, statement("Both kept their word this week.", NULL), NULL);
}

static void
case_member_pending(void)
{
	uint8_t k[32], p[32];
	about("Sam proposes Kim; Kim accepts, Alex has not: Kim is pending (the");
	about("proposal needs Alex, whom Sam had invited before). What Kim");
	about("writes meanwhile is ignored (not-member). Pat declines his own");
	about("admission, which is refused for good: his later accept is ignored");
	about("(accepted). Proposing Alex again is ignored (member).");
	couple();
	put(SAM, member(KIM, AM_ROLE_MEMBER), k);
	put(KIM, ACCEPT(k), NULL);
	put(KIM, statement("Hello, everyone.", NULL), NULL);
	put(KIM, agreement("Kim's idea", P(SAM) | P(KIM), 0), NULL);
	put(SAM, member(PAT, AM_ROLE_MEMBER), p);
	put(PAT, answer(AM_KIND_DECLINE, p, "not now"), NULL);
	put(PAT, ACCEPT(p), NULL);
	put(SAM, member(ALEX, AM_ROLE_MEMBER), NULL);
}

static void
case_member_refused(void)
{
	uint8_t k[32], p[32];
	about("Sam proposes Kim after Alex, so Kim's admission needs Alex. Kim");
	about("accepts; Alex declines first and accepts later: his first answer");
	about("counts, a refusal, and Kim never joins (Alex's accept is ignored:");
	about("accepted). Sam then proposes Pat, whose admission no longer needs");
	about("Kim (a refused newcomer leaves the need); Pat and Alex accept, Alex");
	about("declines after: the accept stands and Pat joins (the decline is");
	about("ignored: accepted).");
	couple();
	put(SAM, member(KIM, AM_ROLE_MEMBER), k);
	put(KIM, ACCEPT(k), NULL);
	put(ALEX, answer(AM_KIND_DECLINE, k, "I do not know this person"), NULL);
	put(ALEX, ACCEPT(k), NULL);
	put(SAM, member(PAT, AM_ROLE_MEMBER), p);
	put(PAT, ACCEPT(p), NULL);
	put(ALEX, ACCEPT(p), NULL);
	put(ALEX, answer(AM_KIND_DECLINE, p, "on second thought"), NULL);
}

static void
case_member_cap(void)
{
	uint8_t far[32];
	about("Alex proposes Kim 256 times, then Pat: only the first 256 member");
	about("proposals of a feed count, so Pat's is ignored (cap) and Pat is not");
	about("pending; Kim is, once. Lee writes an entry numbered 2^20 + 1, past");
	about("the highest number a feed may reach: refused at ingest (cap),");
	about("whatever comes before it.");
	couple();
	for (int i = 0; i < AM_CAP_MEMBER_PROPOSALS; i++)
		put(ALEX, member(KIM, AM_ROLE_MEMBER), NULL);
	put(ALEX, member(PAT, AM_ROLE_MEMBER), NULL);
	struct am_body b = statement("far ahead", NULL);
	am_hash((const uint8_t *)"far", 3, far);
	sign(LEE, &b, AM_CAP_FEED_ENTRIES + 1, true, far, NULL);
}

static void
case_stranger(void)
{
	uint8_t a[32];
	about("Max, whom no proposal names, writes into the circle: a statement");
	about("and an accept of an agreement.");
	couple();
	evening("Evening check-in", a);
	put(MAX, statement("Let me in.", NULL), NULL);
	put(MAX, ACCEPT(a), NULL);
}

static void
case_fork(void)
{
	uint8_t a[32];
	about("Alex signs two different entries with number 2, an accept and a");
	about("decline of Sam's proposal: Alex's feed is forked at 2, and both");
	about("are ignored (forked), so the agreement stays proposed; Sam's");
	about("check-in of it is ignored (not-in-force).");
	couple();
	put(SAM, agreement("Evening check-in", P(SAM) | P(ALEX), P(SAM)), a);
	put(ALEX, ACCEPT(a), NULL);
	twin(ALEX, answer(AM_KIND_DECLINE, a, "no"), NULL);
	put(SAM, checkin(a, "2026-01-05", AM_KEPT), NULL);
}

static void
case_rules(void)
{
	uint8_t a[32], c[32], s[32], nothing[32];
	about("Kim joins as a member. Entries each ignored by one rule: Kim");
	about("signs and confirms what she is no party to (not-party); a");
	about("version naming Pat, no member, as a party, and one whose author is");
	about("not among its parties (parties); an accept of an entry nobody has");
	about("(unknown-target) and of a statement (wrong-target); a check-in of");
	about("an agreement never in force (not-in-force); an amendment by Kim of");
	about("an agreement she is no party to (not-party).");
	couple();
	third(KIM, AM_ROLE_MEMBER);
	evening("Evening check-in", a);
	put(SAM, checkin(a, "2026-01-05", AM_KEPT), c);
	put(KIM, ACCEPT(a), NULL);
	put(KIM, CONFIRM(c), NULL);
	put(SAM, agreement("Pat comes to dinner", P(SAM) | P(PAT), 0), NULL);
	put(ALEX, agreement("Sam and Kim talk", P(SAM) | P(KIM), 0), NULL);
	memset(nothing, 0xab, 32);
	put(SAM, ACCEPT(nothing), NULL);
	put(ALEX, statement("I will try.", NULL), s);
	put(SAM, ACCEPT(s), NULL);
	uint8_t b[32];
	put(SAM, agreement("Sunday lunch", P(SAM) | P(ALEX), 0), b);
	put(SAM, checkin(b, "2026-01-05", AM_KEPT), NULL);
	put(KIM, amend(a, a, agreement("Kim's version", P(KIM) | P(SAM), 0)), NULL);
}

static struct am_body
name(const char *text)
{
	struct am_body b = { .kind = AM_KIND_NAME, .name = am_str_c(text) };
	return b;
}

static void
case_names(void)
{
	/* a NAME body of 65 bytes, one past the bound: ["xxx...x"] */
	static uint8_t long_name[2 + 1 + 65];
	long_name[0] = 0x91;
	long_name[1] = 0xd9;
	long_name[2] = 65;
	memset(long_name + 3, 'x', 65);
	/* a NAME body that is not a string: [7] */
	static const uint8_t not_str[] = { 0x91, 0x07 };
	about("Each person signs a display name for themselves. Sam names");
	about("himself twice: the later one, by his feed, counts (the earlier is");
	about("not ignored, only replaced). Lee joins as a witness: his name");
	about("counts. Kim, proposed but not joined, names herself: ignored");
	about("(not-member), as is Max, whom nobody proposed. Alex's name of 65");
	about("bytes and one that is not a string are ignored (body).");
	couple();
	put(SAM, name("Sam"), NULL);
	put(ALEX, name("Alex"), NULL);
	third(LEE, AM_ROLE_WITNESS);
	put(LEE, name("Dr. Lee"), NULL);
	put(SAM, name("Samuel"), NULL);
	uint8_t k[32];
	put(SAM, member(KIM, AM_ROLE_MEMBER), k);
	put(KIM, name("Kim"), NULL);
	put(MAX, name("Max"), NULL);
	put_kind(ALEX, AM_KIND_NAME, long_name, sizeof long_name, NULL);
	put_kind(ALEX, AM_KIND_NAME, not_str, sizeof not_str, NULL);
}

static void
case_unknown_kind(void)
{
	/* body ["hello"] */
	static const uint8_t body[] = { 0x91, 0xa5, 'h', 'e', 'l', 'l', 'o' };
	about("Alex writes an entry of kind 99, which this version of the format");
	about("does not define, then a statement after it.");
	couple();
	put_kind(ALEX, 99, body, sizeof body, NULL);
	put(ALEX, statement("Did that arrive?", NULL), NULL);
}

static void
case_withdraw(void)
{
	uint8_t k[32], a[32];
	about("Sam proposes Kim, who accepts; Sam withdraws the proposal (his");
	about("DECLINE of it) before Alex, whom it needs, answers: Kim is not");
	about("pending. Sam proposes terms to Alex and withdraws them before Alex");
	about("answers: the version is declined, nothing is in force.");
	couple();
	put(SAM, member(KIM, AM_ROLE_MEMBER), k);
	put(KIM, ACCEPT(k), NULL);
	put(SAM, answer(AM_KIND_DECLINE, k, "we are not ready"), NULL);
	put(SAM, agreement("Evening check-in", P(SAM) | P(ALEX), P(SAM)), a);
	put(SAM, answer(AM_KIND_DECLINE, a, "let me think again"), NULL);
}

static void
case_completion_wins(void)
{
	uint8_t k[32], a[32], e[32];
	about("As in withdraw, but Alex accepted both (without having seen the");
	about("withdrawals): everyone each needs accepted it, so Kim joins and the");
	about("terms are in force; the withdrawals are ignored (accepted). Alex");
	about("then ends the agreement and declines his own END: an END is final,");
	about("the decline is ignored (accepted).");
	couple();
	put(SAM, member(KIM, AM_ROLE_MEMBER), k);
	put(KIM, ACCEPT(k), NULL);
	put(SAM, answer(AM_KIND_DECLINE, k, "we are not ready"), NULL);
	put(ALEX, ACCEPT(k), NULL);
	put(SAM, agreement("Evening check-in", P(SAM) | P(ALEX), P(SAM)), a);
	put(ALEX, ACCEPT(a), NULL);
	put(SAM, answer(AM_KIND_DECLINE, a, "let me think again"), NULL);
	put(ALEX, end(a, NULL), e);
	put(ALEX, answer(AM_KIND_DECLINE, e, "no, wait"), NULL);
}

static void
case_leave(void)
{
	uint8_t a[32], b[32];
	about("Kim joins; Sam and Kim sign an agreement with a week's notice, and");
	about("Alex proposes one to Kim that she has not signed. Kim leaves: she");
	about("is departed, the first agreement ends by notice a week after her");
	about("LEAVE, as if she had ended it alone, the second at once (never in");
	about("force); her statement after the LEAVE is ignored (left). Sam then");
	about("proposes Pat, whose admission does not need Kim.");
	couple();
	third(KIM, AM_ROLE_MEMBER);
	put(SAM, agreement("Evening check-in", P(SAM) | P(KIM), P(SAM)), a);
	put(KIM, ACCEPT(a), NULL);
	put(ALEX, agreement("Walks", P(ALEX) | P(KIM), 0), b);
	struct am_body lv = { .kind = AM_KIND_LEAVE, .note = am_str_c("moving away") };
	put(KIM, lv, NULL);
	put(KIM, statement("One more thing.", NULL), NULL);
	uint8_t p[32];
	put(SAM, member(PAT, AM_ROLE_MEMBER), p);
	put(PAT, ACCEPT(p), NULL);
	put(ALEX, ACCEPT(p), NULL);
}

static int
cmp_id(const void *a, const void *b)
{
	return memcmp(a, b, 32);
}

/* A REMOVE of who by the current case's author, naming the head of
 * who's feed as written so far, listing need (a bit per person). */
static struct am_body
removal(int who, unsigned need, const char *note)
{
	struct am_body b = { .kind = AM_KIND_REMOVE, .note = am_str_c(note) };
	memcpy(b.target, ID(who), 32);
	b.head_seq = g.seq[who];
	if (b.head_seq > 0)
		memcpy(b.head_hash, g.prev[who], 32);
	for (int p = 0; p < NPEOPLE; p++)
		if (need & (1u << p))
			memcpy(b.need[b.nneed++], ID(p), 32);
	qsort(b.need, b.nneed, 32, cmp_id);
	return b;
}

static void
case_remove(void)
{
	uint8_t a[32], r[32], lone[32];
	about("Kim joins; Sam and Kim sign an agreement with a week's notice.");
	about("Alex proposes removing Kim (it needs Sam; Kim is not asked) and,");
	about("in a circle that was two, Kim writes nothing more that counts");
	about("past the head Alex named once Sam accepts: her statement after it");
	about("is ignored (removed), the agreement ends by notice a week after the");
	about("REMOVE. Earlier, Alex alone removed Sam while they were two: that");
	about("never takes effect (no other member accepted). Sam then proposes");
	about("Pat, whose admission does not need Kim.");
	couple();
	put(ALEX, removal(SAM, 0, "alone"), lone);
	third(KIM, AM_ROLE_MEMBER);
	put(SAM, agreement("Evening check-in", P(SAM) | P(KIM), P(SAM)), a);
	put(KIM, ACCEPT(a), NULL);
	put(ALEX, removal(KIM, P(SAM), "it is over"), r);
	put(KIM, statement("One more thing.", NULL), NULL);
	put(SAM, ACCEPT(r), NULL);
	uint8_t p[32];
	put(SAM, member(PAT, AM_ROLE_MEMBER), p);
	put(PAT, ACCEPT(p), NULL);
	put(ALEX, ACCEPT(p), NULL);
}

/* A SUCCESSION of old's key by heir, by the current case's author,
 * naming the head of old's feed as written so far, listing nobody. */
static struct am_body
succession(int old, int heir)
{
	struct am_body b = { .kind = AM_KIND_SUCCESSION, .note = am_str_c("lost phone") };
	memcpy(b.target, ID(old), 32);
	memcpy(b.heir, ID(heir), 32);
	b.head_seq = g.seq[old];
	if (b.head_seq > 0)
		memcpy(b.head_hash, g.prev[old], 32);
	return b;
}

static void
case_succession(void)
{
	uint8_t a[32], c1[32], s1[32];
	about("Kim joins; Sam and Kim sign an agreement Sam checks in for, and");
	about("Kim confirms his first check-in. Sam loses his key: Alex writes a");
	about("succession of it by sam2 (it needs Kim, and sam2's acceptance).");
	about("Once both accept, sam2 takes Sam's place: the agreement names sam2,");
	about("stays in force, and Sam's check-in and name count as sam2's. What");
	about("Sam's old key writes past the head Alex named is ignored");
	about("(succeeded). sam2 checks in again and Kim confirms it.");
	couple();
	third(KIM, AM_ROLE_MEMBER);
	put(SAM, name("Sam"), NULL);
	put(SAM, agreement("Evening check-in", P(SAM) | P(KIM), P(SAM)), a);
	put(KIM, ACCEPT(a), NULL);
	put(SAM, checkin(a, "2026-01-05", AM_KEPT), c1);
	put(KIM, fx_body(AM_KIND_CONFIRM, c1), NULL);
	put(ALEX, succession(SAM, SAM2), s1);
	put(SAM, statement("Still here.", NULL), NULL);
	put(SAM2, ACCEPT(s1), NULL);
	put(KIM, ACCEPT(s1), NULL);
	uint8_t c2[32];
	put(SAM2, checkin(a, "2026-01-06", AM_KEPT), c2);
	put(KIM, fx_body(AM_KIND_CONFIRM, c2), NULL);
}

static void
case_succession_chain(void)
{
	uint8_t a[32], c1[32], c2[32], c3[32], s1[32], s2[32];
	about("Sam and Alex sign an agreement Sam checks in for. Sam rotates his");
	about("key twice, each time writing the succession with the key he holds,");
	about("Alex accepting it: sam, then sam2, then max. Each key checks in for");
	about("the same day and Alex confirms each: the check-ins count for max,");
	about("oldest key first, each correcting the one before; the last counts.");
	couple();
	put(SAM, agreement("Evening check-in", P(SAM) | P(ALEX), P(SAM)), a);
	put(ALEX, ACCEPT(a), NULL);
	put(SAM, checkin(a, "2026-01-05", AM_MISSED), c1);
	put(ALEX, fx_body(AM_KIND_CONFIRM, c1), NULL);
	put(SAM, succession(SAM, SAM2), s1);
	put(SAM2, ACCEPT(s1), NULL);
	put(ALEX, ACCEPT(s1), NULL);
	put(SAM2, checkin(a, "2026-01-05", AM_PARTIAL), c2);
	put(ALEX, fx_body(AM_KIND_CONFIRM, c2), NULL);
	put(SAM2, succession(SAM2, MAX), s2);
	put(MAX, ACCEPT(s2), NULL);
	put(ALEX, ACCEPT(s2), NULL);
	put(MAX, checkin(a, "2026-01-05", AM_KEPT), c3);
	put(ALEX, fx_body(AM_KIND_CONFIRM, c3), NULL);
}

static void
case_succession_thief(void)
{
	uint8_t s1[32], s2[32];
	about("Someone holding Sam's key writes a succession of it by a key of");
	about("their own (max), which max accepts; Alex writes one by sam2, which");
	about("sam2, Kim and Lee accept. Kim and Lee then accept max's too, and");
	about("Kim first accepted max's: each person's first acceptance of a new");
	about("key for Sam is final, so max's never completes, and sam2's needs");
	about("Kim, whose acceptance is stale: Sam stays, nobody takes his place.");
	about("Lee's acceptance of max's is stale as well.");
	couple();
	third(KIM, AM_ROLE_MEMBER);
	uint8_t p[32];
	put(SAM, member(LEE, AM_ROLE_MEMBER), p);
	put(LEE, ACCEPT(p), NULL);
	put(ALEX, ACCEPT(p), NULL);
	put(KIM, ACCEPT(p), NULL);
	put(SAM, succession(SAM, MAX), s2);
	put(MAX, ACCEPT(s2), NULL);
	put(KIM, ACCEPT(s2), NULL);
	put(ALEX, succession(SAM, SAM2), s1);
	put(SAM2, ACCEPT(s1), NULL);
	put(KIM, ACCEPT(s1), NULL);
	put(LEE, ACCEPT(s1), NULL);
	put(LEE, ACCEPT(s2), NULL);
}

static void
case_remove_crossing(void)
{
	uint8_t p[32], rk[32], ra[32];
	about("Sam, Alex, Kim and Pat. Alex removes Kim and Kim removes Alex,");
	about("each naming the other's head before the other's REMOVE; Sam and");
	about("Pat accept both. Answers are counted before any cut-off, so both");
	about("take effect: Alex and Kim are removed, whatever the order.");
	couple();
	third(KIM, AM_ROLE_MEMBER);
	put(SAM, member(PAT, AM_ROLE_MEMBER), p);
	put(PAT, ACCEPT(p), NULL);
	put(ALEX, ACCEPT(p), NULL);
	put(KIM, ACCEPT(p), NULL);
	struct am_body of_kim = removal(KIM, 0, NULL);
	struct am_body of_alex = removal(ALEX, 0, NULL);
	put(ALEX, of_kim, rk);
	put(KIM, of_alex, ra);
	put(SAM, ACCEPT(rk), NULL);
	put(SAM, ACCEPT(ra), NULL);
	put(PAT, ACCEPT(ra), NULL);
	put(PAT, ACCEPT(rk), NULL);
}

static void
case_refusal_stays(void)
{
	uint8_t k[32], p[32];
	about("Alex refuses Sam's invitation of Kim (his first answer, a");
	about("DECLINE). Sam then invites Pat, whose admission does not need");
	about("Kim (a refused newcomer is not waited for); Pat joins. Alex");
	about("leaves: his DECLINE still refuses Kim's invitation (a refusal is");
	about("never lifted), so Pat stays joined.");
	couple();
	put(SAM, member(KIM, AM_ROLE_MEMBER), k);
	put(ALEX, answer(AM_KIND_DECLINE, k, "no"), NULL);
	put(SAM, member(PAT, AM_ROLE_MEMBER), p);
	put(PAT, ACCEPT(p), NULL);
	put(ALEX, ACCEPT(p), NULL);
	struct am_body lv = { .kind = AM_KIND_LEAVE };
	put(ALEX, lv, NULL);
}

static void
case_rename(void)
{
	uint8_t r1[32], r2[32];
	about("Sam renames the circle from its GENESIS name; Alex renames it from");
	about("Sam's name: Alex's is the deepest, the circle's name. Lee, a");
	about("witness, renames it too: ignored (witness).");
	couple();
	third(LEE, AM_ROLE_WITNESS);
	struct am_body b = { .kind = AM_KIND_RENAME, .name = am_str_c("Our home") };
	memcpy(b.base, genesis_hash, 32);
	put(SAM, b, r1);
	b.name = am_str_c("Home");
	memcpy(b.base, r1, 32);
	put(ALEX, b, r2);
	b.name = am_str_c("Lee's");
	memcpy(b.base, r2, 32);
	put(LEE, b, NULL);
}

static void
case_body(void)
{
	/* a LEAVE whose reason is a number; a REMOVE of three fields; a
	 * RENAME with an empty name */
	static const uint8_t leave[] = { 0x91, 0x07 };
	static const uint8_t remove[] = { 0x93, 0xc0, 0x00, 0xc0 };
	static const uint8_t rename[] = { 0x92, 0xa0, 0xc0 };
	about("Alex writes a LEAVE whose reason is a number, a REMOVE of three");
	about("fields and a RENAME with an empty name: each is stored (the entry");
	about("decoder checks only that a body of kind 13+ is an array) and");
	about("ignored (body); Alex is still a member, and his statement counts.");
	couple();
	put_kind(ALEX, AM_KIND_LEAVE, leave, sizeof leave, NULL);
	put_kind(ALEX, AM_KIND_REMOVE, remove, sizeof remove, NULL);
	put_kind(ALEX, AM_KIND_RENAME, rename, sizeof rename, NULL);
	put(ALEX, statement("Still here.", NULL), NULL);
}

static void
case_corrections(void)
{
	uint8_t a[32], c1[32], c1b[32], c1c[32], c2[32], c2b[32], c3[32], c3b[32];
	about("Corrections (state.md, \"Check-ins\"). Day 5: Sam checks in missed,");
	about("Alex confirms it, Sam corrects it to kept: the missed one counts");
	about("until Alex confirms the correction, which Alex does; Sam corrects");
	about("again to partial and Alex disputes it: kept counts. Day 6: a");
	about("check-in nobody answered is replaced at once by its correction.");
	about("Day 7: Alex disputes, then confirms; Sam's correction of it, which");
	about("Alex confirms and Lee the witness disputes, replaces it: only those");
	about("who answered the original decide (Lee's dispute shows on it).");
	couple();
	third(LEE, AM_ROLE_WITNESS);
	evening("Evening check-in", a);
	put(SAM, checkin(a, "2026-01-05", AM_MISSED), c1);
	put(ALEX, CONFIRM(c1), NULL);
	put(SAM, checkin(a, "2026-01-05", AM_KEPT), c1b);
	put(ALEX, CONFIRM(c1b), NULL);
	put(SAM, checkin(a, "2026-01-05", AM_PARTIAL), c1c);
	put(ALEX, answer(AM_KIND_DISPUTE, c1c, "it was kept"), NULL);
	put(SAM, checkin(a, "2026-01-06", AM_MISSED), c2);
	put(SAM, checkin(a, "2026-01-06", AM_KEPT), c2b);
	put(SAM, checkin(a, "2026-01-07", AM_KEPT), c3);
	put(ALEX, answer(AM_KIND_DISPUTE, c3, "you did not call"), NULL);
	put(ALEX, answer(AM_KIND_CONFIRM, c3, "you called late"), NULL);
	put(SAM, checkin(a, "2026-01-07", AM_PARTIAL), c3b);
	put(ALEX, CONFIRM(c3b), NULL);
	put(LEE, answer(AM_KIND_DISPUTE, c3b, "he did call"), NULL);
}

#define Y2099_MS 4070908800000       /* 2099-01-01 00:00:00 UTC */

static void
case_end_others_time(void)
{
	uint8_t a[32];
	about("Claimed times decide an END's date only when its author signed");
	about("them. Alex signs Sam's agreement with an accept dated 2099; Sam");
	about("ends it the next day: the end takes effect 7 days after Sam's END,");
	about("not 7 days after 2099.");
	couple();
	put(SAM, agreement("Evening check-in", P(SAM) | P(ALEX), P(SAM)), a);
	int64_t t = g.clock;
	at(Y2099_MS);
	put(ALEX, ACCEPT(a), NULL);
	at(t + DAY_MS);
	put(SAM, end(a, "I need a break"), NULL);
}

static void
case_end_backdated(void)
{
	uint8_t a[32];
	about("Alex accepts Sam's agreement on day 10, writes a statement dated");
	about("day 1 and ends the agreement with an END dated day 2: the end waits");
	about("its 7 days' notice from Alex's own accept (day 10), the latest time");
	about("Alex signed for it (its END, its previous entry, its accept).");
	couple();
	int64_t t = g.clock;
	put(SAM, agreement("Evening check-in", P(SAM) | P(ALEX), P(SAM)), a);
	at(t + 10 * DAY_MS);
	put(ALEX, ACCEPT(a), NULL);
	at(t + DAY_MS);
	put(ALEX, statement("Starting over.", NULL), NULL);
	at(t + 2 * DAY_MS);
	put(ALEX, end(a, "backdated"), NULL);
}

static void
case_time_bounds(void)
{
	uint8_t a[32], b[32], c[32];
	about("Entries claiming times outside [2000-01-01, 2200-01-01) are kept");
	about("and ignored (time): Alex's accept of Sam's second agreement dated");
	about("9999 (so it is not in force), a statement dated 1999, a check-in");
	about("dated near INT64's end and a confirmation near its start. A");
	about("statement dated 2199 counts, and so does one dated 2000-01-01.");
	couple();
	evening("Evening check-in", a);
	int64_t t = g.clock;
	put(SAM, agreement("Sunday lunch", P(SAM) | P(ALEX), 0), b);
	at(INT64_C(253402300799000));      /* 9999-12-31T23:59:59Z */
	put(ALEX, ACCEPT(b), NULL);
	at(AM_TIME_MIN - 1);
	put(ALEX, statement("Before the bounds.", NULL), NULL);
	at(AM_TIME_MIN);
	put(ALEX, statement("On the lower bound.", NULL), NULL);
	at(AM_TIME_MAX - 1);
	put(ALEX, statement("Just before the upper bound.", NULL), NULL);
	at(INT64_MAX - 5);
	put(SAM, checkin(a, "2026-01-05", AM_KEPT), c);
	at(t);
	put(SAM, checkin(a, "2026-01-06", AM_KEPT), c);
	at(INT64_MIN + 5);
	put(ALEX, CONFIRM(c), NULL);
}

static void
case_periods(void)
{
	uint8_t a[32];
	about("A check-in counts only for a period within the terms' from and");
	about("until (2026-01-05 to 2026-03-31) that begins no later than the");
	about("day its agreement's END takes effect (Sam ends it on 2026-01-07,");
	about("effective 2026-01-14): 2026-01-04 (before from), 2026-01-15 and");
	about("week 2026-W04 (after the end) are ignored (period); 2026-01-05,");
	about("2026-01-14 and week 2026-W03 count.");
	couple();
	struct am_body t = agreement("Evening check-in", P(SAM) | P(ALEX), P(SAM));
	t.terms.from = am_str_c("2026-01-05");
	t.terms.until = am_str_c("2026-03-31");
	put(SAM, t, a);
	put(ALEX, ACCEPT(a), NULL);
	later(2 * DAY_MS);
	put(SAM, end(a, "moving out"), NULL);
	put(SAM, checkin(a, "2026-01-04", AM_KEPT), NULL);
	put(SAM, checkin(a, "2026-01-05", AM_KEPT), NULL);
	put(SAM, checkin(a, "2026-01-14", AM_KEPT), NULL);
	put(SAM, checkin(a, "2026-01-15", AM_KEPT), NULL);
	put(SAM, checkin(a, "2026-W03", AM_KEPT), NULL);
	put(SAM, checkin(a, "2026-W04", AM_KEPT), NULL);
}

static const struct {
	const char *name;
	void (*tell)(void);
} cases[] = {
	{ "in-force", case_in_force },
	{ "amendment", case_amendment },
	{ "alone", case_alone },
	{ "decline", case_decline },
	{ "end-notice", case_end_notice },
	{ "end-mutual", case_end_mutual },
	{ "checkins", case_checkins },
	{ "corrections", case_corrections },
	{ "witness", case_witness },
	{ "member-pending", case_member_pending },
	{ "member-refused", case_member_refused },
	{ "member-cap", case_member_cap },
	{ "stranger", case_stranger },
	{ "fork", case_fork },
	{ "rules", case_rules },
	{ "unknown-kind", case_unknown_kind },
	{ "body", case_body },
	{ "withdraw", case_withdraw },
	{ "completion-wins", case_completion_wins },
	{ "leave", case_leave },
	{ "rename", case_rename },
	{ "remove", case_remove },
	{ "remove-crossing", case_remove_crossing },
	{ "refusal-stays", case_refusal_stays },
	{ "end-others-time", case_end_others_time },
	{ "end-backdated", case_end_backdated },
	{ "time-bounds", case_time_bounds },
	{ "periods", case_periods },
	{ "names", case_names },
	{ "succession", case_succession },
	{ "succession-thief", case_succession_thief },
	{ "succession-chain", case_succession_chain },
};

/* ---- writing the file ---- */

static const char *const header[] = {
	"# State vectors for protocol/state.md: sets of signed entries of one circle",
	"# each, with the circle digest, the state digest and the state a node",
	"# derives from them. A second implementation passes a case when it stores",
	"# exactly the case's `entry` lines, in any order (retrying an entry whose",
	"# predecessor, or whose circle's genesis, has not arrived yet, as sync",
	"# does), refuses each `refused` line for the reason given, and reproduces",
	"# both digests and every derived line below them, byte for byte.",
	"#",
	"# Written by tests/unit/state_vectors_gen.c from the cases told there;",
	"# checked by tests/unit/state_vectors.c (unit suite), which ingests every",
	"# case into fresh stores in the file's order and in reverse order. The file",
	"# is generated: after a change of the rules, write it again with",
	"#",
	"#     ninja -C build && build/tests/state-vectors-gen > protocol/state-vectors.txt",
	"#",
	"# and read the diff: every changed line is a change of the derived state.",
	"#",
	"# Format. Lines starting with # and blank lines are comments. A case is the",
	"# lines from `case NAME` to the next `case` line or the end of the file:",
	"#",
	"#   about TEXT             what the case shows, in words (not checked)",
	"#   key NAME SEED ID       a person: ed25519 seed and public key, in hex;",
	"#                          NAME stands for that key in the lines below",
	"#   entry HEX              the exact bytes of an entry (protocol/entry.md),",
	"#                          in the order written",
	"#   refused REASON HEX     an entry refused at ingest, tried after every",
	"#                          `entry` line is stored: REASON no-genesis (the",
	"#                          circle's genesis is not there), kind (a kind",
	"#                          the format does not define), field (a bound",
	"#                          broken) or gap (its predecessor is missing:",
	"#                          refused itself). What is stored depends on",
	"#                          the entry and its own feed only (state.md)",
	"#   circle-digest HEX      protocol/entry.md, \"Digest of a circle\"",
	"#   state-digest HEX       protocol/state.md, \"State digest\"",
	"#",
	"# then the derived state, one line per fact, in this order and form:",
	"#",
	"#   circle ID creator NAME genesis REF",
	"#   name NAME by REF",
	"#       The circle's name when a RENAME gives it (state.md, \"The",
	"#       circle's name\"): REF is that RENAME; no line for the GENESIS name.",
	"#   member NAME ROLE STATUS creator|via REF [left|removed REF |",
	"#     replaced REF by NAME]",
	"#       ROLE member|witness; STATUS joined|pending|departed; REF the",
	"#       proposal they joined (or would join) through. Joined members",
	"#       first, the creator then by ID; then pending ones by ID; then",
	"#       departed ones by ID, with the LEAVE or REMOVE that made them",
	"#       depart.",
	"#   agreement REF STATUS current REF newest REF",
	"#       By ID (the hash of its proposal). STATUS proposed|in-force|declined|",
	"#       ending|ended, read without a clock: an end by notice is `ending`,",
	"#       with its date on the end line. current is \"-\" when none.",
	"#     end REF by NAME KIND at MS UTC [leave|remove]",
	"#       The end that takes effect. KIND withdrawal (the agreement was never",
	"#       in force)|mutual|notice; MS when it takes effect, ms since the Unix",
	"#       epoch, then the same instant in UTC; then `leave` or `remove`",
	"#       when REF is a party's LEAVE or the REMOVE of one, which ends it",
	"#       as if that party had ended it alone.",
	"#     version REF depth N STATUS",
	"#       Valid versions by (depth, hash); STATUS pending|in-force|superseded|",
	"#       declined|passed-over.",
	"#       party NAME POSITION REF",
	"#         Each party of the version, in the terms' order; POSITION",
	"#         none|accepted|declined; REF the answer that gives it (the",
	"#         version itself for its author), \"-\" for none; for an",
	"#         acceptance that followed a decline, then `after-decline REF`",
	"#         (the latest decline before it: it stays visible).",
	"#       needs NAME POSITION REF",
	"#         Then each other person in the version's need (state.md, \"Who",
	"#         must accept a version\"), by ID, in the same form.",
	"#       withdrawn REF",
	"#         When the version's author withdrew it (declined it) and it",
	"#         does not count: REF is the author's first DECLINE of it.",
	"#     checkin REF by NAME period LABEL STATUS verified|unverified disputed|undisputed COUNTS",
	"#       Every check-in that breaks no rule, by (period label, author ID,",
	"#       seq): none is erased. STATUS kept|partial|missed; COUNTS counts",
	"#       (the one of its author and period that counts) or not-counted;",
	"#       then `corrects REF` for a correction (the author's previous",
	"#       check-in of the period); then `signed NAME` when an older key",
	"#       of its author signed it (state.md, \"Succession\"): NAME is",
	"#       that key, the author the key that holds its place now.",
	"#       mark NAME confirmed|disputed REF",
	"#         Each person's standing answer: parties of the current version in",
	"#         the terms' order, then others by ID.",
	"#       answer NAME confirmed|disputed REF",
	"#         Every answer that counts, in the same order of people, each",
	"#         person's by seq: a changed answer stays listed.",
	"#   statement REF by NAME about REF",
	"#       The statements that count, by (claimed time, hash); about \"-\" when",
	"#       none.",
	"#     mark NAME confirmed REF",
	"#       By ID.",
	"#   name NAME REF TEXT",
	"#       The display names that count (state.md, \"Names\"), by ID: REF",
	"#       the NAME entry, TEXT its name, to the end of the line.",
	"#   ignored NAME SEQ RULE",
	"#       Entries the state ignores, by (author ID, seq, rule); RULE as in",
	"#       protocol/state.md, \"Ignored entries\". For `forked`, SEQ is the",
	"#       first forked number, and the line stands for every entry of that",
	"#       feed from there on.",
	"#",
	"# REF names an entry of the case by its author and number, NAME/SEQ,",
	"# followed by #XXXXXXXX (the first 4 bytes of its hash, in hex) when a fork",
	"# gave that number to two entries; \"-\" means none. A person the case has no",
	"# key line for would be written as their ID in hex.",
};

static void
begin(const char *name)
{
	for (int i = 0; i < NPEOPLE; i++)
		am_identity_destroy(&g.id[i]);
	for (size_t i = 0; i < g.c.n; i++)
		free(g.c.raw[i]);
	memset(&g, 0, sizeof g);
	snprintf(g.c.name, sizeof g.c.name, "%s", name);
	g.clock = START_MS;
	for (int i = 0; i < NPEOPLE; i++) {
		uint8_t seed[32];
		char label[64];
		snprintf(label, sizeof label, "amends-state-vectors:%s", names[i]);
		am_hash((const uint8_t *)label, strlen(label), seed);
		check_rc(am_identity_from_seed(seed, &g.id[i]), AM_OK);
	}
}

/* The people of the case, in this file's order, as the case's key lines. */
static void
people(void)
{
	for (int i = 0; i < NPEOPLE; i++) {
		if (!g.used[i])
			continue;
		struct sv_person *p = &g.c.people[g.c.npeople++];
		char label[64];
		snprintf(p->name, sizeof p->name, "%s", names[i]);
		snprintf(label, sizeof label, "amends-state-vectors:%s", names[i]);
		am_hash((const uint8_t *)label, strlen(label), p->seed);
		memcpy(p->id, am_identity_public(g.id[i]), 32);
	}
}

static void
print_hex_line(const char *key, const uint8_t *p, size_t n)
{
	char *hex = malloc(2 * n + 1);
	check(hex != NULL);
	sv_hex(p, n, hex);
	printf("%s %s\n", key, hex);
	free(hex);
}

/* Ingests the case, in the order written, as the checker will, and prints
 * it with what the store derives. */
static void
write_case(const char *dir)
{
	size_t order[SV_ENTRIES_MAX];
	int rc[SV_ENTRIES_MAX], again[SV_ENTRIES_MAX];
	char path[FX_PATH_MAX], hex[65], rb[16];
	struct am_store *s;
	uint8_t digest[32];

	for (size_t i = 0; i < g.c.n; i++)
		order[i] = i;
	snprintf(path, sizeof path, "%s/%s.db", dir, g.c.name);
	check_rc(am_store_open(path, &s), AM_OK);
	sv_ingest(s, &g.c, order, g.c.n, rc);
	am_store_close(&s);
	fx_store_unlink(path);

	/* the stored entries first, then each refused one: as the checker */
	size_t nstored = 0, nrefused = 0, refused[SV_ENTRIES_MAX];
	for (size_t i = 0; i < g.c.n; i++) {
		if (rc[i] == AM_OK)
			order[nstored++] = i;
		else
			refused[nrefused++] = i;
	}
	check_rc(am_store_open(path, &s), AM_OK);
	sv_ingest(s, &g.c, order, nstored, again);
	for (size_t i = 0; i < nstored; i++)
		check_rc(again[i], AM_OK);
	for (size_t i = 0; i < nrefused; i++) {
		enum am_ingest_result r;
		size_t k = refused[i];
		rc[k] = am_store_ingest(s, g.c.raw[k], g.c.len[k], &r);
		check(rc[k] != AM_OK);
	}

	printf("\ncase %s\n", g.c.name);
	for (int i = 0; i < g.nabout; i++)
		printf("about %s\n", g.about[i]);
	for (size_t i = 0; i < g.c.npeople; i++) {
		char seed[65], id[65];
		sv_hex(g.c.people[i].seed, 32, seed);
		sv_hex(g.c.people[i].id, 32, id);
		printf("key %s %s %s\n", g.c.people[i].name, seed, id);
	}
	for (size_t i = 0; i < g.c.n; i++) {
		if (rc[i] == AM_OK) {
			print_hex_line("entry", g.c.raw[i], g.c.len[i]);
		} else {
			char key[40];
			snprintf(key, sizeof key, "refused %s", sv_refusal_name(rc[i], rb));
			print_hex_line(key, g.c.raw[i], g.c.len[i]);
		}
	}
	check_rc(am_store_digest(s, g.c.circle, digest), AM_OK);
	sv_hex(digest, 32, hex);
	printf("circle-digest %s\n", hex);
	check_rc(am_state_digest(s, g.c.circle, digest), AM_OK);
	sv_hex(digest, 32, hex);
	printf("state-digest %s\n", hex);
	struct sv_text t = { 0 };
	sv_describe(s, &g.c, &t);
	for (size_t i = 0; i < t.n; i++)
		printf("%s\n", t.line[i]);
	sv_text_free(&t);
	am_store_close(&s);
	fx_store_unlink(path);
}

/* put_kind() writes what am_entry_sign() writes, for a kind both know. */
static void
check_put_kind(void)
{
	struct am_body b = statement("same bytes", NULL);
	uint8_t *body, h1[32], h2[32];
	size_t n;
	begin("put-kind");
	genesis();
	put(ALEX, b, h1);
	check_rc(am_body_encode(&b, &body, &n), AM_OK);
	g.seq[ALEX] = 0;
	g.clock -= STEP_MS;
	put_kind(ALEX, AM_KIND_STATEMENT, body, n, h2);
	free(body);
	check(memcmp(h1, h2, 32) == 0);
}

int
main(void)
{
	check(sodium_init() >= 0);
	const char *dir = fx_dir_make_in_memory("state-vectors-gen");
	check_put_kind();
	for (size_t i = 0; i < sizeof header / sizeof header[0]; i++)
		printf("%s\n", header[i]);
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		begin(cases[i].name);
		cases[i].tell();
		people();
		write_case(dir);
	}
	begin("");
	fx_dir_remove();
	return 0;
}
