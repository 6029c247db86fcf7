/*
 * The store: one SQLite database per node holding every entry it knows, the
 * heads of the feeds, fork evidence, and (from the state module) the
 * materialised state. Every write is one BEGIN IMMEDIATE transaction with
 * synchronous=FULL, so an entry this node authored is on disk before
 * anything can send it, and two processes writing at once never fork a feed.
 */
#ifndef AMENDS_STORE_H
#define AMENDS_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "amends/body.h"
#include "amends/entry.h"
#include "amends/error.h"
#include "amends/id.h"

#define AM_STORE_SCHEMA 1

struct am_store;

/* Opens (creating if needed) the database at path and brings its schema up
 * to date. AM_ERR_DB_SCHEMA when the file is another application's or a
 * newer amends's. */
AM_NODISCARD int am_store_open(const char *path, struct am_store **out);

/* Closes the database; sets *store to NULL. */
void am_store_close(struct am_store **store);

/*
 * Writes a new entry of id's feed in circle: takes the next number and the
 * previous hash inside one immediate transaction, signs, stores and commits.
 * For a GENESIS body, circle is ignored and derived from the body's nonce.
 * time is the claimed time in ms. On success hash (if not NULL) receives the
 * new entry's hash and seq (if not NULL) its number. AM_ERR_OWN_FORK when
 * id's feed in circle has forked (the store holds evidence of two entries
 * at one number): every member ignores what would follow, so nothing is
 * written. AM_ERR_RESTORING or AM_ERR_OWN_BEHIND when the guard of
 * am_store_own_guard() holds.
 */
AM_NODISCARD int am_store_append(struct am_store *s, const struct am_identity *id,
	const uint8_t circle[static AM_HASH_BYTES], int64_t time,
	const struct am_body *body, uint8_t *hash, uint64_t *seq);

enum am_ingest_result {
	AM_INGEST_NEW = 1,        /* stored */
	AM_INGEST_DUPLICATE = 2,  /* already held: nothing changed */
	AM_INGEST_FORK = 3,       /* a different entry holds this number: both
	                             are kept as evidence, the feed is marked */
};

/*
 * Ingests an entry from a peer or a file: decoded, signature verified,
 * linked to the feed's previous entry. AM_ERR_GAP when the previous entry is
 * missing, AM_ERR_CHAIN when it does not match, decoding errors as
 * am_entry_decode. On AM_OK, *result says what happened.
 */
AM_NODISCARD int am_store_ingest(struct am_store *s, const uint8_t *raw,
	size_t len, enum am_ingest_result *result);

/* Head of one feed: *seq is 0 (and hash untouched) when the feed is empty. */
AM_NODISCARD int am_store_head(struct am_store *s,
	const uint8_t circle[static AM_HASH_BYTES],
	const uint8_t author[static AM_ID_BYTES], uint64_t *seq,
	uint8_t hash[static AM_HASH_BYTES]);

/* Whether author's feed in circle holds an entry of kind (any entry
 * stored, whatever the state makes of it): *has. The node and sync ask
 * it of their own feed's LEAVE (protocol/sync.md, "Departed members"). */
AM_NODISCARD int am_store_feed_has_kind(struct am_store *s,
	const uint8_t circle[static AM_HASH_BYTES],
	const uint8_t author[static AM_ID_BYTES], uint32_t kind, bool *has);

/* One feed head as listed by am_store_heads(). */
struct am_feed_head {
	uint8_t author[AM_ID_BYTES];
	uint64_t seq;
	uint8_t hash[AM_HASH_BYTES];
	uint64_t forked_at;          /* lowest forked number, 0 when none */
};

/* Calls fn for each feed of circle, ordered by author. Stops early and
 * returns fn's value when it is not AM_OK. */
AM_NODISCARD int am_store_heads(struct am_store *s,
	const uint8_t circle[static AM_HASH_BYTES],
	int (*fn)(void *ctx, const struct am_feed_head *head), void *ctx);

/*
 * Calls fn with each raw entry of a feed with from <= seq <= to, in order.
 * The bytes are valid during the call only. Stops early and returns fn's
 * value when it is not AM_OK.
 */
AM_NODISCARD int am_store_range(struct am_store *s,
	const uint8_t circle[static AM_HASH_BYTES],
	const uint8_t author[static AM_ID_BYTES], uint64_t from, uint64_t to,
	int (*fn)(void *ctx, const uint8_t *raw, size_t len), void *ctx);

