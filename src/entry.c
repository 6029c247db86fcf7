/*
 * Signed entries: encoding, strict decoding, signing, verifying and hashing
 * (protocol/entry.md). The decoder is the first thing every byte from a peer
 * or a file meets, so it checks lengths against what remains before it looks
 * at anything, and never allocates.
 */
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "amends/entry.h"
#include "mp.h"

#define DOMAIN "amends-entry-v1"
#define DOMAIN_BYTES (sizeof DOMAIN - 1)
#define SIGNED_FIELDS 8

static const struct am_mp_limits envelope_limits = {
	.max_bytes = AM_ENTRY_MAX,
	.max_depth = 1,
	.max_nodes = 64,
	.max_count = 64,
	.max_str = 0,
	.max_bin = AM_ENTRY_MAX,
};

static const struct am_mp_limits signed_limits = {
	.max_bytes = AM_ENTRY_MAX,
	.max_depth = 4,
	.max_nodes = 4096,
	.max_count = 64,
	.max_str = AM_MAX_TEXT,
	.max_bin = 32,
};

void
am_hash(const uint8_t *data, size_t len, uint8_t out[static AM_HASH_BYTES])
{
	crypto_generichash(out, AM_HASH_BYTES, data, len, NULL, 0);
}

void
am_circle_id(const uint8_t author[static AM_ID_BYTES],
	const uint8_t nonce[static AM_HASH_BYTES], uint8_t out[static AM_HASH_BYTES])
{
	static const char tag[] = "amends-circle-v1";
	crypto_generichash_state st;
	crypto_generichash_init(&st, NULL, 0, AM_HASH_BYTES);
	crypto_generichash_update(&st, (const uint8_t *)tag, sizeof tag - 1);
	crypto_generichash_update(&st, author, AM_ID_BYTES);
	crypto_generichash_update(&st, nonce, AM_HASH_BYTES);
	crypto_generichash_final(&st, out, AM_HASH_BYTES);
}

void
am_hex(const uint8_t *data, size_t n, char *out)
{
	static const char digits[] = "0123456789abcdef";
	for (size_t i = 0; i < n; i++) {
		out[2 * i] = digits[data[i] >> 4];
		out[2 * i + 1] = digits[data[i] & 15];
	}
	out[2 * n] = '\0';
}

static int
decode_signed(const uint8_t *p, size_t len, struct am_entry *e)
{
	struct am_mp_reader r;
	uint32_t n;
	uint64_t version, kind;
	int rc;

	if ((rc = am_mp_validate(p, len, &signed_limits)) != AM_OK)
		return rc;
	am_mp_reader_init(&r, p, len);
	if ((rc = am_mp_read_array(&r, &n)) != AM_OK)
		return rc;
	if (n != SIGNED_FIELDS)
		return AM_ERR_COUNT;
	if ((rc = am_mp_read_uint(&r, &version)) != AM_OK)
		return rc;
	if (version != AM_ENTRY_VERSION)
		return AM_ERR_VERSION;
	if ((rc = am_mp_read_bin_exact(&r, e->circle, AM_HASH_BYTES)) != AM_OK ||
	    (rc = am_mp_read_bin_exact(&r, e->author, AM_ID_BYTES)) != AM_OK ||
	    (rc = am_mp_read_uint(&r, &e->seq)) != AM_OK)
		return rc;
	if (e->seq == 0 || e->seq > INT64_MAX)
		return AM_ERR_FIELD;
	e->has_prev = !am_mp_read_nil(&r);
	if (e->has_prev &&
	    (rc = am_mp_read_bin_exact(&r, e->prev, AM_HASH_BYTES)) != AM_OK)
		return rc;
	if (!e->has_prev)
		memset(e->prev, 0, sizeof e->prev);
	if (e->has_prev != (e->seq > 1))
		return AM_ERR_FIELD;
	if ((rc = am_mp_read_int(&r, &e->time)) != AM_OK ||
	    (rc = am_mp_read_uint(&r, &kind)) != AM_OK)
		return rc;
	if (kind == 0 || kind > AM_KIND_LIMIT)
		return AM_ERR_KIND;
	e->kind = (uint32_t)kind;
	/* the body is the last field: it runs to the end of the signed bytes */
	e->body = p + r.off;
	e->body_len = len - r.off;
	return AM_OK;
}

/* The bodies of the kinds of format 1 (1..12) are checked in full. Of
 * any later kind, known to this build or not, only the format's own rule:
 * the body is an array (its values were checked with the signed fields);
 * its schema is a rule of the state. Refusing more here would freeze the
 * author's feed on the nodes that refuse it only, while the others go on
 * (protocol/entry.md, "Kinds a node does not know"). */
