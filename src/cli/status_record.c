/*
 * The sections of amends status about the record itself: what the other
 * members' nodes last said they hold, the checkpoints that say everyone
 * holds the same, and misbehaviour on record (forks, bad signatures).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agreement.h"
#include "amends/checkpoint.h"
#include "amends/peer.h"
#include "cli.h"
#include "format.h"
#include "status.h"

/* ---- misbehaviour on record: forks and bad signatures ---- */

struct misbehaviour {
	struct status *st;
	const uint8_t *circle;
	const char *name;            /* the circle's */
	size_t n;
};

static void
misbehaviour_line(struct misbehaviour *m, const uint8_t *author,
	const char *kind, uint64_t seq, uint64_t shown)
{
	struct status *st = m->st;
	if (m->n++ == 0 && !st->json)
		printf("\nmisbehaviour on record\n");
	if (st->json) {
		struct json *j = &st->j;
		json_obj(j);
		json_kstr(j, "kind", kind);
		json_key(j, "circle");
		json_hash(j, m->circle);
		json_key(j, "author");
		json_id(j, author);
		json_kint(j, "seq", (int64_t)seq);
		if (strcmp(kind, "false-checkpoint") == 0)
			json_kint(j, "shown", (int64_t)shown);
		json_end_obj(j);
		return;
	}
	char who[CLI_SHORT_NAME];
	cli_short_id(st->s, author, who);
	if (strcmp(kind, "false-checkpoint") == 0)
		printf("  %s in %s: signed a checkpoint naming %llu entries of your "
			"feed, yet their node holds and serves %llu (a signed false "
			"statement)\n", who, cli_shown_c(m->name), (unsigned long long)seq,
			(unsigned long long)shown);
	else if (strcmp(kind, "fork") == 0)
		printf("  %s in %s: two different entries numbered %llu (a fork)\n",
			who, cli_shown_c(m->name), (unsigned long long)seq);
	else
		printf("  %s in %s: entry %llu's signature does not verify (its "
			"content is vouched for by entry %llu)\n", who, cli_shown_c(m->name),
			(unsigned long long)seq, (unsigned long long)seq + 1);
}

static int
misbehaviour_fork(void *ctx, const struct am_feed_head *h)
{
	if (h->forked_at != 0)
		misbehaviour_line(ctx, h->author, "fork", h->forked_at, 0);
	return AM_OK;
}

static int
misbehaviour_bad(void *ctx, const struct am_bad_signature *b)
{
	misbehaviour_line(ctx, b->author, "bad-signature", b->seq, 0);
	return AM_OK;
}

static int
misbehaviour_claim(void *ctx, const struct am_checkpoint_refutation *r)
{
	misbehaviour_line(ctx, r->author, "false-checkpoint", r->named, r->shown);
	return AM_OK;
}

/* Authors who signed two entries at one number, an entry whose own
 * signature fails (protocol/sync.md, "Verifying on ingest"), or a
 * checkpoint naming entries of ours their node does not hold (refuted:
 * protocol/sync.md, "A restored node's guard: claims"). */
void
section_misbehaviour(struct status *st)
{
	struct misbehaviour m = { .st = st };
	if (st->json) {
		json_key(&st->j, "misbehaviour");
		json_arr(&st->j);
	}
	for (size_t c = 0; c < st->ncircles; c++) {
		m.circle = st->circles[c].id;
		m.name = st->circles[c].name;
		if (am_store_heads(st->s, m.circle, misbehaviour_fork, &m) != AM_OK ||
		    am_store_bad_signatures(st->s, m.circle, misbehaviour_bad, &m) != AM_OK ||
		    am_checkpoint_refutations(st->s, m.circle, misbehaviour_claim,
		    &m) != AM_OK)
			break;
	}
	section_end(st);
}

/* ---- circles where your own writing waits (issue 22) ---- */

struct paused_claim {
	struct status *st;
	const char *name;            /* the circle's */
	uint64_t head;
};

