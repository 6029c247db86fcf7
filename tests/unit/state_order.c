/*
 * The property of protocol/state.md: state is a function of the set of
 * entries. One history is generated with real signed entries (three
 * members, 50 agreements with declines, amendments and ends, 1,000
 * check-ins with confirmations and disputes (some changed), corrections
 * confirmed, disputed or left unanswered, statements, and a few
 * entries that break rules; halfway through the check-ins Sam's key is
 * replaced by a new one, and the old key writes on, ignored), then imported into fresh stores in 100
 * seeded random orders. An entry that arrives before its predecessor, or
 * before the circle's genesis, is refused
 * (AM_ERR_GAP, AM_ERR_NO_GENESIS) and retried later, as sync does. Every
 * import must end with the same store digest, the same state digest, and
 * a refold equal to both. The orders are split between two processes.
 */
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <sodium.h>

#include "amends/state.h"
#include "fixture.h"
#include "test.h"

#define ORDERS 100
#define AGREEMENTS 50
#define CHECKINS 1000
#define MAXENT 4096

static const char *dir;
#define NKEYS 4
static struct am_identity *ids[NKEYS];  /* Sam, Alex, Lee (witness), and
                                           the key that replaces Sam's */
static const uint8_t *ID[NKEYS];
static int key_of[3] = { 0, 1, 2 };     /* each person's key now */
static uint64_t prng = 0x9e3779b97f4a7c15u;
static int64_t clock_ms = 1700000000000;

static uint32_t
rnd(uint32_t n)
{
	return fx_rnd(&prng, n);     /* deterministic across runs and machines */
}

static struct am_store *gen;
static uint8_t circle[32];

static void
put_key(int key, const struct am_body *b, uint8_t *hash)
{
	clock_ms += 1000 + rnd(100000);
	check_rc(am_store_append(gen, ids[key], circle, clock_ms, b, hash, NULL),
		AM_OK);
}

/* Appends b by person who, with the key they hold now. */
static void
put(int who, const struct am_body *b, uint8_t *hash)
{
	put_key(key_of[who], b, hash);
}

/* Alex writes a succession of Sam's key by key 3 (it needs Lee, whose
 * proposal Alex accepted); key 3 and Lee accept; from then on Sam writes
 * with key 3, and whoever kept the old key writes a statement that is
 * ignored (succeeded). */
static void
rotate_sam(void)
{
	uint8_t s[32];
	struct am_body b = { .kind = AM_KIND_SUCCESSION };
	memcpy(b.target, ID[0], 32);
	memcpy(b.heir, ID[3], 32);
	check_rc(am_store_head(gen, circle, ID[0], &b.head_seq, b.head_hash), AM_OK);
	put(1, &b, s);
	struct am_body acc = fx_body(AM_KIND_ACCEPT, s);
	put_key(3, &acc, NULL);
	put(2, &acc, NULL);
	key_of[0] = 3;
	struct am_body late = { .kind = AM_KIND_STATEMENT, .note = am_str_c("still me") };
	put_key(0, &late, NULL);
}

struct agreement {
	uint8_t id[32], current[32];
	int proposer;
	bool in_force, ended;
	int nby, by[2];
};

static struct agreement ags[AGREEMENTS];

static struct am_body
terms(int by_choice)
{
	struct am_body b = { .kind = AM_KIND_PROPOSE };
	b.terms.title = am_str_c("Evening check-in");
	b.terms.text = am_str_c("Check in every evening by 21:00.");
	b.terms.nparties = 2;
	memcpy(b.terms.parties[0], ID[0], 32);
	memcpy(b.terms.parties[1], ID[1], 32);
	if (by_choice > 0) {
		b.terms.nby = 1;
		memcpy(b.terms.by[0], ID[by_choice - 1], 32);
	}
	b.terms.has_schedule = true;
	b.terms.every = AM_EVERY_DAY;
	b.terms.at = 21 * 60;
	b.terms.tz = am_str_c("Europe/Paris");
	b.terms.notice = 7 * 86400;
	return b;
}

static void
make_members(void)
{
	struct am_body b = { .kind = AM_KIND_GENESIS, .name = am_str_c("family") };
	uint8_t p[32];
	memset(b.nonce, 0x42, 32);
	am_circle_id(ID[0], b.nonce, circle);
	put(0, &b, NULL);
	b = fx_body(AM_KIND_MEMBER, ID[1]);
	put(0, &b, p);
	b = fx_body(AM_KIND_ACCEPT, p);
	put(1, &b, NULL);
	b = fx_body(AM_KIND_MEMBER, ID[2]);
	b.role = AM_ROLE_WITNESS;
	put(0, &b, p);
	b = fx_body(AM_KIND_ACCEPT, p);
	put(2, &b, NULL);
	put(1, &b, NULL);
}

