/*
 * The answering and pushing half of a sync session (protocol/sync.md).
 * The peer's DIGESTS are answered with HEADS for every circle that differs
 * or that it did not name, then DONE; its WANT and WANT_FORKS wait in a
 * window of AM_SYNC_WANT_WINDOW and are answered one at a time, read from
 * the store only when the transport takes the next message, so a peer that
 * stops reading makes us hold one batch, not its backlog. Every answer
 * about a circle is given only when the circle is shared with the peer.
 *
 * Pushing keeps a model of the peer's copy: per circle, the head of each
 * feed the peer is known to hold. A change of ours is pushed where the
 * model is complete, within AM_SYNC_PUSH_WINDOW unacknowledged PUSHes;
 * where it is not, our HEADS are offered and the peer pulls.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "mp.h"
#include "sync_impl.h"

/* Room for the message around a run of entries: array, version, type,
 * circle, author and the list's header. */
#define RUN_OVERHEAD 96

/* ---- the model of the peer's copy ---- */

struct circle_model *
sync_model(struct am_sync *s, const uint8_t circle[static AM_HASH_BYTES],
	bool create)
{
	for (size_t i = 0; i < s->nmodels; i++)
		if (memcmp(s->models[i].circle, circle, AM_HASH_BYTES) == 0)
			return &s->models[i];
	if (!create || s->nmodels >= MODELS_MAX)
		return NULL;
	if (s->nmodels == s->models_cap) {
		size_t cap = s->models_cap ? 2 * s->models_cap : 16;
		void *p = realloc(s->models, cap * sizeof *s->models);
		if (p == NULL)
			return NULL;
		s->models = p;
		s->models_cap = cap;
	}
	struct circle_model *m = &s->models[s->nmodels++];
	memset(m, 0, sizeof *m);
	memcpy(m->circle, circle, AM_HASH_BYTES);
	return m;
}

static struct feed_model *
model_feed(struct circle_model *m, const uint8_t author[static AM_ID_BYTES],
	bool create)
{
	for (size_t i = 0; i < m->nfeeds; i++)
		if (memcmp(m->feeds[i].author, author, AM_ID_BYTES) == 0)
			return &m->feeds[i];
	if (!create || m->nfeeds >= AM_SYNC_MAX_ITEMS)
		return NULL;
	if (m->nfeeds == m->cap) {
		size_t cap = m->cap ? 2 * m->cap : 4;
		void *p = realloc(m->feeds, cap * sizeof *m->feeds);
		if (p == NULL)
			return NULL;
		m->feeds = p;
		m->cap = cap;
	}
	struct feed_model *f = &m->feeds[m->nfeeds++];
	memcpy(f->author, author, AM_ID_BYTES);
	f->seq = 0;
	return f;
}

int
sync_model_note(struct am_sync *s, const uint8_t circle[static AM_HASH_BYTES],
	const uint8_t author[static AM_ID_BYTES], uint64_t seq, bool exact)
{
	struct circle_model *m = sync_model(s, circle, true);
	if (m == NULL)
		return AM_OK;   /* a model is an optimisation: pulling still works */
	struct feed_model *f = model_feed(m, author, true);
	if (f == NULL) {
		m->complete = false;
		return AM_OK;
	}
	if (exact || seq > f->seq)
		f->seq = seq;
	return AM_OK;
}

struct heads_list {
	struct am_feed_head heads[AM_SYNC_MAX_ITEMS];
	uint32_t n;
	bool more;            /* the circle has more feeds than fit */
};

static int
add_head(void *ctx, const struct am_feed_head *h)
{
	struct heads_list *l = ctx;
	if (l->n == AM_SYNC_MAX_ITEMS) {
		l->more = true;
		return AM_OK;
	}
	l->heads[l->n++] = *h;
	return AM_OK;
}

static int
load_heads(struct am_sync *s, const uint8_t circle[static AM_HASH_BYTES],
	struct heads_list **out)
{
	struct heads_list *l = calloc(1, sizeof *l);
	if (l == NULL)
		return AM_ERR_NOMEM;
	int rc = am_store_heads(s->store, circle, add_head, l);
	if (rc != AM_OK) {
		free(l);
		return rc;
	}
	*out = l;
	return AM_OK;
}

