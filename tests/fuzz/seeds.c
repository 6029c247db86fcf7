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
#include "amends/invite.h"
#include "amends/sync.h"
#include "amends/store.h"
#include "invite_impl.h"
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
	check_rc(am_store_append(s, id, circle, 1800000000000LL, &b, NULL, NULL), AM_OK);
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
	struct am_body u = { .kind = AM_KIND_SUCCESSION, .head_seq = 1,
		.nneed = 1, .note = am_str_c("lost phone") };
	memcpy(u.target, am_identity_public(id), 32);
	memcpy(u.heir, other, 32);
	memset(u.head_hash, 5, 32);
	memcpy(u.need[0], other, 32);
	const struct am_body *bodies[] = { &m, &p, &c, &st, &k, &u };
	for (size_t i = 0; i < sizeof bodies / sizeof bodies[0]; i++)
		check_rc(am_store_append(s, id, circle, 1800000000001LL, bodies[i], NULL, NULL), AM_OK);
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

/* One message of several types. */
static void
sync_seeds(const uint8_t circle[32], const uint8_t author[32])
{
	static struct am_sync_msg m;
	static const uint32_t types[] = { AM_SYNC_HELLO, AM_SYNC_DIGESTS,
		AM_SYNC_HEADS, AM_SYNC_DONE, AM_SYNC_WANT, AM_SYNC_ACK,
		AM_SYNC_WANT_FORKS, AM_SYNC_ERROR };
	for (size_t i = 0; i < sizeof types / sizeof types[0]; i++) {
		uint8_t *buf;
		size_t len;
		char name[32];
		memset(&m, 0, sizeof m);
		m.type = types[i];
		memcpy(m.circle, circle, 32);
		memcpy(m.author, author, 32);
		m.from = 1;
		m.max = 256;
		m.seq = 3;
		m.final = true;
		m.code = AM_ERR_NOT_SHARED;
		m.about = AM_SYNC_WANT;
		m.text = am_str_c("not shared");
		if (m.type == AM_SYNC_DIGESTS) {
			m.n = 1;
			memcpy(m.digests[0].circle, circle, 32);
		}
		if (m.type == AM_SYNC_HEADS) {
			m.n = 1;
			memcpy(m.heads[0].author, author, 32);
			m.heads[0].seq = 3;
		}
		if (am_sync_msg_encode(&m, &buf, &len) != AM_OK)
			continue;
		snprintf(name, sizeof name, "type-%u", m.type);
		put("sync", name, buf, len);
		free(buf);
	}
}

static void
invite_seed(const uint8_t circle[32], const uint8_t inviter[32])
{
	struct am_invite inv = { .expires = 1800000000000LL };
	char *code;
	memcpy(inv.circle, circle, 32);
	memcpy(inv.inviter, inviter, 32);
	memset(inv.secret, 5, sizeof inv.secret);
	snprintf(inv.address, sizeof inv.address, "tcp://127.0.0.1:7411");
	if (am_invite_format(&inv, &code) == AM_OK) {
		put("invite", "code", (const uint8_t *)code, strlen(code));
		free(code);
	}
}

/* The PREVIEW of protocol/invite-vectors.txt (the identities of seeds
 * 00..1f and 20..3f), which fuzz/invite.c checks against its invite. */
static void
preview_seed(void)
{
	uint8_t seed[32], circle[32], *graw, *praw;
	size_t glen, plen;
	struct am_identity *sam, *alex;
	struct am_entry g, p;
	struct am_body b;
	struct am_entry_draft d;

	for (int i = 0; i < 32; i++)
		seed[i] = (uint8_t)i;
	check_rc(am_identity_from_seed(seed, &sam), AM_OK);
	for (int i = 0; i < 32; i++)
		seed[i] = (uint8_t)(0x20 + i);
	check_rc(am_identity_from_seed(seed, &alex), AM_OK);
	memset(&b, 0, sizeof b);
	b.kind = AM_KIND_GENESIS;
	b.name = am_str_c("us");
	memset(b.nonce, 0x42, 32);
	am_circle_id(am_identity_public(sam), b.nonce, circle);
	memset(&d, 0, sizeof d);
	memcpy(d.circle, circle, 32);
	d.seq = 1;
	d.time = 1800000000000LL;
	d.body = &b;
	check_rc(am_entry_sign(sam, &d, &graw, &glen, &g), AM_OK);
	memset(&b, 0, sizeof b);
	b.kind = AM_KIND_MEMBER;
	memcpy(b.target, am_identity_public(alex), 32);
	d.seq = 2;
	d.has_prev = true;
	memcpy(d.prev, g.hash, 32);
	d.time += 60000;
	check_rc(am_entry_sign(sam, &d, &praw, &plen, &p), AM_OK);
	struct am_invite_member m = { .has_name = true, .name = "Sam" };
	memcpy(m.id, am_identity_public(sam), 32);
	struct invite_preview_fields f = {
		.circle = circle, .name = "us", .name_len = 2, .role = 0,
		.joiner = am_identity_public(alex), .genesis = graw,
		.genesis_len = glen, .proposal = praw, .proposal_len = plen,
		.members = &m, .nmembers = 1, .made = 1800000061000LL,
	};
	struct am_mp_writer w;
	am_mp_writer_init(&w);
	check_rc(invite_preview_write(sam, &f, &w), AM_OK);
	put("invite", "preview", (const uint8_t *)w.buf.data, w.buf.size);
	am_mp_writer_finish(&w);
	free(graw);
	free(praw);
	am_identity_destroy(&sam);
	am_identity_destroy(&alex);
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
	check_rc(am_bundle_export_signed(s, id, circle, NULL, 1800000000000LL, &data,
		&len, NULL, NULL, NULL), AM_OK);
	put("export", "signed", data, len);
	/* as written before the file magic: the reader takes both */
	put("export", "signed-unmarked", data + AM_BUNDLE_FILE_MAGIC_BYTES,
		len - AM_BUNDLE_FILE_MAGIC_BYTES);
	free(data);
	backup();
	put("mp", "nested", (const uint8_t *)"\x93\x91\x01\xa1x\xc4\x01\x00", 8);
	sync_seeds(circle, am_identity_public(id));
	invite_seed(circle, am_identity_public(id));
	preview_seed();
	am_store_close(&s);
	unlink(db);
	snprintf(db, sizeof db, "%s/seeds.db-wal", dir);
	unlink(db);
	snprintf(db, sizeof db, "%s/seeds.db-shm", dir);
	unlink(db);
	am_identity_destroy(&id);
	return 0;
}