static void
make_agreements(void)
{
	for (int i = 0; i < AGREEMENTS; i++) {
		struct agreement *a = &ags[i];
		int by_choice = (int)rnd(3);
		struct am_body b = terms(by_choice);
		a->proposer = (int)rnd(2);
		a->nby = by_choice ? 1 : 2;
		a->by[0] = by_choice ? by_choice - 1 : 0;
		a->by[1] = 1;
		put(a->proposer, &b, a->id);
		memcpy(a->current, a->id, 32);
		int other = 1 - a->proposer;
		struct am_body acc = fx_body(AM_KIND_ACCEPT, a->id);
		struct am_body dec = fx_body(AM_KIND_DECLINE, a->id);
		dec.note = am_str_c("not like this");
		uint32_t r = rnd(10);
		if (r == 7 || r == 8)
			put(other, &dec, NULL);
		if (r < 8) {
			put(other, &acc, NULL);
			a->in_force = true;
		}
		if (i % 10 == 3)
			put(2, &acc, NULL);         /* a witness signing: ignored */
		if (i % 17 == 5 && a->in_force)
			put(other, &dec, NULL);     /* decline after accept: ignored */
	}
}

static struct agreement *
pick_in_force(void)
{
	for (;;) {
		struct agreement *a = &ags[rnd(AGREEMENTS)];
		if (a->in_force && !a->ended)
			return a;
	}
}

static void
make_amendments(void)
{
	for (int i = 0; i < 15; i++) {
		struct agreement *a = pick_in_force();
		int who = (int)rnd(2);
		struct am_body b = terms(a->nby == 2 ? 0 : a->by[0] + 1);
		uint8_t v[32];
		b.kind = AM_KIND_AMEND;
		memcpy(b.target, a->id, 32);
		memcpy(b.base, a->current, 32);
		if (i % 3 == 0) {
			b.terms.npauses = 1;
			b.terms.pauses[0].from = am_str_c("2024-02-01");
			b.terms.pauses[0].until = am_str_c("2024-02-03");
		}
		b.terms.text = am_str_c(i % 2 ? "By 22:00." : "By 20:30.");
		put(who, &b, v);
		if (rnd(10) < 7) {
			struct am_body acc = fx_body(AM_KIND_ACCEPT, v);
			put(1 - who, &acc, NULL);
			memcpy(a->current, v, 32);
		}
	}
}

/* The shapes of "who must accept a version" (protocol/state.md): an
 * amendment to one party alone, which waits for the other; rival
 * amendments of one base, signed by both in either order; an acceptance
 * long after, when the signer knew a rival. */
static void
make_rivals(void)
{
	for (int i = 0; i < 12; i++) {
		struct agreement *a = pick_in_force();
		int who = (int)rnd(2);
		uint8_t x[32], y[32];
		struct am_body b = terms(0);
		b.kind = AM_KIND_AMEND;
		memcpy(b.target, a->id, 32);
		memcpy(b.base, a->current, 32);
		b.terms.text = am_str_c("Alone.");
		b.terms.nparties = 1;
		memcpy(b.terms.parties[0], ID[who], 32);
		put(who, &b, x);               /* waits for the other */
		b.terms.nparties = 2;
		memcpy(b.terms.parties[0], ID[0], 32);
		memcpy(b.terms.parties[1], ID[1], 32);
		b.terms.text = am_str_c("Together.");
		put(1 - who, &b, y);            /* a rival of the same base */
		struct am_body acc = fx_body(AM_KIND_ACCEPT, i % 2 ? y : x);
		put(who, &acc, NULL);
		if (rnd(2)) {
			acc = fx_body(AM_KIND_ACCEPT, i % 2 ? x : y);
			put(1 - who, &acc, NULL);
		}
	}
}

/* A correction of the check-in b by who, answered in one of the ways
 * that decide whether it replaces what it corrects. */
static void
make_correction(int who, struct am_body *b)
{
	uint8_t h[32];
	b->status = 1 + rnd(3);
	b->note = am_str_c("correction");
	put(who, b, h);
	struct am_body cf = fx_body(AM_KIND_CONFIRM, h);
	struct am_body dp = fx_body(AM_KIND_DISPUTE, h);
	dp.note = am_str_c("the first one was right");
	switch (rnd(4)) {
	case 0:
		put(1 - who, &cf, NULL);
		break;
	case 1:
		put(1 - who, &dp, NULL);
		break;
	case 2:                             /* a changed answer */
		put(1 - who, &dp, NULL);
		put(1 - who, &cf, NULL);
		break;
	default:                            /* left unanswered */
		break;
	}
	if (rnd(4) == 0)
		put(2, &dp, NULL);          /* the witness disputes it */
}