static int
paused_claim(void *ctx, const struct am_checkpoint_refutation *r)
{
	struct paused_claim *p = ctx;
	char who[CLI_SHORT_NAME];
	if (p->st->json) {
		struct json *j = &p->st->j;
		json_obj(j);
		json_key(j, "author");
		json_id(j, r->author);
		json_kint(j, "named", (int64_t)r->named);
		json_kint(j, "held", (int64_t)p->head);
		json_end_obj(j);
		return AM_OK;
	}
	cli_short_id(p->st->s, r->author, who);
	printf("    %s signed a checkpoint naming %llu entries of your feed (this "
		"copy holds %llu): waiting for their node; if it never comes back, "
		"see amends resume %s\n", who, (unsigned long long)r->named,
		(unsigned long long)p->head, cli_shown_c(p->name));
	return AM_OK;
}

/* The other members' checkpoints still holding a restored node back. */
static void
paused_claims(struct status *st, const uint8_t *circle, const char *name)
{
	uint8_t hash[32];
	struct paused_claim p = { .st = st, .name = name };
	/* lines that cannot be read are left out, as other sections do */
	int rc = am_store_head(st->s, circle, st->me, &p.head, hash);
	if (rc == AM_OK)
		rc = am_checkpoint_claims(st->s, circle, st->me, p.head, NULL,
			paused_claim, &p);
	(void)rc;
}

/* Circles where this node writes nothing for now, and why: the identity
 * was restored and has not fetched its own latest entries, or a peer
 * served an entry of its own feed that this node lacks (another copy of
 * the identity wrote it). The node fetches; writing resumes by itself. */
void
section_paused(struct status *st)
{
	size_t n = 0;
	if (st->json) {
		json_key(&st->j, "paused");
		json_arr(&st->j);
	}
	for (size_t c = 0; c < st->ncircles; c++) {
		const uint8_t *id = st->circles[c].id;
		int rc = am_store_own_guard(st->s, id, st->me);
		if (rc != AM_ERR_RESTORING && rc != AM_ERR_OWN_BEHIND)
			continue;
		const char *why = rc == AM_ERR_RESTORING ? "restored" : "own-behind";
		uint64_t seen = am_store_own_seen_get(st->s, id, st->me);
		if (st->json) {
			struct json *j = &st->j;
			json_obj(j);
			json_key(j, "circle");
			json_hash(j, id);
			json_kstr(j, "reason", why);
			if (rc == AM_ERR_OWN_BEHIND)
				json_kint(j, "seq", (int64_t)seen);
			if (rc == AM_ERR_RESTORING) {
				/* the other members' claims it waits for */
				json_key(j, "claims");
				json_arr(j);
				paused_claims(st, id, st->circles[c].name);
				json_end_arr(j);
			}
			json_end_obj(j);
			continue;
		}
		if (n++ == 0)
			printf("\nwriting paused\n");
		if (rc == AM_ERR_RESTORING) {
			printf("  %s: this identity was restored; the node is fetching "
				"your own latest entries from a peer before you write\n",
				cli_shown_c(st->circles[c].name));
			paused_claims(st, id, st->circles[c].name);
		}
		else
			printf("  %s: a peer holds entry %llu of your own feed, which "
				"this node lacks (another copy of your data directory or "
				"key wrote it); the node is fetching it before you "
				"write\n", cli_shown_c(st->circles[c].name), (unsigned long long)seen);
	}
	section_end(st);
}

/* ---- what the other members' nodes hold (src/peer.c) ---- */

struct peer_seen {
	const uint8_t *id;
	bool found;
	struct am_peer_digest d;
};

static int
peer_seen_one(void *ctx, const struct am_peer_digest *d)
{
	struct peer_seen *p = ctx;
	if (memcmp(d->peer, p->id, 32) == 0) {
		p->found = true;
		p->d = *d;
	}
	return AM_OK;
}

