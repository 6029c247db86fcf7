/*
 * Writes the seed corpora of the fuzz targets into DIR/<target>/: entries of
 * every kind, a bundle, a key backup with the smallest work limits (so that
 * fuzzing it is fast), msgpack values. Run by tools/fuzz before fuzzing.
 */
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "amends/bundle.h"
#include "amends/store.h"
#include "mp.h"
#include "../test.h"

static const char *dir;

static void
put(const char *target, const char *name, const uint8_t *data, size_t len)
{
	char p[512];
	snprintf(p, sizeof p, "%s/%s", dir, target);
	mkdir(p, 0755);
	snprintf(p, sizeof p, "%s/%s/%s", dir, target, name);
	FILE *f = fopen(p, "wb");
	check(f != NULL);
	check(fwrite(data, 1, len, f) == len);
	fclose(f);
}

static void
entries(struct am_identity *id, struct am_store *s)
{
	uint8_t circle[32], other[32];
	struct am_body b = { .kind = AM_KIND_GENESIS, .name = am_str_c("seed") };
	memset(b.nonce, 1, 32);
	check_rc(am_store_append(s, id, circle, 1, &b, NULL, NULL), AM_OK);
	am_circle_id(am_identity_public(id), b.nonce, circle);
	memset(other, 2, 32);

	struct am_body m = { .kind = AM_KIND_MEMBER, .role = AM_ROLE_WITNESS };
	memcpy(m.target, other, 32);
	struct am_body p = { .kind = AM_KIND_PROPOSE };
	p.terms.title = am_str_c("Evening check-in");
	p.terms.text = am_str_c("Check in by 21:00.");
	p.terms.nparties = 1;
	memcpy(p.terms.parties[0], am_identity_public(id), 32);
	p.terms.has_schedule = true;
	p.terms.every = AM_EVERY_DAY;
	p.terms.at = 1260;
	p.terms.tz = am_str_c("Europe/Paris");
	p.terms.npauses = 1;
	p.terms.pauses[0].from = am_str_c("2026-12-24");
	p.terms.pauses[0].until = am_str_c("2026-12-26");
	struct am_body c = { .kind = AM_KIND_CHECKIN, .period = am_str_c("2026-11-25"),
		.status = AM_KEPT, .note = am_str_c("ok") };
	struct am_body st = { .kind = AM_KIND_STATEMENT, .note = am_str_c("sorry") };
	struct am_body k = { .kind = AM_KIND_CHECKPOINT, .nheads = 1 };
	k.heads[0].seq = 1;
	const struct am_body *bodies[] = { &m, &p, &c, &st, &k };
	for (size_t i = 0; i < sizeof bodies / sizeof bodies[0]; i++)
		check_rc(am_store_append(s, id, circle, 2, bodies[i], NULL, NULL), AM_OK);
}

static int
save_entry(void *ctx, const uint8_t *raw, size_t len)
{
	char name[32];
	int *n = ctx;
	snprintf(name, sizeof name, "entry-%d", (*n)++);
	put("entry", name, raw, len);
	put("mp", name, raw, len);
	return AM_OK;
}

static void
backup(void)
{
	/* the layout of am_identity_backup, with the smallest limits */
	uint8_t out[AM_BACKUP_BYTES], key[32], plain[64], seed[32];
	memcpy(out, "AMENDSB1", 8);
	out[8] = 1;
	uint32_t ops = crypto_pwhash_OPSLIMIT_MIN, kib = crypto_pwhash_MEMLIMIT_MIN / 1024;
	for (int i = 0; i < 4; i++) {
		out[9 + i] = (uint8_t)(ops >> (24 - 8 * i));
		out[13 + i] = (uint8_t)(kib >> (24 - 8 * i));
	}
	memset(out + 17, 3, 16 + 24);
	check(crypto_pwhash(key, 32, "fuzz", 4, out + 17, ops, (size_t)kib * 1024,
		crypto_pwhash_ALG_ARGON2ID13) == 0);
	memset(seed, 4, 32);
	uint8_t pk[32], sk[64];
	crypto_sign_seed_keypair(pk, sk, seed);
	memcpy(plain, seed, 32);
	memcpy(plain + 32, pk, 32);
	crypto_secretbox_easy(out + 57, plain, 64, out + 33, key);
	put("backup", "min-limits", out, sizeof out);
}

int
main(int argc, char **argv)
{
	struct am_identity *id;
	struct am_store *s;
	char db[512];
	uint8_t seed[32] = { 7 };
	check(argc == 2);
	dir = argv[1];
	mkdir(dir, 0755);
	check(sodium_init() >= 0);
	check_rc(am_identity_from_seed(seed, &id), AM_OK);
	snprintf(db, sizeof db, "%s/seeds.db", dir);
	unlink(db);
	check_rc(am_store_open(db, &s), AM_OK);
	entries(id, s);

	uint8_t circle[32];
	struct am_body b = { .kind = AM_KIND_GENESIS };
	memset(b.nonce, 1, 32);
	am_circle_id(am_identity_public(id), b.nonce, circle);
	int n = 0;
	check_rc(am_store_range(s, circle, am_identity_public(id), 1, 100, save_entry, &n),
		AM_OK);
	uint8_t *data;
	size_t len;
	check_rc(am_bundle_export(s, NULL, &data, &len, NULL, NULL), AM_OK);
	put("bundle", "small", data, len);
	free(data);
	backup();
	put("mp", "nested", (const uint8_t *)"\x93\x91\x01\xa1x\xc4\x01\x00", 8);
	am_store_close(&s);
	unlink(db);
	snprintf(db, sizeof db, "%s/seeds.db-wal", dir);
	unlink(db);
	snprintf(db, sizeof db, "%s/seeds.db-shm", dir);
	unlink(db);
	am_identity_destroy(&id);
	return 0;
}
