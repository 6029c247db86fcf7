/*
 * Tests of the membership rule (protocol/state.md, "Membership"): the
 * consent a proposal needs is fixed by what its proposer's feed had
 * proposed and accepted before it, and a newcomer answers its own
 * admission once. Each history is written with real signed entries into
 * one store, then imported into fresh stores in many orders; after every
 * entry taken, nobody seen joined may fall back (membership is monotone)
 * and no member may lose the member role, and every order ends with the
 * same state digest, equal to a refold.
 *
 * The first history is the one the simulator found (seed 40, 3 nodes, 8
 * operations): the creator proposes two people at once and the second
 * accepts first. Under the former rule the second joined, then fell back
 * to pending when the first accepted.
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "amends/state.h"
#include "fixture.h"
#include "test.h"

enum { SAM, ALEX, LEE, KIM, DAN, EVE, NPEOPLE };

#define MAXENT 64

static const char *dir;
static struct am_identity *ids[NPEOPLE];
static const uint8_t *ID[NPEOPLE];
static int64_t clock_ms = 1700000000000;
static uint64_t prng = 0x2545f4914f6cdd1du;  /* the same orders on every run */

static void
drop_store(struct am_store **s, const char *p)
{
	am_store_close(s);
	fx_store_unlink(p);
}

/* A history: its store and every raw entry in it, in writing order. */
struct history {
	struct am_store *s;
	char path[FX_PATH_MAX];
	uint8_t circle[32];
	int n;
	struct {
		uint8_t *raw;
		size_t len;
		int who;
	} e[MAXENT];
};

static int grab_who;

static int
grab(void *ctx, const uint8_t *raw, size_t len)
{
	struct history *h = ctx;
	check(h->n < MAXENT);
	h->e[h->n].raw = malloc(len);
	check(h->e[h->n].raw != NULL);
	memcpy(h->e[h->n].raw, raw, len);
	h->e[h->n].len = len;
	h->e[h->n].who = grab_who;
	h->n++;
	return AM_OK;
}

/* Appends without asking am_state_check: any signed entry may arrive. */
static void
put(struct history *h, int who, uint32_t kind, const uint8_t *target,
	uint8_t hash[32])
{
	struct am_body b = fx_body(kind, target);
	clock_ms += 60000;
	check_rc(am_store_append(h->s, ids[who], h->circle, clock_ms, &b, hash,
		NULL), AM_OK);
}

static void
propose(struct history *h, int by, int who, uint32_t role, uint8_t hash[32])
{
	struct am_body b = { .kind = AM_KIND_MEMBER, .role = role };
	memcpy(b.target, ID[who], 32);
	clock_ms += 60000;
	check_rc(am_store_append(h->s, ids[by], h->circle, clock_ms, &b, hash,
		NULL), AM_OK);
}

static void
begin(struct history *h)
{
	memset(h, 0, sizeof *h);
	h->s = fx_store_new(h->path);
	clock_ms += 60000;
	fx_genesis(h->s, ids[SAM], "family", clock_ms, h->circle);
}

/* Reads every entry of the history back, feed by feed, in place of
 * those read before: a history is collected again after it grows. */
static void
collect(struct history *h)
{
	for (int i = 0; i < h->n; i++)
		free(h->e[i].raw);
	h->n = 0;
	for (grab_who = 0; grab_who < NPEOPLE; grab_who++)
		check_rc(am_store_range(h->s, h->circle, ID[grab_who], 1, UINT64_MAX,
			grab, h), AM_OK);
}

static void
end(struct history *h)
{
	for (int i = 0; i < h->n; i++)
		free(h->e[i].raw);
	drop_store(&h->s, h->path);
}

