/*
 * Signed exports (protocol/bundle.md, "Signed exports"): a bundle whose
 * first item is a manifest signed by the exporter, naming each feed it
 * carries, up to which entry, and the fork evidence held of it, so that a
 * reader with no node can tell an altered, reordered or cut file from a
 * whole one. This file collects what an export of a circle or of one
 * agreement must carry, signs its manifest, and decodes and checks
 * manifests for the readers in src/bundle.c and src/proof.c.
 */
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "amends/bundle.h"
#include "amends/state.h"
#include "bundle_impl.h"
#include "mp.h"
#include "store_impl.h"

#define MANIFEST_TAG "amends-manifest-v1"
#define MANIFEST_VERSION 1

/* A feed being exported. */
struct xfeed {
	uint8_t key[AM_HASH_BYTES + AM_ID_BYTES];   /* circle, author */
	uint64_t upto;                 /* newest entry written */
	uint64_t head;
	uint8_t hash[AM_HASH_BYTES];   /* of entry upto */
	uint8_t *forks;                /* hashes of its fork evidence, sorted */
	size_t nforks;
};

/* A fork evidence entry to write, with what orders it. */
struct xfork {
	uint8_t key[AM_HASH_BYTES + AM_ID_BYTES];
	uint64_t seq;
	uint8_t hash[AM_HASH_BYTES];
	uint8_t *raw;
	size_t len;
};

/* One fact of the agreement's circle, for deciding what bears on it. */
struct fact {
	size_t feed;
	uint64_t seq;
	uint32_t kind;
	bool has_target;
	uint8_t hash[AM_HASH_BYTES];
	uint8_t target[AM_HASH_BYTES];
};

struct sexport {
	struct am_store *s;
	const uint8_t *circle;         /* being walked */
	struct xfeed *feeds;
	size_t nfeeds, capfeeds;
	struct xfork *forks;
	size_t nforks, capforks;
	struct fact *facts;
	size_t nfacts, capfacts;
	size_t feed;                   /* the feed being scanned */
	size_t carried;                /* --agreement: entries kept that bear
	                                  on neither it nor membership */
	struct am_body *body;          /* scratch for decoding bodies */
	struct am_mp_writer w;
};

static int
grow(void **p, size_t *cap, size_t n, size_t size)
{
	if (n < *cap)
		return AM_OK;
	size_t ncap = *cap ? *cap * 2 : 16;
	void *q = realloc(*p, ncap * size);
	if (q == NULL)
		return AM_ERR_NOMEM;
	*p = q;
	*cap = ncap;
	return AM_OK;
}

static int
add_feed(void *ctx, const struct am_feed_head *h)
{
	struct sexport *x = ctx;
	int rc = grow((void **)&x->feeds, &x->capfeeds, x->nfeeds, sizeof *x->feeds);
	if (rc != AM_OK)
		return rc;
	struct xfeed *f = &x->feeds[x->nfeeds++];
	memset(f, 0, sizeof *f);
	memcpy(f->key, x->circle, AM_HASH_BYTES);
	memcpy(f->key + AM_HASH_BYTES, h->author, AM_ID_BYTES);
	f->upto = f->head = h->seq;
	memcpy(f->hash, h->hash, AM_HASH_BYTES);
	return AM_OK;
}

static int
add_feeds(void *ctx, const uint8_t circle[static AM_HASH_BYTES])
{
	struct sexport *x = ctx;
	x->circle = circle;
	return am_store_heads(x->s, circle, add_feed, x);
}

static int
key_cmp(const void *a, const void *b)
{
	return memcmp(a, b, AM_HASH_BYTES + AM_ID_BYTES);
}

static int
hash_cmp(const void *a, const void *b)
{
	return memcmp(a, b, AM_HASH_BYTES);
}

static struct xfeed *
find_feed(struct sexport *x, const uint8_t *circle, const uint8_t *author)
{
	uint8_t key[AM_HASH_BYTES + AM_ID_BYTES];
	memcpy(key, circle, AM_HASH_BYTES);
	memcpy(key + AM_HASH_BYTES, author, AM_ID_BYTES);
	return bsearch(key, x->feeds, x->nfeeds, sizeof *x->feeds, key_cmp);
}

