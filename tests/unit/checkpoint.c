/*
 * Tests of checkpoints (include/amends/checkpoint.h): a checkpoint names
 * each feed's newest entry that is not a checkpoint, sorted by author; one
 * is due only when every joined member is known to hold those heads and
 * never twice for the same heads (no checkpoint storm); "same record for
 * everyone" once every member has checkpointed the same heads; a feed
 * shown shorter than a checkpoint is judged, kept and merged.
 *
 * Several identities write into one store, as the state tests do: a node
 * holding everyone's entries sees exactly this.
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "amends/checkpoint.h"
#include "amends/peer.h"
#include "amends/state.h"
#include "fixture.h"
#include "test.h"

static struct am_identity *sam, *alex, *lee;
static const uint8_t *SAM, *ALEX, *LEE;
static int64_t clock_ms = 1700000000000;

static void
act(struct am_store *s, struct am_identity *id, const uint8_t *circle,
	const struct am_body *b, uint8_t *hash)
{
	clock_ms += 60000;
	fx_act(s, id, circle, b, clock_ms, hash);
}

static void
say(struct am_store *s, struct am_identity *id, const uint8_t *circle,
	const char *text)
{
	struct am_body b = { .kind = AM_KIND_STATEMENT, .note = am_str_c(text) };
	act(s, id, circle, &b, NULL);
}

/* A circle of sam's, with each of members[0..n) joined one after another. */
static void
circle_of(struct am_store *s, struct am_identity **members, size_t n,
	uint8_t circle[32])
{
	struct am_body g = { .kind = AM_KIND_GENESIS, .name = am_str_c("us") };
	randombytes_buf(g.nonce, 32);
	act(s, sam, NULL, &g, NULL);
	am_circle_id(SAM, g.nonce, circle);
	for (size_t i = 0; i < n; i++) {
		uint8_t p[32];
		struct am_body m = fx_body(AM_KIND_MEMBER,
			am_identity_public(members[i]));
		act(s, sam, circle, &m, p);
		struct am_body a = fx_body(AM_KIND_ACCEPT, p);
		act(s, members[i], circle, &a, NULL);
		/* earlier members consent too */
		for (size_t k = 0; k < i; k++)
			act(s, members[k], circle, &a, NULL);
	}
}

/* The peer's node reported the digest this store has now. */
static void
in_step(struct am_store *s, const uint8_t *circle, const uint8_t *peer)
{
	uint8_t d[32];
	check_rc(am_store_digest(s, circle, d), AM_OK);
	check_rc(am_peer_digest_set(s, peer, circle, d, clock_ms), AM_OK);
}

static bool
due_for(struct am_store *s, const uint8_t *circle, const uint8_t *who)
{
	bool due;
	check_rc(am_checkpoint_due(s, circle, who, &due), AM_OK);
	return due;
}

static bool
write_for(struct am_store *s, struct am_identity *id, const uint8_t *circle,
	struct am_checkpoint *out)
{
	bool written;
	clock_ms += 60000;
	check_rc(am_checkpoint_write(s, id, circle, clock_ms, &written, out), AM_OK);
	return written;
}

/* The head of author's feed, by the store. */
static uint64_t
head_of(struct am_store *s, const uint8_t *circle, const uint8_t *author,
	uint8_t hash[32])
{
	uint64_t seq;
	check_rc(am_store_head(s, circle, author, &seq, hash), AM_OK);
	return seq;
}

static const struct am_head *
head_in(const struct am_head *h, uint32_t n, const uint8_t *author)
{
	for (uint32_t i = 0; i < n; i++)
		if (memcmp(h[i].author, author, 32) == 0)
			return &h[i];
	return NULL;
}

