/*
 * Identities: key generation, the key file, and the text forms people see.
 *
 * The key file is 72 bytes: the magic "AMENDSK1", the 32-byte seed and the
 * 32-byte public key. Loading derives the public key from the seed again and
 * compares, so a damaged file is refused rather than used.
 */
#include <errno.h>
#include <stdbool.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "amends/id.h"

#define KEY_MAGIC "AMENDSK1"
#define KEY_MAGIC_BYTES 8
#define KEY_FILE_BYTES (KEY_MAGIC_BYTES + AM_SEED_BYTES + AM_ID_BYTES)
#define CHECKSUM_BYTES 3

/* Crockford's base32 alphabet, lower case: no i, l, o, u. */
static const char alphabet[] = "0123456789abcdefghjkmnpqrstvwxyz";

struct am_identity {
	uint8_t pk[AM_ID_BYTES];
	uint8_t *sk;    /* crypto_sign_SECRETKEYBYTES, sodium_malloc'd */
};

static struct am_identity *
identity_new(void)
{
	if (sodium_init() < 0)
		return NULL;
	struct am_identity *id = calloc(1, sizeof *id);
	if (id == NULL)
		return NULL;
	id->sk = sodium_malloc(crypto_sign_SECRETKEYBYTES);
	if (id->sk == NULL) {
		free(id);
		return NULL;
	}
	return id;
}

int
am_identity_generate(struct am_identity **out)
{
	struct am_identity *id = identity_new();
	if (id == NULL)
		return AM_ERR_NOMEM;
	crypto_sign_keypair(id->pk, id->sk);
	*out = id;
	return AM_OK;
}

int
am_identity_from_seed(const uint8_t seed[static AM_SEED_BYTES],
	struct am_identity **out)
{
	struct am_identity *id = identity_new();
	if (id == NULL)
		return AM_ERR_NOMEM;
	crypto_sign_seed_keypair(id->pk, id->sk, seed);
	*out = id;
	return AM_OK;
}

void
am_identity_destroy(struct am_identity **id)
{
	if (*id == NULL)
		return;
	sodium_free((*id)->sk);
	free(*id);
	*id = NULL;
}

const uint8_t *
am_identity_public(const struct am_identity *id)
{
	return id->pk;
}

void
am_identity_sign(const struct am_identity *id, const uint8_t *msg, size_t len,
	uint8_t sig[static AM_SIG_BYTES])
{
	crypto_sign_detached(sig, NULL, msg, len, id->sk);
}

int
am_identity_curve(const struct am_identity *id,
	uint8_t pub[static AM_CURVE_BYTES], uint8_t sec[static AM_CURVE_BYTES])
{
	if (crypto_sign_ed25519_pk_to_curve25519(pub, id->pk) != 0)
		return AM_ERR_KEY_FORMAT;
	if (crypto_sign_ed25519_sk_to_curve25519(sec, id->sk) != 0)
		return AM_ERR_KEY_FORMAT;
	return AM_OK;
}

int
am_id_to_curve(const uint8_t id[static AM_ID_BYTES],
	uint8_t pub[static AM_CURVE_BYTES])
{
	if (crypto_sign_ed25519_pk_to_curve25519(pub, id) != 0)
		return AM_ERR_ID_FORMAT;
	return AM_OK;
}

