/*
 * Proofs (include/amends/proof.h): everything a third party checks in a
 * signed export before believing it. The checks that name what is wrong
 * (which entry was altered, which one is missing from the middle of a
 * feed, where a feed was cut short) are made here over the file's items;
 * the rules of the circle are then applied by the real store and state
 * modules, into a temporary store that nothing else uses and that is
 * removed afterwards.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "amends/checkpoint.h"
#include "amends/proof.h"
#include "amends/state.h"
#include "amends/verify.h"
#include "store_impl.h"

#define DB_NAME "proof.db"

struct run {
	const struct am_bundle *b;
	struct am_proof *p;
	void (*problem)(void *ctx, const struct am_proof_problem *pr);
	void *ctx;
	struct am_entry *es;        /* decoded items, in file order */
	size_t *index;              /* es[i] is item index[i] of the file */
	uint8_t *sig_ok;
	uint8_t *proven;            /* es[i] extends its feed's proven run */
	size_t n;
	size_t *order;              /* feed entries by (circle, author, seq) */
	size_t norder;
};

#define NOTE 2                  /* vreport: a note, not a problem */

static void
vreport(struct run *r, int finding, uint32_t subject, const struct am_entry *e,
	const uint8_t *circle, const uint8_t *author, uint64_t seq, size_t item,
	int code, const char *fmt, va_list ap)
{
	struct am_proof_problem pr = { .subject = subject, .seq = seq,
		.item = item, .code = code, .finding = finding == 1,
		.note = finding == NOTE };
	char what[512];

	if (e != NULL) {
		circle = e->circle;
		author = e->author;
	}
	if (circle != NULL)
		memcpy(pr.circle, circle, AM_HASH_BYTES);
	if (author != NULL)
		memcpy(pr.author, author, AM_ID_BYTES);
	vsnprintf(what, sizeof what, fmt, ap);
	pr.what = what;
	if (pr.note)
		r->p->notes++;
	else
		r->p->problems++;
	r->p->findings += pr.finding;
	if (r->problem != NULL)
		r->problem(r->ctx, &pr);
}

static void
report(struct run *r, uint32_t subject, const struct am_entry *e,
	const uint8_t *circle, const uint8_t *author, uint64_t seq, size_t item,
	int code, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vreport(r, false, subject, e, circle, author, seq, item, code, fmt, ap);
	va_end(ap);
}

/* A finding: proof against an author, which leaves the file intact. */
static void
finding(struct run *r, const struct am_entry *e, size_t item, int code,
	const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vreport(r, true, AM_PROOF_ENTRY, e, NULL, NULL, e->seq, item, code, fmt, ap);
	va_end(ap);
}

/* ---- the manifest ---- */

static void
check_manifest(struct run *r)
{
	struct am_proof *p = r->p;
	int rc;
	if (r->b->manifest == NULL) {
		report(r, AM_PROOF_MANIFEST, NULL, NULL, NULL, 0, 0,
			AM_ERR_NO_MANIFEST, "the file has no signed manifest (a plain "
			"bundle, or the manifest was removed): nothing shows who "
			"exported it or where its feeds ended");
		return;
	}
	rc = am_bundle_manifest_decode(r->b->manifest, r->b->manifest_len,
		&p->manifest);
	if (rc != AM_OK) {
		am_bundle_manifest_finish(&p->manifest);
		report(r, AM_PROOF_MANIFEST, NULL, NULL, NULL, 0, 0, rc,
			"the manifest is damaged: %s", am_strerror(rc));
		return;
	}
	p->has_manifest = true;
	if ((rc = am_bundle_manifest_verify(&p->manifest)) != AM_OK) {
		report(r, AM_PROOF_MANIFEST, NULL, NULL, NULL, 0, 0, AM_ERR_MANIFEST,
			"the manifest's signature does not verify: the manifest was "
			"altered, so none of the heads it names can be trusted");
		return;
	}
	p->manifest_ok = true;
}

/* ---- the items ---- */

static int
decode_items(struct run *r)
{
	const struct am_bundle *b = r->b;
	r->es = calloc(b->nitems ? b->nitems : 1, sizeof *r->es);
	r->index = calloc(b->nitems ? b->nitems : 1, sizeof *r->index);
	r->sig_ok = calloc(b->nitems ? b->nitems : 1, 1);
	r->proven = calloc(b->nitems ? b->nitems : 1, 1);
	if (r->es == NULL || r->index == NULL || r->sig_ok == NULL ||
	    r->proven == NULL)
		return AM_ERR_NOMEM;
	for (size_t i = 0; i < b->nitems; i++) {
		int rc = am_entry_decode(b->items[i].raw, b->items[i].len, &r->es[r->n]);
		if (rc == AM_OK) {
			r->index[r->n++] = i;
			continue;
		}
		if (r->n > 0) {
			const struct am_entry *prev = &r->es[r->n - 1];
			report(r, AM_PROOF_FILE, NULL, prev->circle, prev->author, 0,
				i + 1, rc, "item %zu of the file, after entry %llu of this "
				"feed, is not a valid entry (%s): it was altered", i + 1,
				(unsigned long long)prev->seq, am_strerror(rc));
		} else {
			report(r, AM_PROOF_FILE, NULL, NULL, NULL, 0, i + 1, rc,
				"item %zu of the file is not a valid entry (%s): it was "
				"altered", i + 1, am_strerror(rc));
		}
	}
	return am_verify_signatures(r->es, r->n, 0, r->sig_ok);
}