static void
make_checkins(void)
{
	for (int i = 0; i < CHECKINS; i++) {
		if (i == CHECKINS / 2)
			rotate_sam();
		struct agreement *a = pick_in_force();
		int who = a->nby == 1 ? a->by[0] : (int)rnd(2);
		char period[16];
		uint8_t h[32];
		struct am_body b = fx_body(AM_KIND_CHECKIN, a->id);
		snprintf(period, sizeof period, "2024-01-%02u", 1 + rnd(28));
		b.period = am_str_c(period);
		b.status = 1 + rnd(3);
		b.note = am_str_c(rnd(2) ? "done" : NULL);
		put(who, &b, h);
		uint32_t r = rnd(100);
		struct am_body cf = fx_body(AM_KIND_CONFIRM, h);
		struct am_body dp = fx_body(AM_KIND_DISPUTE, h);
		dp.note = am_str_c("that is not what happened");
		if (r < 60)
			put(1 - who, &cf, NULL);
		else if (r < 75)
			put(1 - who, &dp, NULL);
		if (r < 5)
			put(1 - who, &dp, NULL);    /* changed their mind */
		if (rnd(5) == 0)
			put(2, &cf, NULL);          /* the witness */
		if (rnd(100) == 0)
			put(who, &cf, NULL);        /* one's own: ignored */
		if (rnd(5) == 0)
			make_correction(who, &b);
	}
}

static void
make_rest(void)
{
	for (int i = 0; i < 20; i++) {
		int who = (int)rnd(3);
		uint8_t h[32];
		struct am_body b = { .kind = AM_KIND_STATEMENT,
			.note = am_str_c("I hear you.") };
		if (rnd(2)) {
			b.has_target = true;
			memcpy(b.target, ags[rnd(AGREEMENTS)].id, 32);
		}
		put(who, &b, h);
		if (rnd(2)) {
			struct am_body cf = fx_body(AM_KIND_CONFIRM, h);
			put((who + 1 + (int)rnd(2)) % 3, &cf, NULL);
		}
	}
	for (int i = 0; i < 5; i++) {
		struct agreement *a = pick_in_force();
		int who = (int)rnd(2);
		uint8_t h[32];
		struct am_body e = fx_body(AM_KIND_END, a->id);
		e.note = am_str_c("time to stop");
		put(who, &e, h);
		if (i % 2 == 0) {
			struct am_body acc = fx_body(AM_KIND_ACCEPT, h);
			put(1 - who, &acc, NULL);
		}
		a->ended = true;
	}
	/* an answer to an entry nobody has */
	uint8_t nothing[32];
	memset(nothing, 0xab, 32);
	struct am_body acc = fx_body(AM_KIND_ACCEPT, nothing);
	put(1, &acc, NULL);
}

/* Every raw entry of the history. */
static struct {
	uint8_t *raw;
	size_t len;
	int author;
	uint64_t seq;
	uint32_t kind;
} ent[MAXENT];
static int nent;
static uint64_t maxseq[NKEYS];

static int grab_author;

static int
grab(void *ctx, const uint8_t *raw, size_t len)
{
	struct am_entry e;
	(void)ctx;
	check(nent < MAXENT);
	check_rc(am_entry_decode(raw, len, &e), AM_OK);
	ent[nent].raw = malloc(len);
	memcpy(ent[nent].raw, raw, len);
	ent[nent].len = len;
	ent[nent].author = grab_author;
	ent[nent].seq = e.seq;
	ent[nent].kind = e.kind;
	maxseq[grab_author] = e.seq;
	nent++;
	return AM_OK;
}

struct digests {
	uint8_t store[32], state[32], refold[32];
};

static void
digests(struct am_store *s, struct digests *d)
{
	check_rc(am_store_digest(s, circle, d->store), AM_OK);
	check_rc(am_state_digest(s, circle, d->state), AM_OK);
	check_rc(am_state_refold(s, circle, d->refold), AM_OK);
	check(memcmp(d->state, d->refold, 32) == 0);
}

struct counts {
	long gaps, strangers;
};

/* Imports the entries in the order given, holding back each refused one
 * until what it waits for has arrived: its predecessor, or (for an author
 * not yet allowed to write) a GENESIS or MEMBER entry. */
