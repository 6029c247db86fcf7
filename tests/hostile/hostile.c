/*
 * A hostile peer for the tests in tests/hostile: a real member of a circle
 * (the key file of a data directory that joined through a real invite, so
 * the node's ZAP handler admits it) that connects to a running node as a
 * CurveZMQ client and misbehaves in one chosen way: forged or altered
 * entries, broken chains, gaps, forks, strangers' entries, requests for
 * circles it is not in, malformed or oversize frames, floods.
 *
 *   hostile HOME ENDPOINT SERVER-ID CASE [ARG...]
 *   hostile raw ENDPOINT
 *   hostile digest DB CIRCLE-HEX
 *
 * HOME is the member's data directory (its node must not be running),
 * ENDPOINT the node's address and SERVER-ID the node's ID, from which its
 * CurveZMQ key derives. Between its misdeeds the peer answers the node as
 * a quiet honest peer would (DONE to a DIGESTS, its own entries to a WANT,
 * ACK to a PUSH), so that what the node does is its answer to the case.
 * Every message from the node is printed as one line; the last line says
 * whether the node answered as the protocol says it must ("ok: ...") or
 * not ("unexpected: ..."), and the exit status is 0 or 1 (2: misuse). What
 * the node logged and stored is the calling script's to check.
 *
 * This file holds the cases, one misdeed each; peer.c the member's side of
 * the connection; outside.c what needs no key (hostile.h).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>
#include <zmq.h>

#include "amends/entry.h"
#include "amends/home.h"
#include "amends/node.h"
#include "amends/store.h"
#include "amends/sync.h"
#include "amends/wire.h"
#include "hostile.h"

#define FLOOD_MS 90000          /* a whole flood: sending, then reading */

/* ---- the cases ---- */

/* good CIRCLE: a valid new entry, which the node must take (the control
 * that shows this peer's pushes reach the node at all). */
static int
case_good(struct hostile *h, const uint8_t *circle)
{
	struct am_body b;
	struct range r;
	uint64_t seq;
	uint8_t hash[AM_HASH_BYTES];
	int rc;

	memset(&b, 0, sizeof b);
	b.kind = AM_KIND_STATEMENT;
	b.note = am_str_c("an honest statement from the hostile peer");
	if (am_store_append(h->store, h->id, circle, TIME_MS, &b, hash, &seq) != AM_OK ||
	    peer_read_range(h, circle, h->self, seq, seq, &r) != AM_OK || r.n != 1)
		return peer_unexpected("could not write our own entry");
	rc = peer_send_entries(h, AM_SYNC_PUSH, circle, h->self, r.raw, r.len, 1);
	peer_range_free(&r);
	if (rc != AM_OK || peer_await_ack(h, circle, h->self, seq) != 0)
		return 1;
	printf("ok: entry %llu taken\n", (unsigned long long)seq);
	return 0;
}

enum breakage { FORGED_SIG, ALTERED_BODY, BROKEN_CHAIN, GAP, FORGED_IN_RUN };

/* The next entry of our feed, broken one way; the node must keep our head
 * where it was (refusals inside a PUSH are the node's events, and its
 * ACK says what it holds). */
static int
case_broken(struct hostile *h, const uint8_t *circle, enum breakage how)
{
	static const char text[] = "hostile statement: aaaa";
	uint8_t hash[AM_HASH_BYTES], other[AM_HASH_BYTES];
	struct made m = { 0 }, skipped = { 0 };
	uint64_t seq;
	int rc = 1, sent;

	if (peer_own_head(h, circle, &seq, hash) != AM_OK)
		return 1;
	switch (how) {
	case FORGED_SIG:
		if (peer_make_entry(h->id, circle, seq + 1, hash, text, &m) != AM_OK)
			goto out;
		m.raw[m.len - 1] ^= 0x01;       /* the signature is the last bin */
		break;
	case ALTERED_BODY: {
		if (peer_make_entry(h->id, circle, seq + 1, hash, text, &m) != AM_OK)
			goto out;
		uint8_t *p = memmem(m.raw, m.len, "aaaa", 4);
		if (p == NULL)
			goto out;
		p[3] = 'b';                     /* still a valid string */
		break;
	}
	case BROKEN_CHAIN:
		randombytes_buf(other, sizeof other);
		if (peer_make_entry(h->id, circle, seq + 1, other, text, &m) != AM_OK)
			goto out;
		break;
	case GAP:
		/* seq + 2, linked to a seq + 1 the node never sees */
		if (peer_make_entry(h->id, circle, seq + 1, hash, text, &skipped) != AM_OK ||
		    peer_make_entry(h->id, circle, seq + 2, skipped.e.hash, text, &m) != AM_OK)
			goto out;
		break;
	case FORGED_IN_RUN:
		/* seq + 1 with a broken signature, then seq + 2, validly signed
		 * and linked to the broken entry's hash: the run's newest
		 * signature is good, its first is not */
		if (peer_make_entry(h->id, circle, seq + 1, hash, text, &skipped) != AM_OK)
			goto out;
		skipped.raw[skipped.len - 1] ^= 0x01;
		am_hash(skipped.raw, skipped.len, other);
		if (peer_make_entry(h->id, circle, seq + 2, other, text, &m) != AM_OK)
			goto out;
		break;
	}
	if (how == FORGED_IN_RUN) {
		uint8_t *raw[2] = { skipped.raw, m.raw };
		size_t len[2] = { skipped.len, m.len };
		sent = peer_send_entries(h, AM_SYNC_PUSH, circle, h->self, raw, len, 2);
	} else {
		sent = peer_push_one(h, circle, h->self, &m);
	}
	if (sent != AM_OK || peer_await_ack(h, circle, h->self, seq) != 0)
		goto out;
	printf("ok: our feed stays at %llu\n", (unsigned long long)seq);
	rc = 0;
out:
	free(m.raw);
	free(skipped.raw);
	return rc;
}

/* non-member CIRCLE: a valid entry signed by a key that is no member.
 * What a node stores depends on no other feed (protocol/state.md, "What
 * a node stores"), so it is stored, ACKed, and ignored by the state. */
static int
case_non_member(struct hostile *h, const uint8_t *circle)
{
	struct am_identity *x = NULL;
	struct made m = { 0 };
	int rc = 1;

	if (am_identity_generate(&x) != AM_OK ||
	    peer_make_entry(x, circle, 1, NULL, "a stranger speaks", &m) != AM_OK)
		goto out;
	if (peer_push_one(h, circle, am_identity_public(x), &m) != AM_OK ||
	    peer_await_ack(h, circle, am_identity_public(x), 1) != 0)
		goto out;
	printf("ok: the stranger's entry is stored, for the state to ignore\n");
	rc = 0;
out:
	free(m.raw);
	am_identity_destroy(&x);
	return rc;
}

/* replay CIRCLE: entries the node holds already (our newest, and the
 * circle creator's whole feed as one run): taken as no-ops, ACKed at the
 * heads the node already had. */