/* Who s counts as joined, and as joined with role member, as bits. */
static void
view(struct am_store *s, const uint8_t *circle, unsigned *joined,
	unsigned *members)
{
	struct am_member *m;
	size_t n;
	*joined = *members = 0;
	int rc = am_state_members(s, circle, &m, &n);
	if (rc == AM_ERR_NOT_FOUND)
		return;
	check_rc(rc, AM_OK);
	for (size_t i = 0; i < n; i++)
		for (int p = 0; p < NPEOPLE; p++)
			if (m[i].status == AM_MEMBER_JOINED &&
			    memcmp(m[i].id, ID[p], 32) == 0) {
				*joined |= 1u << p;
				if (m[i].role == AM_ROLE_MEMBER)
					*members |= 1u << p;
			}
	free(m);
}

static uint32_t
status(struct am_store *s, const uint8_t *circle, int who)
{
	struct am_member *m;
	size_t n;
	uint32_t st = 0;
	check_rc(am_state_members(s, circle, &m, &n), AM_OK);
	for (size_t i = 0; i < n; i++)
		if (memcmp(m[i].id, ID[who], 32) == 0)
			st = m[i].status;
	free(m);
	return st;
}

/*
 * Imports the history into a fresh store in the order given, holding back
 * what is refused for a missing predecessor or proposal until it can be
 * taken. After every entry taken: nobody seen joined has left, nobody
 * seen a member has become a witness. Returns the final state digest and
 * the final joined and member bits.
 */
static void
import(const struct history *h, const int *order, uint8_t digest[32],
	unsigned *joined, unsigned *members)
{
	char path[FX_PATH_MAX];
	struct am_store *s = fx_store_new(path);
	bool in[MAXENT] = { false };
	unsigned was_joined = 0, was_member = 0;
	for (int left = h->n; left > 0;) {
		bool moved = false;
		for (int k = 0; k < h->n; k++) {
			int x = order[k];
			enum am_ingest_result r;
			if (in[x])
				continue;
			int rc = am_store_ingest(s, h->e[x].raw, h->e[x].len, &r);
			if (rc == AM_ERR_GAP || rc == AM_ERR_NO_GENESIS)
				continue;
			check_rc(rc, AM_OK);
			in[x] = true;
			left--;
			moved = true;
			unsigned j, m;
			view(s, h->circle, &j, &m);
			if ((was_joined & ~j) != 0 || (was_member & ~m) != 0)
				fprintf(stderr, "joined %#x then %#x, members %#x then %#x\n",
					was_joined, j, was_member, m);
			check((was_joined & ~j) == 0);
			check((was_member & ~m) == 0);
			was_joined = j;
			was_member = m;
		}
		check(moved);
	}
	uint8_t refold[32];
	check_rc(am_state_digest(s, h->circle, digest), AM_OK);
	check_rc(am_state_refold(s, h->circle, refold), AM_OK);
	check(memcmp(digest, refold, 32) == 0);
	*joined = was_joined;
	*members = was_member;
	drop_store(&s, path);
}

/* Imports in `orders` random orders (every order when orders is 0 and
 * the history is short); all must agree with the writing store. */
static void
every_order(const struct history *h, int orders)
{
	uint8_t want[32], got[32];
	unsigned want_j, want_m, j, m;
	int order[MAXENT];
	check_rc(am_state_digest(h->s, h->circle, want), AM_OK);
	view(h->s, h->circle, &want_j, &want_m);
	for (int i = 0; i < h->n; i++)
		order[i] = i;
	if (orders == 0) {
		/* Heap's algorithm, iteratively: all n! orders */
		int c[MAXENT] = { 0 };
		check(h->n <= 8);
		import(h, order, got, &j, &m);
		check(memcmp(got, want, 32) == 0 && j == want_j && m == want_m);
		for (int i = 1; i < h->n;) {
			if (c[i] < i) {
				int a = i % 2 == 0 ? 0 : c[i], t = order[a];
				order[a] = order[i];
				order[i] = t;
				import(h, order, got, &j, &m);
				check(memcmp(got, want, 32) == 0 && j == want_j && m == want_m);
				c[i]++;
				i = 1;
			} else {
				c[i++] = 0;
			}
		}
		return;
	}
	for (int o = 0; o < orders; o++) {
		for (int i = h->n - 1; i > 0; i--) {
			int k = (int)fx_rnd(&prng, (uint32_t)i + 1), t = order[i];
			order[i] = order[k];
			order[k] = t;
		}
		import(h, order, got, &j, &m);
		check(memcmp(got, want, 32) == 0 && j == want_j && m == want_m);
	}
}