static int
add_fork(void *ctx, const uint8_t *raw, size_t len)
{
	struct sexport *x = ctx;
	struct am_entry e;
	if (am_entry_decode(raw, len, &e) != AM_OK)
		return AM_ERR_DB_CORRUPT;
	struct xfeed *f = find_feed(x, e.circle, e.author);
	/* evidence past the cut of an --agreement export proves nothing
	 * about what the file holds, and could not be checked without the
	 * entries before it */
	if (f == NULL || e.seq > f->upto)
		return AM_OK;
	int rc = grow((void **)&x->forks, &x->capforks, x->nforks, sizeof *x->forks);
	if (rc != AM_OK)
		return rc;
	struct xfork *k = &x->forks[x->nforks];
	memcpy(k->key, f->key, sizeof k->key);
	k->seq = e.seq;
	memcpy(k->hash, e.hash, AM_HASH_BYTES);
	if ((k->raw = malloc(len)) == NULL)
		return AM_ERR_NOMEM;
	memcpy(k->raw, raw, len);
	k->len = len;
	x->nforks++;
	return AM_OK;
}

static int
add_forks(void *ctx, const uint8_t circle[static AM_HASH_BYTES])
{
	struct sexport *x = ctx;
	return am_store_forks(x->s, circle, add_fork, x);
}

static int
fork_cmp(const void *a, const void *b)
{
	const struct xfork *p = a, *q = b;
	int c = memcmp(p->key, q->key, sizeof p->key);
	if (c != 0)
		return c;
	if (p->seq != q->seq)
		return p->seq < q->seq ? -1 : 1;
	return memcmp(p->hash, q->hash, AM_HASH_BYTES);
}

static int
add_fact(void *ctx, const uint8_t *raw, size_t len)
{
	struct sexport *x = ctx;
	struct am_entry e;
	int rc;
	if (am_entry_decode(raw, len, &e) != AM_OK)
		return AM_ERR_DB_CORRUPT;
	/* an entry of a kind this build does not know bears on nothing it
	 * can tell: it travels only inside the prefix of its feed kept for
	 * other entries */
	bool known = am_kind_known(e.kind);
	if (known && am_body_decode(e.kind, e.body, e.body_len, x->body) != AM_OK) {
		/* a kind after format 1's may be stored with a broken body,
		 * which the state ignores (AM_RULE_BODY): like an unknown
		 * kind, it bears on nothing */
		if (e.kind <= AM_KIND_FORMAT1)
			return AM_ERR_DB_CORRUPT;
		known = false;
	}
	if ((rc = grow((void **)&x->facts, &x->capfacts, x->nfacts,
	    sizeof *x->facts)) != AM_OK)
		return rc;
	struct fact *f = &x->facts[x->nfacts++];
	memset(f, 0, sizeof *f);
	f->feed = x->feed;
	f->seq = e.seq;
	f->kind = e.kind;
	memcpy(f->hash, e.hash, AM_HASH_BYTES);
	f->has_target = known && e.kind != AM_KIND_GENESIS && e.kind != AM_KIND_MEMBER &&
		e.kind != AM_KIND_PROPOSE && e.kind != AM_KIND_CHECKPOINT &&
		(e.kind != AM_KIND_STATEMENT || x->body->has_target);
	if (f->has_target)
		memcpy(f->target, x->body->target, AM_HASH_BYTES);
	return AM_OK;
}

/* Whether fact t bears on the agreement or on membership: objects holds
 * the sorted hashes of the agreement, its versions, ends, check-ins and
 * statements, and the member proposals. */
static bool
bears_on(const struct fact *t, const uint8_t *objects, size_t nobjects)
{
	return t->kind == AM_KIND_GENESIS ||
		bsearch(t->hash, objects, nobjects, AM_HASH_BYTES, hash_cmp) ||
		(t->has_target && t->kind != AM_KIND_STATEMENT &&
		bsearch(t->target, objects, nobjects, AM_HASH_BYTES, hash_cmp));
}

/*
 * Cuts each feed of the agreement's circle after its last entry that
 * bears on the agreement or on membership: the circle's genesis, member
 * proposals and the answers to them, the agreement's versions, ends,
 * check-ins and statements about it, and the answers to all of those.
 */