static int
case_replay(struct hostile *h, const uint8_t *circle)
{
	struct range r;
	uint64_t seq;
	uint8_t hash[AM_HASH_BYTES];

	if (peer_own_head(h, circle, &seq, hash) != AM_OK ||
	    peer_read_range(h, circle, h->self, seq, seq, &r) != AM_OK || r.n != 1)
		return peer_unexpected("could not read our own entry");
	int rc = peer_send_entries(h, AM_SYNC_PUSH, circle, h->self, r.raw, r.len, 1);
	peer_range_free(&r);
	if (rc != AM_OK || peer_await_ack(h, circle, h->self, seq) != 0)
		return 1;
	if (peer_read_range(h, circle, h->server, 1, UINT64_MAX >> 1, &r) != AM_OK ||
	    r.n == 0)
		return peer_unexpected("could not read the node's feed from our store");
	uint32_t n = r.n;
	rc = peer_send_entries(h, AM_SYNC_PUSH, circle, h->server, r.raw, r.len, n);
	peer_range_free(&r);
	struct want w = { .type = AM_SYNC_ACK, .circle = circle,
		.author = h->server, .any_seq = true };
	if (rc != AM_OK || (rc = peer_await(h, &w, WAIT_MS)) != AM_OK)
		return peer_unexpected("no ACK for the replayed run (%s)", am_strerror(rc));
	if (h->in->seq < n)
		return peer_unexpected("the node reports %llu entries of its own feed, "
			"fewer than the %u replayed", (unsigned long long)h->in->seq, n);
	printf("ok: replayed our entry %llu and %u of the node's own; heads "
		"unchanged\n", (unsigned long long)seq, n);
	return 0;
}

/* fork CIRCLE: a second, validly signed entry at our newest number. The
 * node must keep it as fork evidence, not as our feed's entry. */
static int
case_fork(struct hostile *h, const uint8_t *circle)
{
	uint8_t hash[AM_HASH_BYTES], prev[AM_HASH_BYTES];
	char hex[2 * AM_HASH_BYTES + 1], text[64];
	struct made m = { 0 };
	struct range r;
	uint64_t seq;
	int rc = 1;

	if (peer_own_head(h, circle, &seq, hash) != AM_OK)
		return 1;
	if (seq > 1) {
		if (peer_read_range(h, circle, h->self, seq - 1, seq - 1, &r) != AM_OK ||
		    r.n != 1)
			return peer_unexpected("could not read our entry %llu",
				(unsigned long long)(seq - 1));
		am_hash(r.raw[0], r.len[0], prev);
		peer_range_free(&r);
	}
	/* a new text each time, so that each run's fork is new evidence */
	snprintf(text, sizeof text, "a second entry at a number already used "
		"(%08x)", (unsigned)randombytes_random());
	if (peer_make_entry(h->id, circle, seq, seq > 1 ? prev : NULL, text,
	    &m) != AM_OK)
		goto out;
	am_hex(m.e.hash, AM_HASH_BYTES, hex);
	printf("fork entry %s at %llu\n", hex, (unsigned long long)seq);
	if (peer_push_one(h, circle, h->self, &m) != AM_OK ||
	    peer_await_ack(h, circle, h->self, seq) != 0)
		goto out;
	printf("ok: our feed stays at %llu\n", (unsigned long long)seq);
	rc = 0;
out:
	free(m.raw);
	return rc;
}

/* foreign-entry CIRCLE: our own valid entry in a circle we are not in. */
static int
case_foreign_entry(struct hostile *h, const uint8_t *circle)
{
	struct made m = { 0 };
	int rc = 1;
	if (peer_make_entry(h->id, circle, 1, NULL, "let me in", &m) != AM_OK)
		goto out;
	if (peer_push_one(h, circle, h->self, &m) != AM_OK ||
	    peer_await_error(h, AM_ERR_NOT_SHARED, AM_SYNC_PUSH) != 0)
		goto out;
	printf("ok: refused as not shared\n");
	rc = 0;
out:
	free(m.raw);
	return rc;
}

/* foreign-genesis: a stranger's new circle, which the node is not in,
 * pushed as if it were ours to share. */
static int
case_foreign_genesis(struct hostile *h)
{
	struct am_identity *x = NULL;
	struct am_body b;
	struct am_entry_draft d = { .seq = 1, .time = TIME_MS, .body = &b };
	struct made m = { 0 };
	char c[2 * AM_HASH_BYTES + 1];
	int rc = 1;

	memset(&b, 0, sizeof b);
	b.kind = AM_KIND_GENESIS;
	b.name = am_str_c("not your circle");
	randombytes_buf(b.nonce, sizeof b.nonce);
	if (am_identity_generate(&x) != AM_OK)
		goto out;
	am_circle_id(am_identity_public(x), b.nonce, d.circle);
	if (am_entry_sign(x, &d, &m.raw, &m.len, &m.e) != AM_OK)
		goto out;
	am_hex(d.circle, AM_HASH_BYTES, c);
	printf("stranger's circle %s\n", c);
	if (peer_push_one(h, d.circle, am_identity_public(x), &m) != AM_OK)
		goto out;
	struct want w = { .type = AM_SYNC_ACK, .circle = d.circle,
		.author = am_identity_public(x), .any_seq = true };
	struct want e = { .type = AM_SYNC_ERROR, .code = AM_ERR_NOT_SHARED,
		.about = AM_SYNC_PUSH };
	int64_t end = peer_now_ms() + WAIT_MS;
	while (peer_next(h, end - peer_now_ms()) == AM_OK) {
		if (peer_matches(h->in, &e)) {
			printf("ok: refused as not shared\n");
			rc = 0;
			break;
		}
		if (peer_matches(h->in, &w)) {
			if (h->in->seq == 0) {
				printf("ok: nothing of it kept\n");
				rc = 0;
			} else {
				peer_unexpected("the node stored a circle it is not in "
					"(ACK at %llu)", (unsigned long long)h->in->seq);
			}
			break;
		}
	}
out:
	free(m.raw);
	am_identity_destroy(&x);
	return rc;
}

/* Waits for the node's answer to a PUSH of circle: 0 when it refused it
 * as not shared, 1 with *seq set when it ACKed, -1 when nothing came. */
static int
push_answer(struct hostile *h, const uint8_t *circle, uint64_t *seq)
{
	struct want w = { .type = AM_SYNC_ACK, .circle = circle,
		.author = h->self, .any_seq = true };
	struct want e = { .type = AM_SYNC_ERROR, .code = AM_ERR_NOT_SHARED,
		.about = AM_SYNC_PUSH };
	int64_t end = peer_now_ms() + WAIT_MS;
	while (peer_next(h, end - peer_now_ms()) == AM_OK) {
		if (peer_matches(h->in, &e))
			return 0;
		if (peer_matches(h->in, &w)) {
			*seq = h->in->seq;
			return 1;
		}
	}
	return -1;
}