static int
key_cmp(const struct am_entry *a, const struct am_entry *b)
{
	int c = memcmp(a->circle, b->circle, AM_HASH_BYTES);
	if (c == 0)
		c = memcmp(a->author, b->author, AM_ID_BYTES);
	if (c == 0 && a->seq != b->seq)
		c = a->seq < b->seq ? -1 : 1;
	return c;
}

static bool
same_feed(const struct am_entry *a, const struct am_entry *b)
{
	return memcmp(a->circle, b->circle, AM_HASH_BYTES) == 0 &&
		memcmp(a->author, b->author, AM_ID_BYTES) == 0;
}

static void
on_disorder(void *ctx, size_t index, const struct am_entry *e, const char *what)
{
	report(ctx, AM_PROOF_ENTRY, e, NULL, NULL, e->seq, index + 1,
		AM_ERR_ORDER, "%s", what);
}

/* Altered entries, then entries out of the order every bundle is in
 * (am_bundle_check_order, which amends import applies too). */
static void
check_items(struct run *r)
{
	for (size_t i = 0; i < r->n; i++) {
		const struct am_entry *e = &r->es[i];
		bool fork = r->b->items[r->index[i]].fork;
		/* a feed's entry may be vouched for by the next: walk_feed */
		if (!r->sig_ok[i] && fork)
			report(r, AM_PROOF_ENTRY, e, NULL, NULL, e->seq, r->index[i] + 1,
				AM_ERR_SIGNATURE, "fork evidence: its signature does not "
				"verify: the entry was altered after its author signed it");
	}
	/* each item out of order is reported as it is found: nothing more to
	 * do with AM_ERR_ORDER */
	if (am_bundle_check_order(r->b, on_disorder, r) != AM_OK)
		return;
}

static struct run *sort_run;   /* qsort has no context argument */

static int
order_cmp(const void *a, const void *b)
{
	size_t x = *(const size_t *)a, y = *(const size_t *)b;
	int c = key_cmp(&sort_run->es[x], &sort_run->es[y]);
	return c != 0 ? c : (x < y ? -1 : x > y);
}

static int
add_feed(struct am_proof *p, const uint8_t *circle, const uint8_t *author,
	struct am_proof_feed **out)
{
	struct am_proof_feed *f = realloc(p->feeds, (p->nfeeds + 1) * sizeof *f);
	if (f == NULL)
		return AM_ERR_NOMEM;
	p->feeds = f;
	f = &p->feeds[p->nfeeds++];
	memset(f, 0, sizeof *f);
	memcpy(f->circle, circle, AM_HASH_BYTES);
	memcpy(f->author, author, AM_ID_BYTES);
	*out = f;
	return AM_OK;
}

/* Entries whose signature fails and that no later signed entry vouches
 * for: altered after their author signed them. */
static void
altered(struct run *r, const size_t *bad, size_t nbad)
{
	for (size_t k = 0; k < nbad; k++) {
		const struct am_entry *e = &r->es[bad[k]];
		report(r, AM_PROOF_ENTRY, e, NULL, NULL, e->seq, r->index[bad[k]] + 1,
			AM_ERR_SIGNATURE, "its signature does not verify: the entry was "
			"altered after its author signed it");
	}
}

/*
 * Walks one feed's entries (order[from..to)) in number order: proven is
 * the longest run 1, 2, 3... of entries each naming the hash of the one
 * before and ending in a validly signed one. An entry in that run whose
 * own signature fails is vouched for by the signed entry after it, as a
 * node takes a peer's batch (protocol/sync.md, "Verifying on ingest"): its
 * content is its author's, and it is a finding against them, not damage.
 */