static int
check_body(struct am_entry *e)
{
	if (e->kind > AM_KIND_FORMAT1 || !am_kind_known(e->kind)) {
		struct am_mp_reader r;
		uint32_t n;
		am_mp_reader_init(&r, e->body, e->body_len);
		return am_mp_read_array(&r, &n);
	}
	struct am_body *b = malloc(sizeof *b);
	if (b == NULL)
		return AM_ERR_NOMEM;
	int rc = am_body_decode(e->kind, e->body, e->body_len, b);
	if (rc == AM_OK && e->kind == AM_KIND_GENESIS) {
		uint8_t id[AM_HASH_BYTES];
		am_circle_id(e->author, b->nonce, id);
		if (e->seq != 1 || memcmp(id, e->circle, AM_HASH_BYTES) != 0)
			rc = AM_ERR_FIELD;
	}
	free(b);
	return rc;
}

int
am_entry_decode(const uint8_t *raw, size_t len, struct am_entry *e)
{
	struct am_mp_reader r;
	uint32_t n;
	int rc;

	memset(e, 0, sizeof *e);
	if (len > AM_ENTRY_MAX)
		return AM_ERR_TOO_BIG;
	if ((rc = am_mp_validate(raw, len, &envelope_limits)) != AM_OK)
		return rc;
	am_mp_reader_init(&r, raw, len);
	if ((rc = am_mp_read_array(&r, &n)) != AM_OK)
		return rc;
	if (n != 2)
		return AM_ERR_COUNT;
	if ((rc = am_mp_read_bin(&r, &e->signed_bytes, &e->signed_len,
	    AM_ENTRY_MAX)) != AM_OK)
		return rc;
	if ((rc = am_mp_read_bin_exact(&r, e->sig, AM_SIG_BYTES)) != AM_OK)
		return rc;
	if ((rc = decode_signed(e->signed_bytes, e->signed_len, e)) != AM_OK)
		return rc;
	if ((rc = check_body(e)) != AM_OK)
		return rc;
	e->raw = raw;
	e->raw_len = len;
	am_hash(raw, len, e->hash);
	return AM_OK;
}

int
am_entry_verify(const struct am_entry *e)
{
	uint8_t small[1024];
	size_t n = DOMAIN_BYTES + e->signed_len;
	uint8_t *msg = n <= sizeof small ? small : malloc(n);
	if (msg == NULL)
		return AM_ERR_NOMEM;
	memcpy(msg, DOMAIN, DOMAIN_BYTES);
	memcpy(msg + DOMAIN_BYTES, e->signed_bytes, e->signed_len);
	int ok = crypto_sign_verify_detached(e->sig, msg, n, e->author);
	if (msg != small)
		free(msg);
	return ok == 0 ? AM_OK : AM_ERR_SIGNATURE;
}

int
am_entry_sign(const struct am_identity *id, const struct am_entry_draft *d,
	uint8_t **raw_out, size_t *len_out, struct am_entry *e)
{
	struct am_mp_writer w;
	uint8_t *body = NULL, *signed_bytes = NULL, *msg = NULL, *raw = NULL;
	size_t body_len, signed_len, raw_len;
	uint8_t sig[AM_SIG_BYTES];
	int rc;

	if (d->seq == 0 || d->has_prev != (d->seq > 1))
		return AM_ERR_ARG;
	if ((rc = am_body_encode(d->body, &body, &body_len)) != AM_OK)
		return rc;
	am_mp_writer_init(&w);
	am_mp_write_array(&w, SIGNED_FIELDS);
	am_mp_write_uint(&w, AM_ENTRY_VERSION);
	am_mp_write_bin(&w, d->circle, AM_HASH_BYTES);
	am_mp_write_bin(&w, am_identity_public(id), AM_ID_BYTES);
	am_mp_write_uint(&w, d->seq);
	if (d->has_prev)
		am_mp_write_bin(&w, d->prev, AM_HASH_BYTES);
	else
		am_mp_write_nil(&w);
	am_mp_write_int(&w, d->time);
	am_mp_write_uint(&w, d->body->kind);
	am_mp_write_raw(&w, body, body_len);
	signed_bytes = am_mp_writer_take(&w, &signed_len);
	rc = AM_ERR_NOMEM;
	if (signed_bytes == NULL)
		goto out;
	if ((msg = malloc(DOMAIN_BYTES + signed_len)) == NULL)
		goto out;
	memcpy(msg, DOMAIN, DOMAIN_BYTES);
	memcpy(msg + DOMAIN_BYTES, signed_bytes, signed_len);
	am_identity_sign(id, msg, DOMAIN_BYTES + signed_len, sig);

	am_mp_writer_init(&w);
	am_mp_write_array(&w, 2);
	am_mp_write_bin(&w, signed_bytes, signed_len);
	am_mp_write_bin(&w, sig, sizeof sig);
	if ((raw = am_mp_writer_take(&w, &raw_len)) == NULL)
		goto out;
	if (raw_len > AM_ENTRY_MAX) {
		rc = AM_ERR_TOO_BIG;
		goto out;
	}
	if (e != NULL && (rc = am_entry_decode(raw, raw_len, e)) != AM_OK)
		goto out;
	*raw_out = raw;
	*len_out = raw_len;
	raw = NULL;
	rc = AM_OK;
out:
	free(raw);
	free(msg);
	free(signed_bytes);
	free(body);
	return rc;
}