/* The other members of circle c and what their nodes last reported. */
static size_t
peers_load(struct status *st, size_t c, struct am_member **m,
	struct peer_seen **seen, size_t *same)
{
	size_t nm = 0, n = 0;
	*m = NULL;
	*seen = NULL;
	*same = 0;
	if (am_state_members(st->s, st->cd[c].info->id, m, &nm) != AM_OK)
		return 0;
	if ((*seen = calloc(nm + 1, sizeof **seen)) == NULL)
		return 0;
	for (size_t i = 0; i < nm; i++) {
		if (memcmp((*m)[i].id, st->me, 32) == 0)
			continue;
		/* a key a succession replaced: its node speaks with the new
		 * one, listed in its own right */
		if ((*m)[i].status == AM_MEMBER_DEPARTED &&
		    (*m)[i].departure_kind == AM_KIND_SUCCESSION)
			continue;
		struct peer_seen *p = &(*seen)[n++];
		p->id = (*m)[i].id;
		if (am_peer_digests(st->s, st->cd[c].info->id, peer_seen_one, p) != AM_OK)
			p->found = false;
		*same += p->found && memcmp(p->d.digest, st->cd[c].digest, 32) == 0;
	}
	return n;
}

/* For each circle shared with others: whether every other member's node,
 * when last in step with this one, held the same record (this node's own
 * view, from what its peers last showed it). */
void
section_peers(struct status *st)
{
	size_t shown = 0;
	for (size_t c = 0; c < st->ncircles; c++) {
		struct am_member *m;
		struct peer_seen *seen;
		size_t same, n = peers_load(st, c, &m, &seen, &same);
		shown += n > 0;
		free(m);
		free(seen);
	}
	section_begin(st, "peers", "the others' records", shown);
	for (size_t c = 0; c < st->ncircles; c++) {
		struct am_member *m;
		struct peer_seen *seen;
		size_t same, n = peers_load(st, c, &m, &seen, &same);
		char h[CLI_SHORT_HASH];
		cli_short_hash(st->cd[c].info->id, h);
		if (n > 0 && st->json) {
			struct json *j = &st->j;
			json_obj(j);
			json_key(j, "circle");
			json_hash(j, st->cd[c].info->id);
			json_kbool(j, "everyone_same", same == n);
			json_key(j, "members");
			json_arr(j);
			for (size_t i = 0; i < n; i++) {
				json_obj(j);
				json_key(j, "id");
				json_id(j, seen[i].id);
				json_key(j, "digest");
				if (seen[i].found)
					json_hash(j, seen[i].d.digest);
				else
					json_null(j);
				json_key(j, "at");
				if (seen[i].found)
					json_time(j, seen[i].d.at);
				else
					json_null(j);
				json_kbool(j, "same", seen[i].found &&
					memcmp(seen[i].d.digest, st->cd[c].digest, 32) == 0);
				json_end_obj(j);
			}
			json_end_arr(j);
			json_end_obj(j);
		} else if (n > 0) {
			printf("  %s (%s)  %s\n", cli_shown_c(st->cd[c].info->name), h, same == n ?
				"everyone holds the same record as you" :
				"not everyone is known to hold the same record as you");
			for (size_t i = 0; i < n; i++) {
				char who[CLI_SHORT_NAME], when[CLI_TIME_BYTES];
				cli_short_id(st->s, seen[i].id, who);
				if (!seen[i].found) {
					printf("    %-12s not heard from yet\n", who);
					continue;
				}
				cli_time_local(seen[i].d.at, when);
				printf("    %-12s %-8s as of %s\n", who,
					memcmp(seen[i].d.digest, st->cd[c].digest, 32) == 0 ?
					"same" : "differs", when);
			}
		}
		free(m);
		free(seen);
	}
	section_end(st);
}

/* ---- checkpoints (src/checkpoint.c) ---- */

struct report_ctx {
	struct status *st;
	size_t n;
	bool print;
};