static void
walk_feed(struct run *r, size_t from, size_t to, struct am_proof_feed *f)
{
	const struct am_entry *last = NULL;
	bool broken = false;
	size_t *bad = malloc((to - from) * sizeof *bad), nbad = 0;
	uint64_t end = 0;                /* the run, vouched for or not */
	if (bad == NULL)
		return;
	for (size_t k = from; k < to; k++) {
		size_t i = r->order[k];
		const struct am_entry *e = &r->es[i];
		f->in_file++;
		if (broken)
			continue;
		if (e->seq <= end) {
			broken = true;      /* a number twice: out of order */
		} else if (e->seq != end + 1 && nbad > 0) {
			broken = true;      /* what is unvouched is reported below */
		} else if (last != NULL && e->seq == end + 1 && nbad > 0 &&
		    memcmp(e->prev, last->hash, AM_HASH_BYTES) != 0) {
			broken = true;
		} else if (e->seq == end + 1 && (last == NULL ||
		    memcmp(e->prev, last->hash, AM_HASH_BYTES) == 0) &&
		    !r->sig_ok[i]) {
			bad[nbad++] = i;    /* vouched for if a signed one follows */
			end = e->seq;
			last = e;
		} else if (e->seq != end + 1) {   /* here end == f->proven */
			if (f->proven == 0)
				report(r, AM_PROOF_FEED, e, NULL, NULL, 0, 0, AM_ERR_GAP,
					"entr%s 1%s %llu missing: the feed starts at entry %llu",
					e->seq == 2 ? "y" : "ies", e->seq == 2 ? " is" : " to",
					(unsigned long long)(e->seq - 1), (unsigned long long)e->seq);
			else if (e->seq == f->proven + 2)
				report(r, AM_PROOF_FEED, e, NULL, NULL, f->proven + 1, 0,
					AM_ERR_GAP, "entry %llu was removed from the middle of the "
					"feed: the file holds entries %llu and %llu",
					(unsigned long long)(f->proven + 1),
					(unsigned long long)f->proven, (unsigned long long)e->seq);
			else
				report(r, AM_PROOF_FEED, e, NULL, NULL, f->proven + 1, 0,
					AM_ERR_GAP, "entries %llu to %llu were removed from the "
					"middle of the feed", (unsigned long long)(f->proven + 1),
					(unsigned long long)(e->seq - 1));
			broken = true;
		} else if (!r->sig_ok[i]) {
			bad[nbad++] = i;    /* altered: its link does not matter */
			broken = true;
		} else if (last != NULL &&
		    memcmp(e->prev, last->hash, AM_HASH_BYTES) != 0) {
			report(r, AM_PROOF_ENTRY, e, NULL, NULL, e->seq, r->index[i] + 1,
				AM_ERR_CHAIN, "it does not name the hash of entry %llu before "
				"it: one of the two was replaced", (unsigned long long)last->seq);
			broken = true;
		} else {
			for (size_t b = 0; b < nbad; b++) {
				const struct am_entry *x = &r->es[bad[b]];
				r->proven[bad[b]] = 1;
				finding(r, x, r->index[bad[b]] + 1, AM_ERR_SIGNATURE,
					"its signature does not verify; its content is "
					"vouched for by entry %llu of the same author, which "
					"names its hash: the author signed an invalid entry",
					(unsigned long long)x->seq + 1);
			}
			nbad = 0;
			f->proven = end = e->seq;
			r->proven[i] = 1;
			last = e;
		}
	}
	altered(r, bad, nbad);
	free(bad);
}

/* What the manifest says of a feed found in the file. */
static void
compare_feed(struct run *r, struct am_proof_feed *f, const struct am_entry *named)
{
	const struct am_bundle_feed *m = am_bundle_manifest_feed(&r->p->manifest,
		f->circle, f->author);
	if (m == NULL) {
		report(r, AM_PROOF_FEED, NULL, f->circle, f->author, 0, 0,
			AM_ERR_UNNAMED, "the manifest does not name this feed (%llu "
			"entr%s in the file): it was added to the file",
			(unsigned long long)f->in_file, f->in_file == 1 ? "y" : "ies");
		return;
	}
	f->named = m->seq;
	f->head = m->head;
	if (f->proven >= m->seq) {
		if (named == NULL || memcmp(named->hash, m->hash, AM_HASH_BYTES) != 0) {
			report(r, AM_PROOF_ENTRY, NULL, f->circle, f->author, m->seq, 0,
				AM_ERR_MANIFEST, "it is not the entry the manifest names as "
				"the feed's newest");
			return;
		}
		f->whole = true;
		if (f->in_file > m->seq)
			report(r, AM_PROOF_ENTRY, NULL, f->circle, f->author, m->seq + 1, 0,
				AM_ERR_UNNAMED, "the manifest names the feed only up to entry "
				"%llu: later entries were added to the file",
				(unsigned long long)m->seq);
	} else if (f->in_file == f->proven) {
		/* nothing wrong in what is there: the rest was cut off */
		report(r, AM_PROOF_FEED, NULL, f->circle, f->author, 0, 0, AM_ERR_CUT,
			"proven up to entry %llu of %llu named by the manifest: the "
			"newest entries were cut off", (unsigned long long)f->proven,
			(unsigned long long)m->seq);
	}
}

