/*
 * What a member's own client can write that amends' CLI never would: an
 * agreement whose title and terms carry control characters (the CLI
 * refuses them in titles), or any entry at a claimed time the CLI refuses
 * (outside 2000..2199). Appended straight through the library, as the
 * data directory's identity, at the given claimed time; an agreement has
 * the identity as its only party and checker, and no schedule.
 *
 *   craft HOME CIRCLE-HEX TIME-MS TITLE TEXT    an agreement
 *   craft HOME CIRCLE-HEX TIME-MS --say TEXT    a statement
 *   craft HOME CIRCLE-HEX TIME-MS --badsig TEXT two statements: the first
 *       with a broken signature, the second, validly signed, naming its
 *       hash (taken as a run, as from a peer: the second vouches for it)
 *   craft HOME CIRCLE-HEX TIME-MS --fork TEXT   a statement at the number
 *       of the feed's newest entry: fork evidence against the identity
 *   craft HOME CIRCLE-HEX TIME-MS --remove ID-HEX a REMOVE of ID that
 *       lists nobody as needed, naming the head of ID's feed held here
 *   craft HOME CIRCLE-HEX TIME-MS --succeed NEWHOME a SUCCESSION of the
 *       identity by NEWHOME's key (needing every other joined member,
 *       naming its own head), then NEWHOME's key's ACCEPT of it: what a
 *       thief holding the key would write (prints the SUCCESSION's hash)
 *   craft HOME CIRCLE-HEX TIME-MS --genesis NAME a new circle called NAME
 *       (any bytes; CIRCLE-HEX is not read): prints the new circle's ID
 *   craft HOME CIRCLE-HEX TIME-MS --checkpoint - a checkpoint of the heads
 *       held here, whether or not the node would find one due
 *   craft HOME CIRCLE-HEX TIME-MS --claim ID:SEQ the same, naming the feed
 *       of ID (its text form) at SEQ with a made-up hash: a false claim
 *
 * Prints the new entry's hash in hex.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "amends/checkpoint.h"
#include "amends/home.h"
#include "amends/state.h"
#include "amends/store.h"

static int
keep_prev(void *ctx, const uint8_t *raw, size_t len)
{
	struct am_entry e;
	if (am_entry_decode(raw, len, &e) != AM_OK || !e.has_prev)
		return AM_ERR_FIELD;
	memcpy(ctx, e.prev, AM_HASH_BYTES);
	return AM_OK;
}

/* --badsig and --fork: entries signed here and ingested as a peer's. */
static int
crafted(struct am_store *s, const struct am_identity *id,
	const uint8_t circle[static AM_HASH_BYTES], int64_t time,
	const char *mode, const struct am_body *b, uint8_t out[static AM_HASH_BYTES])
{
	struct am_entry_draft d = { .time = time, .body = b };
	struct am_entry e1, e2;
	uint8_t *raw1 = NULL, *raw2 = NULL, head[AM_HASH_BYTES];
	size_t len1, len2, done;
	uint64_t seq;
	enum am_ingest_result res[2];
	memcpy(d.circle, circle, AM_HASH_BYTES);
	int rc = am_store_head(s, circle, am_identity_public(id), &seq, head);
	if (rc != AM_OK || seq < 2)
		return rc != AM_OK ? rc : AM_ERR_ARG;
	if (strcmp(mode, "--fork") == 0) {
		d.seq = seq;
		d.has_prev = true;
		if ((rc = am_store_range(s, circle, am_identity_public(id), seq, seq,
		    keep_prev, d.prev)) != AM_OK ||
		    (rc = am_entry_sign(id, &d, &raw1, &len1, &e1)) != AM_OK)
			goto out;
		memcpy(out, e1.hash, AM_HASH_BYTES);
		rc = am_store_ingest(s, raw1, len1, res);
		goto out;
	}
	d.seq = seq + 1;
	d.has_prev = true;
	memcpy(d.prev, head, AM_HASH_BYTES);
	if ((rc = am_entry_sign(id, &d, &raw1, &len1, &e1)) != AM_OK)
		goto out;
	raw1[len1 - 1] ^= 1;          /* the signature is the last 64 bytes */
	am_hash(raw1, len1, out);
	d.seq = seq + 2;
	memcpy(d.prev, out, AM_HASH_BYTES);
	if ((rc = am_entry_sign(id, &d, &raw2, &len2, &e2)) != AM_OK)
		goto out;
	const uint8_t *raws[2] = { raw1, raw2 };
	size_t lens[2] = { len1, len2 };
	rc = am_store_ingest_batch(s, raws, lens, 2, res, &done);
out:
	free(raw1);
	free(raw2);
	return rc;
}