/* Signs the GENESIS of a new circle of the member's own. */
static int
own_genesis(struct hostile *h, struct made *g)
{
	struct am_body b;
	struct am_entry_draft d = { .seq = 1, .time = TIME_MS, .body = &b };
	memset(&b, 0, sizeof b);
	b.kind = AM_KIND_GENESIS;
	b.name = am_str_c("mine, not yours");
	randombytes_buf(b.nonce, sizeof b.nonce);
	am_circle_id(h->self, b.nonce, d.circle);
	return am_entry_sign(h->id, &d, &g->raw, &g->len, &g->e);
}

#define OWN_BATCH 100

/* own-circle N: the member creates a circle of its own and pushes its
 * GENESIS, then N statements of about 3 KB into it in runs of
 * OWN_BATCH. The node is in no such circle: every push must be refused as
 * not shared, none acknowledged as taken. */
static int
case_own_circle(struct hostile *h, long n)
{
	static char text[3001];
	struct made g = { 0 }, run[OWN_BATCH];
	uint8_t *raw[OWN_BATCH], prev[AM_HASH_BYTES];
	size_t len[OWN_BATCH];
	char c[2 * AM_HASH_BYTES + 1];
	unsigned long refused = 0, taken = 0;
	uint64_t seq = 0;
	int rc = 1, got;

	memset(text, 'x', sizeof text - 1);
	if (own_genesis(h, &g) != AM_OK)
		return peer_unexpected("could not sign a genesis");
	am_hex(g.e.circle, AM_HASH_BYTES, c);
	printf("own circle %s\n", c);
	if (peer_push_one(h, g.e.circle, h->self, &g) != AM_OK)
		goto out;
	if ((got = push_answer(h, g.e.circle, &seq)) < 0) {
		peer_unexpected("no answer to the genesis");
		goto out;
	}
	refused += got == 0;
	taken += got == 1 && seq > 0;
	memcpy(prev, g.e.hash, AM_HASH_BYTES);
	for (long next = 2; next <= n + 1;) {
		uint32_t k = 0;
		for (; k < OWN_BATCH && next <= n + 1; k++, next++) {
			snprintf(text, 24, "%020ld", next);
			text[20] = 'x';
			if (peer_make_entry(h->id, g.e.circle, (uint64_t)next, prev,
			    text, &run[k]) != AM_OK) {
				peer_unexpected("could not sign entry %ld", next);
				goto out;
			}
			memcpy(prev, run[k].e.hash, AM_HASH_BYTES);
			raw[k] = run[k].raw;
			len[k] = run[k].len;
		}
		int src = peer_send_entries(h, AM_SYNC_PUSH, g.e.circle, h->self,
			raw, len, k);
		for (uint32_t i = 0; i < k; i++)
			free(run[i].raw);
		if (src != AM_OK)
			goto out;
		if ((got = push_answer(h, g.e.circle, &seq)) < 0) {
			peer_unexpected("no answer to the push ending at %ld", next - 1);
			goto out;
		}
		refused += got == 0;
		if (got == 1 && seq > 0)
			taken = seq;
	}
	if (taken > 0)
		peer_unexpected("the node took the circle: ACK at %lu", taken);
	else {
		printf("ok: %lu pushes (%ld entries and the genesis) refused as "
			"not shared\n", refused, n);
		rc = 0;
	}
out:
	free(g.raw);
	return rc;
}

/* ---- floods a member may write (protocol/state.md, "Caps") ---- */

enum flood_kind { FLOOD_MEMBERS, FLOOD_STATEMENTS };

/* The next entry of id's feed: a member proposal of a fresh key, or a
 * statement of about 1 KB. */
static int
flood_entry(const struct am_identity *id, const uint8_t *circle, uint64_t seq,
	const uint8_t *prev, enum flood_kind what, struct made *out)
{
	static char text[1025];
	struct am_body b;
	struct am_entry_draft d = { .seq = seq, .has_prev = prev != NULL,
		.time = TIME_MS + (int64_t)seq, .body = &b };
	memset(&b, 0, sizeof b);
	if (what == FLOOD_MEMBERS) {
		b.kind = AM_KIND_MEMBER;
		b.role = AM_ROLE_MEMBER;
		randombytes_buf(b.target, sizeof b.target);
	} else {
		memset(text, 'x', sizeof text - 1);
		snprintf(text, 24, "%020llu", (unsigned long long)seq);
		text[20] = 'x';
		b.kind = AM_KIND_STATEMENT;
		b.note = am_str_c(text);
	}
	memcpy(d.circle, circle, AM_HASH_BYTES);
	if (prev != NULL)
		memcpy(d.prev, prev, AM_HASH_BYTES);
	return am_entry_sign(id, &d, &out->raw, &out->len, &out->e);
}

/*
 * Pushes n more entries of id's feed in circle, after seq (prev its
 * hash, NULL when seq is 0), in runs of OWN_BATCH, each of which the node
 * must ACK (they are valid entries of a circle it shares: stored). When
 * keep is set, our own store takes them too, so that later cases continue
 * the feed where the node has it.
 */
static int
flood_feed(struct hostile *h, const uint8_t *circle, const struct am_identity *id,
	uint64_t seq, const uint8_t *prev, long n, enum flood_kind what, bool keep)
{
	struct made run[OWN_BATCH];
	uint8_t *raw[OWN_BATCH], last[AM_HASH_BYTES];
	size_t len[OWN_BATCH], done;
	enum am_ingest_result res[OWN_BATCH];
	const uint8_t *author = am_identity_public(id);

	if (prev != NULL)
		memcpy(last, prev, AM_HASH_BYTES);
	while (n > 0) {
		uint32_t k = 0;
		for (; k < OWN_BATCH && n > 0; k++, n--) {
			seq++;
			if (flood_entry(id, circle, seq, seq > 1 ? last : NULL, what,
			    &run[k]) != AM_OK) {
				for (uint32_t i = 0; i < k; i++)
					free(run[i].raw);
				return peer_unexpected("could not sign entry %llu",
					(unsigned long long)seq);
			}
			memcpy(last, run[k].e.hash, AM_HASH_BYTES);
			raw[k] = run[k].raw;
			len[k] = run[k].len;
		}
		int rc = peer_send_entries(h, AM_SYNC_PUSH, circle, author, raw, len, k);
		if (rc == AM_OK && keep)
			rc = am_store_ingest_batch(h->store, (const uint8_t *const *)raw,
				len, k, res, &done);
		for (uint32_t i = 0; i < k; i++)
			free(run[i].raw);
		if (rc != AM_OK)
			return peer_unexpected("could not push the run ending at %llu",
				(unsigned long long)seq);
		if (peer_await_ack(h, circle, author, seq) != 0)
			return 1;
	}
	return 0;
}

/* member-flood C N / entry-flood C N: the member writes N more entries of
 * its own feed: member proposals of fresh keys nobody answers, or
 * statements. The node stores them all; what it derives from them stays
 * bounded by the caps. */
static int
case_own_flood(struct hostile *h, const uint8_t *circle, long n,
	enum flood_kind what)
{
	uint64_t seq;
	uint8_t hash[AM_HASH_BYTES];
	if (peer_own_head(h, circle, &seq, hash) != AM_OK)
		return peer_unexpected("no feed of our own in the circle");
	if (flood_feed(h, circle, h->id, seq, hash, n, what, true) != 0)
		return 1;
	printf("ok: %ld %s taken\n", n,
		what == FLOOD_MEMBERS ? "member proposals" : "statements");
	return 0;
}