static void
check_feeds(struct run *r)
{
	struct am_proof *p = r->p;
	r->order = malloc((r->n ? r->n : 1) * sizeof *r->order);
	if (r->order == NULL)
		return;
	for (size_t i = 0; i < r->n; i++)
		if (!r->b->items[r->index[i]].fork)
			r->order[r->norder++] = i;
	sort_run = r;
	qsort(r->order, r->norder, sizeof *r->order, order_cmp);
	for (size_t from = 0, to; from < r->norder; from = to) {
		const struct am_entry *e = &r->es[r->order[from]];
		struct am_proof_feed *f;
		for (to = from + 1; to < r->norder && same_feed(e, &r->es[r->order[to]]);)
			to++;
		if (add_feed(p, e->circle, e->author, &f) != AM_OK)
			return;
		walk_feed(r, from, to, f);
		if (!p->manifest_ok)
			continue;
		const struct am_entry *named = NULL;
		const struct am_bundle_feed *m = am_bundle_manifest_feed(&p->manifest,
			f->circle, f->author);
		for (size_t k = from; m != NULL && k < to; k++)
			if (r->es[r->order[k]].seq == m->seq)
				named = &r->es[r->order[k]];
		compare_feed(r, f, named);
	}
	if (!p->manifest_ok)
		return;
	for (size_t i = 0; i < p->manifest.nfeeds; i++) {
		const struct am_bundle_feed *m = &p->manifest.feeds[i];
		bool found = false;
		for (size_t k = 0; k < p->nfeeds && !found; k++)
			found = memcmp(p->feeds[k].circle, m->circle, AM_HASH_BYTES) == 0 &&
				memcmp(p->feeds[k].author, m->author, AM_ID_BYTES) == 0;
		if (found)
			continue;
		struct am_proof_feed *f;
		if (add_feed(p, m->circle, m->author, &f) != AM_OK)
			return;
		f->named = m->seq;
		f->head = m->head;
		report(r, AM_PROOF_FEED, NULL, m->circle, m->author, 0, 0, AM_ERR_CUT,
			"proven up to entry 0 of %llu named by the manifest: none of the "
			"feed's entries is in the file", (unsigned long long)m->seq);
	}
}

static const struct am_proof_feed *
proof_feed(const struct am_proof *p, const uint8_t *circle, const uint8_t *author)
{
	for (size_t i = 0; i < p->nfeeds; i++)
		if (memcmp(p->feeds[i].circle, circle, AM_HASH_BYTES) == 0 &&
		    memcmp(p->feeds[i].author, author, AM_ID_BYTES) == 0)
			return &p->feeds[i];
	return NULL;
}

/* Fork evidence: a second signed entry at a number the feed holds, each
 * named by the manifest; and every piece the manifest names is there. */
static void
check_forks(struct run *r, uint8_t *fork_ok)
{
	struct am_proof *p = r->p;
	for (size_t i = 0; i < r->n; i++) {
		const struct am_entry *e = &r->es[i];
		if (!r->b->items[r->index[i]].fork || !r->sig_ok[i])
			continue;
		const struct am_proof_feed *f = proof_feed(p, e->circle, e->author);
		const struct am_entry *held = NULL;
		for (size_t k = 0; k < r->norder && held == NULL; k++) {
			const struct am_entry *x = &r->es[r->order[k]];
			if (key_cmp(x, e) == 0 && memcmp(x->hash, e->hash, AM_HASH_BYTES) != 0)
				held = x;
		}
		if (f == NULL || e->seq > f->proven || !held) {
			report(r, AM_PROOF_ENTRY, e, NULL, NULL, e->seq, r->index[i] + 1,
				AM_ERR_FIELD, "fork evidence that no entry of the file's feed "
				"contradicts");
			continue;
		}
		const struct am_bundle_feed *m = p->manifest_ok ?
			am_bundle_manifest_feed(&p->manifest, e->circle, e->author) : NULL;
		bool named = false;
		for (size_t k = 0; m != NULL && k < m->nforks && !named; k++)
			named = memcmp(m->forks + k * AM_HASH_BYTES, e->hash, AM_HASH_BYTES) == 0;
		if (p->manifest_ok && !named) {
			report(r, AM_PROOF_ENTRY, e, NULL, NULL, e->seq, r->index[i] + 1,
				AM_ERR_UNNAMED, "fork evidence the manifest does not name: it "
				"was added to the file");
			continue;
		}
		fork_ok[i] = 1;
		char h1[2 * AM_HASH_BYTES + 1], h2[2 * AM_HASH_BYTES + 1];
		am_hex(held->hash, AM_HASH_BYTES, h1);
		am_hex(e->hash, AM_HASH_BYTES, h2);
		finding(r, e, r->index[i] + 1, AM_ERR_FORK, "the author signed two "
			"different entries at this number (fork): %.16s and %.16s",
			h1, h2);
	}
	if (!p->manifest_ok)
		return;
	for (size_t i = 0; i < p->manifest.nfeeds; i++) {
		const struct am_bundle_feed *m = &p->manifest.feeds[i];
		for (size_t k = 0; k < m->nforks; k++) {
			bool found = false;
			for (size_t j = 0; j < r->n && !found; j++)
				found = r->b->items[r->index[j]].fork &&
					memcmp(r->es[j].hash, m->forks + k * AM_HASH_BYTES,
					AM_HASH_BYTES) == 0;
			if (!found)
				report(r, AM_PROOF_FEED, NULL, m->circle, m->author, 0, 0,
					AM_ERR_CUT, "the manifest names fork evidence of this feed "
					"that is not in the file: it was removed");
		}
	}
}

