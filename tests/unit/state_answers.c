/*
 * Tests of who may answer a member proposal and who is asked to
 * (protocol/state.md, "Membership"): someone a proposal needs may answer
 * it before joining, and only those it needs (and its newcomer) find it
 * waiting for them; a newcomer who declined their own admission cannot
 * accept it afterwards, as the state would ignore that accept. Every
 * history is written with real signed entries into one store; the
 * writer's check (am_state_check) is asked before each answer a person
 * would write.
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "amends/state.h"
#include "fixture.h"
#include "test.h"

enum { SAM, ALEX, LEE, KIM, DAN, NPEOPLE };

static const char *dir;
static struct am_identity *ids[NPEOPLE];
static const uint8_t *ID[NPEOPLE];
static int64_t clock_ms = 1700000000000;

struct circle {
	struct am_store *s;
	char path[FX_PATH_MAX];
	uint8_t id[32];
};

static void
begin(struct circle *c)
{
	c->s = fx_store_new(c->path);
	clock_ms += 60000;
	fx_genesis(c->s, ids[SAM], "family", clock_ms, c->id);
}

static void
end(struct circle *c)
{
	am_store_close(&c->s);
	check(fx_store_unlink(c->path) == 0);
}

static void
propose(struct circle *c, int by, int who, uint8_t hash[32])
{
	struct am_body b = { .kind = AM_KIND_MEMBER, .role = AM_ROLE_MEMBER };
	memcpy(b.target, ID[who], 32);
	clock_ms += 60000;
	check_rc(am_store_append(c->s, ids[by], c->id, clock_ms, &b, hash, NULL),
		AM_OK);
}

/* What am_state_check says of who answering target with kind; why gets
 * the sentence. */
static int
ask(struct circle *c, int who, uint32_t kind, const uint8_t *target,
	char why[static 200])
{
	struct am_body b = fx_body(kind, target);
	return am_state_check(c->s, c->id, ID[who], &b, why, 200);
}

/* Writes who's answer, as the CLI does: only when the check admits it. */
static void
answer(struct circle *c, int who, uint32_t kind, const uint8_t *target)
{
	struct am_body b = fx_body(kind, target);
	clock_ms += 60000;
	fx_act(c->s, ids[who], c->id, &b, clock_ms, NULL);
}

/* who's membership status (0 when neither joined nor pending). */
static uint32_t
status(struct circle *c, int who)
{
	struct am_member *m;
	size_t n;
	uint32_t st = 0;
	check_rc(am_state_members(c->s, c->id, &m, &n), AM_OK);
	for (size_t i = 0; i < n; i++)
		if (memcmp(m[i].id, ID[who], 32) == 0)
			st = m[i].status;
	free(m);
	return st;
}

/* The set of people (bits of the enum) a proposal needs. */
static unsigned
needs(struct circle *c, const uint8_t *proposal)
{
	uint8_t (*v)[AM_ID_BYTES];
	size_t n;
	unsigned bits = 0;
	check_rc(am_state_proposal_needs(c->s, c->id, proposal, &v, &n), AM_OK);
	for (size_t i = 0; i < n; i++) {
		int who = -1;
		for (int k = 0; k < NPEOPLE; k++)
			if (memcmp(v[i], ID[k], 32) == 0)
				who = k;
		check(who >= 0);
		check(!(bits & 1u << who));  /* each once */
		if (i > 0)
			check(memcmp(v[i - 1], v[i], 32) < 0);  /* by ID */
		bits |= 1u << who;
	}
	free(v);
	return bits;
}

#define BIT(x) (1u << (x))

/* The member proposals waiting for who, as a bit per newcomer; each must
 * be one of the hashes given (in newcomer order of the enum). */
static unsigned
waiting(struct circle *c, int who, const uint8_t *const hashes[NPEOPLE])
{
	struct am_pending *p;
	size_t n;
	unsigned bits = 0;
	check_rc(am_state_pending(c->s, c->id, ID[who], &p, &n), AM_OK);
	for (size_t i = 0; i < n; i++) {
		if (p[i].kind != AM_PENDING_MEMBER)
			continue;
		int newcomer = -1;
		for (int k = 0; k < NPEOPLE; k++)
			if (memcmp(p[i].member, ID[k], 32) == 0)
				newcomer = k;
		check(newcomer >= 0 && hashes[newcomer] != NULL);
		check(memcmp(p[i].hash, hashes[newcomer], 32) == 0);
		bits |= BIT(newcomer);
	}
	am_state_pending_free(&p, n);
	return bits;
}

