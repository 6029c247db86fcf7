/*
 * Bundles (protocol/bundle.md): a file of raw signed entries and fork
 * evidence, written from the store and read back into another one. This
 * file writes them deterministically, reads them with the strict msgpack
 * reader under fixed limits, checks that they are in the one order a
 * writer produces, and imports them feed by feed: feeds sort by author key,
 * not by who admitted whom, so an entry whose author's membership comes
 * from a feed later in the file is tried again once the rest has been
 * stored. Signed exports and their manifests are in src/bundle_export.c.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "amends/bundle.h"
#include "amends/state.h"
#include "bundle_impl.h"
#include "mp.h"
#include "store_impl.h"

/* ---- writing ---- */

struct export {
	struct am_store *s;
	struct am_mp_writer w;
	const uint8_t *circle;      /* the circle being walked */
	size_t nentries, nforks;    /* counted, then written */
	bool writing;
	int rc;
};

static int
write_raw(void *ctx, const uint8_t *raw, size_t len)
{
	struct export *x = ctx;
	am_mp_write_bin(&x->w, raw, len);
	x->nentries--;
	return AM_OK;
}

static int
count_feed(void *ctx, const struct am_feed_head *h)
{
	struct export *x = ctx;
	if (!x->writing) {
		x->nentries += h->seq;
		return AM_OK;
	}
	return am_store_range(x->s, x->circle, h->author, 1, h->seq, write_raw, x);
}

static int
count_fork(void *ctx, const uint8_t *raw, size_t len)
{
	struct export *x = ctx;
	if (x->writing) {
		am_mp_write_bin(&x->w, raw, len);
		x->nforks--;
	} else {
		x->nforks++;
	}
	return AM_OK;
}

static int
walk_entries(void *ctx, const uint8_t circle[static AM_HASH_BYTES])
{
	struct export *x = ctx;
	x->circle = circle;
	return am_store_heads(x->s, circle, count_feed, x);
}

static int
walk_forks(void *ctx, const uint8_t circle[static AM_HASH_BYTES])
{
	struct export *x = ctx;
	return am_store_forks(x->s, circle, count_fork, x);
}

struct has_circle {
	const uint8_t *circle;
	bool found;
};

static int
match_circle(void *ctx, const uint8_t circle[static AM_HASH_BYTES])
{
	struct has_circle *h = ctx;
	h->found = h->found || memcmp(circle, h->circle, AM_HASH_BYTES) == 0;
	return AM_OK;
}

/* Walks the chosen circles' entries (or fork evidence). */
static int
walk(struct export *x, const uint8_t *circle,
	int (*fn)(void *ctx, const uint8_t circle[static AM_HASH_BYTES]))
{
	if (circle != NULL)
		return fn(x, circle);
	return am_store_circles(x->s, fn, x);
}

int
bundle_take(struct am_mp_writer *w, size_t entries, size_t forks,
	uint8_t **data, size_t *len, size_t *nentries, size_t *nforks)
{
	if (w->buf.size > AM_BUNDLE_MAX_BYTES)
		return AM_ERR_TOO_BIG;
	if ((*data = am_mp_writer_take(w, len)) == NULL)
		return AM_ERR_NOMEM;
	if (nentries != NULL)
		*nentries = entries;
	if (nforks != NULL)
		*nforks = forks;
	return AM_OK;
}