int
am_identity_load(const char *path, struct am_identity **out)
{
	uint8_t buf[KEY_FILE_BYTES + 1];
	struct stat st;
	int rc;

	int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0) {
		if (errno == ELOOP)
			return AM_ERR_KEY_LINK;
		return errno == ENOENT ? AM_ERR_NO_IDENTITY : AM_ERR_IO;
	}
	if (fstat(fd, &st) != 0) {
		rc = AM_ERR_IO;
		goto fail_fd;
	}
	if (!S_ISREG(st.st_mode)) {
		rc = AM_ERR_KEY_LINK;
		goto fail_fd;
	}
	if (st.st_mode & (S_IRWXG | S_IRWXO)) {
		rc = AM_ERR_KEY_PERMS;
		goto fail_fd;
	}
	size_t got = 0;
	while (got < sizeof buf) {
		ssize_t n = read(fd, buf + got, sizeof buf - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			rc = AM_ERR_IO;
			goto fail_buf;
		}
		if (n == 0)
			break;
		got += (size_t)n;
	}
	if (got != KEY_FILE_BYTES || memcmp(buf, KEY_MAGIC, KEY_MAGIC_BYTES) != 0) {
		rc = AM_ERR_KEY_FORMAT;
		goto fail_buf;
	}
	struct am_identity *id;
	rc = am_identity_from_seed(buf + KEY_MAGIC_BYTES, &id);
	if (rc != AM_OK)
		goto fail_buf;
	if (sodium_memcmp(id->pk, buf + KEY_MAGIC_BYTES + AM_SEED_BYTES,
	    AM_ID_BYTES) != 0) {
		am_identity_destroy(&id);
		rc = AM_ERR_KEY_FORMAT;
		goto fail_buf;
	}
	*out = id;
	rc = AM_OK;
fail_buf:
	sodium_memzero(buf, sizeof buf);
fail_fd:
	close(fd);
	return rc;
}

/* Writes len bytes of buf to a new file path of mode 0600, fsynced. */
static int
write_new(const char *path, const uint8_t *buf, size_t len)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
		0600);
	if (fd < 0)
		return AM_ERR_IO;
	int rc = AM_OK;
	size_t done = 0;
	while (done < len) {
		ssize_t n = write(fd, buf + done, len - done);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			rc = AM_ERR_IO;
			break;
		}
		done += (size_t)n;
	}
	if (rc == AM_OK && fsync(fd) != 0)
		rc = AM_ERR_IO;
	if (close(fd) != 0 && rc == AM_OK)
		rc = AM_ERR_IO;
	return rc;
}

/* Makes the names in path's directory durable. */
static int
sync_dir(const char *path)
{
	const char *slash = strrchr(path, '/');
	char *dir = slash == NULL ? strdup(".") :
		slash == path ? strdup("/") : strndup(path, (size_t)(slash - path));
	if (dir == NULL)
		return AM_ERR_NOMEM;
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	free(dir);
	if (fd < 0)
		return AM_ERR_IO;
	int rc = fsync(fd) == 0 ? AM_OK : AM_ERR_IO;
	close(fd);
	return rc;
}

int
am_identity_save(const struct am_identity *id, const char *path)
{
	uint8_t buf[KEY_FILE_BYTES];
	size_t n = strlen(path) + sizeof ".tmp";
	char *tmp = malloc(n);
	int rc;

	if (tmp == NULL)
		return AM_ERR_NOMEM;
	snprintf(tmp, n, "%s.tmp", path);
	struct stat st;
	int e = lstat(path, &st) == 0 ? EEXIST : errno;
	if (e != ENOENT) {
		rc = e == EEXIST ? AM_ERR_EXISTS : AM_ERR_IO;
		goto out;
	}
	/* what a crash left half-written: never a key anyone has used */
	if (unlink(tmp) != 0 && errno != ENOENT) {
		rc = AM_ERR_IO;
		goto out;
	}
	memcpy(buf, KEY_MAGIC, KEY_MAGIC_BYTES);
	/* libsodium's secret key is the seed followed by the public key */
	memcpy(buf + KEY_MAGIC_BYTES, id->sk, AM_SEED_BYTES);
	memcpy(buf + KEY_MAGIC_BYTES + AM_SEED_BYTES, id->pk, AM_ID_BYTES);
	rc = write_new(tmp, buf, sizeof buf);
	sodium_memzero(buf, sizeof buf);
	if (rc != AM_OK)
		goto fail;
	/* link, not rename: it never replaces a key made meanwhile */
	if (link(tmp, path) != 0) {
		rc = errno == EEXIST ? AM_ERR_EXISTS : AM_ERR_IO;
		goto fail;
	}
	if (unlink(tmp) != 0 || sync_dir(path) != AM_OK) {
		rc = AM_ERR_IO;
		goto out;
	}
	rc = AM_OK;
	goto out;
fail:
	unlink(tmp);
out:
	free(tmp);
	return rc;
}

