/*
 * Tests of bundles: export and import give equal records, importing twice
 * changes nothing, entries ahead of their author's membership wait and are
 * stored, a file out of order is refused whole with nothing stored and the
 * sentence verify --file gives, damaged entries and missing predecessors
 * are refused with their reasons, fork evidence travels, and files that are
 * not bundles, of another version, oversized or lying about their lengths
 * are refused before anything is allocated from them; an entry whose
 * signature fails but that its author's next entry vouches for travels
 * as a peer's batch would carry it, and a proof calls it a finding.
 */
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "amends/bundle.h"
#include "amends/proof.h"
#include "fixture.h"
#include "mp.h"
#include "test.h"

static struct am_identity *sam, *alex;
static const char *dir;

/* A small valid record: Sam's circle, Alex proposed and accepting, and a
 * few statements from each. Returns the circle ID. */
static void
make_record(struct am_store *s, uint8_t circle[32], int statements)
{
	fx_genesis(s, sam, "us", 1000, circle);
	fx_admit(s, circle, sam, alex, 2000, 3000);
	for (int i = 0; i < statements; i++) {
		struct am_body b = { .kind = AM_KIND_STATEMENT,
			.note = am_str_c(i % 2 ? "from alex" : "from sam") };
		check_rc(am_store_append(s, i % 2 ? alex : sam, circle, 4000 + i,
			&b, NULL, NULL), AM_OK);
	}
}

static void
check_same(struct am_store *a, struct am_store *b, const uint8_t circle[32])
{
	uint8_t da[32], db[32];
	check_rc(am_store_digest(a, circle, da), AM_OK);
	check_rc(am_store_digest(b, circle, db), AM_OK);
	check(memcmp(da, db, 32) == 0);
}

struct refusals {
	int n;
	int rc[16];
	uint64_t seq[16];
};

static void
on_refused(void *ctx, size_t index, const struct am_entry *e, int rc)
{
	struct refusals *r = ctx;
	(void)index;
	if (r->n < 16) {
		r->rc[r->n] = rc;
		r->seq[r->n] = e != NULL ? e->seq : 0;
	}
	r->n++;
}

static void
test_round_trip(void)
{
	struct am_store *a = fx_store_open("rt-a.db"), *b = fx_store_open("rt-b.db");
	struct am_bundle *bun;
	struct am_bundle_counts n;
	uint8_t circle[32], *data, *again;
	size_t len, alen, ne, nf;
	char path[FX_PATH_MAX];

	make_record(a, circle, 6);
	check_rc(am_bundle_export(a, circle, &data, &len, &ne, &nf), AM_OK);
	check(ne == 9 && nf == 0);
	fx_path("rt.bundle", path);
	check_rc(am_bundle_save(path, data, len), AM_OK);
	check_rc(am_bundle_load(path, &bun), AM_OK);
	check(bun->nitems == 9 && bun->len == len);
	check(memcmp(bun->data, data, len) == 0);

	struct refusals r = { 0 };
	check_rc(am_bundle_import(b, bun, on_refused, &r, &n), AM_OK);
	check(n.added == 9 && n.duplicates == 0 && n.forks == 0 && n.refused == 0);
	check(r.n == 0);
	check_same(a, b, circle);

	/* twice: nothing new */
	check_rc(am_bundle_import(b, bun, on_refused, &r, &n), AM_OK);
	check(n.added == 0 && n.duplicates == 9 && n.refused == 0);
	check_same(a, b, circle);

	/* the same record gives the same bytes, wherever it is exported */
	check_rc(am_bundle_export(b, circle, &again, &alen, NULL, NULL), AM_OK);
	check(alen == len && memcmp(again, data, len) == 0);
	free(again);
	/* all circles: here the only one */
	check_rc(am_bundle_export(b, NULL, &again, &alen, NULL, NULL), AM_OK);
	check(alen == len && memcmp(again, data, len) == 0);
	free(again);

	/* a circle the store does not hold */
	uint8_t other[32];
	memset(other, 7, 32);
	check_rc(am_bundle_export(a, other, &again, &alen, NULL, NULL),
		AM_ERR_NOT_FOUND);

	am_bundle_destroy(&bun);
	check(bun == NULL);
	am_bundle_destroy(&bun);
	free(data);
	am_store_close(&a);
	am_store_close(&b);
}