int
am_bundle_export(struct am_store *s, const uint8_t *circle, uint8_t **data,
	size_t *len, size_t *nentries, size_t *nforks)
{
	struct export x = { .s = s };
	size_t entries, forks;
	int rc;

	am_mp_writer_init(&x.w);
	/* one read transaction: the counts and the entries are of one moment */
	if ((rc = am_store_exec(s, "BEGIN")) != AM_OK)
		goto out;
	if (circle != NULL) {
		struct has_circle h = { circle, false };
		if ((rc = am_store_circles(s, match_circle, &h)) != AM_OK)
			goto out;
		if (!h.found) {
			rc = AM_ERR_NOT_FOUND;
			goto out;
		}
	}
	if ((rc = walk(&x, circle, walk_entries)) != AM_OK ||
	    (rc = walk(&x, circle, walk_forks)) != AM_OK)
		goto out;
	entries = x.nentries;
	forks = x.nforks;
	if (entries + forks > AM_BUNDLE_MAX_ENTRIES) {
		rc = AM_ERR_TOO_BIG;
		goto out;
	}
	am_mp_write_array(&x.w, 4);
	am_mp_write_cstr(&x.w, AM_BUNDLE_MAGIC);
	am_mp_write_uint(&x.w, AM_BUNDLE_VERSION);
	x.writing = true;
	am_mp_write_array(&x.w, (uint32_t)entries);
	if ((rc = walk(&x, circle, walk_entries)) != AM_OK)
		goto out;
	am_mp_write_array(&x.w, (uint32_t)forks);
	if ((rc = walk(&x, circle, walk_forks)) != AM_OK)
		goto out;
	/* a feed whose numbers do not run 1..head would break the header */
	if (x.nentries != 0 || x.nforks != 0) {
		rc = AM_ERR_DB_CORRUPT;
		goto out;
	}
	rc = bundle_take(&x.w, entries, forks, data, len, nentries, nforks);
out:
	am_store_exec(s, "COMMIT");
	am_mp_writer_finish(&x.w);
	return rc;
}


int
am_bundle_save(const char *path, const uint8_t *data, size_t len)
{
	size_t n = strlen(path);
	char *tmp = malloc(n + 16);
	int fd = -1, rc = AM_ERR_IO;

	if (tmp == NULL)
		return AM_ERR_NOMEM;
	snprintf(tmp, n + 16, "%s.tmp-XXXXXX", path);
	if ((fd = mkstemp(tmp)) < 0)
		goto fail;
	for (size_t off = 0; off < len;) {
		ssize_t w = write(fd, data + off, len - off);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			goto fail;
		off += (size_t)w;
	}
	/* mkstemp makes the file 0600 (less the umask): a record is private
	 * until its owner hands it on */
	if (fsync(fd) != 0)
		goto fail;
	if (close(fd) != 0) {
		fd = -1;
		goto fail;
	}
	fd = -1;
	if (rename(tmp, path) != 0)
		goto fail;
	free(tmp);
	return AM_OK;
fail:
	if (fd >= 0)
		close(fd);
	unlink(tmp);
	free(tmp);
	return rc;
}

/* ---- reading ---- */

/* Reads an array header. In a file that may be cut, the count is not held
 * against the bytes that remain (they are missing by design); items are
 * then read one by one until the bytes end. */
static int
read_count(struct am_mp_reader *r, bool allow_cut, uint32_t *n)
{
	if (!allow_cut)
		return am_mp_read_array(r, n);
	size_t left = r->len - r->off;
	const uint8_t *p = r->p + r->off;
	if (left < 1)
		return AM_ERR_TRUNCATED;
	if ((p[0] & 0xf0) == 0x90) {
		*n = p[0] & 0x0f;
		r->off += 1;
	} else if (p[0] == 0xdc) {
		if (left < 3)
			return AM_ERR_TRUNCATED;
		*n = (uint32_t)p[1] << 8 | p[2];
		if (*n < 16)
			return AM_ERR_NONCANON;
		r->off += 3;
	} else if (p[0] == 0xdd) {
		if (left < 5)
			return AM_ERR_TRUNCATED;
		*n = (uint32_t)p[1] << 24 | (uint32_t)p[2] << 16 |
			(uint32_t)p[3] << 8 | p[4];
		if (*n < 65536)
			return AM_ERR_NONCANON;
		r->off += 5;
	} else {
		return AM_ERR_TYPE;
	}
	return AM_OK;
}

/* True when rc says the bytes ended before the value did. */
static bool
is_cut(int rc)
{
	return rc == AM_ERR_TRUNCATED || rc == AM_ERR_LENGTH;
}

static int
read_items(struct am_mp_reader *r, struct am_bundle *b, bool fork,
	bool allow_cut)
{
	uint32_t n;
	size_t cap = b->nitems;
	int rc = read_count(r, allow_cut, &n);
	if (rc != AM_OK)
		return rc;
	/* the limit bounds the allocation whatever the file says; the array
	 * grows with what is really read */
	if (n > AM_BUNDLE_MAX_ENTRIES - b->nitems)
		return AM_ERR_TOO_BIG;
	for (uint32_t i = 0; i < n; i++) {
		const uint8_t *raw;
		size_t len;
		if ((rc = am_mp_read_bin(r, &raw, &len, AM_ENTRY_MAX)) != AM_OK)
			return rc;
		if (b->nitems == cap) {
			cap = cap < 64 ? 64 : cap * 2;
			struct am_bundle_item *items = realloc(b->items,
				cap * sizeof *items);
			if (items == NULL)
				return AM_ERR_NOMEM;
			b->items = items;
		}
		b->items[b->nitems++] = (struct am_bundle_item){ raw, len, fork };
	}
	return AM_OK;
}