/* ---- the rules, through a temporary store ---- */

static int
open_store(struct am_proof *p, const char *tmpdir)
{
	if (tmpdir == NULL)
		tmpdir = getenv("TMPDIR");
	if (tmpdir == NULL || *tmpdir == '\0')
		tmpdir = "/tmp";
	size_t n = strlen(tmpdir) + sizeof "/amends-verify-XXXXXX" + sizeof DB_NAME + 1;
	char *path = malloc(n);
	if ((p->dir = malloc(n)) == NULL || path == NULL) {
		free(path);
		return AM_ERR_NOMEM;
	}
	snprintf(p->dir, n, "%s/amends-verify-XXXXXX", tmpdir);
	if (mkdtemp(p->dir) == NULL) {
		free(p->dir);
		free(path);
		p->dir = NULL;
		return AM_ERR_IO;
	}
	snprintf(path, n, "%s/%s", p->dir, DB_NAME);
	int rc = am_store_open(path, &p->store);
	free(path);
	/* a scratch copy that is thrown away: durability buys nothing */
	if (rc == AM_OK)
		rc = am_store_exec(p->store, "PRAGMA synchronous = OFF");
	return rc;
}

static void
on_refused(void *ctx, size_t index, const struct am_entry *e, int rc)
{
	struct run *r = ctx;
	report(r, AM_PROOF_ENTRY, e, NULL, NULL, e != NULL ? e->seq : 0, 0, rc,
		"refused by the rules of the circle: %s", am_strerror(rc));
}

static int
fork_cmp(const void *a, const void *b)
{
	const struct am_entry *x = &sort_run->es[*(const size_t *)a];
	const struct am_entry *y = &sort_run->es[*(const size_t *)b];
	int c = key_cmp(x, y);
	return c != 0 ? c : memcmp(x->hash, y->hash, AM_HASH_BYTES);
}

/* Ingests the proven entries and the accepted fork evidence, in the order
 * a bundle must be in whatever the file's order was: each proven entry
 * once, by feed and number, then each piece of evidence once. */
static int
replay(struct run *r, const uint8_t *fork_ok, const char *tmpdir)
{
	struct am_bundle sub = { 0 };
	struct am_bundle_counts counts;
	size_t *forks = NULL, nforks = 0;
	int rc = open_store(r->p, tmpdir);
	if (rc != AM_OK)
		return rc;
	sub.items = calloc(r->n ? r->n : 1, sizeof *sub.items);
	forks = malloc((r->n ? r->n : 1) * sizeof *forks);
	if (sub.items == NULL || forks == NULL) {
		rc = AM_ERR_NOMEM;
		goto out;
	}
	for (size_t k = 0; k < r->norder; k++)
		if (r->proven[r->order[k]])
			sub.items[sub.nitems++] = r->b->items[r->index[r->order[k]]];
	for (size_t i = 0; i < r->n; i++)
		if (fork_ok[i])
			forks[nforks++] = i;
	sort_run = r;
	qsort(forks, nforks, sizeof *forks, fork_cmp);
	for (size_t k = 0; k < nforks; k++)
		if (k == 0 || fork_cmp(&forks[k - 1], &forks[k]) != 0)
			sub.items[sub.nitems++] = r->b->items[r->index[forks[k]]];
	rc = am_bundle_import(r->p->store, &sub, on_refused, r, &counts);
out:
	free(forks);
	free(sub.items);
	return rc;
}

/* A circle's name for a sentence, cut to 64 bytes at a character
 * boundary. The bytes are the record's own: the library does not format
 * for terminals, so whoever shows the sentence escapes it. */
static void
plain_name(const char *name, char out[static 65])
{
	size_t n = name != NULL ? strlen(name) : 0;
	if (n > 64) {
		n = 64;
		while (n > 0 && ((unsigned char)name[n] & 0xc0) == 0x80)
			n--;
	}
	if (n > 0)
		memcpy(out, name, n);
	out[n] = '\0';
}