/* Builds a bundle from raw entries in the given order, with nf of them
 * (order[n - nf ..]) as fork evidence. */
static uint8_t *
build_forks(uint8_t **raw, size_t *lens, const int *order, int n, int nf,
	size_t *len)
{
	struct am_mp_writer w;
	am_mp_writer_init(&w);
	am_mp_write_array(&w, 4);
	am_mp_write_cstr(&w, AM_BUNDLE_MAGIC);
	am_mp_write_uint(&w, AM_BUNDLE_VERSION);
	for (int i = 0; i < n; i++) {
		if (i == 0 || i == n - nf)
			am_mp_write_array(&w, (uint32_t)(i == 0 ? n - nf : nf));
		am_mp_write_bin(&w, raw[order[i]], lens[order[i]]);
	}
	if (n == 0 || nf == n)
		am_mp_write_array(&w, 0);
	if (nf == 0)
		am_mp_write_array(&w, 0);
	uint8_t *out = am_mp_writer_take(&w, len);
	check(out != NULL);
	am_mp_writer_finish(&w);
	return out;
}

/* Builds a bundle from raw entries in the given order. */
static uint8_t *
build(uint8_t **raw, size_t *lens, const int *order, int n, size_t *len)
{
	return build_forks(raw, lens, order, n, 0, len);
}

/* Splits an exported bundle into copies of its raw entries. */
static int
split(const uint8_t *data, size_t len, uint8_t **raw, size_t *lens, int max)
{
	struct am_bundle *b;
	check_rc(am_bundle_parse(data, len, &b), AM_OK);
	check(b->nitems <= (size_t)max);
	int n = (int)b->nitems;
	for (int i = 0; i < n; i++) {
		raw[i] = malloc(b->items[i].len);
		memcpy(raw[i], b->items[i].raw, b->items[i].len);
		lens[i] = b->items[i].len;
	}
	am_bundle_destroy(&b);
	return n;
}

struct disorder {
	int n;
	size_t first;               /* index of the first item out of order */
	char what[200];             /* and what was said of it */
};

static void
on_disorder(void *ctx, size_t index, const struct am_entry *e, const char *what)
{
	struct disorder *d = ctx;
	check(e != NULL && what != NULL);
	if (d->n++ == 0) {
		d->first = index;
		snprintf(d->what, sizeof d->what, "%s", what);
	}
}

static int
count_circle(void *ctx, const uint8_t circle[static 32])
{
	(void)circle;
	(*(int *)ctx)++;
	return AM_OK;
}

/* Imports the bundle in data into s; checks it is refused whole as out of
 * order, storing nothing, with what as the first item's sentence. */
static void
refused_whole(struct am_store *s, const uint8_t *data, size_t len,
	size_t first, const char *what)
{
	struct am_bundle *bun;
	struct am_bundle_counts c;
	struct refusals r = { 0 };
	struct disorder d = { 0 };
	int circles = 0;

	check_rc(am_bundle_parse(data, len, &bun), AM_OK);
	check_rc(am_bundle_check_order(bun, on_disorder, &d), AM_ERR_ORDER);
	check(d.n >= 1 && d.first == first);
	if (strcmp(d.what, what) != 0) {
		fprintf(stderr, "said: %s\nwant: %s\n", d.what, what);
		abort();
	}
	check_rc(am_bundle_import(s, bun, on_refused, &r, &c), AM_ERR_ORDER);
	check(c.added == 0 && c.refused == 0 && r.n == 0);
	/* nothing of it was stored: the store holds no circle at all */
	check_rc(am_store_circles(s, count_circle, &circles), AM_OK);
	check(circles == 0);
	am_bundle_destroy(&bun);
}