static int
parse_header(struct am_mp_reader *r, uint32_t *version)
{
	uint32_t n;
	const char *magic;
	size_t mlen;
	uint64_t v;

	if (am_mp_read_array(r, &n) != AM_OK ||
	    am_mp_read_str(r, &magic, &mlen, 64) != AM_OK ||
	    mlen != strlen(AM_BUNDLE_MAGIC) ||
	    memcmp(magic, AM_BUNDLE_MAGIC, mlen) != 0)
		return AM_ERR_TYPE;
	if (am_mp_read_uint(r, &v) != AM_OK ||
	    (v != AM_BUNDLE_VERSION && v != AM_BUNDLE_VERSION_SIGNED))
		return AM_ERR_VERSION;
	*version = (uint32_t)v;
	return n == (v == AM_BUNDLE_VERSION ? 4 : 5) ? AM_OK : AM_ERR_COUNT;
}

/* Everything after the version: manifest, entries, fork evidence. */
static int
parse_body(struct am_mp_reader *r, struct am_bundle *b, bool allow_cut)
{
	int rc;
	if (b->version == AM_BUNDLE_VERSION_SIGNED &&
	    (rc = am_mp_read_bin(r, &b->manifest, &b->manifest_len,
	    AM_BUNDLE_MANIFEST_MAX)) != AM_OK)
		return rc;
	if ((rc = read_items(r, b, false, allow_cut)) != AM_OK ||
	    (rc = read_items(r, b, true, allow_cut)) != AM_OK)
		return rc;
	return am_mp_reader_finish(r);
}

int
am_bundle_read(const uint8_t *data, size_t len, unsigned flags,
	struct am_bundle **out)
{
	struct am_mp_reader r;
	struct am_bundle *b;
	bool allow_cut = flags & AM_BUNDLE_ALLOW_CUT;
	int rc;

	if (len > AM_BUNDLE_MAX_BYTES)
		return AM_ERR_TOO_BIG;
	/* the file magic, which files written before it lack */
	if (len >= 7 && memcmp(data, AM_BUNDLE_FILE_MAGIC, 7) == 0) {
		if (len < AM_BUNDLE_FILE_MAGIC_BYTES || memcmp(data,
		    AM_BUNDLE_FILE_MAGIC, AM_BUNDLE_FILE_MAGIC_BYTES) != 0)
			return AM_ERR_FIELD;
		data += AM_BUNDLE_FILE_MAGIC_BYTES;
		len -= AM_BUNDLE_FILE_MAGIC_BYTES;
	}
	if ((b = calloc(1, sizeof *b)) == NULL)
		return AM_ERR_NOMEM;
	am_mp_reader_init(&r, data, len);
	rc = parse_header(&r, &b->version);
	if (rc != AM_OK)
		goto fail;
	rc = parse_body(&r, b, allow_cut);
	if (rc != AM_OK && allow_cut && is_cut(rc) &&
	    (b->version == AM_BUNDLE_VERSION || b->manifest != NULL)) {
		b->cut = true;
		rc = AM_OK;
	}
	if (rc != AM_OK) {
		/* past the header, a value of the wrong type is damage */
		if (rc == AM_ERR_TYPE)
			rc = AM_ERR_FIELD;
		goto fail;
	}
	*out = b;
	return AM_OK;
fail:
	am_bundle_destroy(&b);
	return rc;
}

int
am_bundle_parse(const uint8_t *data, size_t len, struct am_bundle **out)
{
	return am_bundle_read(data, len, 0, out);
}