#define BIT(p) (1u << (p))

/* The simulator's seed 40: two invitations open at once, the later one
 * accepted first. Lee's proposal needs Alex, whom Sam had proposed
 * before: Lee waits for Alex instead of joining and falling back. */
static void
test_overlap(void)
{
	struct history h;
	uint8_t p_alex[32], p_lee[32];
	unsigned j, m;

	begin(&h);
	propose(&h, SAM, ALEX, AM_ROLE_MEMBER, p_alex);
	propose(&h, SAM, LEE, AM_ROLE_MEMBER, p_lee);
	put(&h, LEE, AM_KIND_ACCEPT, p_lee, NULL);
	check(status(h.s, h.circle, LEE) == AM_MEMBER_PENDING);
	put(&h, ALEX, AM_KIND_ACCEPT, p_alex, NULL);
	check(status(h.s, h.circle, ALEX) == AM_MEMBER_JOINED);
	check(status(h.s, h.circle, LEE) == AM_MEMBER_PENDING);

	/* Alex, joined, is asked about Lee */
	struct am_pending *pd;
	size_t npd;
	check_rc(am_state_pending(h.s, h.circle, ID[ALEX], &pd, &npd), AM_OK);
	check(npd == 1 && memcmp(pd[0].hash, p_lee, 32) == 0);
	am_state_pending_free(&pd, npd);

	/* every one of the 5! orders of these entries: Lee never joins */
	collect(&h);
	check(h.n == 5);
	every_order(&h, 0);

	put(&h, ALEX, AM_KIND_ACCEPT, p_lee, NULL);
	check(status(h.s, h.circle, LEE) == AM_MEMBER_JOINED);
	view(h.s, h.circle, &j, &m);
	check(j == (BIT(SAM) | BIT(ALEX) | BIT(LEE)) && m == j);
	collect(&h);
	check(h.n == 6);
	every_order(&h, 0);
	end(&h);
}

/* A newcomer answers its own admission once. Its decline is final, and
 * then the later proposals of those who knew of it no longer need it; an
 * invitation nobody answers holds them up. */
static void
test_decline(void)
{
	struct history h;
	uint8_t p_kim[32], p_dan[32], p_alex[32], p_lee[32], h_acc[32], h_dec[32];

	begin(&h);
	propose(&h, SAM, KIM, AM_ROLE_MEMBER, p_kim);
	put(&h, KIM, AM_KIND_DECLINE, p_kim, h_dec);
	put(&h, KIM, AM_KIND_ACCEPT, p_kim, h_acc);
	check(status(h.s, h.circle, KIM) == 0);
	check(fx_has_violation(h.s, h.circle, h_acc, AM_RULE_ACCEPTED));
	check(!fx_has_violation(h.s, h.circle, h_dec, AM_RULE_ACCEPTED));
	/* Sam knew of Kim, but Kim refused: Dan needs Sam alone */
	propose(&h, SAM, DAN, AM_ROLE_MEMBER, p_dan);
	put(&h, DAN, AM_KIND_ACCEPT, p_dan, NULL);
	check(status(h.s, h.circle, DAN) == AM_MEMBER_JOINED);

	/* Alex does not answer: Lee, proposed after him, waits */
	propose(&h, SAM, ALEX, AM_ROLE_MEMBER, p_alex);
	put(&h, DAN, AM_KIND_ACCEPT, p_alex, NULL);
	propose(&h, SAM, LEE, AM_ROLE_MEMBER, p_lee);
	put(&h, LEE, AM_KIND_ACCEPT, p_lee, NULL);
	put(&h, DAN, AM_KIND_ACCEPT, p_lee, NULL);
	check(status(h.s, h.circle, ALEX) == AM_MEMBER_PENDING);
	check(status(h.s, h.circle, LEE) == AM_MEMBER_PENDING);
	/* Alex declines, for good: Lee no longer needs him */
	put(&h, ALEX, AM_KIND_DECLINE, p_alex, NULL);
	check(status(h.s, h.circle, ALEX) == 0);
	check(status(h.s, h.circle, LEE) == AM_MEMBER_JOINED);
	collect(&h);
	every_order(&h, 100);
	end(&h);
}