int
sync_model_equal(struct am_sync *s, const uint8_t circle[static AM_HASH_BYTES],
	const uint8_t digest[static AM_HASH_BYTES])
{
	struct circle_model *m = sync_model(s, circle, true);
	struct heads_list *l;
	char c[9];
	int rc;

	/* the peer said so (its summary or its digest equals ours): the one
	 * way a session learns that the peer holds what we hold */
	sync_short(circle, c);
	sync_event(s, AM_SYNC_EV_SAME, AM_OK, circle, NULL, 0, 0,
		"peer holds the same record of circle %s", c);
	memcpy(s->events[(s->ev_head + s->nev - 1) % EVENTS_MAX].digest, digest,
		AM_HASH_BYTES);
	if (m == NULL)
		return AM_OK;
	if ((rc = load_heads(s, circle, &l)) != AM_OK)
		return rc;
	m->nfeeds = 0;
	m->complete = !l->more;
	for (uint32_t i = 0; i < l->n; i++) {
		struct feed_model *f = model_feed(m, l->heads[i].author, true);
		if (f == NULL) {
			m->complete = false;
			break;
		}
		f->seq = l->heads[i].seq;
	}
	m->announced = true;
	memcpy(m->digest, digest, AM_HASH_BYTES);
	free(l);
	return AM_OK;
}

/* ---- fork evidence ---- */

struct forks_ctx {
	const uint8_t *author;
	crypto_generichash_state st;
	bool any;
	/* FORKS being built, when w is set */
	struct am_mp_writer *w;
	uint32_t n;
	size_t bytes;
};

static int
fork_one(void *ctx, const uint8_t *raw, size_t len)
{
	struct forks_ctx *c = ctx;
	struct am_entry e;
	uint8_t hash[AM_HASH_BYTES];

	/* stored evidence was checked when it arrived; skip what no longer
	 * decodes rather than fail the session */
	if (am_entry_decode(raw, len, &e) != AM_OK ||
	    memcmp(e.author, c->author, AM_ID_BYTES) != 0)
		return AM_OK;
	c->any = true;
	if (c->w == NULL) {
		am_hash(raw, len, hash);
		crypto_generichash_update(&c->st, hash, AM_HASH_BYTES);
		return AM_OK;
	}
	if (c->n == AM_SYNC_MAX_FORKS ||
	    c->bytes + len + 5 > AM_SYNC_MAX_MSG - RUN_OVERHEAD)
		return AM_OK;
	am_mp_write_bin(c->w, raw, len);
	c->n++;
	c->bytes += len + 5;
	return AM_OK;
}

int
sync_fork_hash(struct am_sync *s, const uint8_t circle[static AM_HASH_BYTES],
	const uint8_t author[static AM_ID_BYTES], bool *has,
	uint8_t out[static AM_HASH_BYTES])
{
	static const char tag[] = "amends-sync-forks-v1";
	struct forks_ctx c = { .author = author };
	int rc;

	crypto_generichash_init(&c.st, NULL, 0, AM_HASH_BYTES);
	crypto_generichash_update(&c.st, (const uint8_t *)tag, sizeof tag - 1);
	if ((rc = am_store_forks(s->store, circle, fork_one, &c)) != AM_OK)
		return rc;
	crypto_generichash_final(&c.st, out, AM_HASH_BYTES);
	*has = c.any;
	return AM_OK;
}

/* ---- answering ---- */

int
sync_send_heads(struct am_sync *s, const uint8_t circle[static AM_HASH_BYTES])
{
	struct am_sync_msg *m = calloc(1, sizeof *m);
	struct heads_list *l = NULL;
	int rc;

	if (m == NULL)
		return AM_ERR_NOMEM;
	if ((rc = load_heads(s, circle, &l)) != AM_OK)
		goto out;
	m->type = AM_SYNC_HEADS;
	memcpy(m->circle, circle, AM_HASH_BYTES);
	for (uint32_t i = 0; i < l->n; i++) {
		struct am_sync_head *h = &m->heads[i];
		memcpy(h->author, l->heads[i].author, AM_ID_BYTES);
		h->seq = l->heads[i].seq;
		memcpy(h->hash, l->heads[i].hash, AM_HASH_BYTES);
		h->has_forks = false;
		if (l->heads[i].forked_at != 0 &&
		    (rc = sync_fork_hash(s, circle, h->author, &h->has_forks,
		    h->forks)) != AM_OK)
			goto out;
	}
	m->n = l->n;
	rc = sync_queue(s, m);
out:
	free(l);
	free(m);
	return rc;
}