/* Calls fn with each fork evidence entry of circle (the entries that lost
 * their number to an entry stored first). */
AM_NODISCARD int am_store_forks(struct am_store *s,
	const uint8_t circle[static AM_HASH_BYTES],
	int (*fn)(void *ctx, const uint8_t *raw, size_t len), void *ctx);

/* The circle's digest: BLAKE2b-256 over every feed's head and fork evidence
 * (protocol/entry.md, "Digest"). Equal digests mean equal entries. */
AM_NODISCARD int am_store_digest(struct am_store *s,
	const uint8_t circle[static AM_HASH_BYTES], uint8_t out[static AM_HASH_BYTES]);

/*
 * Makes the reads until am_store_read_end() see one moment of the store,
 * whatever other processes commit meanwhile (one read transaction): for
 * reads that must agree with one another, such as a summary of the
 * record and the heads it stands for. Nothing may be written in between.
 * Inside a transaction already open (a held run, which no other process
 * can change), the reads are made in that one and both calls do nothing.
 */
AM_NODISCARD int am_store_read_begin(struct am_store *s);
void am_store_read_end(struct am_store *s);

/* Calls fn with the ID of each circle the store holds entries of. */
AM_NODISCARD int am_store_circles(struct am_store *s,
	int (*fn)(void *ctx, const uint8_t circle[static AM_HASH_BYTES]), void *ctx);

/* Sets (or, with name NULL, removes) the local nickname of an ID. Names are
 * this node's own and never leave it. */
AM_NODISCARD int am_store_name_set(struct am_store *s,
	const uint8_t id[static AM_ID_BYTES], const char *name);

/* The nickname of id, malloc'd, or NULL when it has none. */
char *am_store_name_get(struct am_store *s, const uint8_t id[static AM_ID_BYTES]);

/* Calls fn with each nickname, by ID. Stops early and returns fn's value
 * when it is not AM_OK. */
AM_NODISCARD int am_store_names(struct am_store *s,
	int (*fn)(void *ctx, const uint8_t id[static AM_ID_BYTES], const char *name),
	void *ctx);

/* Finds the ID nicknamed name: AM_ERR_NOT_FOUND, AM_ERR_AMBIGUOUS or AM_OK. */
AM_NODISCARD int am_store_name_find(struct am_store *s, const char *name,
	uint8_t id[static AM_ID_BYTES]);

/* The setting present on a node whose identity was restored from a backup
 * (amends init --restore). Until am_store_own_caught_up() is called for a
 * circle, am_store_append refuses to write there (AM_ERR_RESTORING): the
 * old machine may have written entries this one has not fetched yet, and
 * numbering over them would fork the identity's own feed. */
#define AM_SETTING_RESTORED "restored"

/* Records that this node holds its own latest entry of circle as far as
 * it has signed evidence (sync calls it once a comparison with a peer is
 * over and no entry of ours that a peer served, nor any that a live
 * checkpoint names, is missing here), lifting the restore guard there. */
AM_NODISCARD int am_store_own_caught_up(struct am_store *s,
	const uint8_t circle[static AM_HASH_BYTES]);

/* The setting prefix (followed by the circle's ID in hex) holding, in
 * decimal, the highest number of a signed entry of this node's own feed
 * in that circle that a peer served and this store did not hold: another
 * copy of the identity wrote it (a stale store, or a restored key). */
#define AM_SETTING_OWN_SEEN "own-seen:"

/* Records that a peer served a signed entry of self's own feed in circle
 * at number seq (the caller verified its signature) while this store
 * holds fewer: am_store_append refuses to write there (AM_ERR_OWN_BEHIND)
 * until the feed reaches seq. Keeps the highest number recorded. */
AM_NODISCARD int am_store_own_seen(struct am_store *s,
	const uint8_t circle[static AM_HASH_BYTES],
	const uint8_t self[static AM_ID_BYTES], uint64_t seq);

/* The highest number recorded by am_store_own_seen() for self's feed in
 * circle, 0 when none (a number recorded for another identity, such as
 * the key a rotation replaced, holds nothing back; include/amends/
 * rotate.h). */
