/*
 * Bundles: signed entries in a file, to carry a record between nodes that
 * cannot reach each other, or to keep a copy. A bundle holds the raw entries
 * exactly as they were signed and stored, plus fork evidence, so importing
 * one goes through every check a peer's entries go through. The format is
 * protocol/bundle.md; reading is bounded (size, counts) before anything is
 * allocated from the file's say-so.
 */
#ifndef AMENDS_BUNDLE_H
#define AMENDS_BUNDLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "amends/entry.h"
#include "amends/error.h"
#include "amends/store.h"

#define AM_BUNDLE_MAGIC "amends-bundle"
/* The bytes a signed export file starts with, before its msgpack value,
 * so that file(1) can be taught to know it; as PNG's, they show a file
 * damaged by a 7-bit or line-ending conversion. Older files lack them. */
#define AM_BUNDLE_FILE_MAGIC "\x89" "amends\r\n\x1a\n"
#define AM_BUNDLE_FILE_MAGIC_BYTES 11
#define AM_BUNDLE_VERSION 1          /* a plain bundle: entries and forks */
#define AM_BUNDLE_VERSION_SIGNED 2   /* an export: a signed manifest first */
#define AM_BUNDLE_MAX_BYTES (256u << 20)   /* bytes of one bundle file */
#define AM_BUNDLE_MAX_ENTRIES 1000000u     /* entries plus fork evidence */

/* One entry of a bundle: a view of its raw bytes. */
struct am_bundle_item {
	const uint8_t *raw;
	size_t len;
	bool fork;                  /* fork evidence rather than a feed's entry */
};

/* A parsed bundle: items in file order (entries, then fork evidence), not
 * yet checked to be in the order a bundle must be in. */
struct am_bundle {
	size_t nitems;
	struct am_bundle_item *items;
	uint8_t *data;              /* the file's bytes when the bundle owns them */
	size_t len;
	uint32_t version;            /* AM_BUNDLE_VERSION or AM_BUNDLE_VERSION_SIGNED */
	const uint8_t *manifest;     /* version 2: the signed manifest, else NULL */
	size_t manifest_len;
	bool cut;                    /* read with AM_BUNDLE_ALLOW_CUT: the bytes
	                                ended early; items hold what preceded */
};

/* What an import did, entry by entry. */
struct am_bundle_counts {
	size_t added;               /* stored as new */
	size_t duplicates;          /* already held: nothing changed */
	size_t forks;               /* kept as fork evidence */
	size_t refused;             /* not stored; reported to the caller */
};

/*
 * Encodes every entry and every fork evidence entry of circle, or of every
 * circle the store holds when circle is NULL, as a bundle. Entries come in
 * (circle, author, number) order, so the same record always gives the same
 * bytes. On success *data is a malloc'd buffer of *len bytes (the caller
 * frees it) and *nentries, *nforks (when not NULL) say what it holds.
 * AM_ERR_NOT_FOUND when a circle is given that the store does not hold;
 * AM_ERR_TOO_BIG when the bundle would exceed the limits a reader enforces.
 */
AM_NODISCARD int am_bundle_export(struct am_store *s, const uint8_t *circle,
	uint8_t **data, size_t *len, size_t *nentries, size_t *nforks);

/*
 * Parses a bundle held in data, after AM_BUNDLE_FILE_MAGIC when it starts
 * with it (a file that starts with its first byte and "amends" but not
 * the rest of it was damaged in transfer: AM_ERR_FIELD). The items point
 * into data, which must outlive the bundle (b->data stays NULL). Refuses, before allocating:
 * more than AM_BUNDLE_MAX_BYTES (AM_ERR_TOO_BIG), more than
 * AM_BUNDLE_MAX_ENTRIES items (AM_ERR_TOO_BIG), an entry longer than
 * AM_ENTRY_MAX (AM_ERR_TOO_BIG). AM_ERR_TYPE when the bytes do not start
 * with a bundle header, AM_ERR_VERSION when the header names a version this
 * reader does not know, other decoding codes when the file is damaged.
 * Entries themselves are only checked by am_bundle_import, and their order
 * by am_bundle_check_order.
 */
AM_NODISCARD int am_bundle_parse(const uint8_t *data, size_t len,
	struct am_bundle **out);

/*
 * Reads and parses the bundle file at path (as am_bundle_parse). A file
 * larger than AM_BUNDLE_MAX_BYTES is refused with AM_ERR_TOO_BIG without
 * reading it; AM_ERR_IO when it cannot be read. The bundle owns the bytes.
 */
AM_NODISCARD int am_bundle_load(const char *path, struct am_bundle **out);

/* Frees the bundle (and its bytes when it owns them); sets *b to NULL. */
void am_bundle_destroy(struct am_bundle **b);

/*
 * Writes data to path whole or not at all: into a temporary file beside
 * it, synced, then renamed over path. The file is 0600 less the umask: a
 * record is private until its owner hands it on. AM_ERR_IO when that
 * fails (and then path is untouched).
 */
AM_NODISCARD int am_bundle_save(const char *path, const uint8_t *data,
	size_t len);

/*
 * Checks the order every bundle is in (protocol/bundle.md, "Order"):
 * entries strictly ascending by (circle, author, number), then fork
 * evidence strictly ascending by (circle, author, number, hash), all
 * bytewise. An item that does not decode as an entry is left out of the
 * comparison (it is refused by itself). For each item that does not sort
 * after the one before it, calls out_of_order (when not NULL) with its
 * index in b->items, the decoded entry and a sentence saying what it comes
 * after, valid during the call. Returns AM_OK when every item is in order,
 * else AM_ERR_ORDER.
 */