void
am_base32_encode(const uint8_t *in, size_t n, char *out)
{
	uint32_t acc = 0;
	unsigned bits = 0;
	size_t o = 0;
	for (size_t i = 0; i < n; i++) {
		acc = acc << 8 | in[i];
		bits += 8;
		while (bits >= 5) {
			bits -= 5;
			out[o++] = alphabet[(acc >> bits) & 31];
		}
	}
	if (bits > 0)
		out[o++] = alphabet[(acc << (5 - bits)) & 31];
	out[o] = '\0';
}

static int
base32_value(char c)
{
	if (c >= 'A' && c <= 'Z')
		c = (char)(c - 'A' + 'a');
	if (c == 'o')
		c = '0';
	if (c == 'i' || c == 'l')
		c = '1';
	const char *p = c ? strchr(alphabet, c) : NULL;
	return p ? (int)(p - alphabet) : -1;
}

int
am_base32_decode(const char *text, size_t n, uint8_t *out)
{
	size_t chars = (n * 8 + 4) / 5;
	uint32_t acc = 0;
	unsigned bits = 0;
	size_t o = 0;
	for (size_t i = 0; i < chars; i++) {
		int v = base32_value(text[i]);
		if (v < 0)
			return AM_ERR_ID_FORMAT;
		acc = acc << 5 | (uint32_t)v;
		bits += 5;
		if (bits >= 8) {
			bits -= 8;
			if (o < n)
				out[o++] = (uint8_t)(acc >> bits);
		}
	}
	/* leftover bits of the last character must be zero */
	if ((acc & ((1u << bits) - 1)) != 0)
		return AM_ERR_ID_FORMAT;
	return AM_OK;
}

static void
checksum(const uint8_t id[static AM_ID_BYTES], uint8_t out[CHECKSUM_BYTES])
{
	static const char tag[] = "amends-id-v1";
	uint8_t h[crypto_generichash_BYTES_MIN];
	crypto_generichash_state st;
	crypto_generichash_init(&st, NULL, 0, sizeof h);
	crypto_generichash_update(&st, (const uint8_t *)tag, sizeof tag - 1);
	crypto_generichash_update(&st, id, AM_ID_BYTES);
	crypto_generichash_final(&st, h, sizeof h);
	memcpy(out, h, CHECKSUM_BYTES);
}

void
am_id_format(const uint8_t id[static AM_ID_BYTES],
	char out[static AM_ID_TEXT_BYTES])
{
	uint8_t buf[AM_ID_BYTES + CHECKSUM_BYTES];
	memcpy(buf, id, AM_ID_BYTES);
	checksum(id, buf + AM_ID_BYTES);
	out[0] = 'a';
	out[1] = 'm';
	am_base32_encode(buf, sizeof buf, out + 2);
}

int
am_id_parse(const char *text, uint8_t id[static AM_ID_BYTES])
{
	uint8_t buf[AM_ID_BYTES + CHECKSUM_BYTES];
	uint8_t sum[CHECKSUM_BYTES];

	if (strlen(text) != AM_ID_TEXT_BYTES - 1 ||
	    (text[0] != 'a' && text[0] != 'A') || (text[1] != 'm' && text[1] != 'M'))
		return AM_ERR_ID_FORMAT;
	if (am_base32_decode(text + 2, sizeof buf, buf) != AM_OK)
		return AM_ERR_ID_FORMAT;
	checksum(buf, sum);
	if (memcmp(sum, buf + AM_ID_BYTES, CHECKSUM_BYTES) != 0)
		return AM_ERR_ID_CHECKSUM;
	memcpy(id, buf, AM_ID_BYTES);
	return AM_OK;
}

void
am_id_fingerprint(const uint8_t id[static AM_ID_BYTES],
	char out[static AM_FPR_TEXT_BYTES])
{
	static const char tag[] = "amends-fingerprint-v1";
	uint8_t h[crypto_generichash_BYTES_MIN];
	char chars[9];
	crypto_generichash_state st;
	crypto_generichash_init(&st, NULL, 0, sizeof h);
	crypto_generichash_update(&st, (const uint8_t *)tag, sizeof tag - 1);
	crypto_generichash_update(&st, id, AM_ID_BYTES);
	crypto_generichash_final(&st, h, sizeof h);
	am_base32_encode(h, 5, chars);
	memcpy(out, chars, 4);
	out[4] = '-';
	memcpy(out + 5, chars + 4, 4);
	out[9] = '\0';
}