/*
 * A bundle is in one order (protocol/bundle.md): entries by circle, author
 * and number, each once, then fork evidence by circle, author, number and
 * hash. Alex's feed sorts before Sam's, so in that order Alex's entries
 * still come before Sam's proposal that makes Alex a member: they wait for
 * it and are stored. A file out of that order is refused whole, storing
 * nothing, with the sentence amends verify --file gives; an item that does
 * not decode has no place in the order and is refused by itself.
 */
static void
test_out_of_order(void)
{
	struct am_store *a = fx_store_open("ooo-a.db"), *b = fx_store_open("ooo-b.db");
	uint8_t circle[32], *data, *raw[32];
	size_t len, lens[32];
	int order[32] = { 0 };

	make_record(a, circle, 8);
	check_rc(am_bundle_export(a, circle, &data, &len, NULL, NULL), AM_OK);
	int n = split(data, len, raw, lens, 30);
	free(data);
	/* Sam's entries are the last six: genesis, member, four statements */
	int s0 = n - 6;

	/* every entry reversed */
	for (int i = 0; i < n; i++)
		order[i] = n - 1 - i;
	data = build(raw, lens, order, n, &len);
	refused_whole(b, data, len, 1, "it comes after entry 6 of the same feed: "
		"the entries were reordered");
	free(data);

	/* two entries of a feed swapped */
	for (int i = 0; i < n; i++)
		order[i] = i;
	order[s0 + 3] = s0 + 4;
	order[s0 + 4] = s0 + 3;
	data = build(raw, lens, order, n, &len);
	refused_whole(b, data, len, (size_t)s0 + 4, "it comes after entry 5 of "
		"the same feed: the entries were reordered");
	free(data);

	/* Sam's feed before Alex's */
	for (int i = 0; i < n; i++)
		order[i] = (i + s0) % n;
	data = build(raw, lens, order, n, &len);
	refused_whole(b, data, len, 6, "it comes after an entry of a feed that "
		"sorts after its own: the entries were reordered");
	free(data);

	/* an entry twice among the entries */
	for (int i = 0; i < n; i++)
		order[i] = i;
	order[n] = n - 1;
	data = build(raw, lens, order, n + 1, &len);
	refused_whole(b, data, len, (size_t)n, "the file holds two entries "
		"numbered 6 of this feed among its entries");
	free(data);

	/* the same fork evidence twice (Sam's entry 6 stands in for it: the
	 * order is checked before anything is ingested) */
	order[n] = n - 1;
	order[n + 1] = n - 1;
	data = build_forks(raw, lens, order, n + 2, 2, &len);
	refused_whole(b, data, len, (size_t)n + 1, "fork evidence: the file "
		"holds it twice");
	free(data);

	/* in order, with an item that does not decode in the middle: the
	 * order holds, the junk is refused by itself, the rest is stored
	 * (Alex's entries waiting for Sam's proposal of Alex) */
	static uint8_t junk[] = { 0x92, 0x01, 0x02 };
	raw[n] = junk;
	lens[n] = sizeof junk;
	for (int i = 0, k = 0; i <= n; i++)
		order[i] = i == 2 ? n : k++;
	data = build(raw, lens, order, n + 1, &len);
	struct am_bundle *bun;
	struct am_bundle_counts c;
	struct refusals r = { 0 };
	check_rc(am_bundle_parse(data, len, &bun), AM_OK);
	check_rc(am_bundle_check_order(bun, NULL, NULL), AM_OK);
	check_rc(am_bundle_import(b, bun, on_refused, &r, &c), AM_OK);
	check(c.added == (size_t)n && c.refused == 1 && r.n == 1 && r.seq[0] == 0);
	check_same(a, b, circle);
	am_bundle_destroy(&bun);
	free(data);
	for (int i = 0; i < n; i++)
		free(raw[i]);
	am_store_close(&a);
	am_store_close(&b);
}