/*
 * Anyone can sign a manifest: only the signature of someone who belongs to
 * a circle says that the file is that person's account of the record. So
 * the exporter must be a joined member or witness of every circle whose
 * feeds the file holds, by the rules applied to the file's own entries.
 */
static int
check_signer(struct run *r)
{
	struct am_proof *p = r->p;
	struct am_circle_info *all = NULL, *mine = NULL;
	size_t nall = 0, nmine = 0;
	char text[AM_ID_TEXT_BYTES], fp[AM_FPR_TEXT_BYTES], name[65];
	int rc = am_state_circles(p->store, NULL, &all, &nall);
	if (rc == AM_OK)
		rc = am_state_circles(p->store, p->manifest.exporter, &mine, &nmine);
	if (rc != AM_OK)
		goto out;
	am_id_format(p->manifest.exporter, text);
	am_id_fingerprint(p->manifest.exporter, fp);
	for (size_t i = 0; i < nall; i++) {
		bool joined = false;
		for (size_t k = 0; k < nmine && !joined; k++)
			joined = memcmp(mine[k].id, all[i].id, AM_HASH_BYTES) == 0 &&
				mine[k].status == AM_MEMBER_JOINED;
		if (joined)
			continue;
		plain_name(all[i].name, name);
		report(r, AM_PROOF_MANIFEST, NULL, all[i].id, NULL, 0, 0,
			AM_ERR_NOT_MEMBER, "it is signed by %.8s (%s), who is neither a "
			"member nor a witness of circle '%s': anyone can sign a "
			"manifest, so it proves nothing of who exported the file",
			text, fp, name);
	}
out:
	am_state_circles_free(&all, nall);
	am_state_circles_free(&mine, nmine);
	return rc;
}

static int check_checkpoints(struct run *r);

static int
ptr_author_cmp(const void *a, const void *b)
{
	return memcmp(*(const uint8_t *const *)a, *(const uint8_t *const *)b,
		AM_ID_BYTES);
}

static int
count_authors(struct run *r)
{
	const uint8_t **a = malloc((r->n ? r->n : 1) * sizeof *a);
	if (a == NULL)
		return AM_ERR_NOMEM;
	for (size_t i = 0; i < r->n; i++)
		a[i] = r->es[i].author;
	qsort(a, r->n, sizeof *a, ptr_author_cmp);
	for (size_t i = 0; i < r->n; i++)
		r->p->authors += i == 0 || memcmp(a[i - 1], a[i], AM_ID_BYTES) != 0;
	free(a);
	return AM_OK;
}

int
am_proof_check(const struct am_bundle *b, const char *tmpdir,
	void (*problem)(void *ctx, const struct am_proof_problem *pr), void *ctx,
	struct am_proof *p)
{
	struct run r = { .b = b, .p = p, .problem = problem, .ctx = ctx };
	uint8_t *fork_ok = NULL;
	int rc;

	memset(p, 0, sizeof *p);
	check_manifest(&r);
	if ((rc = decode_items(&r)) != AM_OK)
		goto out;
	p->entries = r.n;
	check_items(&r);
	check_feeds(&r);
	if (r.order == NULL || (fork_ok = calloc(r.n ? r.n : 1, 1)) == NULL) {
		rc = AM_ERR_NOMEM;
		goto out;
	}
	check_forks(&r, fork_ok);
	if (b->cut)
		report(&r, AM_PROOF_FILE, NULL, NULL, NULL, 0, b->nitems + 1,
			AM_ERR_TRUNCATED, "the file is cut short after item %zu: its "
			"last bytes are missing", b->nitems);
	if ((rc = replay(&r, fork_ok, tmpdir)) != AM_OK ||
	    (rc = count_authors(&r)) != AM_OK)
		goto out;
	if (p->manifest_ok && ((rc = check_signer(&r)) != AM_OK ||
	    (rc = check_checkpoints(&r)) != AM_OK))
		goto out;
	if (p->manifest_ok && p->manifest.has_scope) {
		struct am_object_info info;
		if (am_state_lookup(p->store, p->manifest.scope, &info) != AM_OK ||
		    info.kind != AM_KIND_PROPOSE)
			report(&r, AM_PROOF_MANIFEST, NULL, NULL, NULL, 0, 0,
				AM_ERR_NOT_FOUND, "the agreement the manifest names is not "
				"proven by the file");
	}
out:
	free(fork_ok);
	free(r.es);
	free(r.index);
	free(r.sig_ok);
	free(r.proven);
	free(r.order);
	return rc;
}