/* Reads at most max bytes of fd; AM_ERR_TOO_BIG when there are more. */
static int
read_all(int fd, size_t max, uint8_t **data, size_t *len)
{
	size_t cap = 65536, n = 0;
	uint8_t *buf = malloc(cap);
	if (buf == NULL)
		return AM_ERR_NOMEM;
	for (;;) {
		if (n == cap) {
			if (cap > max) {
				free(buf);
				return AM_ERR_TOO_BIG;
			}
			size_t ncap = cap * 2 > max + 1 ? max + 1 : cap * 2;
			uint8_t *nbuf = realloc(buf, ncap);
			if (nbuf == NULL) {
				free(buf);
				return AM_ERR_NOMEM;
			}
			buf = nbuf;
			cap = ncap;
		}
		ssize_t r = read(fd, buf + n, cap - n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			free(buf);
			return AM_ERR_IO;
		}
		if (r == 0)
			break;
		n += (size_t)r;
	}
	if (n > max) {
		free(buf);
		return AM_ERR_TOO_BIG;
	}
	*data = buf;
	*len = n;
	return AM_OK;
}

int
am_bundle_load(const char *path, struct am_bundle **out)
{
	return am_bundle_open(path, 0, out);
}

int
am_bundle_open(const char *path, unsigned flags, struct am_bundle **out)
{
	struct stat st;
	uint8_t *data = NULL;
	size_t len;
	int rc;

	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return AM_ERR_IO;
	if (fstat(fd, &st) != 0) {
		close(fd);
		return AM_ERR_IO;
	}
	if (S_ISREG(st.st_mode) && (uint64_t)st.st_size > AM_BUNDLE_MAX_BYTES) {
		close(fd);
		return AM_ERR_TOO_BIG;
	}
	/* the size may change under us, or the file may be a pipe: the read
	 * itself is bounded too */
	rc = read_all(fd, AM_BUNDLE_MAX_BYTES, &data, &len);
	close(fd);
	if (rc != AM_OK)
		return rc;
	if ((rc = am_bundle_read(data, len, flags, out)) != AM_OK) {
		free(data);
		return rc;
	}
	(*out)->data = data;
	(*out)->len = len;
	return AM_OK;
}

void
am_bundle_destroy(struct am_bundle **bp)
{
	struct am_bundle *b = *bp;
	if (b == NULL)
		return;
	free(b->items);
	free(b->data);
	free(b);
	*bp = NULL;
}

/* ---- order ---- */

/* How a decoded item compares with the one before it in its part of the
 * file: < 0 when it sorts after it, as it should. */
static int
order_cmp(const struct am_entry *prev, const struct am_entry *e, bool fork)
{
	int c = memcmp(prev->circle, e->circle, AM_HASH_BYTES);
	if (c == 0)
		c = memcmp(prev->author, e->author, AM_ID_BYTES);
	if (c == 0 && prev->seq != e->seq)
		c = prev->seq < e->seq ? -1 : 1;
	if (c == 0 && fork)
		c = memcmp(prev->hash, e->hash, AM_HASH_BYTES);
	return c;
}

/* The sentence for an item that does not sort after prev. */
static void
disorder(const struct am_entry *prev, const struct am_entry *e, bool fork,
	char *what, size_t size)
{
	bool feed = memcmp(prev->circle, e->circle, AM_HASH_BYTES) == 0 &&
		memcmp(prev->author, e->author, AM_ID_BYTES) == 0;
	unsigned long long seq = prev->seq;
	if (!feed && !fork)
		snprintf(what, size, "it comes after an entry of a feed that sorts "
			"after its own: the entries were reordered");
	else if (!feed)
		snprintf(what, size, "fork evidence: it comes after fork evidence of "
			"a feed that sorts after its own: the fork evidence was reordered");
	else if (prev->seq != e->seq && !fork)
		snprintf(what, size, "it comes after entry %llu of the same feed: "
			"the entries were reordered", seq);
	else if (prev->seq != e->seq)
		snprintf(what, size, "fork evidence: it comes after fork evidence at "
			"entry %llu of the same feed: the fork evidence was reordered",
			seq);
	else if (!fork)
		snprintf(what, size, "the file holds two entries numbered %llu of "
			"this feed among its entries", seq);
	else if (memcmp(prev->hash, e->hash, AM_HASH_BYTES) != 0)
		snprintf(what, size, "fork evidence: it comes after fork evidence at "
			"the same number whose hash sorts after its own: the fork "
			"evidence was reordered");
	else
		snprintf(what, size, "fork evidence: the file holds it twice");
}