static int
cut_to_agreement(struct sexport *x, const uint8_t *circle,
	const uint8_t agreement[static AM_HASH_BYTES])
{
	uint8_t *objects = NULL;
	size_t nobjects = 0;
	int rc = AM_OK;

	if ((x->body = malloc(sizeof *x->body)) == NULL)
		return AM_ERR_NOMEM;
	for (x->feed = 0; x->feed < x->nfeeds; x->feed++) {
		struct xfeed *f = &x->feeds[x->feed];
		if (memcmp(f->key, circle, AM_HASH_BYTES) != 0)
			continue;
		if ((rc = am_store_range(x->s, circle, f->key + AM_HASH_BYTES, 1,
		    f->head, add_fact, x)) != AM_OK)
			goto out;
	}
	if ((objects = malloc((x->nfacts + 1) * AM_HASH_BYTES)) == NULL) {
		rc = AM_ERR_NOMEM;
		goto out;
	}
	memcpy(objects, agreement, AM_HASH_BYTES);
	nobjects = 1;
	for (size_t i = 0; i < x->nfacts; i++) {
		const struct fact *t = &x->facts[i];
		bool about = t->has_target &&
			memcmp(t->target, agreement, AM_HASH_BYTES) == 0;
		if (t->kind == AM_KIND_MEMBER || (about && (t->kind == AM_KIND_AMEND ||
		    t->kind == AM_KIND_END || t->kind == AM_KIND_CHECKIN ||
		    t->kind == AM_KIND_STATEMENT)))
			memcpy(objects + AM_HASH_BYTES * nobjects++, t->hash, AM_HASH_BYTES);
	}
	qsort(objects, nobjects, AM_HASH_BYTES, hash_cmp);
	for (size_t i = 0; i < x->nfeeds; i++)
		if (memcmp(x->feeds[i].key, circle, AM_HASH_BYTES) == 0)
			x->feeds[i].upto = 0;
	for (size_t i = 0; i < x->nfacts; i++) {
		const struct fact *t = &x->facts[i];
		bool keep = bears_on(t, objects, nobjects);
		struct xfeed *f = &x->feeds[t->feed];
		if (keep && t->seq > f->upto) {
			f->upto = t->seq;
			memcpy(f->hash, t->hash, AM_HASH_BYTES);
		}
	}
	/* what the cut keeps without bearing on the agreement: a feed cannot
	 * skip an entry, so it travels with what follows it */
	for (size_t i = 0; i < x->nfacts; i++) {
		const struct fact *t = &x->facts[i];
		if (!bears_on(t, objects, nobjects) && t->seq <= x->feeds[t->feed].upto)
			x->carried++;
	}
	/* feeds of other circles, and feeds with nothing to say, go */
	size_t kept = 0;
	for (size_t i = 0; i < x->nfeeds; i++)
		if (memcmp(x->feeds[i].key, circle, AM_HASH_BYTES) == 0 &&
		    x->feeds[i].upto > 0)
			x->feeds[kept++] = x->feeds[i];
	x->nfeeds = kept;
out:
	free(objects);
	free(x->body);
	x->body = NULL;
	return rc;
}

/* Gives each feed the sorted hashes of its fork evidence. */
static int
attach_forks(struct sexport *x)
{
	for (size_t i = 0; i < x->nforks; i++) {
		struct xfeed *f = bsearch(x->forks[i].key, x->feeds, x->nfeeds,
			sizeof *x->feeds, key_cmp);
		uint8_t *p = realloc(f->forks, (f->nforks + 1) * AM_HASH_BYTES);
		if (p == NULL)
			return AM_ERR_NOMEM;
		f->forks = p;
		memcpy(p + AM_HASH_BYTES * f->nforks++, x->forks[i].hash, AM_HASH_BYTES);
	}
	for (size_t i = 0; i < x->nfeeds; i++)
		if (x->feeds[i].nforks > 1)
			qsort(x->feeds[i].forks, x->feeds[i].nforks, AM_HASH_BYTES, hash_cmp);
	return AM_OK;
}