/*
 * Whose consent a proposal needs: those its proposer proposed or accepted
 * before it, and whom those proposals needed, recursively. Kim, proposed
 * by Sam after Alex and Lee, joins; Dan, proposed by Kim, needs all four.
 * Eve, proposed by Alex before Alex accepted Kim, does not need Kim: an
 * admission Alex had not seen when writing cannot raise the bar.
 */
static void
test_known(void)
{
	struct history h;
	uint8_t p_alex[32], p_lee[32], p_kim[32], p_dan[32], p_eve[32];
	unsigned j, m;

	begin(&h);
	propose(&h, SAM, ALEX, AM_ROLE_MEMBER, p_alex);
	put(&h, ALEX, AM_KIND_ACCEPT, p_alex, NULL);
	propose(&h, SAM, LEE, AM_ROLE_WITNESS, p_lee);
	put(&h, LEE, AM_KIND_ACCEPT, p_lee, NULL);
	put(&h, ALEX, AM_KIND_ACCEPT, p_lee, NULL);
	check(status(h.s, h.circle, LEE) == AM_MEMBER_JOINED);
	propose(&h, SAM, KIM, AM_ROLE_MEMBER, p_kim);
	put(&h, KIM, AM_KIND_ACCEPT, p_kim, NULL);
	put(&h, ALEX, AM_KIND_ACCEPT, p_kim, NULL);
	check(status(h.s, h.circle, KIM) == AM_MEMBER_PENDING);
	put(&h, LEE, AM_KIND_ACCEPT, p_kim, NULL);
	check(status(h.s, h.circle, KIM) == AM_MEMBER_JOINED);

	propose(&h, KIM, DAN, AM_ROLE_MEMBER, p_dan);
	put(&h, DAN, AM_KIND_ACCEPT, p_dan, NULL);
	put(&h, SAM, AM_KIND_ACCEPT, p_dan, NULL);
	put(&h, ALEX, AM_KIND_ACCEPT, p_dan, NULL);
	check(status(h.s, h.circle, DAN) == AM_MEMBER_PENDING);
	put(&h, LEE, AM_KIND_ACCEPT, p_dan, NULL);
	check(status(h.s, h.circle, DAN) == AM_MEMBER_JOINED);

	/* Lee, a witness, proposes nobody */
	uint8_t p_bad[32];
	propose(&h, LEE, EVE, AM_ROLE_MEMBER, p_bad);
	check(fx_has_violation(h.s, h.circle, p_bad, AM_RULE_MEMBER));
	check(status(h.s, h.circle, EVE) == 0);

	/* Dan proposes Eve; Dan has seen only his own admission, which
	 * needed Sam, Alex, Lee and Kim */
	propose(&h, DAN, EVE, AM_ROLE_MEMBER, p_eve);
	put(&h, EVE, AM_KIND_ACCEPT, p_eve, NULL);
	put(&h, SAM, AM_KIND_ACCEPT, p_eve, NULL);
	put(&h, ALEX, AM_KIND_ACCEPT, p_eve, NULL);
	put(&h, LEE, AM_KIND_ACCEPT, p_eve, NULL);
	check(status(h.s, h.circle, EVE) == AM_MEMBER_PENDING);
	put(&h, KIM, AM_KIND_ACCEPT, p_eve, NULL);
	check(status(h.s, h.circle, EVE) == AM_MEMBER_JOINED);
	view(h.s, h.circle, &j, &m);
	check(j == (BIT(SAM) | BIT(ALEX) | BIT(LEE) | BIT(KIM) | BIT(DAN) | BIT(EVE)));
	check(m == (j & ~BIT(LEE)));
	collect(&h);
	every_order(&h, 100);
	end(&h);
}