static void
test_refusals(void)
{
	struct am_store *a = fx_store_open("ref-a.db"), *b = fx_store_open("ref-b.db");
	uint8_t circle[32], *data, *raw[32];
	size_t len, lens[32];
	int order[32], k = 0;

	/* Sam: genesis, member, then statements 3, 4, 5, 6 (i = 0, 2, 4, 6);
	 * Alex: accept, then statements */
	make_record(a, circle, 8);
	check_rc(am_bundle_export(a, circle, &data, &len, NULL, NULL), AM_OK);
	int n = split(data, len, raw, lens, 32);
	free(data);
	/* which feed comes first in the export depends on the keys */
	int sam_first = memcmp(am_identity_public(sam), am_identity_public(alex),
		32) < 0;
	int s0 = sam_first ? 0 : n - 6;     /* Sam's six entries */
	for (int i = 0; i < n; i++) {
		if (i == s0 + 3)
			continue;                /* Sam's entry 4 goes missing */
		order[k++] = i;
	}
	raw[s0 + 5][lens[s0 + 5] - 1] ^= 1;   /* Sam's entry 6: a bad signature */
	data = build(raw, lens, order, k, &len);
	/* undecodable junk as an entry, appended by hand */
	struct am_bundle *bun;
	struct am_bundle_counts c;
	struct refusals r = { 0 };
	check_rc(am_bundle_parse(data, len, &bun), AM_OK);
	check_rc(am_bundle_import(b, bun, on_refused, &r, &c), AM_OK);
	/* stored: Sam 1-3, Alex's 5; refused: Sam's 5 (gap) and 6 (gap, its
	 * predecessor never arrived: the signature is not even looked at) */
	check(c.added == 3 + 5);
	check(c.refused == 2 && r.n == 2);
	check(r.rc[0] == AM_ERR_GAP && r.seq[0] == 5);
	check(r.rc[1] == AM_ERR_GAP && r.seq[1] == 6);
	am_bundle_destroy(&bun);
	free(data);

	/* with entry 4 back, 5 is stored and 6's bad signature is the reason */
	r.n = 0;
	order[0] = s0 + 3;
	order[1] = s0 + 4;
	order[2] = s0 + 5;
	data = build(raw, lens, order, 3, &len);
	check_rc(am_bundle_parse(data, len, &bun), AM_OK);
	check_rc(am_bundle_import(b, bun, on_refused, &r, &c), AM_OK);
	check(c.added == 2 && c.refused == 1 && r.n == 1);
	check(r.rc[0] == AM_ERR_SIGNATURE && r.seq[0] == 6);
	am_bundle_destroy(&bun);
	free(data);

	/* an item that is not an entry at all */
	static uint8_t junk[] = { 0x92, 0x01, 0x02 };
	uint8_t *jr[1] = { junk };
	size_t jl[1] = { sizeof junk };
	int zero = 0;
	r.n = 0;
	data = build(jr, jl, &zero, 1, &len);
	check_rc(am_bundle_parse(data, len, &bun), AM_OK);
	check_rc(am_bundle_import(b, bun, on_refused, &r, &c), AM_OK);
	check(c.refused == 1 && r.n == 1 && r.seq[0] == 0 && r.rc[0] != AM_OK);
	am_bundle_destroy(&bun);
	free(data);

	for (int i = 0; i < n; i++)
		free(raw[i]);
	am_store_close(&a);
	am_store_close(&b);
}