int
am_bundle_check_order(const struct am_bundle *b,
	void (*out_of_order)(void *ctx, size_t index, const struct am_entry *e,
	const char *what), void *ctx)
{
	struct am_entry prev, e;
	bool have = false, prev_fork = false;
	int rc = AM_OK;

	for (size_t i = 0; i < b->nitems; i++) {
		const struct am_bundle_item *it = &b->items[i];
		/* an item that does not decode has no place: it is refused alone */
		if (am_entry_decode(it->raw, it->len, &e) != AM_OK)
			continue;
		/* entries come first, then fork evidence: a new part starts over */
		if (have && prev_fork == it->fork &&
		    order_cmp(&prev, &e, it->fork) >= 0) {
			rc = AM_ERR_ORDER;
			if (out_of_order != NULL) {
				char what[200];
				disorder(&prev, &e, it->fork, what, sizeof what);
				out_of_order(ctx, i, &e, what);
			}
		}
		prev = e;
		prev_fork = it->fork;
		have = true;
	}
	return rc;
}

/* ---- importing ---- */

/* An item waiting to be ingested, with what orders it. */
struct pending {
	uint8_t feed[AM_HASH_BYTES + AM_ID_BYTES];   /* circle, author */
	uint64_t seq;
	size_t index;                                 /* in b->items */
	bool fork;
	bool done;
	int rc;                                       /* last reason it waited */
};

static int
pending_cmp(const void *a, const void *b)
{
	const struct pending *x = a, *y = b;
	int c = memcmp(x->feed, y->feed, sizeof x->feed);
	if (c != 0)
		return c;
	if (x->seq != y->seq)
		return x->seq < y->seq ? -1 : 1;
	if (x->fork != y->fork)
		return x->fork ? 1 : -1;
	return x->index < y->index ? -1 : x->index > y->index;
}

/* Errors that say the store itself is in trouble, not the entry. */
static bool
store_failed(int rc)
{
	return rc == AM_ERR_NOMEM || rc == AM_ERR_IO || rc == AM_ERR_DB ||
		rc == AM_ERR_DB_BUSY || rc == AM_ERR_DB_FULL ||
		rc == AM_ERR_DB_CORRUPT || rc == AM_ERR_DB_SCHEMA;
}

/* Errors that may go away once other entries are stored. */
static bool
may_wait(int rc)
{
	return rc == AM_ERR_GAP || rc == AM_ERR_NO_GENESIS;
}

/*
 * An entry refused for its own signature may still be its author's: when
 * the entries after it in the file link up to one validly signed, that
 * one vouches for it, as in a peer's batch (protocol/sync.md, "Verifying
 * on ingest"). The run from p[i] on is ingested as a batch would be;
 * *taken receives how many of it were stored, 0 when the run does not
 * hold (then p[i] stays refused). Returns the batch's code.
 */
static int
import_run(struct am_store *s, const struct am_bundle *b, struct pending *p,
	size_t i, size_t n, struct am_bundle_counts *counts, size_t *taken)
{
	const uint8_t *raw[AM_STORE_BATCH_MAX];
	size_t len[AM_STORE_BATCH_MAX], k = 0, done = 0;
	enum am_ingest_result res[AM_STORE_BATCH_MAX];
	*taken = 0;
	while (i + k < n && k < AM_STORE_BATCH_MAX && !p[i + k].fork &&
	    !p[i + k].done &&
	    memcmp(p[i + k].feed, p[i].feed, sizeof p[i].feed) == 0 &&
	    p[i + k].seq == p[i].seq + k) {
		raw[k] = b->items[p[i + k].index].raw;
		len[k] = b->items[p[i + k].index].len;
		k++;
	}
	if (k < 2)
		return AM_ERR_SIGNATURE;
	int rc = am_store_ingest_batch(s, raw, len, k, res, &done);
	for (size_t j = 0; j < done; j++) {
		p[i + j].done = true;
		counts->added += res[j] == AM_INGEST_NEW;
		counts->duplicates += res[j] == AM_INGEST_DUPLICATE;
		counts->forks += res[j] == AM_INGEST_FORK;
		*taken += res[j] == AM_INGEST_NEW;
	}
	return rc;
}