/* fresh-keys C K M: K keys made up on the spot each write M member
 * proposals of fresh keys into the circle, relayed by the member: stored
 * (ingest never asks who is a member) and ignored by the state. */
static int
case_fresh_keys(struct hostile *h, const uint8_t *circle, long keys, long m)
{
	for (long i = 0; i < keys; i++) {
		struct am_identity *x = NULL;
		if (am_identity_generate(&x) != AM_OK)
			return peer_unexpected("could not make a key");
		int rc = flood_feed(h, circle, x, 0, NULL, m, FLOOD_MEMBERS, false);
		am_identity_destroy(&x);
		if (rc != 0)
			return 1;
	}
	printf("ok: %ld fresh keys wrote %ld member proposals each, all taken\n",
		keys, m);
	return 0;
}

/* own-circles N: N circles of the member's own, each only a GENESIS,
 * pushed one by one: every one refused, and the node's HELLO afterwards
 * lists the same circles (summary and count) as before. */
static int
case_own_circles(struct hostile *h, long n)
{
	uint8_t summary[AM_HASH_BYTES];
	unsigned long refused = 0, taken = 0;
	uint64_t ncircles;

	if (peer_open_session(h) != AM_OK)
		return peer_unexpected("no HELLO before");
	memcpy(summary, h->in->summary, AM_HASH_BYTES);
	ncircles = h->in->ncircles;
	for (long i = 0; i < n; i++) {
		struct made g = { 0 };
		uint64_t seq = 0;
		if (own_genesis(h, &g) != AM_OK ||
		    peer_push_one(h, g.e.circle, h->self, &g) != AM_OK) {
			free(g.raw);
			return peer_unexpected("could not push circle %ld", i);
		}
		int got = push_answer(h, g.e.circle, &seq);
		free(g.raw);
		if (got < 0)
			return peer_unexpected("no answer to circle %ld", i);
		refused += got == 0;
		taken += got == 1 && seq > 0;
	}
	int64_t t0 = peer_now_ms();
	if (peer_open_session(h) != AM_OK)
		return peer_unexpected("no HELLO after");
	int64_t t1 = peer_now_ms();
	if (taken > 0)
		return peer_unexpected("the node took %lu of the circles", taken);
	if (h->in->ncircles != ncircles ||
	    memcmp(h->in->summary, summary, AM_HASH_BYTES) != 0)
		return peer_unexpected("the node's HELLO changed: %llu circles, "
			"%llu before", (unsigned long long)h->in->ncircles,
			(unsigned long long)ncircles);
	printf("ok: %lu circles refused as not shared; the HELLO after lists "
		"the same %llu circles, answered in %lld ms\n", refused,
		(unsigned long long)ncircles, (long long)(t1 - t0));
	return 0;
}

/* foreign-request CIRCLE AUTHOR-ID: asks for a circle we are not in, by
 * WANT, WANT_FORKS and DIGESTS; then a marker request of our own circle.
 * No entry of the foreign circle may come back. */
static int
case_foreign_request(struct hostile *h, const uint8_t *circle,
	const uint8_t *author, const uint8_t *ours)
{
	struct am_sync_msg *m = peer_msg_new(AM_SYNC_DIGESTS, NULL, NULL);
	int rc;
	if (m == NULL)
		return 1;
	m->final = true;
	m->n = 1;
	memcpy(m->digests[0].circle, circle, AM_HASH_BYTES);
	rc = peer_send_simple(h, AM_SYNC_WANT, circle, author, 1, AM_SYNC_MAX_ITEMS);
	if (rc == AM_OK)
		rc = peer_send_simple(h, AM_SYNC_WANT_FORKS, circle, author, 0, 0);
	if (rc == AM_OK)
		rc = peer_send_msg(h, m);
	free(m);
	if (rc != AM_OK || peer_await_error(h, AM_ERR_NOT_SHARED, AM_SYNC_WANT) != 0 ||
	    peer_await_error(h, AM_ERR_NOT_SHARED, AM_SYNC_WANT_FORKS) != 0 ||
	    peer_await_error(h, AM_ERR_NOT_SHARED, AM_SYNC_DIGESTS) != 0)
		return 1;
	/* anything leaked would come before the marker's answer */
	struct want w = { .type = AM_SYNC_ENTRIES, .circle = ours, .author = h->self };
	if (peer_send_simple(h, AM_SYNC_WANT, ours, h->self, 1, 1) != AM_OK)
		return 1;
	int64_t end = peer_now_ms() + WAIT_MS;
	while ((rc = peer_next(h, end - peer_now_ms())) == AM_OK) {
		if ((h->in->type == AM_SYNC_ENTRIES || h->in->type == AM_SYNC_FORKS ||
		    h->in->type == AM_SYNC_PUSH || h->in->type == AM_SYNC_HEADS) &&
		    memcmp(h->in->circle, circle, AM_HASH_BYTES) == 0)
			return peer_unexpected("the node sent %s of the foreign circle",
				peer_type_names[h->in->type]);
		if (peer_matches(h->in, &w))
			break;
	}
	if (rc != AM_OK)
		return peer_unexpected("the marker request was not answered (%s)",
			am_strerror(rc));
	printf("ok: three refusals, nothing of the circle sent\n");
	return 0;
}

/* oversize: one frame over ZMQ_MAXMSGSIZE; the node's transport must
 * drop the connection. */
static int
case_oversize(struct hostile *h)
{
	size_t len = AM_WIRE_MAX_FRAME + 1;
	uint8_t *big = malloc(len);
	int rc;
	if (big == NULL)
		return 1;
	memset(big, 0xc0, len);
	rc = peer_send_bytes(h, big, len, 0);
	free(big);
	if (rc != AM_OK)
		return 1;
	while ((rc = peer_next(h, WAIT_MS)) == AM_OK)
		;
	if (rc != AM_ERR_UNREACHABLE)
		return peer_unexpected("the connection was not dropped (%s)",
			am_strerror(rc));
	printf("ok: connection dropped after a frame of %zu bytes\n", len);
	return 0;
}

/* over-data CIRCLE: a frame within ZMQ_MAXMSGSIZE but over the 1 MiB of
 * a message, then a message of two frames: both dropped by the transport
 * before the session sees them; the connection still serves. */
static int
case_over_data(struct hostile *h, const uint8_t *ours)
{
	size_t len = AM_WIRE_MAX_DATA + 1;
	uint8_t *big = malloc(len);
	uint8_t hello[] = { 0x94, 0x01, 0x01, 0xc4, 0x20 };
	int rc;
	if (big == NULL)
		return 1;
	memset(big, 0xc0, len);
	rc = peer_send_bytes(h, big, len, 0);
	free(big);
	if (rc != AM_OK || peer_send_bytes(h, hello, sizeof hello, ZMQ_SNDMORE) != AM_OK ||
	    peer_send_bytes(h, hello, sizeof hello, 0) != AM_OK)
		return 1;
	if ((rc = peer_marker(h, ours, WAIT_MS)) != AM_OK)
		return peer_unexpected("the connection stopped serving (%s)",
			am_strerror(rc));
	if (h->untyped_errors > 0)
		return peer_unexpected("a dropped frame reached the session");
	printf("ok: both dropped; the connection still serves\n");
	return 0;
}