static bool
listed(const struct am_sync *s, const uint8_t circle[static AM_HASH_BYTES])
{
	for (size_t i = 0; i < s->nlisted; i++)
		if (memcmp(s->listed[i], circle, AM_HASH_BYTES) == 0)
			return true;
	return false;
}

static int
note_listed(struct am_sync *s, const uint8_t circle[static AM_HASH_BYTES])
{
	if (s->nlisted == LISTED_MAX)
		return AM_ERR_FLOW;
	if (s->nlisted == s->listed_cap) {
		size_t cap = s->listed_cap ? 2 * s->listed_cap : 16;
		void *p = realloc(s->listed, cap * sizeof *s->listed);
		if (p == NULL)
			return AM_ERR_NOMEM;
		s->listed = p;
		s->listed_cap = cap;
	}
	memcpy(s->listed[s->nlisted++], circle, AM_HASH_BYTES);
	return AM_OK;
}

/* HEADS of our shared circles the peer's DIGESTS did not name: it may
 * lack them altogether. Then DONE. */
static int
finish_digests(struct am_sync *s)
{
	struct am_sync_msg done = { .type = AM_SYNC_DONE };
	uint8_t (*circles)[AM_HASH_BYTES];
	size_t n;
	int rc = sync_circles(s, &circles, &n);

	if (rc != AM_OK)
		return rc;
	for (size_t i = 0; i < n; i++) {
		if (listed(s, circles[i]))
			continue;
		rc = sync_shared(s, circles[i]);
		if (rc == AM_ERR_NOT_SHARED || rc == AM_ERR_NOT_FOUND) {
			rc = AM_OK;
			continue;
		}
		if (rc != AM_OK || (rc = sync_send_heads(s, circles[i])) != AM_OK)
			break;
	}
	free(circles);
	s->nlisted = 0;
	return rc == AM_OK ? sync_queue(s, &done) : rc;
}

/* The peer's DIGESTS, answered from one moment of our store (the
 * caller's read transaction): a digest found equal and the heads recorded
 * as the peer's are of the same moment, whatever a command writes
 * meanwhile (protocol/sync.md, "Writing while comparing"). */
static int
on_digests(struct am_sync *s, const struct am_sync_msg *m)
{
	bool denied = false;
	int rc;

	if (s->out_bytes > OUT_MAX_BYTES)
		return AM_ERR_FLOW;
	for (uint32_t i = 0; i < m->n; i++) {
		const uint8_t *circle = m->digests[i].circle;
		uint8_t ours[AM_HASH_BYTES];
		if ((rc = note_listed(s, circle)) != AM_OK) {
			s->nlisted = 0;
			return rc;
		}
		rc = sync_shared(s, circle);
		if (rc == AM_ERR_NOT_FOUND)
			continue;       /* we hold no GENESIS: nothing to say */
		if (rc == AM_ERR_NOT_SHARED) {
			if (!denied) {
				char c[9];
				sync_short(circle, c);
				sync_event(s, AM_SYNC_EV_DENIED, rc, circle, NULL, 0, 0,
					"peer asked about circle %s, which it is not in", c);
				sync_queue_error(s, rc, m->type,
					"circle %s is not shared with you", c);
			}
			denied = true;
			continue;
		}
		if (rc != AM_OK ||
		    (rc = am_store_digest(s->store, circle, ours)) != AM_OK)
			return rc;
		if (memcmp(ours, m->digests[i].digest, AM_HASH_BYTES) == 0)
			rc = sync_model_equal(s, circle, ours);
		else
			rc = sync_send_heads(s, circle);
		if (rc != AM_OK)
			return rc;
	}
	return m->final ? finish_digests(s) : AM_OK;
}

int
sync_on_digests(struct am_sync *s, const struct am_sync_msg *m)
{
	int rc = am_store_read_begin(s->store);
	if (rc != AM_OK)
		return rc;
	rc = on_digests(s, m);
	am_store_read_end(s->store);
	return rc;
}