static void
test_content(void)
{
	struct am_store *s = fx_store_open("content.db");
	struct am_identity *m[] = { alex, lee };
	struct am_head heads[AM_MAX_HEADS];
	struct am_checkpoint cp, latest;
	uint8_t circle[32], hash[32];
	uint32_t n;

	circle_of(s, m, 2, circle);
	say(s, alex, circle, "thank you");

	/* one head per feed, sorted by author, each the feed's head */
	check_rc(am_checkpoint_heads(s, circle, heads, &n), AM_OK);
	check(n == 3);
	for (uint32_t i = 0; i + 1 < n; i++)
		check(memcmp(heads[i].author, heads[i + 1].author, 32) < 0);
	for (uint32_t i = 0; i < n; i++) {
		check(heads[i].seq == head_of(s, circle, heads[i].author, hash));
		check(memcmp(heads[i].hash, hash, 32) == 0);
	}

	/* nobody else is known to hold them yet */
	check(!due_for(s, circle, SAM));
	check(!write_for(s, sam, circle, NULL));
	in_step(s, circle, ALEX);
	check(!due_for(s, circle, SAM));
	in_step(s, circle, LEE);
	check(due_for(s, circle, SAM));
	check(write_for(s, sam, circle, &cp));
	check(cp.nheads == 3);
	check(memcmp(cp.author, SAM, 32) == 0);
	check_rc(am_checkpoint_latest(s, circle, SAM, &latest), AM_OK);
	check(latest.seq == cp.seq && memcmp(latest.hash, cp.hash, 32) == 0);
	check(latest.time == cp.time && latest.nheads == 3);
	check(memcmp(latest.heads, heads, 3 * sizeof heads[0]) == 0);
	check_rc(am_checkpoint_latest(s, circle, ALEX, &latest), AM_ERR_NOT_FOUND);

	/* sam's feed now ends in the checkpoint: the newest entry that is not
	 * one is still what a checkpoint names */
	check(head_of(s, circle, SAM, hash) == cp.seq);
	check_rc(am_checkpoint_heads(s, circle, heads, &n), AM_OK);
	check(n == 3);
	check(memcmp(heads, cp.heads, 3 * sizeof heads[0]) == 0);
	const struct am_head *own = head_in(heads, n, SAM);
	check(own != NULL && own->seq == cp.seq - 1);

	/* no storm: everyone in step again, same heads, nothing due */
	in_step(s, circle, ALEX);
	in_step(s, circle, LEE);
	check(!due_for(s, circle, SAM));
	check(!write_for(s, sam, circle, NULL));

	/* the others follow sam's checkpoint of what they hold, once */
	check(due_for(s, circle, ALEX));
	check(write_for(s, alex, circle, NULL));
	check(!due_for(s, circle, ALEX));
	check(due_for(s, circle, LEE));
	check(write_for(s, lee, circle, NULL));
	check(!due_for(s, circle, SAM));
	check(!due_for(s, circle, ALEX));
	check(!due_for(s, circle, LEE));
	check_rc(am_checkpoint_latest(s, circle, LEE, &latest), AM_OK);
	check(memcmp(latest.heads, cp.heads, 3 * sizeof heads[0]) == 0);

	/* a new entry: due again, once */
	say(s, lee, circle, "see you thursday");
	in_step(s, circle, ALEX);
	in_step(s, circle, LEE);
	check(due_for(s, circle, SAM));
	check(write_for(s, sam, circle, &cp));
	check(head_in(cp.heads, cp.nheads, LEE)->seq ==
		head_of(s, circle, LEE, hash));
	in_step(s, circle, ALEX);
	in_step(s, circle, LEE);
	check(!due_for(s, circle, SAM));
	am_store_close(&s);
}

static void
test_same(void)
{
	struct am_store *s = fx_store_open("same.db");
	struct am_identity *m[] = { alex };
	struct am_checkpoint_same same;
	struct am_checkpoint a, b;
	uint8_t circle[32];

	circle_of(s, m, 1, circle);
	check_rc(am_checkpoint_same(s, circle, &same), AM_OK);
	check(!same.same);
	in_step(s, circle, ALEX);
	check(write_for(s, sam, circle, &a));
	check_rc(am_checkpoint_same(s, circle, &same), AM_OK);
	check(!same.same);          /* alex has not said so yet */
	check(write_for(s, alex, circle, &b));
	check_rc(am_checkpoint_same(s, circle, &same), AM_OK);
	check(same.same && same.nmembers == 2);
	check(same.time == b.time && b.time > a.time);
	check(same.nheads == a.nheads);
	check(memcmp(same.heads, a.heads, a.nheads * sizeof a.heads[0]) == 0);

	/* newer entries: the last common heads still stand until both have
	 * checkpointed the new ones */
	say(s, alex, circle, "a new week");
	in_step(s, circle, ALEX);
	check(write_for(s, sam, circle, NULL));
	check_rc(am_checkpoint_same(s, circle, &same), AM_OK);
	check(same.same && same.time == b.time);
	check(write_for(s, alex, circle, &b));
	check_rc(am_checkpoint_same(s, circle, &same), AM_OK);
	check(same.same && same.time == b.time);
	check(head_in(same.heads, same.nheads, ALEX)->seq == b.seq - 1);

	/* a node told not to write checkpoints writes none */
	say(s, sam, circle, "quiet please");
	in_step(s, circle, ALEX);
	check(due_for(s, circle, SAM));
	check_rc(am_store_setting_set(s, AM_CHECKPOINT_SETTING, "off"), AM_OK);
	check(!write_for(s, sam, circle, NULL));
	check(due_for(s, circle, SAM));
	check_rc(am_store_setting_set(s, AM_CHECKPOINT_SETTING, "on"), AM_OK);
	check(write_for(s, sam, circle, NULL));

	/* a circle of one is never checkpointed */
	uint8_t alone[32];
	circle_of(s, NULL, 0, alone);
	say(s, sam, alone, "just me");
	check(!due_for(s, alone, SAM));
	check_rc(am_checkpoint_same(s, alone, &same), AM_OK);
	check(!same.same);
	am_store_close(&s);
}