static void
test_forks_travel(void)
{
	struct am_store *a = fx_store_open("fk-a.db"), *b = fx_store_open("fk-b.db");
	struct am_store *c = fx_store_open("fk-c.db");
	uint8_t circle[32], *data;
	size_t len;

	make_record(a, circle, 2);
	struct am_bundle *bun;
	struct am_bundle_counts cnt;

	/* a fork: the same author, circle and number in two stores */
	struct am_body body = { .kind = AM_KIND_STATEMENT, .note = am_str_c("one") };
	check_rc(am_store_append(a, sam, circle, 9000, &body, NULL, NULL), AM_OK);
	check_rc(am_bundle_export(a, circle, &data, &len, NULL, NULL), AM_OK);
	check_rc(am_bundle_parse(data, len, &bun), AM_OK);
	/* c holds everything but Sam's newest entry, then Sam signs another */
	uint64_t head;
	uint8_t hh[32];
	check_rc(am_store_head(a, circle, am_identity_public(sam), &head, hh),
		AM_OK);
	uint8_t *keep[32];
	size_t klen[32];
	int order[32], k = 0;
	check(bun->nitems <= 32);
	for (size_t i = 0; i < bun->nitems; i++) {
		struct am_entry e;
		check_rc(am_entry_decode(bun->items[i].raw, bun->items[i].len, &e),
			AM_OK);
		keep[i] = (uint8_t *)bun->items[i].raw;
		klen[i] = bun->items[i].len;
		if (memcmp(e.author, am_identity_public(sam), 32) != 0 ||
		    e.seq != head)
			order[k++] = (int)i;
	}
	uint8_t *part;
	size_t plen;
	struct am_bundle *pb;
	part = build(keep, klen, order, k, &plen);
	check_rc(am_bundle_parse(part, plen, &pb), AM_OK);
	check_rc(am_bundle_import(c, pb, NULL, NULL, &cnt), AM_OK);
	check(cnt.added == (size_t)k && cnt.refused == 0);
	am_bundle_destroy(&pb);
	free(part);
	am_bundle_destroy(&bun);
	free(data);
	body.note = am_str_c("two");
	check_rc(am_store_append(c, sam, circle, 9000, &body, NULL, NULL), AM_OK);

	/* c's record into a: a fork */
	check_rc(am_bundle_export(c, circle, &data, &len, NULL, NULL), AM_OK);
	check_rc(am_bundle_parse(data, len, &bun), AM_OK);
	check_rc(am_bundle_import(a, bun, NULL, NULL, &cnt), AM_OK);
	check(cnt.forks == 1 && cnt.added == 0 && cnt.refused == 0);
	am_bundle_destroy(&bun);
	free(data);

	/* a's record, fork evidence included, into the empty b */
	size_t ne, nf;
	check_rc(am_bundle_export(a, circle, &data, &len, &ne, &nf), AM_OK);
	check(nf == 1);
	check_rc(am_bundle_parse(data, len, &bun), AM_OK);
	check_rc(am_bundle_import(b, bun, NULL, NULL, &cnt), AM_OK);
	check(cnt.added == ne && cnt.forks == 1 && cnt.refused == 0);
	check_same(a, b, circle);
	am_bundle_destroy(&bun);
	free(data);
	am_store_close(&a);
	am_store_close(&b);
	am_store_close(&c);
}

static int
parse_rc(const uint8_t *data, size_t len)
{
	struct am_bundle *b = NULL;
	int rc = am_bundle_parse(data, len, &b);
	am_bundle_destroy(&b);
	return rc;
}

/* Sam writes entry n with a broken signature and entry n + 1, validly
 * signed, naming its hash; a takes both as one run, as from a peer. */