/* Encodes and signs the manifest; *out is malloc'd. */
static int
sign_manifest(const struct sexport *x, const struct am_identity *id,
	const uint8_t *scope, int64_t time, uint8_t **out, size_t *outlen)
{
	static const size_t taglen = sizeof MANIFEST_TAG - 1;
	struct am_mp_writer w;
	uint8_t sig[AM_SIG_BYTES], *msg = NULL;
	int rc = AM_ERR_NOMEM;

	am_mp_writer_init(&w);
	am_mp_write_array(&w, 5);
	am_mp_write_uint(&w, MANIFEST_VERSION);
	am_mp_write_bin(&w, am_identity_public(id), AM_ID_BYTES);
	am_mp_write_int(&w, time);
	if (scope != NULL)
		am_mp_write_bin(&w, scope, AM_HASH_BYTES);
	else
		am_mp_write_nil(&w);
	am_mp_write_array(&w, (uint32_t)x->nfeeds);
	for (size_t i = 0; i < x->nfeeds; i++) {
		const struct xfeed *f = &x->feeds[i];
		am_mp_write_array(&w, 6);
		am_mp_write_bin(&w, f->key, AM_HASH_BYTES);
		am_mp_write_bin(&w, f->key + AM_HASH_BYTES, AM_ID_BYTES);
		am_mp_write_uint(&w, f->upto);
		am_mp_write_bin(&w, f->hash, AM_HASH_BYTES);
		am_mp_write_uint(&w, f->head);
		am_mp_write_bin(&w, f->forks, f->nforks * AM_HASH_BYTES);
	}
	if (w.failed)
		goto out;
	if (w.buf.size > AM_BUNDLE_MANIFEST_MAX) {
		rc = AM_ERR_TOO_BIG;
		goto out;
	}
	if ((msg = malloc(taglen + w.buf.size)) == NULL)
		goto out;
	memcpy(msg, MANIFEST_TAG, taglen);
	memcpy(msg + taglen, w.buf.data, w.buf.size);
	am_identity_sign(id, msg, taglen + w.buf.size, sig);
	struct am_mp_writer env;
	am_mp_writer_init(&env);
	am_mp_write_array(&env, 2);
	am_mp_write_bin(&env, w.buf.data, w.buf.size);
	am_mp_write_bin(&env, sig, sizeof sig);
	*out = am_mp_writer_take(&env, outlen);
	am_mp_writer_finish(&env);
	rc = *out == NULL ? AM_ERR_NOMEM : AM_OK;
out:
	free(msg);
	am_mp_writer_finish(&w);
	return rc;
}

static int
write_entry(void *ctx, const uint8_t *raw, size_t len)
{
	struct sexport *x = ctx;
	am_mp_write_bin(&x->w, raw, len);
	return AM_OK;
}

/* Finds which circles to export and reads their feeds. */
static int
collect(struct sexport *x, const uint8_t *circle, const uint8_t *agreement)
{
	struct am_object_info info;
	int rc;
	if (agreement != NULL) {
		if ((rc = am_state_lookup(x->s, agreement, &info)) != AM_OK)
			return rc;
		if (info.kind != AM_KIND_PROPOSE)
			return AM_ERR_NOT_FOUND;
		if (circle != NULL && memcmp(circle, info.circle, AM_HASH_BYTES) != 0)
			return AM_ERR_ARG;
		circle = info.circle;
	}
	if (circle != NULL)
		rc = add_feeds(x, circle);
	else
		rc = am_store_circles(x->s, add_feeds, x);
	if (rc != AM_OK)
		return rc;
	/* a circle held here has a feed at least: its creator's genesis */
	if (circle != NULL && x->nfeeds == 0)
		return AM_ERR_NOT_FOUND;
	if (x->nfeeds > 1)
		qsort(x->feeds, x->nfeeds, sizeof *x->feeds, key_cmp);
	if (agreement != NULL && (rc = cut_to_agreement(x, circle, agreement)) != AM_OK)
		return rc;
	if (circle != NULL)
		rc = add_forks(x, circle);
	else
		rc = am_store_circles(x->s, add_forks, x);
	if (rc != AM_OK)
		return rc;
	if (x->nforks > 1)
		qsort(x->forks, x->nforks, sizeof *x->forks, fork_cmp);
	return attach_forks(x);
}