/* truncated CIRCLE: a PUSH of a valid entry cut short (outside, then
 * inside the entry, then a message of no bytes at all). */
static int
case_truncated(struct hostile *h, const uint8_t *circle)
{
	uint8_t hash[AM_HASH_BYTES], *buf = NULL;
	struct made m = { 0 };
	struct am_sync_msg *msg = NULL;
	uint64_t seq;
	size_t len;
	int rc = 1;

	if (peer_own_head(h, circle, &seq, hash) != AM_OK ||
	    peer_make_entry(h->id, circle, seq + 1, hash, "cut short", &m) != AM_OK ||
	    (msg = peer_msg_new(AM_SYNC_PUSH, circle, h->self)) == NULL)
		goto out;
	msg->n = 1;
	msg->raw[0] = m.raw;
	msg->len[0] = m.len;
	if (am_sync_msg_encode(msg, &buf, &len) != AM_OK)
		goto out;
	/* the whole message, cut after the circle: two fields are missing */
	if (peer_send_bytes(h, buf, 3 + 2 + AM_HASH_BYTES, 0) != AM_OK ||
	    peer_await_error(h, AM_ERR_TRUNCATED, 0) != 0)
		goto out;
	/* a well-formed message whose entry is cut: the entry's own decoder */
	msg->len[0] = m.len - 20;
	free(buf);
	if (am_sync_msg_encode(msg, &buf, &len) != AM_OK ||
	    peer_send_bytes(h, buf, len, 0) != AM_OK)
		goto out;
	struct want w = { .type = AM_SYNC_ERROR, .code = AM_ERR_TRUNCATED,
		.any_about = true };
	struct want w2 = { .type = AM_SYNC_ERROR, .code = AM_ERR_LENGTH,
		.any_about = true };
	int64_t end = peer_now_ms() + WAIT_MS;
	bool got = false;
	while (!got && peer_next(h, end - peer_now_ms()) == AM_OK)
		got = peer_matches(h->in, &w) || peer_matches(h->in, &w2);
	if (!got) {
		peer_unexpected("the cut entry was not refused");
		goto out;
	}
	if (peer_send_bytes(h, "", 0, 0) != AM_OK ||
	    peer_await_error(h, AM_ERR_TRUNCATED, 0) != 0)
		goto out;
	printf("ok: three refusals\n");
	rc = 0;
out:
	free(buf);
	free(msg);
	free(m.raw);
	return rc;
}

/* huge-length CIRCLE: length headers claiming 4 GiB: an array32 of
 * entries, a bin32 entry, a top-level str32. */
static int
case_huge_length(struct hostile *h, const uint8_t *circle)
{
	uint8_t msg[96];
	size_t n = 0;

	/* [1, 7, circle, author, array32(0xffffffff) ...] */
	msg[n++] = 0x95;
	msg[n++] = 0x01;
	msg[n++] = AM_SYNC_PUSH;
	msg[n++] = 0xc4;
	msg[n++] = 0x20;
	memcpy(msg + n, circle, 32);
	n += 32;
	msg[n++] = 0xc4;
	msg[n++] = 0x20;
	memcpy(msg + n, h->self, 32);
	n += 32;
	size_t list = n;
	msg[n++] = 0xdd;
	memset(msg + n, 0xff, 4);
	n += 4;
	memset(msg + n, 0xc0, 8);
	n += 8;
	if (peer_send_bytes(h, msg, n, 0) != AM_OK ||
	    peer_await_error(h, AM_ERR_LENGTH, 0) != 0)
		return 1;
	/* [..., [bin32(0xffffffff) ...]] */
	n = list;
	msg[n++] = 0x91;
	msg[n++] = 0xc6;
	memset(msg + n, 0xff, 4);
	n += 4;
	memset(msg + n, 0x00, 16);
	n += 16;
	if (peer_send_bytes(h, msg, n, 0) != AM_OK ||
	    peer_await_error(h, AM_ERR_LENGTH, 0) != 0)
		return 1;
	static const uint8_t str32[] = { 0xdb, 0xff, 0xff, 0xff, 0xff, 'a', 'b' };
	if (peer_send_bytes(h, str32, sizeof str32, 0) != AM_OK ||
	    peer_await_error(h, AM_ERR_LENGTH, 0) != 0)
		return 1;
	printf("ok: three refusals\n");
	return 0;
}

/* deep: arrays nested 10,000 deep. */
static int
case_deep(struct hostile *h)
{
	enum { DEPTH = 10000 };
	uint8_t *msg = malloc(DEPTH + 1);
	int rc;
	if (msg == NULL)
		return 1;
	memset(msg, 0x91, DEPTH);
	msg[DEPTH] = 0xc0;
	rc = peer_send_bytes(h, msg, DEPTH + 1, 0);
	free(msg);
	if (rc != AM_OK || peer_await_error(h, AM_ERR_DEPTH, 0) != 0)
		return 1;
	printf("ok: refused as too deep\n");
	return 0;
}

/* unknown-type: types 12 and 99 of version 1, and a version 2. */
static int
case_unknown_type(struct hostile *h)
{
	static const uint8_t t12[] = { 0x92, 0x01, 0x0c };
	static const uint8_t t99[] = { 0x93, 0x01, 0x63, 0xc0 };
	static const uint8_t v2[] = { 0x92, 0x02, 0x01 };
	if (peer_send_bytes(h, t12, sizeof t12, 0) != AM_OK ||
	    peer_await_error(h, AM_ERR_MSG_TYPE, 0) != 0 ||
	    peer_send_bytes(h, t99, sizeof t99, 0) != AM_OK ||
	    peer_await_error(h, AM_ERR_MSG_TYPE, 0) != 0 ||
	    peer_send_bytes(h, v2, sizeof v2, 0) != AM_OK ||
	    peer_await_error(h, AM_ERR_VERSION, 0) != 0)
		return 1;
	printf("ok: three refusals\n");
	return 0;
}

/* odd-encodings: what the strict decoder refuses besides the above:
 * trailing bytes, a map, a float, an integer not in its smallest encoding,
 * a string that is not UTF-8. */