/*
 * Two admissions of one person written apart (Alex had not accepted
 * Sam's proposal of Kim when proposing Dan): Dan does not need Kim. And
 * one person proposed twice, as witness and as member, by two members:
 * whichever counts first, the member role wins and stays.
 */
static void
test_concurrent(void)
{
	struct history h;
	uint8_t p_alex[32], p_kim[32], p_dan[32], p_ew[32], p_em[32];
	unsigned j, m;

	begin(&h);
	propose(&h, SAM, ALEX, AM_ROLE_MEMBER, p_alex);
	put(&h, ALEX, AM_KIND_ACCEPT, p_alex, NULL);
	propose(&h, SAM, KIM, AM_ROLE_MEMBER, p_kim);
	propose(&h, ALEX, DAN, AM_ROLE_MEMBER, p_dan);
	put(&h, KIM, AM_KIND_ACCEPT, p_kim, NULL);
	put(&h, DAN, AM_KIND_ACCEPT, p_dan, NULL);
	put(&h, SAM, AM_KIND_ACCEPT, p_dan, NULL);
	put(&h, ALEX, AM_KIND_ACCEPT, p_kim, NULL);
	check(status(h.s, h.circle, KIM) == AM_MEMBER_JOINED);
	check(status(h.s, h.circle, DAN) == AM_MEMBER_JOINED);

	/* Eve: Sam proposes her as witness, Alex as member; Sam knows Kim
	 * (his) and Dan (accepted), Alex knows Kim (accepted) and Dan (his) */
	propose(&h, SAM, EVE, AM_ROLE_WITNESS, p_ew);
	propose(&h, ALEX, EVE, AM_ROLE_MEMBER, p_em);
	put(&h, EVE, AM_KIND_ACCEPT, p_ew, NULL);
	put(&h, EVE, AM_KIND_ACCEPT, p_em, NULL);
	int all[] = { ALEX, KIM, DAN };
	for (int i = 0; i < 3; i++)
		put(&h, all[i], AM_KIND_ACCEPT, p_ew, NULL);
	check(status(h.s, h.circle, EVE) == AM_MEMBER_JOINED);
	view(h.s, h.circle, &j, &m);
	check(!(m & BIT(EVE)));
	int some[] = { SAM, KIM, DAN };
	for (int i = 0; i < 3; i++)
		put(&h, some[i], AM_KIND_ACCEPT, p_em, NULL);
	view(h.s, h.circle, &j, &m);
	check((m & BIT(EVE)) != 0);
	collect(&h);
	every_order(&h, 100);
	end(&h);
}

/*
 * An accept names an entry this node does not have: it may be a member
 * proposal the accepter knew of, so the accepter's later proposals wait
 * for it. Kim, only named, writes a proposal of Dan; Alex accepts it and
 * then proposes Eve. Without Kim's feed, Eve would seem to need Sam and
 * Alex only; with it she also needs Kim and Dan.
 */
static void
test_waits(void)
{
	struct history h;
	uint8_t p_alex[32], p_kim[32], p_dan[32], p_eve[32];

	begin(&h);
	propose(&h, SAM, ALEX, AM_ROLE_MEMBER, p_alex);
	put(&h, ALEX, AM_KIND_ACCEPT, p_alex, NULL);
	propose(&h, SAM, KIM, AM_ROLE_MEMBER, p_kim);
	propose(&h, KIM, DAN, AM_ROLE_MEMBER, p_dan);
	put(&h, ALEX, AM_KIND_ACCEPT, p_dan, NULL);
	propose(&h, ALEX, EVE, AM_ROLE_MEMBER, p_eve);
	put(&h, EVE, AM_KIND_ACCEPT, p_eve, NULL);
	put(&h, SAM, AM_KIND_ACCEPT, p_eve, NULL);
	check(status(h.s, h.circle, EVE) == AM_MEMBER_PENDING);

	/* a store without Kim's feed: Eve waits for it */
	collect(&h);
	char path[FX_PATH_MAX];
	struct am_store *s = fx_store_new(path);
	for (int pass = 0; pass < 2; pass++)
		for (int i = 0; i < h.n; i++) {
			enum am_ingest_result r;
			if (h.e[i].who == KIM)
				continue;
			int rc = am_store_ingest(s, h.e[i].raw, h.e[i].len, &r);
			check(rc == AM_OK || rc == AM_ERR_GAP || rc == AM_ERR_NO_GENESIS);
		}
	check(status(s, h.circle, ALEX) == AM_MEMBER_JOINED);
	check(status(s, h.circle, EVE) == AM_MEMBER_PENDING);
	drop_store(&s, path);

	/* Kim and Dan, needed though not members, accept: Eve joins */
	put(&h, KIM, AM_KIND_ACCEPT, p_eve, NULL);
	check(status(h.s, h.circle, EVE) == AM_MEMBER_PENDING);
	put(&h, DAN, AM_KIND_ACCEPT, p_eve, NULL);
	check(status(h.s, h.circle, EVE) == AM_MEMBER_JOINED);
	check(status(h.s, h.circle, KIM) == AM_MEMBER_PENDING);
	collect(&h);
	every_order(&h, 100);
	end(&h);
}