int
sync_on_request(struct am_sync *s, const struct am_sync_msg *m)
{
	int rc = sync_shared(s, m->circle);
	if (rc != AM_OK) {
		char c[9];
		if (rc != AM_ERR_NOT_SHARED && rc != AM_ERR_NOT_FOUND)
			return rc;
		sync_short(m->circle, c);
		sync_event(s, AM_SYNC_EV_DENIED, AM_ERR_NOT_SHARED, m->circle,
			m->author, m->from, 0, "peer asked for entries of circle %s, "
			"which is not shared with it", c);
		sync_queue_error(s, AM_ERR_NOT_SHARED, m->type,
			"circle %s is not shared with you", c);
		return AM_ERR_NOT_SHARED;
	}
	if (s->nserved == AM_SYNC_WANT_WINDOW)
		return AM_ERR_FLOW;
	struct request *r = &s->served[(s->served_head + s->nserved++) %
		AM_SYNC_WANT_WINDOW];
	r->type = m->type;
	memcpy(r->circle, m->circle, AM_HASH_BYTES);
	memcpy(r->author, m->author, AM_ID_BYTES);
	r->from = m->from;
	r->max = m->max;
	return AM_OK;
}

struct run_ctx {
	struct am_mp_writer w;
	uint32_t n, max;
	size_t bytes;
};

static int
run_one(void *ctx, const uint8_t *raw, size_t len)
{
	struct run_ctx *c = ctx;
	/* a bin header is at most 5 bytes */
	if (c->n == c->max || c->bytes + len + 5 > AM_SYNC_MAX_MSG - RUN_OVERHEAD)
		return AM_ERR_TOO_BIG;  /* full: stop reading */
	am_mp_write_bin(&c->w, raw, len);
	c->n++;
	c->bytes += len + 5;
	return AM_OK;
}

/* Wraps n encoded bins as a message [1, type, circle, author, [bins]]. */
static int
wrap_run(uint32_t type, const uint8_t *circle, const uint8_t *author,
	struct am_mp_writer *bins, uint32_t n, uint8_t **buf, size_t *len)
{
	struct am_mp_writer w;
	am_mp_writer_init(&w);
	am_mp_write_array(&w, 5);
	am_mp_write_uint(&w, AM_SYNC_VERSION);
	am_mp_write_uint(&w, type);
	am_mp_write_bin(&w, circle, AM_HASH_BYTES);
	am_mp_write_bin(&w, author, AM_ID_BYTES);
	am_mp_write_array(&w, n);
	if (bins->failed)
		w.failed = true;
	else
		am_mp_write_raw(&w, bins->buf.data, bins->buf.size);
	*buf = am_mp_writer_take(&w, len);
	return *buf != NULL ? AM_OK : AM_ERR_NOMEM;
}

/* Reads up to max entries of a feed from from on, within a message. */
static int
read_run(struct am_sync *s, const uint8_t *circle, const uint8_t *author,
	uint64_t from, uint64_t max, struct run_ctx *c)
{
	am_mp_writer_init(&c->w);
	c->n = 0;
	c->max = (uint32_t)max;
	c->bytes = 0;
	int rc = am_store_range(s->store, circle, author, from,
		from + max - 1, run_one, c);
	if (rc == AM_ERR_TOO_BIG)
		rc = AM_OK;
	if (rc != AM_OK)
		am_mp_writer_finish(&c->w);
	return rc;
}

int
sync_answer(struct am_sync *s, uint8_t **buf, size_t *len)
{
	struct request r;
	int rc;

	*buf = NULL;
	if (s->nserved == 0)
		return AM_OK;
	r = s->served[s->served_head];
	s->served_head = (s->served_head + 1) % AM_SYNC_WANT_WINDOW;
	s->nserved--;
	if (r.type == AM_SYNC_WANT_FORKS) {
		struct am_mp_writer w;
		struct forks_ctx c = { .author = r.author, .w = &w };
		am_mp_writer_init(&w);
		rc = am_store_forks(s->store, r.circle, fork_one, &c);
		if (rc == AM_OK)
			rc = wrap_run(AM_SYNC_FORKS, r.circle, r.author, &w, c.n,
				buf, len);
		am_mp_writer_finish(&w);
		s->stats.entries_out += rc == AM_OK ? c.n : 0;
		return rc;
	}
	struct run_ctx c;
	if ((rc = read_run(s, r.circle, r.author, r.from, r.max, &c)) != AM_OK)
		return rc;
	rc = wrap_run(AM_SYNC_ENTRIES, r.circle, r.author, &c.w, c.n, buf, len);
	am_mp_writer_finish(&c.w);
	if (rc == AM_OK && c.n > 0) {
		s->stats.entries_out += c.n;
		rc = sync_model_note(s, r.circle, r.author, r.from + c.n - 1, false);
	}
	return rc;
}