struct collect {
	struct am_checkpoint_report r[8];
	size_t n;
};

static int
collect(void *ctx, const struct am_checkpoint_report *r)
{
	struct collect *c = ctx;
	check(c->n < 8);
	c->r[c->n++] = *r;
	return AM_OK;
}

static void
test_shorter(void)
{
	struct am_store *s = fx_store_open("shorter.db");
	struct am_identity *m[] = { alex, lee };
	struct am_checkpoint_report r;
	struct am_checkpoint cp;
	struct collect c = { .n = 0 };
	uint8_t circle[32], hash[32];
	bool shorter;

	circle_of(s, m, 2, circle);
	/* nothing checkpointed: nothing is judged shorter, nothing kept */
	check_rc(am_checkpoint_judge(s, circle, ALEX, SAM, 1, clock_ms, &shorter,
		&r), AM_OK);
	check(!shorter);
	check_rc(am_checkpoint_reports(s, NULL, collect, &c), AM_OK);
	check(c.n == 0);

	in_step(s, circle, SAM);
	in_step(s, circle, LEE);
	check(write_for(s, alex, circle, &cp));
	uint64_t sam_seq = head_in(cp.heads, cp.nheads, SAM)->seq;
	uint64_t alex_seq = head_of(s, circle, ALEX, hash);

	/* alex said it held sam's feed up to sam_seq */
	check_rc(am_checkpoint_judge(s, circle, ALEX, SAM, sam_seq, clock_ms,
		&shorter, &r), AM_OK);
	check(!shorter);
	check_rc(am_checkpoint_judge(s, circle, ALEX, SAM, 2, 1000, &shorter, &r),
		AM_OK);
	check(shorter);
	check(r.shown == 2 && r.named == sam_seq);
	check(memcmp(r.checkpoint, cp.hash, 32) == 0);
	check(memcmp(r.checkpoint_author, ALEX, 32) == 0);
	check(r.checkpoint_time == cp.time);
	/* lee never said it held anything: lee is behind, not withholding */
	check_rc(am_checkpoint_judge(s, circle, LEE, SAM, 1, 1000, &shorter, &r),
		AM_OK);
	check(!shorter);
	/* but sam wrote its own feed: alex's checkpoint of it counts */
	check_rc(am_checkpoint_judge(s, circle, SAM, SAM, 1, 1500, &shorter, &r),
		AM_OK);
	check(shorter && r.named == sam_seq);
	/* alex's checkpoint is the newest of its feed: it named alex_seq - 1 */
	check_rc(am_checkpoint_judge(s, circle, ALEX, ALEX, alex_seq - 1, 1500,
		&shorter, &r), AM_OK);
	check(!shorter);

	/* seen again: one report, counted twice */
	check_rc(am_checkpoint_judge(s, circle, ALEX, SAM, 1, 2000, &shorter, &r),
		AM_OK);
	check(shorter);
	check_rc(am_checkpoint_reports(s, circle, collect, &c), AM_OK);
	check(c.n == 2);
	const struct am_checkpoint_report *x = memcmp(c.r[0].peer, ALEX, 32) == 0 ?
		&c.r[0] : &c.r[1];
	check(memcmp(x->peer, ALEX, 32) == 0 && memcmp(x->author, SAM, 32) == 0);
	check(x->count == 2 && x->first_at == 1000 && x->last_at == 2000);
	check(x->shown == 1 && x->named == sam_seq);
	uint8_t other[32] = { 1 };
	c.n = 0;
	check_rc(am_checkpoint_reports(s, other, collect, &c), AM_OK);
	check(c.n == 0);
	am_store_close(&s);

	/* the reports survive the store being opened again */
	s = fx_store_open("shorter.db");
	check_rc(am_checkpoint_reports(s, NULL, collect, &c), AM_OK);
	check(c.n == 2);
	am_store_close(&s);
}

int
main(void)
{
	check(sodium_init() >= 0);
	fx_dir_make("checkpoint");
	check_rc(am_identity_generate(&sam), AM_OK);
	check_rc(am_identity_generate(&alex), AM_OK);
	check_rc(am_identity_generate(&lee), AM_OK);
	SAM = am_identity_public(sam);
	ALEX = am_identity_public(alex);
	LEE = am_identity_public(lee);

	test_content();
	test_same();
	test_shorter();

	am_identity_destroy(&sam);
	am_identity_destroy(&alex);
	am_identity_destroy(&lee);
	fx_dir_remove();
	printf("checkpoint: ok\n");
	return 0;
}