/*
 * A refusal that sorts after the proposal it matters to. Alex accepted
 * Sam's proposal of Kim before proposing Dan, but Sam's proposal sits
 * further down Sam's feed than Alex's does in his, so it comes later in
 * (seq, hash) order. Kim declined: Dan needs Sam and Alex alone, and
 * joins without Kim, whatever the order the rule looks at proposals in.
 */
static void
test_refused_later(void)
{
	struct history h;
	uint8_t p_alex[32], p_kim[32], p_dan[32];
	uint8_t (*need)[AM_ID_BYTES];
	size_t n;

	begin(&h);
	propose(&h, SAM, ALEX, AM_ROLE_MEMBER, p_alex);
	put(&h, ALEX, AM_KIND_ACCEPT, p_alex, NULL);
	for (int i = 0; i < 3; i++) {
		struct am_body b = { .kind = AM_KIND_STATEMENT, .note = am_str_c("later") };
		clock_ms += 60000;
		check_rc(am_store_append(h.s, ids[SAM], h.circle, clock_ms, &b, NULL,
			NULL), AM_OK);
	}
	propose(&h, SAM, KIM, AM_ROLE_MEMBER, p_kim);
	put(&h, ALEX, AM_KIND_ACCEPT, p_kim, NULL);
	propose(&h, ALEX, DAN, AM_ROLE_MEMBER, p_dan);
	put(&h, KIM, AM_KIND_DECLINE, p_kim, NULL);
	put(&h, DAN, AM_KIND_ACCEPT, p_dan, NULL);
	put(&h, SAM, AM_KIND_ACCEPT, p_dan, NULL);
	check(status(h.s, h.circle, KIM) == 0);
	check_rc(am_state_proposal_needs(h.s, h.circle, p_dan, &need, &n), AM_OK);
	check(n == 2);
	bool sam = false, alex = false;
	for (size_t i = 0; i < n; i++) {
		sam = sam || memcmp(need[i], ID[SAM], 32) == 0;
		alex = alex || memcmp(need[i], ID[ALEX], 32) == 0;
	}
	check(sam && alex);
	free(need);
	check(status(h.s, h.circle, DAN) == AM_MEMBER_JOINED);
	collect(&h);
	every_order(&h, 100);
	end(&h);
}

int
main(void)
{
	check(sodium_init() >= 0);
	dir = fx_dir_make_in_memory("members");
	for (int i = 0; i < NPEOPLE; i++) {
		ids[i] = fx_identity_seeded((uint8_t)('m' + i));
		ID[i] = am_identity_public(ids[i]);
	}
	test_overlap();
	test_decline();
	test_known();
	test_concurrent();
	test_waits();
	test_refused_later();
	for (int i = 0; i < NPEOPLE; i++)
		am_identity_destroy(&ids[i]);
	/* every store was removed as its test ended */
	check(rmdir(dir) == 0);
	printf("state-members: ok\n");
	return 0;
}