static int
case_odd_encodings(struct hostile *h)
{
	static const uint8_t map[] = { 0x93, 0x01, 0x01, 0x80 };
	static const uint8_t flt[] = { 0x93, 0x01, 0x01, 0xca, 0, 0, 0, 0 };
	static const uint8_t wide[] = { 0x92, 0x01, 0xcc, AM_SYNC_DONE };
	static const uint8_t utf8[] = { 0x95, 0x01, AM_SYNC_ERROR, 0x05, 0x00,
		0xa2, 0xff, 0xfe };
	uint8_t trailing[39] = { 0x94, 0x01, AM_SYNC_HELLO, 0xc4, 0x20 };
	const struct {
		const uint8_t *p;
		size_t n;
		int code;
	} m[] = {
		{ trailing, sizeof trailing, AM_ERR_TRAILING },
		{ map, sizeof map, AM_ERR_TYPE },
		{ flt, sizeof flt, AM_ERR_TYPE },
		{ wide, sizeof wide, AM_ERR_NONCANON },
		{ utf8, sizeof utf8, AM_ERR_UTF8 },
	};

	trailing[37] = 0x00;      /* circles: 0 */
	trailing[38] = 0xc0;      /* one value too many */
	for (size_t i = 0; i < sizeof m / sizeof m[0]; i++)
		if (peer_send_bytes(h, m[i].p, m[i].n, 0) != AM_OK ||
		    peer_await_error(h, (uint64_t)m[i].code, 0) != 0)
			return 1;
	printf("ok: five refusals\n");
	return 0;
}

/* log-injection CIRCLE: an ERROR whose text holds a line break, a forged
 * log line and a terminal escape; the node logs it, printable only. */
static int
case_log_injection(struct hostile *h, const uint8_t *ours)
{
	struct am_sync_msg *m = peer_msg_new(AM_SYNC_ERROR, NULL, NULL);
	static const char text[] = "not mine\n2000-01-01T00:00:00Z forged line "
		"\033[31mred\033[0m";
	int rc;
	if (m == NULL)
		return 1;
	m->code = AM_ERR_NOT_SHARED;
	m->about = AM_SYNC_WANT;
	m->text = am_str_c(text);
	rc = peer_send_msg(h, m);
	free(m);
	if (rc != AM_OK || (rc = peer_marker(h, ours, WAIT_MS)) != AM_OK)
		return peer_unexpected("the marker request was not answered (%s)",
			am_strerror(rc));
	printf("ok: sent, and the node went on\n");
	return 0;
}

/*
 * log-flood CIRCLE OTHER N [KINDS]: N messages that each make the node log
 * a line of another kind than a refused message: an ERROR of ours (e), a
 * request for circle OTHER, not ours (w), a PUSH of an entry with a broken
 * signature (p), in turn (KINDS picks some: "ewp" by default); then the
 * marker request. The node's log must not grow with N.
 */
static int
case_log_flood(struct hostile *h, const uint8_t *ours, const uint8_t *other,
	long count, const char *kinds)
{
	struct am_sync_msg *err = peer_msg_new(AM_SYNC_ERROR, NULL, NULL);
	uint8_t hash[AM_HASH_BYTES], *buf[3] = { NULL, NULL, NULL };
	size_t len[3];
	struct made bad = { 0 };
	uint64_t seq;
	int64_t end = peer_now_ms() + FLOOD_MS;
	long sent = 0;
	int rc = 1;

	if (err == NULL || peer_own_head(h, ours, &seq, hash) != AM_OK ||
	    peer_make_entry(h->id, ours, seq + 1, hash, "again and again",
		&bad) != AM_OK)
		goto out;
	bad.raw[bad.len - 1] ^= 0x01;
	struct am_sync_msg *want = peer_msg_new(AM_SYNC_WANT, other, h->server);
	struct am_sync_msg *push = peer_msg_new(AM_SYNC_PUSH, ours, h->self);
	if (want == NULL || push == NULL) {
		free(want);
		free(push);
		goto out;
	}
	err->code = AM_ERR_NOT_SHARED;
	err->about = AM_SYNC_WANT;
	err->text = am_str_c("no");
	want->from = 1;
	want->max = 1;
	push->n = 1;
	push->raw[0] = bad.raw;
	push->len[0] = bad.len;
	int erc = am_sync_msg_encode(err, &buf[0], &len[0]);
	if (erc == AM_OK)
		erc = am_sync_msg_encode(want, &buf[1], &len[1]);
	if (erc == AM_OK)
		erc = am_sync_msg_encode(push, &buf[2], &len[2]);
	free(want);
	free(push);
	if (erc != AM_OK)
		goto out;
	int pick[3], npick = 0;
	for (int i = 0; i < 3; i++)
		if (strchr(kinds, "ewp"[i]) != NULL)
			pick[npick++] = i;
	if (npick == 0)
		goto out;
	h->quiet = true;
	while (sent < count && peer_now_ms() < end && !h->down) {
		int k = pick[sent % npick];
		if (zmq_send(h->sock, buf[k], len[k], 0) < 0) {
			if (zmq_errno() == EAGAIN || zmq_errno() == EINTR)
				continue;
			peer_unexpected("send failed: %s", zmq_strerror(zmq_errno()));
			goto out;
		}
		sent++;
	}
	if (sent < count) {
		peer_unexpected("only %ld of %ld messages went out", sent, count);
		goto out;
	}
	if ((rc = peer_marker(h, ours, end - peer_now_ms())) != AM_OK) {
		rc = peer_unexpected("the marker request was not answered (%s)",
			am_strerror(rc));
		goto out;
	}
	printf("ok: %ld messages taken\n", sent);
	rc = 0;
out:
	for (int i = 0; i < 3; i++)
		free(buf[i]);
	free(bad.raw);
	free(err);
	return rc;
}

/*
 * flood CIRCLE N: N small messages as fast as the node takes them, without
 * reading its answers meanwhile (HELLOs with a wrong summary, unsolicited
 * ACKs, unknown types, empty frames, in turn), then the marker request,
 * read through whatever the node queued for us. Prints how many were sent
 * and how long it took.
 */
static int
case_flood(struct hostile *h, const uint8_t *circle, long count)
{
	uint8_t hello[38] = { 0x94, 0x01, 0x01, 0xc4, 0x20 };
	uint8_t ack[72] = { 0x95, 0x01, 0x08, 0xc4, 0x20 };
	static const uint8_t t12[] = { 0x92, 0x01, 0x0c };
	int64_t start = peer_now_ms(), end = start + FLOOD_MS;
	long sent = 0;
	int rc;

	/* [1, ACK, circle, our ID, 5] */
	memcpy(ack + 5, circle, 32);
	ack[37] = 0xc4;
	ack[38] = 0x20;
	memcpy(ack + 39, h->self, 32);
	ack[71] = 0x05;
	h->quiet = true;
	while (sent < count && peer_now_ms() < end && !h->down) {
		const void *p;
		size_t n;
		switch (sent % 4) {
		case 0:
			randombytes_buf(hello + 5, 32);
			hello[37] = 0x01;
			p = hello;
			n = sizeof hello;
			break;
		case 1: p = ack; n = sizeof ack; break;
		case 2: p = t12; n = sizeof t12; break;
		default: p = ""; n = 0; break;
		}
		if (zmq_send(h->sock, p, n, 0) < 0) {
			if (zmq_errno() == EAGAIN || zmq_errno() == EINTR)
				continue;      /* the node is busy: try again */
			return peer_unexpected("send failed: %s", zmq_strerror(zmq_errno()));
		}
		if (++sent == 1000)
			printf("flooding\n");
	}
	int64_t sent_ms = peer_now_ms() - start;
	printf("sent %ld messages in %lld ms\n", sent, (long long)sent_ms);
	if (sent < count)
		return peer_unexpected("only %ld of %ld messages went out", sent, count);
	rc = peer_marker(h, circle, end - peer_now_ms());
	printf("answers read: %lu ERROR, %lu HELLO, %lu DIGESTS\n",
		h->got[AM_SYNC_ERROR], h->got[AM_SYNC_HELLO], h->got[AM_SYNC_DIGESTS]);
	if (rc != AM_OK)
		return peer_unexpected("the marker request was not answered (%s)",
			am_strerror(rc));
	printf("ok: %ld messages taken in %lld ms\n", sent,
		(long long)(peer_now_ms() - start));
	return 0;
}