/* ---- pushing ---- */

/* Pushes what the model says the peer lacks of circle. *all is cleared
 * when the window closed before everything was pushed. */
static int
push_circle(struct am_sync *s, struct circle_model *m, bool *all, bool *any)
{
	struct heads_list *l;
	int rc = load_heads(s, m->circle, &l);

	*all = true;
	*any = false;
	if (rc != AM_OK)
		return rc;
	*all = !l->more;
	for (uint32_t i = 0; i < l->n && rc == AM_OK; i++) {
		const struct am_feed_head *h = &l->heads[i];
		struct feed_model *f = model_feed(m, h->author, false);
		uint64_t have = f != NULL ? f->seq : 0;
		struct run_ctx c;
		uint8_t *buf;
		size_t len;

		if (h->seq <= have)
			continue;
		if (s->pushes_unacked >= AM_SYNC_PUSH_WINDOW) {
			s->push_blocked = true;
			*all = false;
			break;
		}
		uint64_t max = h->seq - have;
		if (max > AM_SYNC_MAX_ITEMS)
			max = AM_SYNC_MAX_ITEMS;
		if ((rc = read_run(s, m->circle, h->author, have + 1, max, &c)) != AM_OK)
			break;
		if (c.n == 0) {
			am_mp_writer_finish(&c.w);
			continue;
		}
		rc = wrap_run(AM_SYNC_PUSH, m->circle, h->author, &c.w, c.n, &buf,
			&len);
		am_mp_writer_finish(&c.w);
		if (rc != AM_OK || (rc = sync_queue_raw(s, buf, len)) != AM_OK)
			break;
		s->pushes_unacked++;
		s->stats.entries_out += c.n;
		*any = true;
		if (have + c.n < h->seq) {
			/* more than one message's worth: the rest after an ACK */
			s->push_blocked = true;
			*all = false;
		}
		rc = sync_model_note(s, m->circle, h->author, have + c.n, false);
	}
	free(l);
	return rc;
}

static int
announce_circle(struct am_sync *s, const uint8_t circle[static AM_HASH_BYTES])
{
	uint8_t digest[AM_HASH_BYTES];
	struct circle_model *m;
	bool all, any;
	int rc = am_store_digest(s->store, circle, digest);

	if (rc != AM_OK)
		return rc;
	m = sync_model(s, circle, true);
	if (m != NULL && m->announced &&
	    memcmp(m->digest, digest, AM_HASH_BYTES) == 0)
		return AM_OK;
	if (m == NULL || !m->complete) {
		/* we do not know what the peer holds: let it pull */
		rc = sync_send_heads(s, circle);
		all = true;
	} else {
		rc = push_circle(s, m, &all, &any);
		/* fork evidence changes the digest, not the heads: offer it */
		if (rc == AM_OK && !any && all) {
			struct heads_list *l;
			bool forked = false;
			if ((rc = load_heads(s, circle, &l)) != AM_OK)
				return rc;
			for (uint32_t i = 0; i < l->n; i++)
				forked |= l->heads[i].forked_at != 0;
			free(l);
			if (forked)
				rc = sync_send_heads(s, circle);
		}
	}
	if (rc == AM_OK && m != NULL && all) {
		m->announced = true;
		memcpy(m->digest, digest, AM_HASH_BYTES);
	}
	return rc;
}

int
am_sync_circle_changed(struct am_sync *s,
	const uint8_t circle[static AM_HASH_BYTES])
{
	int rc = sync_shared(s, circle);
	if (rc == AM_ERR_NOT_SHARED || rc == AM_ERR_NOT_FOUND)
		return AM_OK;
	if (rc != AM_OK)
		return rc;
	s->changed = true;
	return announce_circle(s, circle);
}

int
sync_announce(struct am_sync *s)
{
	uint8_t (*circles)[AM_HASH_BYTES];
	size_t n;
	int rc = sync_circles(s, &circles, &n);

	if (rc != AM_OK)
		return rc;
	for (size_t i = 0; i < n; i++) {
		rc = sync_shared(s, circles[i]);
		if (rc == AM_ERR_NOT_SHARED || rc == AM_ERR_NOT_FOUND) {
			rc = AM_OK;
			continue;
		}
		if (rc != AM_OK || (rc = announce_circle(s, circles[i])) != AM_OK)
			break;
	}
	free(circles);
	return rc;
}