void
am_id_safety_number(const uint8_t id[static AM_ID_BYTES],
	char out[static AM_FPR_LONG_TEXT_BYTES])
{
	static const char tag[] = "amends-safety-number-v1";
	uint8_t h[AM_FPR_GROUPS * 5];
	crypto_generichash_state st;
	crypto_generichash_init(&st, NULL, 0, sizeof h);
	crypto_generichash_update(&st, (const uint8_t *)tag, sizeof tag - 1);
	crypto_generichash_update(&st, id, AM_ID_BYTES);
	crypto_generichash_final(&st, h, sizeof h);
	/* each group: 5 bytes as a big-endian number, modulo 100000 */
	for (int g = 0; g < AM_FPR_GROUPS; g++) {
		uint64_t v = 0;
		for (int i = 0; i < 5; i++)
			v = v << 8 | h[g * 5 + i];
		snprintf(out + g * 6, 7, "%05u%s", (unsigned)(v % 100000),
			g + 1 < AM_FPR_GROUPS ? " " : "");
	}
}

int
am_safety_number_parse(const char *text, char out[static AM_FPR_LONG_TEXT_BYTES])
{
	size_t n = 0;
	for (const char *p = text; *p != '\0'; p++) {
		if (*p >= '0' && *p <= '9') {
			if (n == AM_FPR_GROUPS * 5)
				return AM_ERR_ID_FORMAT;
			/* a space after every fifth digit but the last */
			out[n + n / 5] = *p;
			if (++n % 5 == 0 && n < AM_FPR_GROUPS * 5)
				out[n + n / 5 - 1] = ' ';
		} else if (*p != ' ' && *p != '-' && *p != '.') {
			return AM_ERR_ID_FORMAT;
		}
	}
	if (n != AM_FPR_GROUPS * 5)
		return AM_ERR_ID_FORMAT;
	out[AM_FPR_LONG_TEXT_BYTES - 1] = '\0';
	return AM_OK;
}

#define BACKUP_MAGIC "AMENDSB1"
#define BACKUP_ALG 1    /* Argon2id13 + XSalsa20-Poly1305 */
#define BACKUP_PLAIN (AM_SEED_BYTES + AM_ID_BYTES)

static void
put_u32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

static uint32_t
get_u32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* Layout: magic(8) alg(1) opslimit(4) memlimit KiB(4) salt(16) nonce(24)
 * box(32 + 32 + 16). */
enum {
	B_ALG = 8, B_OPS = 9, B_MEM = 13, B_SALT = 17,
	B_NONCE = B_SALT + crypto_pwhash_SALTBYTES,
	B_BOX = B_NONCE + crypto_secretbox_NONCEBYTES,
};

static int
derive(const char *pass, size_t passlen, const uint8_t *salt, uint64_t ops,
	size_t mem, uint8_t *key)
{
	if (crypto_pwhash(key, crypto_secretbox_KEYBYTES, pass, passlen, salt, ops,
	    mem, crypto_pwhash_ALG_ARGON2ID13) != 0)
		return AM_ERR_NOMEM;
	return AM_OK;
}

int
am_passphrase_check(const char *pass, size_t passlen)
{
	bool seen[256] = { false };
	size_t chars = 0, distinct = 0;
	for (size_t i = 0; i < passlen; i++) {
		uint8_t b = (uint8_t)pass[i];
		if ((b & 0xc0) != 0x80)
			chars++;
		if (!seen[b]) {
			seen[b] = true;
			distinct++;
		}
	}
	return chars >= AM_PASSPHRASE_MIN && distinct >= AM_PASSPHRASE_DISTINCT ?
		AM_OK : AM_ERR_WEAK_PASSPHRASE;
}

/* am_identity_backup; the derived key stays in key (sodium_malloc'd,
 * crypto_secretbox_KEYBYTES) for the caller. */