/* Our heads of circle, from our own store: the node then knows our copy
 * whole, and pushes what it writes next. */
struct heads_ctx {
	struct am_sync_msg *m;
};

static int
add_head(void *ctx, const struct am_feed_head *fh)
{
	struct am_sync_msg *m = ((struct heads_ctx *)ctx)->m;
	if (m->n == AM_SYNC_MAX_ITEMS)
		return AM_OK;
	struct am_sync_head *hd = &m->heads[m->n++];
	memcpy(hd->author, fh->author, AM_ID_BYTES);
	hd->seq = fh->seq;
	memcpy(hd->hash, fh->hash, AM_HASH_BYTES);
	hd->has_forks = false;
	return AM_OK;
}

static int
send_heads(struct hostile *h, const uint8_t *circle)
{
	struct am_sync_msg *m = peer_msg_new(AM_SYNC_HEADS, circle, NULL);
	struct heads_ctx c = { m };
	int rc = m == NULL ? AM_ERR_NOMEM : am_store_heads(h->store, circle,
		add_head, &c);
	if (rc == AM_OK)
		rc = peer_send_msg(h, m);
	free(m);
	return rc;
}

/*
 * ack-and-go C NODE-HOME N: N times, shows the node our heads of C, writes
 * one statement into C in the node's own store as the node's identity (as
 * a command run beside the node would; NODE-HOME is its data directory),
 * and waits for the node's PUSH of it. Then sends a PUSH of a run of our
 * own new entries (which keeps the node busy storing them), the ACK of
 * the node's PUSH, and goes away at once, lingering only until both have
 * left; then connects again. So the ACK and the closing of its connection
 * both wait for the node at once. What the node logs is the script's to
 * check: each ACK taken as the answer to its PUSH, the peer lost once per
 * connection, and no connection made up from an ACK read after the
 * connection that brought it was lost.
 */
static int
case_ack_and_go(struct hostile *h, const uint8_t *circle, const char *home,
	long n)
{
	struct am_identity *node = NULL;
	struct am_store *store = NULL;
	char *key = am_home_path(home, AM_HOME_KEY);
	char *db = am_home_path(home, AM_HOME_DB);
	int ret = 1;

	if (key == NULL || db == NULL || am_identity_load(key, &node) != AM_OK ||
	    am_store_open(db, &store) != AM_OK) {
		ret = peer_unexpected("cannot open the node's data directory %s", home);
		goto out;
	}
	h->hold_acks = true;
	for (long i = 0; i < n; i++) {
		struct am_body b = { .kind = AM_KIND_STATEMENT,
			.note = am_str_c("pushed to a peer that acknowledges and leaves") };
		struct want push = { .type = AM_SYNC_PUSH, .circle = circle,
			.author = am_identity_public(node) };
		struct am_entry e;
		struct range r;
		uint64_t seq, got = 0, ours, last;
		uint8_t hash[AM_HASH_BYTES];
		int linger = 5000, rc;

		if (i > 0) {
			h->down = false;
			if (peer_connect(h, h->endpoint) != AM_OK ||
			    peer_open_session(h) != AM_OK) {
				ret = peer_unexpected("try %ld: no session with the node", i + 1);
				goto out;
			}
		}
		/* the node takes our heads before it answers the marker: what
		 * it writes after that comes as a PUSH */
		if (send_heads(h, circle) != AM_OK ||
		    peer_marker(h, circle, WAIT_MS) != AM_OK) {
			ret = peer_unexpected("try %ld: the node did not take our heads",
				i + 1);
			goto out;
		}
		if (am_store_append(store, node, circle, TIME_MS + i, &b, NULL,
		    &seq) != AM_OK) {
			ret = peer_unexpected("try %ld: could not write as the node", i + 1);
			goto out;
		}
		am_node_nudge(home);
		/* its entries are kept, so that our next heads show them */
		while (got < seq) {
			if ((rc = peer_await(h, &push, WAIT_MS)) != AM_OK) {
				ret = peer_unexpected("try %ld: no PUSH of entry %llu (%s)",
					i + 1, (unsigned long long)seq, am_strerror(rc));
				goto out;
			}
			for (uint32_t k = 0; k < h->in->n; k++) {
				enum am_ingest_result res;
				if (am_store_ingest(h->store, h->in->raw[k], h->in->len[k],
				    &res) != AM_OK)
					printf("could not keep an entry pushed to us\n");
				if (am_entry_decode(h->in->raw[k], h->in->len[k], &e) == AM_OK &&
				    e.seq > got)
					got = e.seq;
			}
		}
		/* a run of ours to keep the node busy, then the ACK, then gone */
		b.note = am_str_c("a run of ours, pushed before the ACK");
		if (peer_own_head(h, circle, &ours, hash) != AM_OK)
			ours = 0;
		for (int k = 0; k < 200; k++)
			if (am_store_append(h->store, h->id, circle, TIME_MS + k, &b,
			    NULL, &last) != AM_OK) {
				ret = peer_unexpected("try %ld: could not write our run", i + 1);
				goto out;
			}
		if (peer_read_range(h, circle, h->self, ours + 1, last, &r) != AM_OK) {
			ret = peer_unexpected("try %ld: could not read our run", i + 1);
			goto out;
		}
		rc = peer_send_entries(h, AM_SYNC_PUSH, circle, h->self, r.raw, r.len,
			r.n);
		peer_range_free(&r);
		if (rc != AM_OK || peer_send_simple(h, AM_SYNC_ACK, circle,
		    am_identity_public(node), got, 0) != AM_OK) {
			ret = peer_unexpected("try %ld: could not send", i + 1);
			goto out;
		}
		zmq_setsockopt(h->sock, ZMQ_LINGER, &linger, sizeof linger);
		peer_disconnect(h);
		printf("try %ld: pushed %llu entries, acknowledged entry %llu and "
			"left\n", i + 1, (unsigned long long)(last - ours),
			(unsigned long long)got);
	}
	printf("ok: %ld ACKs, each sent right before leaving\n", n);
	ret = 0;
out:
	h->hold_acks = false;
	am_store_close(&store);
	am_identity_destroy(&node);
	free(key);
	free(db);
	return ret;
}

/* ---- main ---- */