void
am_proof_finish(struct am_proof *p)
{
	am_store_close(&p->store);
	if (p->dir != NULL) {
		static const char *const files[] = { DB_NAME, DB_NAME "-wal",
			DB_NAME "-shm", DB_NAME "-journal" };
		size_t n = strlen(p->dir) + sizeof DB_NAME + 16;
		char *path = malloc(n);
		for (size_t i = 0; path != NULL && i < sizeof files / sizeof *files; i++) {
			snprintf(path, n, "%s/%s", p->dir, files[i]);
			unlink(path);
		}
		free(path);
		rmdir(p->dir);
		free(p->dir);
		p->dir = NULL;
	}
	am_bundle_manifest_finish(&p->manifest);
	free(p->feeds);
	p->feeds = NULL;
	p->nfeeds = 0;
}

static uint64_t
proven_of(const struct am_proof *p, const uint8_t *circle, const uint8_t *author)
{
	const struct am_proof_feed *f = proof_feed(p, circle, author);
	return f != NULL ? f->proven : 0;
}

static void
feed_report(struct run *r, int kind, const uint8_t *circle,
	const uint8_t *author, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vreport(r, kind, AM_PROOF_FEED, NULL, circle, author, 0, 0, AM_ERR_CUT,
		fmt, ap);
	va_end(ap);
}

/*
 * Checkpoints say how far each member held each feed. A feed of the file
 * that ends before what the exporter's own latest checkpoint, or its
 * author's, names was held by the exporter and left out: withheld, a
 * finding against the exporter; so was the exporter's own feed, whoever's
 * checkpoint names what it lacks (they wrote it). One that ends before
 * what only another member's checkpoint names may simply not have
 * reached the exporter: incomplete, a note. Each feed is reported once, the first way first.
 */
static int
check_checkpoints(struct run *r)
{
	struct am_proof *p = r->p;
	struct am_circle_info *all = NULL;
	size_t nall = 0;
	int rc = am_state_circles(p->store, NULL, &all, &nall);
	for (size_t i = 0; rc == AM_OK && i < nall; i++) {
		struct am_member *m = NULL;
		size_t nm = 0;
		if ((rc = am_state_members(p->store, all[i].id, &m, &nm)) != AM_OK)
			break;
		struct am_checkpoint *cps = calloc(nm ? nm : 1, sizeof *cps);
		bool *has = calloc(nm ? nm : 1, sizeof *has);
		size_t ndone = 0, maxdone = AM_MAX_HEADS;   /* feeds reported */
		uint8_t (*done)[AM_ID_BYTES] = calloc(maxdone, sizeof *done);
		if (cps == NULL || has == NULL || done == NULL)
			rc = AM_ERR_NOMEM;
		for (size_t k = 0; rc == AM_OK && k < nm; k++) {
			if (m[k].status != AM_MEMBER_JOINED)
				continue;
			int crc = am_checkpoint_latest(p->store, all[i].id, m[k].id, &cps[k]);
			/* a checkpoint that cannot be read names nothing: only
			 * running out of memory stops the check */
			if (crc == AM_OK)
				has[k] = true;
			else if (crc == AM_ERR_NOMEM)
				rc = crc;
		}
		/* each feed once: the withheld pass first, then the incomplete */
		for (int pass = 0; rc == AM_OK && pass < 2; pass++) {
			for (size_t k = 0; k < nm; k++) {
				if (!has[k])
					continue;
				bool exporter = memcmp(m[k].id, p->manifest.exporter,
					AM_ID_BYTES) == 0;
				for (uint32_t h = 0; h < cps[k].nheads; h++) {
					const struct am_head *hd = &cps[k].heads[h];
					/* the exporter's own checkpoint, the author's, or
					 * any checkpoint naming the exporter's own feed:
					 * they wrote those entries, so they held them */
					bool own = memcmp(hd->author, m[k].id,
						AM_ID_BYTES) == 0;
					bool accuses = exporter || own || memcmp(hd->author,
						p->manifest.exporter, AM_ID_BYTES) == 0;
					uint64_t have = proven_of(p, all[i].id, hd->author);
					if (have >= hd->seq || accuses != (pass == 0))
						continue;
					/* an export of one agreement leaves out what does not
					 * bear on it, up to the head the manifest names */
					const struct am_proof_feed *f = proof_feed(p, all[i].id,
						hd->author);
					if (p->manifest.has_scope && f != NULL && f->whole &&
					    hd->seq <= f->head)
						continue;
					bool said = false;
					for (size_t d = 0; d < ndone && !said; d++)
						said = memcmp(done[d], hd->author, AM_ID_BYTES) == 0;
					if (said || ndone == maxdone)
						continue;
					memcpy(done[ndone++], hd->author, AM_ID_BYTES);
					char text[AM_ID_TEXT_BYTES];
					am_id_format(m[k].id, text);
					feed_report(r, pass == 0 ? 1 : NOTE, all[i].id, hd->author,
						pass == 0 ? "withheld: the file ends at entry %llu of "
						"the feed, where %s checkpoint (%.8s's entry %llu) "
						"names entry %llu: the exporter held it and left it out" :
						"incomplete: the file ends at entry %llu of the feed, "
						"where %s checkpoint (%.8s's entry %llu) names entry "
						"%llu; the exporter may not have received the rest",
						(unsigned long long)have, exporter ?
						"the exporter's own" : own ? "the author's own" :
						"another member's",
						text, (unsigned long long)cps[k].seq,
						(unsigned long long)hd->seq);
				}
			}
		}
		free(cps);
		free(has);
		free(done);
		free(m);
	}
	am_state_circles_free(&all, nall);
	return rc;
}