/*
 * Sam proposes Alex, then Lee: Lee's proposal needs Alex, who has not
 * joined. Alex may answer it (either way) and finds it waiting for him;
 * a stranger may not. Alex's accept is what Lee's admission needed: Lee
 * joins though Alex has not, and Alex joins later.
 */
static void
test_needed_answers(void)
{
	struct circle c;
	uint8_t p_alex[32], p_lee[32];
	char why[200];

	begin(&c);
	propose(&c, SAM, ALEX, p_alex);
	propose(&c, SAM, LEE, p_lee);
	const uint8_t *const hs[NPEOPLE] = { [ALEX] = p_alex, [LEE] = p_lee };
	check(needs(&c, p_alex) == BIT(SAM));
	check(needs(&c, p_lee) == (BIT(SAM) | BIT(ALEX)));
	check(status(&c, ALEX) == AM_MEMBER_PENDING);

	/* Alex, pending, answers Lee's proposal */
	check_rc(ask(&c, ALEX, AM_KIND_ACCEPT, p_lee, why), AM_OK);
	check_rc(ask(&c, ALEX, AM_KIND_DECLINE, p_lee, why), AM_OK);
	/* Lee is not needed by Alex's proposal, and Kim by neither */
	check_rc(ask(&c, LEE, AM_KIND_ACCEPT, p_alex, why), AM_ERR_NOT_MEMBER);
	check(strcmp(why, "you are not a member of this circle") == 0);
	check_rc(ask(&c, KIM, AM_KIND_ACCEPT, p_lee, why), AM_ERR_NOT_MEMBER);
	check_rc(ask(&c, KIM, AM_KIND_DECLINE, p_alex, why), AM_ERR_NOT_MEMBER);

	/* who is asked: the newcomer and those needed, not the proposer */
	check(waiting(&c, ALEX, hs) == (BIT(ALEX) | BIT(LEE)));
	check(waiting(&c, LEE, hs) == BIT(LEE));
	check(waiting(&c, SAM, hs) == 0);
	check(waiting(&c, KIM, hs) == 0);

	answer(&c, ALEX, AM_KIND_ACCEPT, p_lee);
	check(waiting(&c, ALEX, hs) == BIT(ALEX));
	check_rc(ask(&c, ALEX, AM_KIND_ACCEPT, p_lee, why), AM_ERR_RULE);
	check(strcmp(why, "you have already accepted this") == 0);
	check(status(&c, LEE) == AM_MEMBER_PENDING);
	answer(&c, LEE, AM_KIND_ACCEPT, p_lee);
	check(status(&c, LEE) == AM_MEMBER_JOINED);
	check(status(&c, ALEX) == AM_MEMBER_PENDING);
	check(waiting(&c, LEE, hs) == 0);
	/* Lee, joined, is not asked about Alex: Sam alone proposed him */
	check(waiting(&c, ALEX, hs) == BIT(ALEX));
	answer(&c, ALEX, AM_KIND_ACCEPT, p_alex);
	check(status(&c, ALEX) == AM_MEMBER_JOINED);
	check(waiting(&c, ALEX, hs) == 0);
	end(&c);
}

/*
 * A joined member whom a proposal does not need is not asked about it.
 * Sam proposes Alex, who joins; Alex proposes Kim; Sam proposes Dan
 * before seeing Kim's proposal, then accepts Kim's, and Kim joins. Dan's
 * proposal needs Sam and Alex, not Kim: Kim is not asked, though a joined
 * member may still answer it.
 */
static void
test_joined_not_needed(void)
{
	struct circle c;
	uint8_t p_alex[32], p_kim[32], p_dan[32];
	char why[200];

	begin(&c);
	propose(&c, SAM, ALEX, p_alex);
	answer(&c, ALEX, AM_KIND_ACCEPT, p_alex);
	propose(&c, ALEX, KIM, p_kim);
	propose(&c, SAM, DAN, p_dan);
	const uint8_t *const hs[NPEOPLE] = { [ALEX] = p_alex, [KIM] = p_kim,
		[DAN] = p_dan };
	check(needs(&c, p_kim) == (BIT(SAM) | BIT(ALEX)));
	check(needs(&c, p_dan) == (BIT(SAM) | BIT(ALEX)));
	check(waiting(&c, SAM, hs) == BIT(KIM));
	check(waiting(&c, ALEX, hs) == BIT(DAN));
	answer(&c, SAM, AM_KIND_ACCEPT, p_kim);
	answer(&c, KIM, AM_KIND_ACCEPT, p_kim);
	check(status(&c, KIM) == AM_MEMBER_JOINED);
	/* what Sam knew when proposing Dan does not grow */
	check(needs(&c, p_dan) == (BIT(SAM) | BIT(ALEX)));
	check(waiting(&c, KIM, hs) == 0);
	check(waiting(&c, ALEX, hs) == BIT(DAN));
	check(waiting(&c, DAN, hs) == BIT(DAN));
	check_rc(ask(&c, KIM, AM_KIND_ACCEPT, p_dan, why), AM_OK);
	/* a proposal Sam writes now knows of Kim's */
	uint8_t p_lee[32];
	propose(&c, SAM, LEE, p_lee);
	check(needs(&c, p_lee) == (BIT(SAM) | BIT(ALEX) | BIT(KIM) | BIT(DAN)));
	end(&c);
}