static void
import(struct am_store *s, const int *order, struct counts *k)
{
	static int held[NKEYS][MAXENT];     /* entry index by seq, or -1 */
	uint64_t head[NKEYS] = { 0 };
	bool blocked[NKEYS] = { false };
	enum am_ingest_result r;

	for (int a = 0; a < NKEYS; a++)
		for (int i = 0; i < MAXENT; i++)
			held[a][i] = -1;
	for (int i = 0; i < nent; i++) {
		int x = order[i];
		if (blocked[ent[x].author] && ent[x].kind != AM_KIND_GENESIS) {
			/* known to wait for a member proposal: no use trying */
			held[ent[x].author][ent[x].seq] = x;
			continue;
		}
		int rc = am_store_ingest(s, ent[x].raw, ent[x].len, &r);
		if (rc == AM_ERR_GAP || rc == AM_ERR_NO_GENESIS) {
			k->gaps += rc == AM_ERR_GAP;
			k->strangers += rc == AM_ERR_NO_GENESIS;
			blocked[ent[x].author] |= rc == AM_ERR_NO_GENESIS;
			held[ent[x].author][ent[x].seq] = x;
			continue;
		}
		check_rc(rc, AM_OK);
		check(r == AM_INGEST_NEW);
		head[ent[x].author] = ent[x].seq;
		if (ent[x].kind == AM_KIND_MEMBER || ent[x].kind == AM_KIND_GENESIS)
			memset(blocked, 0, sizeof blocked);
		/* drain what the arrival unblocked, bounded by the history */
		for (bool moved = true; moved;) {
			moved = false;
			for (int a = 0; a < NKEYS; a++) {
				int y = head[a] + 1 <= maxseq[a] ? held[a][head[a] + 1] : -1;
				if (y < 0 || blocked[a])
					continue;
				rc = am_store_ingest(s, ent[y].raw, ent[y].len, &r);
				if (rc == AM_ERR_NO_GENESIS) {
					k->strangers++;
					blocked[a] = true;
					continue;
				}
				check_rc(rc, AM_OK);
				held[a][head[a] + 1] = -1;
				head[a]++;
				if (ent[y].kind == AM_KIND_MEMBER ||
				    ent[y].kind == AM_KIND_GENESIS)
					memset(blocked, 0, sizeof blocked);
				moved = true;
			}
		}
	}
	for (int a = 0; a < NKEYS; a++) {
		if (head[a] != maxseq[a])
			fprintf(stderr, "author %d: head %lu of %lu, blocked %d, next held %d\n",
				a, (unsigned long)head[a], (unsigned long)maxseq[a], blocked[a],
				held[a][head[a] + 1]);
		check(head[a] == maxseq[a]);
	}
}

/* Runs orders [from, to) against the reference digests; exits non-zero
 * through check() on any difference. */
static void
run_orders(int from, int to, const struct digests *want, struct counts *k)
{
	int *order = malloc((size_t)nent * sizeof *order);
	for (int o = from; o < to; o++) {
		char path[FX_PATH_MAX];
		struct am_store *s;
		struct digests got;
		prng = 0x1234567u + (uint64_t)o * 0x9e3779b97f4a7c15u;
		for (int i = 0; i < nent; i++)
			order[i] = i;
		for (int i = nent - 1; i > 0; i--) {
			int j = (int)rnd((uint32_t)i + 1), t = order[i];
			order[i] = order[j];
			order[j] = t;
		}
		snprintf(path, sizeof path, "%s/order-%d.db", dir, o);
		check_rc(am_store_open(path, &s), AM_OK);
		import(s, order, k);
		digests(s, &got);
		check(memcmp(got.store, want->store, 32) == 0);
		check(memcmp(got.state, want->state, 32) == 0);
		am_store_close(&s);
		fx_store_unlink(path);
	}
	free(order);
}