AM_NODISCARD int am_bundle_check_order(const struct am_bundle *b,
	void (*out_of_order)(void *ctx, size_t index, const struct am_entry *e,
	const char *what), void *ctx);

/*
 * Ingests every item of b into the store with am_store_ingest, so every
 * check of the store and the state applies. A bundle out of order
 * (am_bundle_check_order) is refused whole with AM_ERR_ORDER before
 * anything is stored. Otherwise entries are taken feed by feed in number
 * order; an entry that cannot be stored yet (its predecessor is missing,
 * or its author is not yet known to be a member) waits until the rest of
 * the bundle has been tried, and is tried again as long as the bundle
 * still adds something. Fork evidence follows the entries of its feed.
 * Importing the same bundle twice changes nothing the second time. The
 * manifest of a signed export is not read: each entry carries its own
 * proof.
 *
 * For each item that is finally not stored, refused (when not NULL) is
 * called with the item's index in b->items, the decoded entry (NULL when it
 * did not even decode) and the reason. counts receives the totals. Returns
 * AM_OK unless the bundle is out of order or the store itself failed (then
 * the import stops there; what was stored before stays stored, each entry
 * being its own transaction).
 */
AM_NODISCARD int am_bundle_import(struct am_store *s, const struct am_bundle *b,
	void (*refused)(void *ctx, size_t index, const struct am_entry *e, int rc),
	void *ctx, struct am_bundle_counts *counts);

/* ---- signed exports (version 2) ---- */

#define AM_BUNDLE_MANIFEST_MAX (64u << 20)  /* bytes of one manifest */

/* One feed as the manifest names it. */
struct am_bundle_feed {
	uint8_t circle[AM_HASH_BYTES];
	uint8_t author[AM_ID_BYTES];
	uint64_t seq;                /* the feed's newest entry in the file */
	uint8_t hash[AM_HASH_BYTES]; /* that entry's hash: it pins 1..seq */
	uint64_t head;               /* the feed's head when exported (> seq
	                                when --agreement left later entries out) */
	size_t nforks;
	const uint8_t *forks;        /* nforks hashes of 32 bytes, ascending:
	                                the fork evidence of the feed in the file;
	                                points into the manifest's bytes */
};

/* A decoded manifest (protocol/bundle.md, "Manifest"). */
struct am_bundle_manifest {
	uint8_t exporter[AM_ID_BYTES];
	int64_t time;                /* claimed time of the export, ms */
	bool has_scope;
	uint8_t scope[AM_HASH_BYTES];  /* the agreement, for --agreement */
	size_t nfeeds;
	struct am_bundle_feed *feeds;  /* by circle then author; malloc'd */
	const uint8_t *signed_bytes;   /* what the signature covers */
	size_t signed_len;
	uint8_t sig[AM_SIG_BYTES];
};

/*
 * Writes a signed export (version 2) of circle (every circle when NULL)
 * as id, starting with AM_BUNDLE_FILE_MAGIC: a manifest naming each feed's newest entry in the file, signed by
 * id with time as its claimed time, then the entries and fork evidence.
 * With agreement not NULL (the hash of a PROPOSE; circle is then NULL or
 * its circle), each feed is cut after its last entry that bears on that
 * agreement or on membership, and feeds without one are left out
 * (protocol/bundle.md, "One agreement"); *ncarried (when not NULL) then
 * counts the entries in the file that bear on neither, kept because an
 * entry that does follows them in its feed (0 without agreement). Results
 * as am_bundle_export; AM_ERR_NOT_FOUND when the agreement is not held
 * here, AM_ERR_ARG when it is of another circle than the one given.
 */
AM_NODISCARD int am_bundle_export_signed(struct am_store *s,
	const struct am_identity *id, const uint8_t *circle,
	const uint8_t *agreement, int64_t time, uint8_t **data, size_t *len,
	size_t *nentries, size_t *nforks, size_t *ncarried);

/*
 * Decodes the manifest bytes of a version 2 bundle into m, which points
 * into raw (raw must outlive it). Checks encoding, counts, order (feeds by
 * circle then author, each once; forks ascending) and that seq <= head; it
 * does not verify the signature (am_bundle_manifest_verify). Release with
 * am_bundle_manifest_finish, also after a failure.
 */
AM_NODISCARD int am_bundle_manifest_decode(const uint8_t *raw, size_t len,
	struct am_bundle_manifest *m);

/* AM_OK when the manifest's signature by its exporter verifies, else
 * AM_ERR_SIGNATURE. */
AM_NODISCARD int am_bundle_manifest_verify(const struct am_bundle_manifest *m);

/* Frees what am_bundle_manifest_decode allocated; m can be decoded again. */
void am_bundle_manifest_finish(struct am_bundle_manifest *m);

/* The feed named for (circle, author), or NULL. */
const struct am_bundle_feed *am_bundle_manifest_feed(
	const struct am_bundle_manifest *m,
	const uint8_t circle[static AM_HASH_BYTES],
	const uint8_t author[static AM_ID_BYTES]);

#define AM_BUNDLE_ALLOW_CUT 1u   /* am_bundle_read: keep what precedes a cut */

/*
 * As am_bundle_parse, with flags. With AM_BUNDLE_ALLOW_CUT, bytes that end
 * inside the entries or the fork evidence are not an error: the items read
 * before the cut are kept and b->cut is set (so that a verifier can say
 * what such a file still proves). A cut inside the header or the manifest
 * is still AM_ERR_TRUNCATED (or the reader's code for it).
 */
AM_NODISCARD int am_bundle_read(const uint8_t *data, size_t len,
	unsigned flags, struct am_bundle **out);

/* As am_bundle_load, with am_bundle_read's flags. */
AM_NODISCARD int am_bundle_open(const char *path, unsigned flags,
	struct am_bundle **out);

#endif