static const char usage[] =
	"usage: hostile HOME ENDPOINT SERVER-ID CASE [ARG...]\n"
	"       hostile raw ENDPOINT\n"
	"       hostile digest DB CIRCLE-HEX\n"
	"cases: good C, forged-sig C, forged-in-run C, altered-body C,\n"
	"       broken-chain C, gap C,\n"
	"       non-member C, replay C, fork C, foreign-entry C, foreign-genesis,\n"
	"       foreign-request C AUTHOR-ID OUR-C, oversize, over-data C,\n"
	"       truncated C, huge-length C, deep, unknown-type, odd-encodings,\n"
	"       log-injection C, log-flood C OTHER-C N [ewp], flood C N,\n"
	"       ack-and-go C NODE-HOME N, own-circle N, own-circles N,\n"
	"       member-flood C N, entry-flood C N, fresh-keys C K M\n"
	"(C: a circle's ID in hex)\n";

static int
run_case(struct hostile *h, int argc, char **argv)
{
	const char *name = argv[0];
	uint8_t c[AM_HASH_BYTES], a[AM_ID_BYTES], o[AM_HASH_BYTES];
	bool has_c = argc > 1 && peer_hex32(argv[1], c);

	if (strcmp(name, "good") == 0 && has_c)
		return case_good(h, c);
	if (strcmp(name, "forged-sig") == 0 && has_c)
		return case_broken(h, c, FORGED_SIG);
	if (strcmp(name, "altered-body") == 0 && has_c)
		return case_broken(h, c, ALTERED_BODY);
	if (strcmp(name, "broken-chain") == 0 && has_c)
		return case_broken(h, c, BROKEN_CHAIN);
	if (strcmp(name, "gap") == 0 && has_c)
		return case_broken(h, c, GAP);
	if (strcmp(name, "forged-in-run") == 0 && has_c)
		return case_broken(h, c, FORGED_IN_RUN);
	if (strcmp(name, "non-member") == 0 && has_c)
		return case_non_member(h, c);
	if (strcmp(name, "replay") == 0 && has_c)
		return case_replay(h, c);
	if (strcmp(name, "fork") == 0 && has_c)
		return case_fork(h, c);
	if (strcmp(name, "foreign-entry") == 0 && has_c)
		return case_foreign_entry(h, c);
	if (strcmp(name, "foreign-genesis") == 0)
		return case_foreign_genesis(h);
	if (strcmp(name, "foreign-request") == 0 && has_c && argc > 3 &&
	    am_id_parse(argv[2], a) == AM_OK && peer_hex32(argv[3], o))
		return case_foreign_request(h, c, a, o);
	if (strcmp(name, "oversize") == 0)
		return case_oversize(h);
	if (strcmp(name, "over-data") == 0 && has_c)
		return case_over_data(h, c);
	if (strcmp(name, "truncated") == 0 && has_c)
		return case_truncated(h, c);
	if (strcmp(name, "huge-length") == 0 && has_c)
		return case_huge_length(h, c);
	if (strcmp(name, "deep") == 0)
		return case_deep(h);
	if (strcmp(name, "unknown-type") == 0)
		return case_unknown_type(h);
	if (strcmp(name, "odd-encodings") == 0)
		return case_odd_encodings(h);
	if (strcmp(name, "log-injection") == 0 && has_c)
		return case_log_injection(h, c);
	if (strcmp(name, "log-flood") == 0 && has_c && argc > 3 &&
	    peer_hex32(argv[2], o)) {
		long n = strtol(argv[3], NULL, 10);
		if (n >= 1 && n <= 1000000)
			return case_log_flood(h, c, o, n, argc > 4 ? argv[4] : "ewp");
	}
	if (strcmp(name, "ack-and-go") == 0 && has_c && argc > 3) {
		long n = strtol(argv[3], NULL, 10);
		if (n >= 1 && n <= 1000)
			return case_ack_and_go(h, c, argv[2], n);
	}
	if (strcmp(name, "own-circle") == 0 && argc > 1) {
		long n = strtol(argv[1], NULL, 10);
		if (n >= 1 && n <= 100000)
			return case_own_circle(h, n);
	}
	if (strcmp(name, "own-circles") == 0 && argc > 1) {
		long n = strtol(argv[1], NULL, 10);
		if (n >= 1 && n <= 100000)
			return case_own_circles(h, n);
	}
	if ((strcmp(name, "member-flood") == 0 || strcmp(name, "entry-flood") == 0) &&
	    has_c && argc > 2) {
		long n = strtol(argv[2], NULL, 10);
		if (n >= 1 && n <= 1000000)
			return case_own_flood(h, c, n, name[0] == 'm' ?
				FLOOD_MEMBERS : FLOOD_STATEMENTS);
	}
	if (strcmp(name, "fresh-keys") == 0 && has_c && argc > 3) {
		long k = strtol(argv[2], NULL, 10), m = strtol(argv[3], NULL, 10);
		if (k >= 1 && k <= 100000 && m >= 1 && m <= 10000)
			return case_fresh_keys(h, c, k, m);
	}
	if (strcmp(name, "flood") == 0 && has_c && argc > 2) {
		long n = strtol(argv[2], NULL, 10);
		if (n >= 1 && n <= 1000000)
			return case_flood(h, c, n);
	}
	fprintf(stderr, "%s", usage);
	return 2;
}

int
main(int argc, char **argv)
{
	struct hostile h = { 0 };
	char *key = NULL, *db = NULL;
	int ret = 2;

	setvbuf(stdout, NULL, _IOLBF, 0);
	if (sodium_init() < 0)
		return 2;
	if (argc >= 2 && strcmp(argv[1], "raw") == 0)
		return raw_main(argc - 1, argv + 1);
	if (argc >= 2 && strcmp(argv[1], "digest") == 0)
		return digest_main(argc - 1, argv + 1);
	if (argc < 5 || am_id_parse(argv[3], h.server) != AM_OK) {
		fprintf(stderr, "%s", usage);
		return 2;
	}
	if ((key = am_home_path(argv[1], AM_HOME_KEY)) == NULL ||
	    (db = am_home_path(argv[1], AM_HOME_DB)) == NULL ||
	    am_identity_load(key, &h.id) != AM_OK ||
	    am_store_open(db, &h.store) != AM_OK ||
	    (h.in = malloc(sizeof *h.in)) == NULL) {
		fprintf(stderr, "hostile: cannot open the member's data directory %s\n",
			argv[1]);
		goto out;
	}
	h.self = am_identity_public(h.id);
	h.endpoint = argv[2];
	ret = 1;
	if (peer_connect(&h, argv[2]) != AM_OK) {
		peer_unexpected("no handshake with the node at %s", argv[2]);
		goto out;
	}
	if (peer_open_session(&h) != AM_OK) {
		peer_unexpected("the node did not start a session");
		goto out;
	}
	ret = run_case(&h, argc - 4, argv + 4);
out:
	peer_disconnect(&h);
	free(h.buf);
	free(h.in);
	am_store_close(&h.store);
	am_identity_destroy(&h.id);
	free(key);
	free(db);
	return ret;
}
