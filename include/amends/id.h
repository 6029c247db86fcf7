/*
 * Identities: an ed25519 key pair whose public key is the ID of a person's
 * node. The secret half lives in sodium_malloc'd memory and in a key file of
 * mode 0600. IDs are shown to people in a text form built for copying and
 * checking ("am" + 56 base32 characters with a checksum) and a short
 * fingerprint for reading aloud (protocol/entry.md, "IDs").
 */
#ifndef AMENDS_ID_H
#define AMENDS_ID_H

#include <stddef.h>
#include <stdint.h>

#include "amends/error.h"

#define AM_ID_BYTES 32          /* public key */
#define AM_SEED_BYTES 32        /* secret seed the key pair derives from */
#define AM_SIG_BYTES 64
#define AM_CURVE_BYTES 32       /* X25519 key for CurveZMQ */
#define AM_ID_TEXT_BYTES 59     /* "am" + 56 characters + NUL */
#define AM_FPR_TEXT_BYTES 10    /* "xxxx-xxxx" + NUL */
#define AM_FPR_GROUPS 7         /* groups of 5 digits in a safety number */
#define AM_FPR_LONG_TEXT_BYTES (AM_FPR_GROUPS * 6)  /* with spaces + NUL */

struct am_identity;

/* Creates a fresh random identity. */
AM_NODISCARD int am_identity_generate(struct am_identity **out);

/* Creates the identity that derives from seed (test vectors, restore). */
AM_NODISCARD int am_identity_from_seed(const uint8_t seed[static AM_SEED_BYTES],
	struct am_identity **out);

/* Loads a key file. Refuses a file that is a symbolic link or not a regular
 * file (AM_ERR_KEY_LINK), readable or writable by group or others
 * (AM_ERR_KEY_PERMS), or damaged (AM_ERR_KEY_FORMAT). */
AM_NODISCARD int am_identity_load(const char *path, struct am_identity **out);

/* Writes a new key file of mode 0600. Never overwrites: AM_ERR_EXISTS when
 * path exists. The key is written to path + ".tmp", fsynced, linked to
 * path and the directory fsynced, so a crash at any step leaves no key
 * file or a whole one (and at most a stale .tmp, which the next call
 * replaces). */
AM_NODISCARD int am_identity_save(const struct am_identity *id, const char *path);

/* Wipes and frees the identity; sets *id to NULL. */
void am_identity_destroy(struct am_identity **id);

/* The public key, valid while the identity lives. */
const uint8_t *am_identity_public(const struct am_identity *id);

/* Signs msg with the identity's secret key. */
void am_identity_sign(const struct am_identity *id, const uint8_t *msg,
	size_t len, uint8_t sig[static AM_SIG_BYTES]);

/* The CurveZMQ key pair derived from the identity (DESIGN.md). */
AM_NODISCARD int am_identity_curve(const struct am_identity *id,
	uint8_t pub[static AM_CURVE_BYTES], uint8_t sec[static AM_CURVE_BYTES]);

/* Converts a public ID to its CurveZMQ public key. */
AM_NODISCARD int am_id_to_curve(const uint8_t id[static AM_ID_BYTES],
	uint8_t pub[static AM_CURVE_BYTES]);

/* Writes the text form of id into out. */
void am_id_format(const uint8_t id[static AM_ID_BYTES],
	char out[static AM_ID_TEXT_BYTES]);

/* Parses an ID's text form. Accepts upper case and the look-alikes o/O for
 * 0 and i/I/l/L for 1. AM_ERR_ID_FORMAT when it is not an ID at all,
 * AM_ERR_ID_CHECKSUM when it has a typo. */
AM_NODISCARD int am_id_parse(const char *text, uint8_t id[static AM_ID_BYTES]);

/* Writes the short fingerprint of id ("k3f9-x2m4") into out: 40 bits, to
 * tell apart people one already knows, never to decide whom to trust. */
void am_id_fingerprint(const uint8_t id[static AM_ID_BYTES],
	char out[static AM_FPR_TEXT_BYTES]);