int
am_bundle_export_signed(struct am_store *s, const struct am_identity *id,
	const uint8_t *circle, const uint8_t *agreement, int64_t time,
	uint8_t **data, size_t *len, size_t *nentries, size_t *nforks,
	size_t *ncarried)
{
	struct sexport x = { .s = s };
	uint8_t *manifest = NULL;
	size_t mlen, entries = 0;
	int rc;

	am_mp_writer_init(&x.w);
	/* one read transaction: the manifest and the entries are of one moment */
	if ((rc = am_store_exec(s, "BEGIN")) != AM_OK)
		goto out;
	if ((rc = collect(&x, circle, agreement)) != AM_OK)
		goto out;
	for (size_t i = 0; i < x.nfeeds; i++)
		entries += x.feeds[i].upto;
	if (entries + x.nforks > AM_BUNDLE_MAX_ENTRIES ||
	    x.nfeeds > AM_BUNDLE_MAX_ENTRIES) {
		rc = AM_ERR_TOO_BIG;
		goto out;
	}
	if ((rc = sign_manifest(&x, id, agreement, time, &manifest, &mlen)) != AM_OK)
		goto out;
	am_mp_write_array(&x.w, 5);
	am_mp_write_cstr(&x.w, AM_BUNDLE_MAGIC);
	am_mp_write_uint(&x.w, AM_BUNDLE_VERSION_SIGNED);
	am_mp_write_bin(&x.w, manifest, mlen);
	am_mp_write_array(&x.w, (uint32_t)entries);
	for (size_t i = 0; i < x.nfeeds && x.w.buf.size <= AM_BUNDLE_MAX_BYTES; i++) {
		const struct xfeed *f = &x.feeds[i];
		if ((rc = am_store_range(s, f->key, f->key + AM_HASH_BYTES, 1, f->upto,
		    write_entry, &x)) != AM_OK)
			goto out;
	}
	am_mp_write_array(&x.w, (uint32_t)x.nforks);
	for (size_t i = 0; i < x.nforks; i++)
		am_mp_write_bin(&x.w, x.forks[i].raw, x.forks[i].len);
	rc = bundle_take(&x.w, entries, x.nforks, data, len, nentries, nforks);
	if (rc == AM_OK && ncarried != NULL)
		*ncarried = x.carried;
out:
	am_store_exec(s, "COMMIT");
	am_mp_writer_finish(&x.w);
	free(manifest);
	for (size_t i = 0; i < x.nfeeds; i++)
		free(x.feeds[i].forks);
	for (size_t i = 0; i < x.nforks; i++)
		free(x.forks[i].raw);
	free(x.feeds);
	free(x.forks);
	free(x.facts);
	return rc;
}

/* ---- manifests ---- */

static int
decode_feed(struct am_mp_reader *r, struct am_bundle_feed *f)
{
	uint32_t n;
	const uint8_t *forks;
	size_t flen;
	int rc;
	if ((rc = am_mp_read_array(r, &n)) != AM_OK)
		return rc;
	if (n != 6)
		return AM_ERR_COUNT;
	if ((rc = am_mp_read_bin_exact(r, f->circle, AM_HASH_BYTES)) != AM_OK ||
	    (rc = am_mp_read_bin_exact(r, f->author, AM_ID_BYTES)) != AM_OK ||
	    (rc = am_mp_read_uint(r, &f->seq)) != AM_OK ||
	    (rc = am_mp_read_bin_exact(r, f->hash, AM_HASH_BYTES)) != AM_OK ||
	    (rc = am_mp_read_uint(r, &f->head)) != AM_OK ||
	    (rc = am_mp_read_bin(r, &forks, &flen, AM_BUNDLE_MANIFEST_MAX)) != AM_OK)
		return rc;
	if (f->seq < 1 || f->seq > f->head || f->head >= (UINT64_C(1) << 63) ||
	    flen % AM_HASH_BYTES != 0)
		return AM_ERR_FIELD;
	f->forks = forks;
	f->nforks = flen / AM_HASH_BYTES;
	for (size_t i = 1; i < f->nforks; i++)
		if (memcmp(forks + (i - 1) * AM_HASH_BYTES, forks + i * AM_HASH_BYTES,
		    AM_HASH_BYTES) >= 0)
			return AM_ERR_FIELD;
	return AM_OK;
}

