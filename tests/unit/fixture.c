/*
 * The unit tests' shared set-up (fixture.h). One temporary directory per
 * test process: tests run as separate programs, so a static is enough.
 */
#include <ftw.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "amends/state.h"
#include "fixture.h"
#include "test.h"

static char dir[FX_PATH_MAX];
static int nstores;

static const char *
dir_make(const char *parent, const char *name)
{
	check(snprintf(dir, sizeof dir, "%s/amends-test-%s-XXXXXX", parent,
		name) < (int)sizeof dir);
	check(mkdtemp(dir) != NULL);
	return dir;
}

const char *
fx_dir_make(const char *name)
{
	return dir_make("/tmp", name);
}

const char *
fx_dir_make_in_memory(const char *name)
{
	return dir_make(access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp", name);
}

static int
remove_one(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
	(void)st;
	(void)type;
	(void)ftw;
	return remove(path);
}

void
fx_dir_remove(void)
{
	/* depth first, so each directory is empty when its turn comes */
	check(nftw(dir, remove_one, 16, FTW_DEPTH | FTW_PHYS) == 0);
}

void
fx_path(const char *name, char out[static FX_PATH_MAX])
{
	check(snprintf(out, FX_PATH_MAX, "%s/%s", dir, name) < FX_PATH_MAX);
}

struct am_store *
fx_store_open(const char *name)
{
	char p[FX_PATH_MAX];
	struct am_store *s;
	fx_path(name, p);
	check_rc(am_store_open(p, &s), AM_OK);
	return s;
}

struct am_store *
fx_store_new(char path[static FX_PATH_MAX])
{
	struct am_store *s;
	check(snprintf(path, FX_PATH_MAX, "%s/s%d.db", dir, nstores++) <
		FX_PATH_MAX);
	check_rc(am_store_open(path, &s), AM_OK);
	return s;
}

int
fx_store_unlink(const char *path)
{
	char side[FX_PATH_MAX + 8];
	int rc = unlink(path);
	snprintf(side, sizeof side, "%s-wal", path);
	unlink(side);
	snprintf(side, sizeof side, "%s-shm", path);
	unlink(side);
	return rc;
}

struct am_identity *
fx_identity_seeded(uint8_t fill)
{
	uint8_t seed[32];
	struct am_identity *id;
	memset(seed, fill, sizeof seed);
	check_rc(am_identity_from_seed(seed, &id), AM_OK);
	return id;
}

void
fx_genesis(struct am_store *s, struct am_identity *id, const char *name,
	int64_t time, uint8_t circle[32])
{
	struct am_body b = { .kind = AM_KIND_GENESIS, .name = am_str_c(name) };
	randombytes_buf(b.nonce, sizeof b.nonce);
	check_rc(am_store_append(s, id, circle, time, &b, NULL, NULL), AM_OK);
	am_circle_id(am_identity_public(id), b.nonce, circle);
}

void
fx_admit(struct am_store *s, const uint8_t circle[32], struct am_identity *by,
	struct am_identity *who, int64_t proposed, int64_t accepted)
{
	struct am_body b = { .kind = AM_KIND_MEMBER, .role = AM_ROLE_MEMBER };
	uint8_t proposal[32];
	memcpy(b.target, am_identity_public(who), 32);
	check_rc(am_store_append(s, by, circle, proposed, &b, proposal, NULL), AM_OK);
	b = fx_body(AM_KIND_ACCEPT, proposal);
	check_rc(am_store_append(s, who, circle, accepted, &b, NULL, NULL), AM_OK);
}

void
fx_invite(struct am_store *from, const uint8_t circle[32], struct am_store *to,
	struct am_identity *who)
{
	const uint8_t *me = am_identity_public(who);
	struct am_pending *p = NULL;
	struct fx_entries g = { .n = 0 };
	uint8_t h[32];
	uint64_t head;
	size_t n = 0;

	check_rc(am_state_pending(from, circle, me, &p, &n), AM_OK);
	for (size_t i = 0; i < n; i++) {
		if (p[i].kind != AM_PENDING_MEMBER)
			continue;
		struct am_body b = fx_body(AM_KIND_ACCEPT, p[i].hash);
		check_rc(am_store_proposed_add(to, circle, p[i].author,
			(const uint8_t *)"preview", 7), AM_OK);
		check_rc(am_store_append(to, who, circle, 1500, &b, NULL, NULL), AM_OK);
	}
	am_state_pending_free(&p, n);
	check_rc(am_store_head(to, circle, me, &head, h), AM_OK);
	if (head == 0)
		return;
	check_rc(am_store_range(to, circle, me, 1, head, fx_entries_add, &g), AM_OK);
	for (size_t i = 0; i < g.n; i++) {
		enum am_ingest_result r;
		check_rc(am_store_ingest(from, g.raw[i], g.len[i], &r), AM_OK);
	}
	fx_entries_free(&g);
}

void
fx_act(struct am_store *s, struct am_identity *id, const uint8_t *circle,
	const struct am_body *b, int64_t time, uint8_t *hash)
{
	char why[160];
	int rc = am_state_check(s, circle, am_identity_public(id), b, why,
		sizeof why);
	if (rc != AM_OK)
		fprintf(stderr, "refused: %s\n", why);
	check_rc(rc, AM_OK);
	check_rc(am_store_append(s, id, circle, time, b, hash, NULL), AM_OK);
}

struct am_body
fx_evening_checkin(const char *title, const uint8_t *checker,
	const uint8_t *other)
{
	struct am_body b = { .kind = AM_KIND_PROPOSE };
	b.terms.title = am_str_c(title);
	b.terms.text = am_str_c("Sam checks in every evening by 21:00.");
	b.terms.nparties = 2;
	memcpy(b.terms.parties[0], checker, 32);
	memcpy(b.terms.parties[1], other, 32);
	b.terms.nby = 1;
	memcpy(b.terms.by[0], checker, 32);
	b.terms.has_schedule = true;
	b.terms.every = AM_EVERY_DAY;
	b.terms.at = 21 * 60;
	b.terms.tz = am_str_c("Europe/Paris");
	return b;
}

struct am_body
fx_body(uint32_t kind, const uint8_t *target)
{
	struct am_body b = { .kind = kind };
	if (target != NULL)
		memcpy(b.target, target, 32);
	return b;
}

bool
fx_has_violation(struct am_store *s, const uint8_t *circle,
	const uint8_t *hash, uint32_t rule)
{
	struct am_violation *v;
	size_t n;
	bool found = false;
	check_rc(am_state_violations(s, circle, &v, &n), AM_OK);
	for (size_t i = 0; i < n; i++)
		found = found || (memcmp(v[i].hash, hash, 32) == 0 && v[i].rule == rule);
	free(v);
	return found;
}

int
fx_entries_add(void *ctx, const uint8_t *raw, size_t len)
{
	struct fx_entries *g = ctx;
	check(g->n < FX_ENTRIES_MAX);
	g->raw[g->n] = malloc(len);
	check(g->raw[g->n] != NULL);
	memcpy(g->raw[g->n], raw, len);
	g->len[g->n++] = len;
	return AM_OK;
}

void
fx_entries_free(struct fx_entries *g)
{
	for (size_t i = 0; i < g->n; i++)
		free(g->raw[i]);
	g->n = 0;
}

uint32_t
fx_rnd(uint64_t *state, uint32_t n)
{
	/* xorshift64*: the same sequence on every machine */
	*state ^= *state >> 12;
	*state ^= *state << 25;
	*state ^= *state >> 27;
	return (uint32_t)((*state * 2685821657736338717u) >> 33) % n;
}