/* Writes id's safety number into out: AM_FPR_GROUPS groups of five
 * digits ("31415 92653 ..."), 116 bits, for trust decisions: read aloud
 * and compared in chunks (protocol/entry.md, "IDs as text"). */
void am_id_safety_number(const uint8_t id[static AM_ID_BYTES],
	char out[static AM_FPR_LONG_TEXT_BYTES]);

/* Reads a safety number typed by a person (its 35 digits, with any
 * spaces, dashes or dots between them) into its canonical form in out.
 * AM_ERR_ID_FORMAT when text is not one. */
AM_NODISCARD int am_safety_number_parse(const char *text,
	char out[static AM_FPR_LONG_TEXT_BYTES]);

#define AM_BACKUP_BYTES 137     /* an encrypted key backup */

/* The least a backup passphrase holds: AM_PASSPHRASE_MIN characters, of
 * which AM_PASSPHRASE_DISTINCT differ. A stolen backup can be tried
 * offline, each try costing one Argon2id derivation at MODERATE limits,
 * so length is what protects it; this floor only refuses the
 * passphrases that protect nothing. */
#define AM_PASSPHRASE_MIN 12
#define AM_PASSPHRASE_DISTINCT 5

/* AM_OK when passphrase (passlen bytes of UTF-8) is not below the floor
 * above, else AM_ERR_WEAK_PASSPHRASE. Characters are counted as code
 * points; "differ" compares their bytes. */
AM_NODISCARD int am_passphrase_check(const char *passphrase, size_t passlen);

/*
 * Encrypts the identity under a passphrase: Argon2id (libsodium's
 * crypto_pwhash, MODERATE limits) derives a key, crypto_secretbox seals the
 * seed and public key (protocol/entry.md, "Key backup"). out receives
 * AM_BACKUP_BYTES bytes. A passphrase below am_passphrase_check's floor
 * is refused (AM_ERR_WEAK_PASSPHRASE).
 */
AM_NODISCARD int am_identity_backup(const struct am_identity *id,
	const char *passphrase, size_t passlen, uint8_t out[static AM_BACKUP_BYTES]);

/*
 * Decrypts a backup made by am_identity_backup. AM_ERR_KEY_FORMAT when data
 * is not a backup (or asks for more work than a backup ever needs),
 * AM_ERR_PASSPHRASE when the passphrase is wrong or the file was altered.
 */
AM_NODISCARD int am_identity_restore(const uint8_t *data, size_t len,
	const char *passphrase, size_t passlen, struct am_identity **out);

/* The most bytes of address book a backup carries. */
#define AM_BACKUP_BOOK_MAX (1u << 20)

/*
 * A backup that also carries book (booklen bytes, at most
 * AM_BACKUP_BOOK_MAX: the node's known peer addresses and local names,
 * see am_book_encode), sealed under the same passphrase: the
 * AM_BACKUP_BYTES of am_identity_backup, then "AMENDSP1", a nonce and the
 * sealed book (protocol/entry.md, "Key backup"). *out (malloc'd, the
 * caller frees it) receives *outlen bytes.
 */
AM_NODISCARD int am_identity_backup_book(const struct am_identity *id,
	const char *passphrase, size_t passlen, const uint8_t *book,
	size_t booklen, uint8_t **out, size_t *outlen);

/*
 * Decrypts a backup of either form: the key part alone (*book NULL), or
 * with an address book (*book malloc'd and NUL-terminated, *booklen its
 * bytes without the NUL; the caller frees it). Errors as
 * am_identity_restore; nothing is returned on failure.
 */
AM_NODISCARD int am_identity_restore_book(const uint8_t *data, size_t len,
	const char *passphrase, size_t passlen, struct am_identity **out,
	uint8_t **book, size_t *booklen);

/* Writes n bytes as base32 (the ID alphabet) into out, which holds
 * n * 8 / 5 rounded up, plus NUL. */
void am_base32_encode(const uint8_t *in, size_t n, char *out);

/* Decodes base32 text of exactly n * 8 / 5 rounded up characters into n
 * bytes. AM_ERR_ID_FORMAT on a character outside the alphabet. */
AM_NODISCARD int am_base32_decode(const char *text, size_t n, uint8_t *out);

#endif