static int
decode_signed(struct am_mp_reader *r, struct am_bundle_manifest *m)
{
	uint32_t n;
	uint64_t version;
	int rc;
	if ((rc = am_mp_read_array(r, &n)) != AM_OK)
		return rc;
	if (n != 5)
		return AM_ERR_COUNT;
	if ((rc = am_mp_read_uint(r, &version)) != AM_OK)
		return rc;
	if (version != MANIFEST_VERSION)
		return AM_ERR_VERSION;
	if ((rc = am_mp_read_bin_exact(r, m->exporter, AM_ID_BYTES)) != AM_OK ||
	    (rc = am_mp_read_int(r, &m->time)) != AM_OK)
		return rc;
	m->has_scope = !am_mp_read_nil(r);
	if (m->has_scope &&
	    (rc = am_mp_read_bin_exact(r, m->scope, AM_HASH_BYTES)) != AM_OK)
		return rc;
	/* the reader holds the count to the bytes that remain */
	if ((rc = am_mp_read_array(r, &n)) != AM_OK)
		return rc;
	if (n > AM_BUNDLE_MAX_ENTRIES)
		return AM_ERR_TOO_BIG;
	if (n > 0 && (m->feeds = calloc(n, sizeof *m->feeds)) == NULL)
		return AM_ERR_NOMEM;
	for (uint32_t i = 0; i < n; i++) {
		struct am_bundle_feed *f = &m->feeds[i];
		if ((rc = decode_feed(r, f)) != AM_OK)
			return rc;
		m->nfeeds++;
		/* strictly ascending (circle, author): each feed once */
		if (i > 0) {
			const struct am_bundle_feed *p = &m->feeds[i - 1];
			int c = memcmp(p->circle, f->circle, AM_HASH_BYTES);
			if (c > 0 || (c == 0 && memcmp(p->author, f->author, AM_ID_BYTES) >= 0))
				return AM_ERR_FIELD;
		}
	}
	return am_mp_reader_finish(r);
}

int
am_bundle_manifest_decode(const uint8_t *raw, size_t len,
	struct am_bundle_manifest *m)
{
	struct am_mp_reader r, in;
	uint32_t n;
	int rc;

	memset(m, 0, sizeof *m);
	if (len > AM_BUNDLE_MANIFEST_MAX + 64)
		return AM_ERR_TOO_BIG;
	am_mp_reader_init(&r, raw, len);
	if ((rc = am_mp_read_array(&r, &n)) != AM_OK)
		return rc;
	if (n != 2)
		return AM_ERR_COUNT;
	if ((rc = am_mp_read_bin(&r, &m->signed_bytes, &m->signed_len,
	    AM_BUNDLE_MANIFEST_MAX)) != AM_OK ||
	    (rc = am_mp_read_bin_exact(&r, m->sig, AM_SIG_BYTES)) != AM_OK ||
	    (rc = am_mp_reader_finish(&r)) != AM_OK)
		return rc;
	am_mp_reader_init(&in, m->signed_bytes, m->signed_len);
	return decode_signed(&in, m);
}

int
am_bundle_manifest_verify(const struct am_bundle_manifest *m)
{
	static const size_t taglen = sizeof MANIFEST_TAG - 1;
	uint8_t *msg = malloc(taglen + m->signed_len);
	if (msg == NULL)
		return AM_ERR_NOMEM;
	memcpy(msg, MANIFEST_TAG, taglen);
	memcpy(msg + taglen, m->signed_bytes, m->signed_len);
	int ok = crypto_sign_verify_detached(m->sig, msg, taglen + m->signed_len,
		m->exporter);
	free(msg);
	return ok == 0 ? AM_OK : AM_ERR_SIGNATURE;
}

void
am_bundle_manifest_finish(struct am_bundle_manifest *m)
{
	free(m->feeds);
	m->feeds = NULL;
	m->nfeeds = 0;
}

static int
feed_cmp(const void *key, const void *elem)
{
	const struct am_bundle_feed *f = elem;
	int c = memcmp(key, f->circle, AM_HASH_BYTES);
	return c != 0 ? c : memcmp((const uint8_t *)key + AM_HASH_BYTES, f->author,
		AM_ID_BYTES);
}

const struct am_bundle_feed *
am_bundle_manifest_feed(const struct am_bundle_manifest *m,
	const uint8_t circle[static AM_HASH_BYTES],
	const uint8_t author[static AM_ID_BYTES])
{
	uint8_t key[AM_HASH_BYTES + AM_ID_BYTES];
	memcpy(key, circle, AM_HASH_BYTES);
	memcpy(key + AM_HASH_BYTES, author, AM_ID_BYTES);
	if (m->nfeeds == 0)
		return NULL;
	return bsearch(key, m->feeds, m->nfeeds, sizeof *m->feeds, feed_cmp);
}