/*
 * A newcomer's first answer to their own admission is final. After Kim
 * declines, the writer refuses Kim's accept (the state would ignore it)
 * and anyone's answer (the proposal never completes), each with a
 * reason; nobody is asked about it any more.
 */
static void
test_refused(void)
{
	struct circle c;
	uint8_t p_alex[32], p_kim[32];
	char why[200];

	begin(&c);
	propose(&c, SAM, ALEX, p_alex);
	answer(&c, ALEX, AM_KIND_ACCEPT, p_alex);
	propose(&c, SAM, KIM, p_kim);
	const uint8_t *const hs[NPEOPLE] = { [ALEX] = p_alex, [KIM] = p_kim };
	check(waiting(&c, KIM, hs) == BIT(KIM));
	check(waiting(&c, ALEX, hs) == BIT(KIM));
	answer(&c, KIM, AM_KIND_DECLINE, p_kim);
	check(status(&c, KIM) == 0);

	check_rc(ask(&c, KIM, AM_KIND_ACCEPT, p_kim, why), AM_ERR_RULE);
	check(strstr(why, "you declined") != NULL && strstr(why, "final") != NULL);
	check_rc(ask(&c, KIM, AM_KIND_DECLINE, p_kim, why), AM_ERR_RULE);
	check_rc(ask(&c, ALEX, AM_KIND_ACCEPT, p_kim, why), AM_ERR_RULE);
	check(strstr(why, "they declined") != NULL);
	check(waiting(&c, KIM, hs) == 0);
	check(waiting(&c, ALEX, hs) == 0);

	/* a new proposal asks Kim again; accepting first is final too */
	uint8_t p_kim2[32];
	propose(&c, SAM, KIM, p_kim2);
	check(needs(&c, p_kim2) == (BIT(SAM) | BIT(ALEX)));
	check_rc(ask(&c, KIM, AM_KIND_ACCEPT, p_kim2, why), AM_OK);
	answer(&c, KIM, AM_KIND_ACCEPT, p_kim2);
	check_rc(ask(&c, KIM, AM_KIND_DECLINE, p_kim2, why), AM_ERR_RULE);
	check(strcmp(why, "you have already accepted this, and acceptance is final") == 0);
	answer(&c, ALEX, AM_KIND_ACCEPT, p_kim2);
	check(status(&c, KIM) == AM_MEMBER_JOINED);
	end(&c);
}

/* Asking about what is not a member proposal of the circle. */
static void
test_unknown(void)
{
	struct circle c;
	uint8_t none[32], (*v)[AM_ID_BYTES] = NULL;
	size_t n = 7;

	begin(&c);
	memset(none, 0x5a, sizeof none);
	check_rc(am_state_proposal_needs(c.s, c.id, none, &v, &n), AM_ERR_NOT_FOUND);
	check(v == NULL && n == 0);
	check_rc(am_state_proposal_needs(c.s, none, none, &v, &n), AM_ERR_NOT_FOUND);
	end(&c);
}

int
main(void)
{
	check(sodium_init() >= 0);
	dir = fx_dir_make_in_memory("answers");
	for (int i = 0; i < NPEOPLE; i++) {
		ids[i] = fx_identity_seeded((uint8_t)('a' + i));
		ID[i] = am_identity_public(ids[i]);
	}
	test_needed_answers();
	test_joined_not_needed();
	test_refused();
	test_unknown();
	for (int i = 0; i < NPEOPLE; i++)
		am_identity_destroy(&ids[i]);
	/* every store was removed as its test ended */
	check(rmdir(dir) == 0);
	printf("state-answers: ok\n");
	return 0;
}