int
main(int argc, char **argv)
{
	struct am_identity *id = NULL;
	struct am_store *s = NULL;
	uint8_t circle[AM_HASH_BYTES], hash[AM_HASH_BYTES];
	size_t bin_len;
	uint64_t seq;
	int rc = 2;

	if (argc != 6 || sodium_init() < 0 ||
	    sodium_hex2bin(circle, sizeof circle, argv[2], strlen(argv[2]), NULL,
	    &bin_len, NULL) != 0 || bin_len != sizeof circle) {
		fprintf(stderr, "usage: craft HOME CIRCLE-HEX TIME-MS TITLE TEXT\n"
			"       craft HOME CIRCLE-HEX TIME-MS --say TEXT\n");
		return 2;
	}
	char *key = am_home_path(argv[1], AM_HOME_KEY);
	char *db = am_home_path(argv[1], AM_HOME_DB);
	if (key == NULL || db == NULL || am_identity_load(key, &id) != AM_OK ||
	    am_store_open(db, &s) != AM_OK) {
		fprintf(stderr, "craft: cannot open %s\n", argv[1]);
		goto out;
	}
	struct am_body *b = calloc(1, sizeof *b);
	if (b == NULL)
		goto out;
	if (strcmp(argv[4], "--badsig") == 0 || strcmp(argv[4], "--fork") == 0) {
		b->kind = AM_KIND_STATEMENT;
		b->note = am_str_c(argv[5]);
		rc = crafted(s, id, circle, strtoll(argv[3], NULL, 10), argv[4], b, hash);
		free(b);
		if (rc != AM_OK) {
			fprintf(stderr, "craft: %s\n", am_strerror(rc));
			rc = 1;
			goto out;
		}
		goto print;
	}
	if (strcmp(argv[4], "--checkpoint") == 0) {
		b->kind = AM_KIND_CHECKPOINT;
		if (am_checkpoint_heads(s, circle, b->heads, &b->nheads) != AM_OK) {
			free(b);
			fprintf(stderr, "craft: no heads\n");
			goto out;
		}
		goto write;
	}
	if (strcmp(argv[4], "--remove") == 0) {
		/* a removal that asks nobody: the attack of one member alone */
		size_t n = 0;
		b->kind = AM_KIND_REMOVE;
		if (sodium_hex2bin(b->target, sizeof b->target, argv[5],
		    strlen(argv[5]), NULL, &n, NULL) != 0 || n != sizeof b->target ||
		    am_store_head(s, circle, b->target, &b->head_seq,
		    b->head_hash) != AM_OK) {
			free(b);
			fprintf(stderr, "craft: --remove takes an ID in hex\n");
			goto out;
		}
		goto write;
	}
	if (strcmp(argv[4], "--succeed") == 0) {
		struct am_identity *heir = NULL;
		struct am_member *m = NULL;
		size_t nm = 0;
		char *hkey = am_home_path(argv[5], AM_HOME_KEY);
		const uint8_t *me = am_identity_public(id);
		int64_t t = strtoll(argv[3], NULL, 10);
		if (hkey == NULL || am_identity_load(hkey, &heir) != AM_OK ||
		    am_state_members(s, circle, &m, &nm) != AM_OK) {
			free(hkey);
			free(b);
			fprintf(stderr, "craft: --succeed takes a data directory\n");
			goto out;
		}
		free(hkey);
		b->kind = AM_KIND_SUCCESSION;
		memcpy(b->target, me, AM_ID_BYTES);
		memcpy(b->heir, am_identity_public(heir), AM_ID_BYTES);
		/* members come by ID: the need list is sorted as it must be */
		for (size_t i = 0; i < nm && b->nneed < AM_MAX_NEED; i++)
			if (m[i].status == AM_MEMBER_JOINED && !m[i].creator &&
			    memcmp(m[i].id, me, AM_ID_BYTES) != 0)
				memcpy(b->need[b->nneed++], m[i].id, AM_ID_BYTES);
		for (size_t i = 0; i < nm && b->nneed < AM_MAX_NEED; i++)
			if (m[i].status == AM_MEMBER_JOINED && m[i].creator &&
			    memcmp(m[i].id, me, AM_ID_BYTES) != 0) {
				size_t k = b->nneed++;
				while (k > 0 && memcmp(b->need[k - 1], m[i].id, 32) > 0) {
					memcpy(b->need[k], b->need[k - 1], 32);
					k--;
				}
				memcpy(b->need[k], m[i].id, AM_ID_BYTES);
			}
		free(m);
		rc = am_store_head(s, circle, me, &b->head_seq, b->head_hash);
		if (rc == AM_OK)
			rc = am_store_append(s, id, circle, t, b, hash, &seq);
		if (rc == AM_OK) {
			struct am_body a = { .kind = AM_KIND_ACCEPT };
			memcpy(a.target, hash, AM_HASH_BYTES);
			rc = am_store_append(s, heir, circle, t, &a, NULL, NULL);
		}
		am_identity_destroy(&heir);
		free(b);
		if (rc != AM_OK) {
			fprintf(stderr, "craft: %s\n", am_strerror(rc));
			rc = 1;
			goto out;
		}
		goto print;
	}
	if (strcmp(argv[4], "--claim") == 0) {
		uint8_t who[AM_ID_BYTES];
		char text[AM_ID_TEXT_BYTES];
		const char *colon = strchr(argv[5], ':');
		bool named = false;
		b->kind = AM_KIND_CHECKPOINT;
		if (colon == NULL || (size_t)(colon - argv[5]) >= sizeof text ||
		    am_checkpoint_heads(s, circle, b->heads, &b->nheads) != AM_OK) {
			free(b);
			fprintf(stderr, "craft: --claim ID:SEQ, and heads to name\n");
			goto out;
		}
		memcpy(text, argv[5], (size_t)(colon - argv[5]));
		text[colon - argv[5]] = '\0';
		for (uint32_t i = 0; am_id_parse(text, who) == AM_OK && i < b->nheads;
		    i++)
			if (memcmp(b->heads[i].author, who, AM_ID_BYTES) == 0) {
				b->heads[i].seq = strtoull(colon + 1, NULL, 10);
				randombytes_buf(b->heads[i].hash, AM_HASH_BYTES);
				named = true;
			}
		if (!named) {
			free(b);
			fprintf(stderr, "craft: %s holds no feed of that ID\n", argv[1]);
			goto out;
		}
		goto write;
	}
	if (strcmp(argv[4], "--genesis") == 0) {
		b->kind = AM_KIND_GENESIS;
		b->name = am_str_c(argv[5]);
		randombytes_buf(b->nonce, sizeof b->nonce);
		am_circle_id(am_identity_public(id), b->nonce, circle);
		rc = am_store_append(s, id, circle, strtoll(argv[3], NULL, 10), b,
			hash, &seq);
		free(b);
		if (rc != AM_OK) {
			fprintf(stderr, "craft: %s\n", am_strerror(rc));
			rc = 1;
			goto out;
		}
		memcpy(hash, circle, AM_HASH_BYTES);
		goto print;
	}
	if (strcmp(argv[4], "--say") == 0) {
		b->kind = AM_KIND_STATEMENT;
		b->note = am_str_c(argv[5]);
		goto write;
	}
	b->kind = AM_KIND_PROPOSE;
	b->terms.title = am_str_c(argv[4]);
	b->terms.text = am_str_c(argv[5]);
	b->terms.nparties = 1;
	memcpy(b->terms.parties[0], am_identity_public(id), AM_ID_BYTES);
	b->terms.tz = am_str_c("UTC");
	b->terms.nby = 1;
	memcpy(b->terms.by[0], am_identity_public(id), AM_ID_BYTES);
write:
	rc = am_store_append(s, id, circle, strtoll(argv[3], NULL, 10), b, hash, &seq);
	free(b);
	if (rc != AM_OK) {
		fprintf(stderr, "craft: %s\n", am_strerror(rc));
		rc = 1;
		goto out;
	}
print:;
	char hex[2 * AM_HASH_BYTES + 1];
	printf("%s\n", sodium_bin2hex(hex, sizeof hex, hash, sizeof hash));
	rc = 0;
out:
	am_store_close(&s);
	am_identity_destroy(&id);
	free(key);
	free(db);
	return rc;
}