int
main(void)
{
	struct digests want;
	struct counts k = { 0, 0 };

	check(sodium_init() >= 0);
	dir = fx_dir_make_in_memory("order");
	for (int i = 0; i < NKEYS; i++) {
		ids[i] = fx_identity_seeded((uint8_t)('a' + i));
		ID[i] = am_identity_public(ids[i]);
	}
	gen = fx_store_open("gen.db");
	make_members();
	make_agreements();
	make_amendments();
	make_rivals();
	make_checkins();
	make_rest();
	for (grab_author = 0; grab_author < NKEYS; grab_author++)
		check_rc(am_store_range(gen, circle, ID[grab_author], 1, UINT64_MAX,
			grab, NULL), AM_OK);
	digests(gen, &want);

	/* the history holds what the test means it to */
	struct am_violation *v;
	size_t nv;
	check_rc(am_state_violations(gen, circle, &v, &nv), AM_OK);
	check(nv >= 8);
	free(v);
	struct am_agreement *ag;
	size_t nag, in_force = 0, ended = 0, declined = 0;
	check_rc(am_state_agreements(gen, circle, 0, &ag, &nag), AM_OK);
	check(nag == AGREEMENTS);
	for (size_t i = 0; i < nag; i++) {
		in_force += ag[i].status == AM_AGREEMENT_IN_FORCE;
		ended += ag[i].status == AM_AGREEMENT_ENDED ||
			ag[i].status == AM_AGREEMENT_ENDING;
		declined += ag[i].status == AM_AGREEMENT_DECLINED;
	}
	check(in_force > 20 && ended == 5 && declined > 0);
	/* and the rivals: versions that need more than their parties, and
	 * versions passed over */
	size_t asks_others = 0, passed_over = 0;
	for (size_t i = 0; i < nag; i++) {
		struct am_version *vs;
		size_t nvs;
		check_rc(am_state_versions(gen, ag[i].id, &vs, &nvs), AM_OK);
		for (size_t j = 0; j < nvs; j++) {
			asks_others += vs[j].nothers > 0;
			passed_over += vs[j].status == AM_VERSION_PASSED_OVER;
		}
		am_state_versions_free(&vs, nvs);
	}
	check(asks_others > 0 && passed_over > 0);
	/* and the corrections: some replace what they correct, some do not
	 * (answered, or disputed); some answers changed */
	size_t replacing = 0, waiting = 0, changed = 0;
	for (size_t i = 0; i < nag; i++) {
		struct am_checkin *ci;
		size_t nci;
		check_rc(am_state_checkins(gen, ag[i].id, &ci, &nci), AM_OK);
		for (size_t j = 0; j < nci; j++) {
			replacing += ci[j].correction && ci[j].counts;
			waiting += ci[j].correction && !ci[j].counts;
			changed += ci[j].nanswers > ci[j].nmarks;
		}
		am_state_checkins_free(&ci, nci);
	}
	check(replacing > 10 && waiting > 10 && changed > 10);
	/* and the succession: Sam's new key holds his place, and his
	 * check-ins of both keys count for it */
	struct am_member *m;
	size_t nm, by_old = 0, by_new = 0;
	check_rc(am_state_members(gen, circle, &m, &nm), AM_OK);
	for (size_t i = 0; i < nm; i++) {
		if (memcmp(m[i].id, ID[0], 32) == 0)
			check(m[i].status == AM_MEMBER_DEPARTED &&
				m[i].departure_kind == AM_KIND_SUCCESSION);
		if (memcmp(m[i].id, ID[3], 32) == 0)
			check(m[i].status == AM_MEMBER_JOINED);
	}
	free(m);
	for (size_t i = 0; i < nag; i++) {
		struct am_checkin *ci;
		size_t nci;
		check_rc(am_state_checkins(gen, ag[i].id, &ci, &nci), AM_OK);
		for (size_t j = 0; j < nci; j++) {
			check(memcmp(ci[j].author, ID[0], 32) != 0);
			by_old += memcmp(ci[j].signer, ID[0], 32) == 0;
			by_new += memcmp(ci[j].signer, ID[3], 32) == 0;
		}
		am_state_checkins_free(&ci, nci);
	}
	check(by_old > 100 && by_new > 100);
	printf("corrections: %zu counting, %zu not; %zu check-ins with a "
		"changed answer\n", replacing, waiting, changed);
	am_state_agreements_free(&ag, nag);
	am_store_close(&gen);
	printf("history: %d entries\n", nent);

	pid_t child = fork();
	check(child >= 0);
	if (child == 0) {
		run_orders(ORDERS / 2, ORDERS, &want, &k);
		_exit(k.gaps > 0 && k.strangers > 0 ? 0 : 3);
	}
	run_orders(0, ORDERS / 2, &want, &k);
	int status;
	check(waitpid(child, &status, 0) == child);
	check(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	/* the orders did make entries wait */
	check(k.gaps > 0 && k.strangers > 0);
	printf("%d orders, %ld gaps and %ld early writers retried in this half\n",
		ORDERS, k.gaps, k.strangers);

	for (int i = 0; i < nent; i++)
		free(ent[i].raw);
	for (int i = 0; i < NKEYS; i++)
		am_identity_destroy(&ids[i]);
	char path[FX_PATH_MAX];
	fx_path("gen.db", path);
	fx_store_unlink(path);
	/* every store was removed once read */
	check(rmdir(dir) == 0);
	printf("state-order: ok\n");
	return 0;
}