uint64_t am_store_own_seen_get(struct am_store *s,
	const uint8_t circle[static AM_HASH_BYTES],
	const uint8_t self[static AM_ID_BYTES]);

/*
 * Whether self may write into circle now: AM_OK; AM_ERR_RESTORING while
 * the restore guard holds there (AM_SETTING_RESTORED, no
 * am_store_own_caught_up yet); AM_ERR_OWN_BEHIND while the feed is
 * shorter than what am_store_own_seen() recorded. Read-only.
 */
AM_NODISCARD int am_store_own_guard(struct am_store *s,
	const uint8_t circle[static AM_HASH_BYTES],
	const uint8_t self[static AM_ID_BYTES]);

/* The setting holding, as hex, the answer (ACCEPT or DECLINE, the first
 * entry of our feed) this node signed to an invite of a circle it did not
 * hold yet; its key is this prefix and the circle's ID in hex
 * (am_store_answer_key). am_store_append() writes it as the feed's first
 * entry when that feed is still empty (protocol/invite.md). */
#define AM_SETTING_ANSWER "invite-answer:"
void am_store_answer_key(const uint8_t circle[static AM_HASH_BYTES],
	char key[static sizeof AM_SETTING_ANSWER + 2 * AM_HASH_BYTES]);

/* Local settings (listen address and such), as text. */
AM_NODISCARD int am_store_setting_set(struct am_store *s, const char *key,
	const char *value);
/* The setting's value, malloc'd, or NULL when unset. */
char *am_store_setting_get(struct am_store *s, const char *key);

/*
 * The circles this node is proposed to (local, never replicated): a person
 * named by a member proposal holds no entry of the circle yet, only the
 * preview its proposer sent (protocol/invite.md). A row lets the node take
 * the circle's entries once the proposal completes (protocol/sync.md, "Who
 * holds a circle"); it is removed when the node holds the circle as a
 * joined member, or the person declines.
 */
#define AM_STORE_PREVIEW_MAX (1024 * 1024)   /* bytes of one preview */

/* Records (or replaces) that this node is proposed to circle by proposer,
 * with the preview's bytes (copied). AM_ERR_TOO_BIG past
 * AM_STORE_PREVIEW_MAX. */
AM_NODISCARD int am_store_proposed_add(struct am_store *s,
	const uint8_t circle[static AM_HASH_BYTES],
	const uint8_t proposer[static AM_ID_BYTES],
	const uint8_t *preview, size_t len);

/* Forgets the proposal to circle; AM_OK also when there was none. */
AM_NODISCARD int am_store_proposed_remove(struct am_store *s,
	const uint8_t circle[static AM_HASH_BYTES]);

/* The proposal to circle: AM_OK with proposer, *out (malloc'd, the
 * caller's to free) and *len set, or AM_ERR_NOT_FOUND. With out NULL
 * (and len then unused), only whether there is one, and its proposer. */
AM_NODISCARD int am_store_proposed_get(struct am_store *s,
	const uint8_t circle[static AM_HASH_BYTES],
	uint8_t proposer[static AM_ID_BYTES], uint8_t **out, size_t *len);

/* Calls fn with each circle this node was proposed to and its proposer,
 * ordered by circle. Stops early and returns fn's value when not AM_OK. */
AM_NODISCARD int am_store_proposed_list(struct am_store *s,
	int (*fn)(void *ctx, const uint8_t circle[static AM_HASH_BYTES],
	const uint8_t proposer[static AM_ID_BYTES]), void *ctx);

/* Runs PRAGMA integrity_check; AM_ERR_DB_CORRUPT unless it says ok. */
AM_NODISCARD int am_store_check(struct am_store *s);

#define AM_STORE_BATCH_MAX 1024   /* entries per am_store_ingest_batch() */

/* The highest number a feed may reach: an entry numbered above it is
 * refused (AM_ERR_CAP), by ingest and by am_store_append, decided by the
 * entry alone (protocol/state.md, "Caps"). */
#define AM_CAP_FEED_ENTRIES (UINT64_C(1) << 20)

/* The most bytes of entries (as signed, envelope included) one feed may
 * hold: an entry that would take its feed past it is refused
 * (AM_ERR_CAP), decided by the feed up to that entry alone. */
#define AM_CAP_FEED_BYTES (UINT64_C(1) << 28)