static void
write_vouched(struct am_store *a, const uint8_t circle[32])
{
	struct am_body body = { .kind = AM_KIND_STATEMENT,
		.note = am_str_c("signed badly") };
	struct am_entry_draft d = { .time = FX_T0, .body = &body, .has_prev = true };
	struct am_entry e1, e2;
	uint8_t *raw1, *raw2, hash[32];
	size_t len1, len2, done;
	uint64_t seq;
	enum am_ingest_result res[2];
	memcpy(d.circle, circle, 32);
	check_rc(am_store_head(a, circle, am_identity_public(sam), &seq, d.prev), AM_OK);
	d.seq = seq + 1;
	check_rc(am_entry_sign(sam, &d, &raw1, &len1, &e1), AM_OK);
	raw1[len1 - 1] ^= 1;         /* the signature is the last 64 bytes */
	am_hash(raw1, len1, hash);
	d.seq = seq + 2;
	memcpy(d.prev, hash, 32);
	check_rc(am_entry_sign(sam, &d, &raw2, &len2, &e2), AM_OK);
	const uint8_t *raws[2] = { raw1, raw2 };
	size_t lens[2] = { len1, len2 };
	check_rc(am_store_ingest_batch(a, raws, lens, 2, res, &done), AM_OK);
	check(done == 2);
	free(raw1);
	free(raw2);
}

static int
count_bad(void *ctx, const struct am_bad_signature *b)
{
	(void)b;
	++*(int *)ctx;
	return AM_OK;
}

static void
test_vouched_run(void)
{
	struct am_store *a = fx_store_open("vouch-a.db"), *b = fx_store_open("vouch-b.db");
	struct am_bundle *bun;
	struct am_bundle_counts n;
	struct refusals r = { 0 };
	uint8_t circle[32], *data;
	size_t len;
	int bad = 0;

	make_record(a, circle, 2);
	write_vouched(a, circle);
	check_rc(am_bundle_export(a, circle, &data, &len, NULL, NULL), AM_OK);
	check_rc(am_bundle_parse(data, len, &bun), AM_OK);
	check_rc(am_bundle_import(b, bun, on_refused, &r, &n), AM_OK);
	check(r.n == 0 && n.refused == 0 && n.added == bun->nitems);
	check_same(a, b, circle);
	/* kept, and held against its author once the signatures left
	 * pending are checked, as after a peer's batch */
	size_t checked;
	check_rc(am_store_check_pending(b, 100, NULL, NULL, &checked), AM_OK);
	check_rc(am_store_bad_signatures(b, circle, count_bad, &bad), AM_OK);
	check(bad == 1);
	am_bundle_destroy(&bun);
	free(data);

	/* a signed export of it is intact, with one finding */
	struct am_proof p;
	check_rc(am_bundle_export_signed(a, sam, circle, NULL, FX_T0, &data, &len,
		NULL, NULL, NULL), AM_OK);
	check_rc(am_bundle_read(data, len, 0, &bun), AM_OK);
	check_rc(am_proof_check(bun, dir, NULL,
		NULL, &p), AM_OK);
	check(p.manifest_ok && p.findings == 1 && p.problems == 1);
	am_proof_finish(&p);
	am_bundle_destroy(&bun);
	free(data);
	am_store_close(&a);
	am_store_close(&b);
}