/* One pass over what still waits. Within a feed, once an entry has to
 * wait, the ones after it would only find a gap: they wait untried. */
static int
import_pass(struct am_store *s, const struct am_bundle *b, struct pending *p,
	size_t n, struct am_bundle_counts *counts, size_t *stored)
{
	const uint8_t *blocked = NULL;
	for (size_t i = 0; i < n; i++) {
		struct pending *q = &p[i];
		if (q->done)
			continue;
		if (blocked != NULL && memcmp(blocked, q->feed, sizeof q->feed) == 0)
			continue;
		const struct am_bundle_item *it = &b->items[q->index];
		enum am_ingest_result res;
		int rc = am_store_ingest(s, it->raw, it->len, &res);
		if (store_failed(rc))
			return rc;
		if (rc == AM_OK) {
			q->done = true;
			counts->added += res == AM_INGEST_NEW;
			counts->duplicates += res == AM_INGEST_DUPLICATE;
			counts->forks += res == AM_INGEST_FORK;
			*stored += res == AM_INGEST_NEW;
			continue;
		}
		if (rc == AM_ERR_SIGNATURE && !q->fork) {
			size_t taken;
			int brc = import_run(s, b, p, i, n, counts, &taken);
			if (store_failed(brc))
				return brc;
			*stored += taken;
			if (q->done)
				continue;
			if (may_wait(brc))
				rc = brc;
		}
		q->rc = rc;
		if (may_wait(rc)) {
			blocked = q->feed;
			continue;
		}
		q->done = true;
		q->rc = -rc;     /* refused for good; reported at the end */
	}
	return AM_OK;
}

static void
report(const struct am_bundle *b, const struct pending *q,
	void (*refused)(void *, size_t, const struct am_entry *, int), void *ctx,
	struct am_bundle_counts *counts)
{
	struct am_entry e;
	const struct am_bundle_item *it = &b->items[q->index];
	int rc = q->rc < 0 ? -q->rc : q->rc;
	/* untried because an earlier entry of its feed had to wait */
	if (rc == AM_OK)
		rc = AM_ERR_GAP;
	counts->refused++;
	if (refused == NULL)
		return;
	if (am_entry_decode(it->raw, it->len, &e) == AM_OK)
		refused(ctx, q->index, &e, rc);
	else
		refused(ctx, q->index, NULL, rc);
}

int
am_bundle_import(struct am_store *s, const struct am_bundle *b,
	void (*refused)(void *ctx, size_t index, const struct am_entry *e, int rc),
	void *ctx, struct am_bundle_counts *counts)
{
	struct pending *p = NULL;
	size_t n = 0;
	int rc = AM_OK;

	memset(counts, 0, sizeof *counts);
	/* a file out of order is damaged as a whole: nothing of it is stored */
	if ((rc = am_bundle_check_order(b, NULL, NULL)) != AM_OK)
		return rc;
	if (b->nitems > 0 && (p = calloc(b->nitems, sizeof *p)) == NULL)
		return AM_ERR_NOMEM;
	for (size_t i = 0; i < b->nitems; i++) {
		struct am_entry e;
		int drc = am_entry_decode(b->items[i].raw, b->items[i].len, &e);
		if (drc != AM_OK) {
			counts->refused++;
			if (refused != NULL)
				refused(ctx, i, NULL, drc);
			continue;
		}
		memcpy(p[n].feed, e.circle, AM_HASH_BYTES);
		memcpy(p[n].feed + AM_HASH_BYTES, e.author, AM_ID_BYTES);
		p[n].seq = e.seq;
		p[n].index = i;
		p[n].fork = b->items[i].fork;
		n++;
	}
	if (n > 0)
		qsort(p, n, sizeof *p, pending_cmp);
	/* Each pass that stores something may unblock others; a pass that
	 * stores nothing ends it. Feeds only wait on membership, which grows
	 * with each pass, so this takes at most a pass per author. */
	for (;;) {
		size_t stored = 0;
		if ((rc = import_pass(s, b, p, n, counts, &stored)) != AM_OK)
			goto out;
		if (stored == 0)
			break;
	}
	for (size_t i = 0; i < n; i++) {
		if (!p[i].done || p[i].rc < 0)
			report(b, &p[i], refused, ctx, counts);
	}
out:
	free(p);
	return rc;
}