/*
 * Ingests a run of entries of one feed (raw[i] of len[i] bytes, n at most
 * AM_STORE_BATCH_MAX) in one transaction. The entries must be of one feed,
 * numbered one after another, each naming the hash of the one before.
 * The run is authenticated by the signature of its newest entry (the
 * hash chain vouches for the rest: protocol/sync.md, "Verifying on
 * ingest"); the other new entries are recorded as pending, for
 * am_store_check_pending(). When the newest signature fails, every one is
 * checked and the run ends at the newest entry whose signature holds.
 * Fork evidence is verified entry by entry. The longest good prefix is
 * stored: *done receives its length and result[0..*done) what happened to
 * each entry (as am_store_ingest). Returns AM_OK when all n were taken,
 * else why entry *done was refused: AM_ERR_BATCH (another feed, or not the
 * next number), AM_ERR_CHAIN, AM_ERR_GAP, AM_ERR_SIGNATURE, a decoding
 * error. A database error rolls the whole run back (*done is then 0).
 */
AM_NODISCARD int am_store_ingest_batch(struct am_store *s,
	const uint8_t *const raw[], const size_t len[], size_t n,
	enum am_ingest_result result[], size_t *done);

/*
 * While defer is set, am_store_ingest_batch() neither waits for the disk
 * (synchronous=NORMAL) nor commits: it leaves its transaction open for the
 * next batch of the run, up to AM_STORE_HOLD_ENTRIES entries or
 * AM_STORE_HOLD_MS, and commits then. Writing the pages a batch touches
 * once for many batches is what makes a catch-up fast: each batch of a
 * feed dirties pages all over the index that finds entries by hash.
 *
 * The batch that ends the run (defer cleared), am_store_sync(),
 * am_store_release() and any other write of this store (am_store_append,
 * am_store_ingest, ...) first commit the held transaction and make it
 * durable. Until then it is neither seen by other connections nor kept if
 * the process dies: those entries are someone else's, and are fetched
 * again. The machine losing power never damages the database. Entries
 * this node writes itself are always on disk before am_store_append
 * returns. The caller releases the run when no batch of it is waiting
 * to be read (src/node.c).
 */
void am_store_defer_sync(struct am_store *s, bool defer);
#define AM_STORE_HOLD_ENTRIES 16384
#define AM_STORE_HOLD_MS 250

/* Is a run's transaction held open? */
bool am_store_held(const struct am_store *s);

/* Is one held past AM_STORE_HOLD_ENTRIES or AM_STORE_HOLD_MS? Its next
 * batch would commit it; a caller that may not see one soon (messages of
 * other kinds keep coming) releases it. */
bool am_store_hold_due(const struct am_store *s);

/* Commits a held transaction, if any, and makes it durable. */
AM_NODISCARD int am_store_release(struct am_store *s);

/* Makes every commit so far durable, a held one included; nothing to do
 * when none was deferred since the last durable one. */
AM_NODISCARD int am_store_sync(struct am_store *s);

/* An entry whose own signature does not verify, although the entry after
 * it, validly signed, names its hash: its content is its author's, its
 * standalone proof is broken. Kept, and held against its author. */
struct am_bad_signature {
	uint8_t circle[AM_HASH_BYTES];
	uint8_t author[AM_ID_BYTES];
	uint64_t seq;
};

/*
 * Checks the signatures that batched ingest left pending, at most max
 * entries (the oldest first), on all cores, without holding the write
 * lock while checking. Each entry whose own signature fails is recorded
 * (am_store_bad_signatures) and passed to fn (may be NULL) once the
 * record is committed. *checked receives how many were checked: 0 when
 * nothing is pending. Returns fn's value when it is not AM_OK.
 */
AM_NODISCARD int am_store_check_pending(struct am_store *s, size_t max,
	int (*fn)(void *ctx, const struct am_bad_signature *b), void *ctx,
	size_t *checked);

/* How many entries await am_store_check_pending(). */
AM_NODISCARD int am_store_pending_count(struct am_store *s, uint64_t *count);

/* Calls fn with each entry recorded with a bad signature, of circle (all
 * circles when circle is NULL), ordered by circle, author and number. */
AM_NODISCARD int am_store_bad_signatures(struct am_store *s,
	const uint8_t *circle,
	int (*fn)(void *ctx, const struct am_bad_signature *b), void *ctx);

#endif