static int
backup_sealed(const struct am_identity *id, const char *pass, size_t passlen,
	uint8_t out[static AM_BACKUP_BYTES], uint8_t *key)
{
	_Static_assert(B_BOX + BACKUP_PLAIN + crypto_secretbox_MACBYTES ==
		AM_BACKUP_BYTES, "backup layout");
	uint8_t *plain = sodium_malloc(BACKUP_PLAIN);
	uint64_t ops = crypto_pwhash_OPSLIMIT_MODERATE;
	size_t mem = crypto_pwhash_MEMLIMIT_MODERATE;
	int rc = am_passphrase_check(pass, passlen);

	if (rc != AM_OK)
		goto out;
	rc = AM_ERR_NOMEM;
	if (plain == NULL)
		goto out;
	memcpy(out, BACKUP_MAGIC, 8);
	out[B_ALG] = BACKUP_ALG;
	put_u32(out + B_OPS, (uint32_t)ops);
	put_u32(out + B_MEM, (uint32_t)(mem / 1024));
	randombytes_buf(out + B_SALT, crypto_pwhash_SALTBYTES);
	randombytes_buf(out + B_NONCE, crypto_secretbox_NONCEBYTES);
	if ((rc = derive(pass, passlen, out + B_SALT, ops, mem, key)) != AM_OK)
		goto out;
	memcpy(plain, id->sk, AM_SEED_BYTES);
	memcpy(plain + AM_SEED_BYTES, id->pk, AM_ID_BYTES);
	crypto_secretbox_easy(out + B_BOX, plain, BACKUP_PLAIN, out + B_NONCE, key);
	rc = AM_OK;
out:
	sodium_free(plain);
	return rc;
}

int
am_identity_backup(const struct am_identity *id, const char *pass, size_t passlen,
	uint8_t out[static AM_BACKUP_BYTES])
{
	uint8_t *key = sodium_malloc(crypto_secretbox_KEYBYTES);
	if (key == NULL)
		return AM_ERR_NOMEM;
	int rc = backup_sealed(id, pass, passlen, out, key);
	sodium_free(key);
	return rc;
}

/* The address book after the key part: magic(8) nonce(24) box(n + 16),
 * under the key the passphrase derived for the key part. */
#define BOOK_MAGIC "AMENDSP1"
enum { K_NONCE = 8, K_BOX = K_NONCE + crypto_secretbox_NONCEBYTES };

int
am_identity_backup_book(const struct am_identity *id, const char *pass,
	size_t passlen, const uint8_t *book, size_t booklen, uint8_t **out,
	size_t *outlen)
{
	uint8_t *key, *buf;
	int rc;

	*out = NULL;
	*outlen = 0;
	if (booklen > AM_BACKUP_BOOK_MAX)
		return AM_ERR_TOO_BIG;
	size_t len = AM_BACKUP_BYTES + K_BOX + booklen + crypto_secretbox_MACBYTES;
	if ((buf = malloc(len)) == NULL)
		return AM_ERR_NOMEM;
	if ((key = sodium_malloc(crypto_secretbox_KEYBYTES)) == NULL) {
		free(buf);
		return AM_ERR_NOMEM;
	}
	rc = backup_sealed(id, pass, passlen, buf, key);
	if (rc == AM_OK) {
		uint8_t *k = buf + AM_BACKUP_BYTES;
		memcpy(k, BOOK_MAGIC, 8);
		randombytes_buf(k + K_NONCE, crypto_secretbox_NONCEBYTES);
		crypto_secretbox_easy(k + K_BOX, book, booklen, k + K_NONCE, key);
		*out = buf;
		*outlen = len;
	} else {
		free(buf);
	}
	sodium_free(key);
	return rc;
}

/* am_identity_restore of the key part; the derived key stays in key
 * (sodium_malloc'd, crypto_secretbox_KEYBYTES) for the caller. */