static void
test_hostile_files(void)
{
	/* not a bundle: an entry-looking array, a string, nothing */
	static const uint8_t notb[] = { 0x92, 0xc4, 0x00, 0xc4, 0x00 };
	check_rc(parse_rc(notb, sizeof notb), AM_ERR_TYPE);
	check_rc(parse_rc((const uint8_t *)"", 0), AM_ERR_TYPE);
	static const uint8_t wrong_magic[] = { 0x94, 0xa3, 'a', 'm', 'd', 0x01,
		0x90, 0x90 };
	check_rc(parse_rc(wrong_magic, sizeof wrong_magic), AM_ERR_TYPE);

	/* header bytes shared by the cases below */
	uint8_t buf[64];
	size_t h = 0;
	buf[h++] = 0x94;
	buf[h++] = 0xad;
	memcpy(buf + h, AM_BUNDLE_MAGIC, 13);
	h += 13;

	/* a newer version */
	memcpy(buf + h, (uint8_t[]){ 0x03, 0x90, 0x90 }, 3);
	check_rc(parse_rc(buf, h + 3), AM_ERR_VERSION);
	/* version 1, empty: fine */
	memcpy(buf + h, (uint8_t[]){ 0x01, 0x90, 0x90 }, 3);
	check_rc(parse_rc(buf, h + 3), AM_OK);
	/* trailing bytes */
	memcpy(buf + h, (uint8_t[]){ 0x01, 0x90, 0x90, 0x00 }, 4);
	check_rc(parse_rc(buf, h + 4), AM_ERR_TRAILING);
	/* truncated: the forks array missing */
	check(parse_rc(buf, h + 2) != AM_OK);
	/* an array32 claiming 2^32-1 entries in a few bytes: refused before
	 * any allocation */
	memcpy(buf + h, (uint8_t[]){ 0x01, 0xdd, 0xff, 0xff, 0xff, 0xff, 0xc4,
		0x00 }, 8);
	check_rc(parse_rc(buf, h + 8), AM_ERR_LENGTH);
	/* a bin32 claiming 4 GiB */
	memcpy(buf + h, (uint8_t[]){ 0x01, 0x91, 0xc6, 0xff, 0xff, 0xff, 0xff,
		0x90 }, 8);
	check_rc(parse_rc(buf, h + 8), AM_ERR_LENGTH);
	/* a wrong type where entries go */
	memcpy(buf + h, (uint8_t[]){ 0x01, 0x91, 0x01, 0x90 }, 4);
	check_rc(parse_rc(buf, h + 4), AM_ERR_FIELD);

	/* an entry longer than an entry may be */
	size_t big = AM_ENTRY_MAX + 1;
	uint8_t *b = calloc(1, h + 16 + big);
	memcpy(b, buf, h);
	size_t o = h;
	b[o++] = 0x01;
	b[o++] = 0x91;
	b[o++] = 0xc6;
	b[o++] = 0;
	b[o++] = (uint8_t)(big >> 16);
	b[o++] = (uint8_t)(big >> 8);
	b[o++] = (uint8_t)big;
	o += big;
	b[o++] = 0x90;
	check_rc(parse_rc(b, o), AM_ERR_TOO_BIG);
	free(b);

	/* a file past the size limit is refused without being read (sparse) */
	char path[FX_PATH_MAX];
	fx_path("huge.bundle", path);
	int fd = open(path, O_CREAT | O_WRONLY | O_TRUNC, 0600);
	check(fd >= 0);
	check(ftruncate(fd, (off_t)AM_BUNDLE_MAX_BYTES + 1) == 0);
	close(fd);
	struct am_bundle *bun = NULL;
	check_rc(am_bundle_load(path, &bun), AM_ERR_TOO_BIG);
	check(bun == NULL);
	fx_path("missing.bundle", path);
	check_rc(am_bundle_load(path, &bun), AM_ERR_IO);
	/* a save into a directory that does not exist leaves nothing */
	fx_path("no/such/dir.bundle", path);
	check_rc(am_bundle_save(path, buf, 4), AM_ERR_IO);
}

int
main(void)
{
	check(sodium_init() >= 0);
	dir = fx_dir_make("bundle");
	check_rc(am_identity_generate(&sam), AM_OK);
	check_rc(am_identity_generate(&alex), AM_OK);
	/* Alex's feed sorts first, so an import meets Alex's entries before
	 * Sam's proposal that makes Alex a member: they must wait for it */
	if (memcmp(am_identity_public(alex), am_identity_public(sam), 32) > 0) {
		struct am_identity *t = sam;
		sam = alex;
		alex = t;
	}
	test_round_trip();
	test_out_of_order();
	test_refusals();
	test_forks_travel();
	test_vouched_run();
	test_hostile_files();
	am_identity_destroy(&sam);
	am_identity_destroy(&alex);
	fx_dir_remove();
	return 0;
}
