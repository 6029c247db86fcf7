/*
 * Signed entries: the unit of the record. An entry is one msgpack array of
 * two bins, [signed, signature]. "signed" is itself a canonical msgpack array
 * [version, circle, author, seq, prev, time, kind, body]; the signature is
 * ed25519 over "amends-entry-v1" followed by those exact bytes, and the
 * entry's hash is BLAKE2b-256 of the whole entry as stored and sent. Nothing
 * is ever re-encoded to verify. protocol/entry.md is the specification.
 */
#ifndef AMENDS_ENTRY_H
#define AMENDS_ENTRY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "amends/body.h"
#include "amends/error.h"
#include "amends/id.h"

#define AM_HASH_BYTES 32
#define AM_ENTRY_MAX 65536      /* bytes of one encoded entry */
#define AM_ENTRY_VERSION 1

/*
 * A decoded entry. The pointers point into the bytes it was decoded from (or
 * into the buffer am_entry_sign() returned) and are valid as long as those.
 */
struct am_entry {
	uint8_t circle[AM_HASH_BYTES];
	uint8_t author[AM_ID_BYTES];
	uint64_t seq;                   /* 1, 2, 3… within (circle, author) */
	bool has_prev;                  /* false exactly when seq == 1 */
	uint8_t prev[AM_HASH_BYTES];
	int64_t time;                   /* claimed, ms since the epoch; shown, never trusted */
	uint32_t kind;                  /* enum am_kind */
	const uint8_t *body;            /* the encoded body array */
	size_t body_len;
	const uint8_t *signed_bytes;    /* what the signature covers, after the domain tag */
	size_t signed_len;
	uint8_t sig[AM_SIG_BYTES];
	uint8_t hash[AM_HASH_BYTES];
	const uint8_t *raw;             /* the whole entry */
	size_t raw_len;
};

/* What an author fills in to write an entry. */
struct am_entry_draft {
	uint8_t circle[AM_HASH_BYTES];
	uint64_t seq;
	bool has_prev;
	uint8_t prev[AM_HASH_BYTES];
	int64_t time;
	const struct am_body *body;
};

/*
 * Decodes raw bytes into e, checking everything that can be checked from the
 * entry alone: size, canonical encoding, types, field counts, the body's
 * schema for its kind. It does not verify the signature (am_entry_verify)
 * or the chain (the store). e points into raw.
 */
AM_NODISCARD int am_entry_decode(const uint8_t *raw, size_t len,
	struct am_entry *e);

/* Verifies e's signature against its author. AM_OK or AM_ERR_SIGNATURE. */
AM_NODISCARD int am_entry_verify(const struct am_entry *e);

/*
 * Encodes and signs a draft as the identity's entry. On success *raw is a
 * malloc'd buffer of *len bytes (the caller frees it) and, when e is not
 * NULL, e is the decoded entry pointing into *raw.
 */
AM_NODISCARD int am_entry_sign(const struct am_identity *id,
	const struct am_entry_draft *draft, uint8_t **raw, size_t *len,
	struct am_entry *e);

/* BLAKE2b-256 of bytes, the hash used for entries and links. */
void am_hash(const uint8_t *data, size_t len, uint8_t out[static AM_HASH_BYTES]);

/* The circle ID a genesis entry by author with this nonce creates. */
void am_circle_id(const uint8_t author[static AM_ID_BYTES],
	const uint8_t nonce[static AM_HASH_BYTES], uint8_t out[static AM_HASH_BYTES]);

/* Lower-case hex of n bytes into out (2n + 1 bytes). */
void am_hex(const uint8_t *data, size_t n, char *out);

#endif