static int
restore_opened(const uint8_t *data, size_t len, const char *pass,
	size_t passlen, struct am_identity **out, uint8_t *key)
{
	uint8_t *plain = NULL;
	struct am_identity *id = NULL;
	int rc;

	if (len != AM_BACKUP_BYTES || memcmp(data, BACKUP_MAGIC, 8) != 0 ||
	    data[B_ALG] != BACKUP_ALG)
		return AM_ERR_KEY_FORMAT;
	uint64_t ops = get_u32(data + B_OPS);
	uint64_t mem = (uint64_t)get_u32(data + B_MEM) * 1024;
	/* the limits come from the file: never more work than a backup made
	 * here asks for */
	if (ops < crypto_pwhash_OPSLIMIT_MIN || ops > crypto_pwhash_OPSLIMIT_MODERATE ||
	    mem < crypto_pwhash_MEMLIMIT_MIN || mem > crypto_pwhash_MEMLIMIT_MODERATE)
		return AM_ERR_KEY_FORMAT;
	rc = AM_ERR_NOMEM;
	plain = sodium_malloc(BACKUP_PLAIN);
	if (plain == NULL)
		goto out;
	if ((rc = derive(pass, passlen, data + B_SALT, ops, (size_t)mem, key)) != AM_OK)
		goto out;
	if (crypto_secretbox_open_easy(plain, data + B_BOX,
	    BACKUP_PLAIN + crypto_secretbox_MACBYTES, data + B_NONCE, key) != 0) {
		rc = AM_ERR_PASSPHRASE;
		goto out;
	}
	if ((rc = am_identity_from_seed(plain, &id)) != AM_OK)
		goto out;
	if (sodium_memcmp(id->pk, plain + AM_SEED_BYTES, AM_ID_BYTES) != 0) {
		am_identity_destroy(&id);
		rc = AM_ERR_KEY_FORMAT;
		goto out;
	}
	*out = id;
	rc = AM_OK;
out:
	sodium_free(plain);
	return rc;
}

int
am_identity_restore(const uint8_t *data, size_t len, const char *pass,
	size_t passlen, struct am_identity **out)
{
	uint8_t *key = sodium_malloc(crypto_secretbox_KEYBYTES);
	if (key == NULL)
		return AM_ERR_NOMEM;
	int rc = restore_opened(data, len, pass, passlen, out, key);
	sodium_free(key);
	return rc;
}

int
am_identity_restore_book(const uint8_t *data, size_t len, const char *pass,
	size_t passlen, struct am_identity **out, uint8_t **book, size_t *booklen)
{
	const uint8_t *k = data + AM_BACKUP_BYTES;
	size_t klen = len > AM_BACKUP_BYTES ? len - AM_BACKUP_BYTES : 0;
	uint8_t *key, *plain = NULL;
	struct am_identity *id = NULL;
	int rc;

	*book = NULL;
	*booklen = 0;
	/* a backup written before the book existed is the key part alone */
	if (len < AM_BACKUP_BYTES || (klen > 0 &&
	    (klen < K_BOX + crypto_secretbox_MACBYTES ||
	    klen - K_BOX - crypto_secretbox_MACBYTES > AM_BACKUP_BOOK_MAX ||
	    memcmp(k, BOOK_MAGIC, 8) != 0)))
		return AM_ERR_KEY_FORMAT;
	if ((key = sodium_malloc(crypto_secretbox_KEYBYTES)) == NULL)
		return AM_ERR_NOMEM;
	if ((rc = restore_opened(data, AM_BACKUP_BYTES, pass, passlen, &id,
	    key)) != AM_OK || klen == 0)
		goto out;
	size_t n = klen - K_BOX - crypto_secretbox_MACBYTES;
	rc = AM_ERR_NOMEM;
	if ((plain = malloc(n + 1)) == NULL)
		goto out;
	if (crypto_secretbox_open_easy(plain, k + K_BOX, n + crypto_secretbox_MACBYTES,
	    k + K_NONCE, key) != 0) {
		rc = AM_ERR_PASSPHRASE;
		goto out;
	}
	plain[n] = '\0';
	*book = plain;
	*booklen = n;
	plain = NULL;
	rc = AM_OK;
out:
	if (rc == AM_OK)
		*out = id;
	else
		am_identity_destroy(&id);
	free(plain);
	sodium_free(key);
	return rc;
}