static int
report_one(void *ctx, const struct am_checkpoint_report *r)
{
	struct report_ctx *k = ctx;
	struct status *st = k->st;
	k->n++;
	if (!k->print)
		return AM_OK;
	if (st->json) {
		struct json *j = &st->j;
		json_obj(j);
		json_key(j, "peer");
		json_id(j, r->peer);
		json_key(j, "author");
		json_id(j, r->author);
		json_kint(j, "shown", (int64_t)r->shown);
		json_kint(j, "checkpointed", (int64_t)r->named);
		json_key(j, "checkpoint");
		json_hash(j, r->checkpoint);
		json_key(j, "checkpoint_time");
		json_time(j, r->checkpoint_time);
		json_key(j, "seen");
		json_time(j, r->last_at);
		json_end_obj(j);
		return AM_OK;
	}
	char who[CLI_SHORT_NAME], whose[CLI_SHORT_NAME], cp[CLI_TIME_BYTES];
	char seen[CLI_TIME_BYTES];
	cli_short_id(st->s, r->peer, who);
	cli_short_id(st->s, r->author, whose);
	cli_time_local(r->checkpoint_time, cp);
	cli_time_local(r->last_at, seen);
	printf("    %s showed a shorter feed of %s than the checkpoint of %s "
		"(%llu of %llu entries, seen %s): withholding or truncation\n", who,
		memcmp(r->peer, r->author, 32) == 0 ? "its own" : whose, cp,
		(unsigned long long)r->shown, (unsigned long long)r->named, seen);
	return AM_OK;
}

/* True when the heads everyone checkpointed are those held here now. */
static bool
checkpoint_current(struct status *st, const struct circle_data *d,
	const struct am_checkpoint_same *same)
{
	struct am_head *h = malloc(AM_MAX_HEADS * sizeof *h);
	uint32_t n;
	bool yes = h != NULL &&
		am_checkpoint_heads(st->s, d->info->id, h, &n) == AM_OK &&
		n == same->nheads && memcmp(h, same->heads, n * sizeof *h) == 0;
	free(h);
	return yes;
}

/* For each circle: whether every member has checkpointed the same record,
 * as of when (claimed times, shown only), and any member's node seen
 * showing a feed shorter than a checkpoint. The reports are this node's
 * own observations, so the section comes before "disputes". */
void
section_checkpoints(struct status *st)
{
	size_t shown = 0;
	struct am_checkpoint_same *same = malloc(st->ncircles * sizeof *same + 1);
	if (same == NULL)
		return;
	for (size_t c = 0; c < st->ncircles; c++) {
		struct report_ctx k = { .st = st };
		if (am_checkpoint_same(st->s, st->cd[c].info->id, &same[c]) != AM_OK)
			same[c].same = false;
		if (am_checkpoint_reports(st->s, st->cd[c].info->id, report_one,
		    &k) != AM_OK)
			k.n = 0;
		shown += same[c].same || k.n > 0;
	}
	section_begin(st, "checkpoints", "checkpoints", shown);
	for (size_t c = 0; c < st->ncircles; c++) {
		const struct circle_data *d = &st->cd[c];
		struct report_ctx k = { .st = st, .print = true };
		bool current = same[c].same && checkpoint_current(st, d, &same[c]);
		if (st->json) {
			struct json *j = &st->j;
			json_obj(j);
			json_key(j, "circle");
			json_hash(j, d->info->id);
			json_kbool(j, "same_record", same[c].same);
			json_key(j, "as_of");
			if (same[c].same)
				json_time(j, same[c].time);
			else
				json_null(j);
			json_kbool(j, "current", current);
			json_key(j, "withholding");
			json_arr(j);
			if (am_checkpoint_reports(st->s, d->info->id, report_one, &k) != AM_OK)
				k.n = 0;
			json_end_arr(j);
			json_end_obj(j);
			continue;
		}
		struct report_ctx count = { .st = st };
		if (am_checkpoint_reports(st->s, d->info->id, report_one, &count) != AM_OK)
			count.n = 0;
		if (!same[c].same && count.n == 0)
			continue;
		char h[CLI_SHORT_HASH], when[CLI_TIME_BYTES];
		cli_short_hash(d->info->id, h);
		if (same[c].same) {
			cli_time_local(same[c].time, when);
			printf("  %s (%s)  same record for everyone as of %s%s\n",
				cli_shown_c(d->info->name), h, when, current ? "" :
				"; newer entries since");
		} else {
			printf("  %s (%s)\n", cli_shown_c(d->info->name), h);
		}
		if (am_checkpoint_reports(st->s, d->info->id, report_one, &k) != AM_OK)
			continue;
	}
	free(same);
	section_end(st);
}