int
am_proof_people(const struct am_proof *p,
	int (*person)(void *ctx, const struct am_proof_person *who), void *ctx)
{
	struct am_circle_info *all = NULL;
	size_t nall = 0;
	bool signer_in = false;
	int rc = am_state_circles(p->store, NULL, &all, &nall);
	if (rc != AM_OK)
		return rc;
	/* the signer first when no circle of the file counts them */
	for (size_t i = 0; rc == AM_OK && p->manifest_ok && i < nall; i++) {
		struct am_member *m = NULL;
		size_t nm = 0;
		if ((rc = am_state_members(p->store, all[i].id, &m, &nm)) != AM_OK)
			break;
		for (size_t k = 0; k < nm; k++)
			signer_in |= m[k].status == AM_MEMBER_JOINED &&
				memcmp(m[k].id, p->manifest.exporter, AM_ID_BYTES) == 0;
		free(m);
	}
	if (rc == AM_OK && p->manifest_ok && !signer_in) {
		struct am_proof_person w = { .signer = true };
		memcpy(w.id, p->manifest.exporter, AM_ID_BYTES);
		rc = person(ctx, &w);
	}
	for (size_t i = 0; rc == AM_OK && i < nall; i++) {
		struct am_member *m = NULL;
		size_t nm = 0;
		if ((rc = am_state_members(p->store, all[i].id, &m, &nm)) != AM_OK)
			break;
		for (size_t k = 0; rc == AM_OK && k < nm; k++) {
			if (m[k].status != AM_MEMBER_JOINED)
				continue;
			struct am_proof_person w = { .in_circle = true,
				.circle_name = all[i].name, .role = m[k].role };
			memcpy(w.id, m[k].id, AM_ID_BYTES);
			memcpy(w.circle, all[i].id, AM_HASH_BYTES);
			w.signer = p->manifest_ok &&
				memcmp(w.id, p->manifest.exporter, AM_ID_BYTES) == 0;
			rc = person(ctx, &w);
		}
		free(m);
	}
	am_state_circles_free(&all, nall);
	return rc;
}

struct expect {
	struct am_proof *p;
	const struct am_proof_known *known;
	void (*problem)(void *ctx, const struct am_proof_problem *pr);
	void *ctx;
};

static int
expect_one(void *ctx, const struct am_proof_person *w)
{
	struct expect *x = ctx;
	char sn[AM_FPR_LONG_TEXT_BYTES], text[AM_ID_TEXT_BYTES];
	char fp[AM_FPR_TEXT_BYTES], name[65], what[512];
	for (size_t i = 0; i < x->known->nids; i++)
		if (memcmp(x->known->ids[i], w->id, AM_ID_BYTES) == 0)
			return AM_OK;
	am_id_safety_number(w->id, sn);
	for (size_t i = 0; i < x->known->nnumbers; i++)
		if (strcmp(x->known->numbers[i], sn) == 0)
			return AM_OK;
	am_id_format(w->id, text);
	am_id_fingerprint(w->id, fp);
	if (w->in_circle) {
		plain_name(w->circle_name, name);
		snprintf(what, sizeof what, "%.8s (%s), %s of circle '%s',%s is not "
			"among the people you expect", text, fp,
			w->role == AM_ROLE_WITNESS ? "witness" : "member", name,
			w->signer ? " who signed the manifest," : "");
	} else {
		snprintf(what, sizeof what, "%.8s (%s), who signed the manifest, is "
			"not among the people you expect", text, fp);
	}
	struct am_proof_problem pr = { .subject = AM_PROOF_PERSON,
		.code = AM_ERR_NOT_MEMBER, .what = what };
	memcpy(pr.author, w->id, AM_ID_BYTES);
	if (w->in_circle)
		memcpy(pr.circle, w->circle, AM_HASH_BYTES);
	x->p->problems++;
	if (x->problem != NULL)
		x->problem(x->ctx, &pr);
	return AM_OK;
}

int
am_proof_expect(struct am_proof *p, const struct am_proof_known *known,
	void (*problem)(void *ctx, const struct am_proof_problem *pr), void *ctx)
{
	struct expect x = { p, known, problem, ctx };
	return am_proof_people(p, expect_one, &x);
}
