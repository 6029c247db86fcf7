/*
 * The messages of the sync protocol on the wire: strict decoding of bytes
 * from a peer and their encoding (protocol/sync.md, "Messages"). Every
 * message is one msgpack array [version, type, fields...]; the whole buffer
 * is validated against fixed limits before any field is read, so a hostile
 * length or nesting is refused before anything looks at it.
 */
#include <stdlib.h>
#include <string.h>

#include "amends/sync.h"
#include "mp.h"

static const struct am_mp_limits msg_limits = {
	.max_bytes = AM_SYNC_MAX_MSG,
	.max_depth = 3,          /* message, list, list item */
	.max_nodes = 2048,       /* a full HEADS is 1285 */
	.max_count = AM_SYNC_MAX_ITEMS,
	.max_str = AM_SYNC_MAX_TEXT,
	.max_bin = AM_ENTRY_MAX,
};

#define HELLO_FIELDS_COMPARE 4

/* Fields of each type, version and type included; 0 for no such type.
 * A HELLO that compares (AM_SYNC_HELLO_COMPARE) leaves its last field out,
 * so it has one field fewer (HELLO_FIELDS_COMPARE). */
static const uint32_t nfields[AM_SYNC_TYPE_MAX + 1] = {
	[AM_SYNC_HELLO] = 5,
	[AM_SYNC_DIGESTS] = 4,
	[AM_SYNC_HEADS] = 4,
	[AM_SYNC_DONE] = 2,
	[AM_SYNC_WANT] = 6,
	[AM_SYNC_ENTRIES] = 5,
	[AM_SYNC_PUSH] = 5,
	[AM_SYNC_ACK] = 5,
	[AM_SYNC_WANT_FORKS] = 4,
	[AM_SYNC_FORKS] = 5,
	[AM_SYNC_ERROR] = 5,
};

static int
read_seq(struct am_mp_reader *r, uint64_t *v)
{
	int rc = am_mp_read_uint(r, v);
	if (rc == AM_OK && *v > INT64_MAX)
		return AM_ERR_FIELD;
	return rc;
}

static int
read_feed(struct am_mp_reader *r, struct am_sync_msg *m)
{
	int rc = am_mp_read_bin_exact(r, m->circle, AM_HASH_BYTES);
	if (rc == AM_OK)
		rc = am_mp_read_bin_exact(r, m->author, AM_ID_BYTES);
	return rc;
}

static int
read_digests(struct am_mp_reader *r, struct am_sync_msg *m)
{
	int rc = am_mp_read_array(r, &m->n);
	for (uint32_t i = 0; rc == AM_OK && i < m->n; i++) {
		uint32_t k;
		if ((rc = am_mp_read_array(r, &k)) != AM_OK)
			break;
		if (k != 2)
			return AM_ERR_COUNT;
		rc = am_mp_read_bin_exact(r, m->digests[i].circle, AM_HASH_BYTES);
		if (rc == AM_OK)
			rc = am_mp_read_bin_exact(r, m->digests[i].digest,
				AM_HASH_BYTES);
	}
	return rc;
}

static int
read_heads(struct am_mp_reader *r, struct am_sync_msg *m)
{
	int rc = am_mp_read_array(r, &m->n);
	for (uint32_t i = 0; rc == AM_OK && i < m->n; i++) {
		struct am_sync_head *h = &m->heads[i];
		uint32_t k;
		if ((rc = am_mp_read_array(r, &k)) != AM_OK)
			break;
		if (k != 4)
			return AM_ERR_COUNT;
		if ((rc = am_mp_read_bin_exact(r, h->author, AM_ID_BYTES)) != AM_OK ||
		    (rc = read_seq(r, &h->seq)) != AM_OK)
			break;
		if (h->seq == 0)
			return AM_ERR_FIELD;
		if ((rc = am_mp_read_bin_exact(r, h->hash, AM_HASH_BYTES)) != AM_OK)
			break;
		h->has_forks = !am_mp_read_nil(r);
		if (h->has_forks)
			rc = am_mp_read_bin_exact(r, h->forks, AM_HASH_BYTES);
		else
			memset(h->forks, 0, AM_HASH_BYTES);
	}
	return rc;
}

static int
read_entries(struct am_mp_reader *r, struct am_sync_msg *m, uint32_t max)
{
	int rc = am_mp_read_array(r, &m->n);
	if (rc == AM_OK && m->n > max)
		return AM_ERR_TOO_BIG;
	for (uint32_t i = 0; rc == AM_OK && i < m->n; i++)
		rc = am_mp_read_bin(r, &m->raw[i], &m->len[i], AM_ENTRY_MAX);
	return rc;
}

static int
read_fields(struct am_mp_reader *r, struct am_sync_msg *m)
{
	int rc;

	switch (m->type) {
	case AM_SYNC_HELLO:
		if ((rc = am_mp_read_bin_exact(r, m->summary, AM_HASH_BYTES)) != AM_OK ||
		    (rc = am_mp_read_uint(r, &m->ncircles)) != AM_OK)
			return rc;
		return AM_OK;
	case AM_SYNC_DIGESTS:
		if ((rc = am_mp_read_bool(r, &m->final)) != AM_OK)
			return rc;
		return read_digests(r, m);
	case AM_SYNC_HEADS:
		if ((rc = am_mp_read_bin_exact(r, m->circle, AM_HASH_BYTES)) != AM_OK)
			return rc;
		return read_heads(r, m);
	case AM_SYNC_DONE:
		return AM_OK;
	case AM_SYNC_WANT:
		if ((rc = read_feed(r, m)) != AM_OK ||
		    (rc = read_seq(r, &m->from)) != AM_OK ||
		    (rc = am_mp_read_uint(r, &m->max)) != AM_OK)
			return rc;
		if (m->from == 0 || m->max == 0 || m->max > AM_SYNC_MAX_ITEMS)
			return AM_ERR_FIELD;
		return AM_OK;
	case AM_SYNC_ENTRIES:
		if ((rc = read_feed(r, m)) != AM_OK)
			return rc;
		return read_entries(r, m, AM_SYNC_MAX_ITEMS);
	case AM_SYNC_PUSH:
		if ((rc = read_feed(r, m)) != AM_OK ||
		    (rc = read_entries(r, m, AM_SYNC_MAX_ITEMS)) != AM_OK)
			return rc;
		return m->n == 0 ? AM_ERR_FIELD : AM_OK;
	case AM_SYNC_ACK:
		if ((rc = read_feed(r, m)) != AM_OK)
			return rc;
		return read_seq(r, &m->seq);
	case AM_SYNC_WANT_FORKS:
		return read_feed(r, m);
	case AM_SYNC_FORKS:
		if ((rc = read_feed(r, m)) != AM_OK)
			return rc;
		return read_entries(r, m, AM_SYNC_MAX_FORKS);
	case AM_SYNC_ERROR:
		if ((rc = am_mp_read_uint(r, &m->code)) != AM_OK ||
		    (rc = am_mp_read_uint(r, &m->about)) != AM_OK)
			return rc;
		if (m->code > UINT32_MAX || m->about > AM_SYNC_TYPE_MAX)
			return AM_ERR_FIELD;
		return am_mp_read_str(r, &m->text.p, &m->text.n, AM_SYNC_MAX_TEXT);
	}
	return AM_ERR_MSG_TYPE;
}

int
am_sync_msg_decode(const uint8_t *buf, size_t len, struct am_sync_msg *m)
{
	struct am_mp_reader r;
	uint32_t n;
	uint64_t version, type;
	int rc;

	m->type = 0;
	m->n = 0;
	if ((rc = am_mp_validate(buf, len, &msg_limits)) != AM_OK)
		return rc;
	am_mp_reader_init(&r, buf, len);
	if ((rc = am_mp_read_array(&r, &n)) != AM_OK)
		return rc;
	if (n < 2)
		return AM_ERR_COUNT;
	if ((rc = am_mp_read_uint(&r, &version)) != AM_OK)
		return rc;
	if (version != AM_SYNC_VERSION)
		return AM_ERR_VERSION;
	if ((rc = am_mp_read_uint(&r, &type)) != AM_OK)
		return rc;
	if (type == 0 || type > AM_SYNC_TYPE_MAX)
		return AM_ERR_MSG_TYPE;
	if (n != nfields[type] &&
	    (type != AM_SYNC_HELLO || n != HELLO_FIELDS_COMPARE))
		return AM_ERR_COUNT;
	m->type = (uint32_t)type;
	m->hello = AM_SYNC_HELLO_COMPARE;
	if ((rc = read_fields(&r, m)) != AM_OK)
		return rc;
	if (type == AM_SYNC_HELLO && n == nfields[type]) {
		uint64_t v;
		if ((rc = am_mp_read_uint(&r, &v)) != AM_OK)
			return rc;
		/* one message, one encoding: a compare HELLO leaves it out */
		if (v == AM_SYNC_HELLO_COMPARE)
			return AM_ERR_NONCANON;
		if (v > AM_SYNC_HELLO_ANSWER)
			return AM_ERR_FIELD;
		m->hello = (uint32_t)v;
	}
	return am_mp_reader_finish(&r);
}

static void
write_entries(struct am_mp_writer *w, const struct am_sync_msg *m)
{
	am_mp_write_array(w, m->n);
	for (uint32_t i = 0; i < m->n; i++)
		am_mp_write_bin(w, m->raw[i], m->len[i]);
}

static void
write_fields(struct am_mp_writer *w, const struct am_sync_msg *m)
{
	switch (m->type) {
	case AM_SYNC_HELLO:
		am_mp_write_bin(w, m->summary, AM_HASH_BYTES);
		am_mp_write_uint(w, m->ncircles);
		if (m->hello != AM_SYNC_HELLO_COMPARE)
			am_mp_write_uint(w, m->hello);
		break;
	case AM_SYNC_DIGESTS:
		am_mp_write_bool(w, m->final);
		am_mp_write_array(w, m->n);
		for (uint32_t i = 0; i < m->n; i++) {
			am_mp_write_array(w, 2);
			am_mp_write_bin(w, m->digests[i].circle, AM_HASH_BYTES);
			am_mp_write_bin(w, m->digests[i].digest, AM_HASH_BYTES);
		}
		break;
	case AM_SYNC_HEADS:
		am_mp_write_bin(w, m->circle, AM_HASH_BYTES);
		am_mp_write_array(w, m->n);
		for (uint32_t i = 0; i < m->n; i++) {
			const struct am_sync_head *h = &m->heads[i];
			am_mp_write_array(w, 4);
			am_mp_write_bin(w, h->author, AM_ID_BYTES);
			am_mp_write_uint(w, h->seq);
			am_mp_write_bin(w, h->hash, AM_HASH_BYTES);
			if (h->has_forks)
				am_mp_write_bin(w, h->forks, AM_HASH_BYTES);
			else
				am_mp_write_nil(w);
		}
		break;
	case AM_SYNC_DONE:
		break;
	case AM_SYNC_WANT:
		am_mp_write_bin(w, m->circle, AM_HASH_BYTES);
		am_mp_write_bin(w, m->author, AM_ID_BYTES);
		am_mp_write_uint(w, m->from);
		am_mp_write_uint(w, m->max);
		break;
	case AM_SYNC_ENTRIES:
	case AM_SYNC_PUSH:
	case AM_SYNC_FORKS:
		am_mp_write_bin(w, m->circle, AM_HASH_BYTES);
		am_mp_write_bin(w, m->author, AM_ID_BYTES);
		write_entries(w, m);
		break;
	case AM_SYNC_ACK:
		am_mp_write_bin(w, m->circle, AM_HASH_BYTES);
		am_mp_write_bin(w, m->author, AM_ID_BYTES);
		am_mp_write_uint(w, m->seq);
		break;
	case AM_SYNC_WANT_FORKS:
		am_mp_write_bin(w, m->circle, AM_HASH_BYTES);
		am_mp_write_bin(w, m->author, AM_ID_BYTES);
		break;
	case AM_SYNC_ERROR:
		am_mp_write_uint(w, m->code);
		am_mp_write_uint(w, m->about);
		am_mp_write_str(w, m->text.p, m->text.n);
		break;
	}
}

/* What decoding would refuse, checked before writing. */
static bool
encodable(const struct am_sync_msg *m)
{
	uint32_t max = AM_SYNC_MAX_ITEMS;

	if (m->type == 0 || m->type > AM_SYNC_TYPE_MAX)
		return false;
	switch (m->type) {
	case AM_SYNC_HELLO:
		return m->hello <= AM_SYNC_HELLO_ANSWER;
	case AM_SYNC_WANT:
		return m->from >= 1 && m->from <= INT64_MAX && m->max >= 1 &&
			m->max <= AM_SYNC_MAX_ITEMS;
	case AM_SYNC_ACK:
		return m->seq <= INT64_MAX;
	case AM_SYNC_ERROR:
		return m->code <= UINT32_MAX && m->about <= AM_SYNC_TYPE_MAX &&
			m->text.n <= AM_SYNC_MAX_TEXT &&
			(m->text.n == 0 || m->text.p != NULL) &&
			am_mp_utf8_ok(m->text.p, m->text.n);
	case AM_SYNC_PUSH:
		if (m->n == 0)
			return false;
		break;
	case AM_SYNC_FORKS:
		max = AM_SYNC_MAX_FORKS;
		break;
	case AM_SYNC_HEADS:
		for (uint32_t i = 0; i < m->n && i < max; i++)
			if (m->heads[i].seq == 0 || m->heads[i].seq > INT64_MAX)
				return false;
		break;
	default:
		break;
	}
	if (m->n > max)
		return false;
	if (m->type == AM_SYNC_ENTRIES || m->type == AM_SYNC_PUSH ||
	    m->type == AM_SYNC_FORKS)
		for (uint32_t i = 0; i < m->n; i++)
			if (m->len[i] > AM_ENTRY_MAX)
				return false;
	return true;
}

int
am_sync_msg_encode(const struct am_sync_msg *m, uint8_t **buf, size_t *len)
{
	struct am_mp_writer w;

	if (!encodable(m))
		return AM_ERR_ARG;
	am_mp_writer_init(&w);
	am_mp_write_array(&w, m->type == AM_SYNC_HELLO &&
		m->hello == AM_SYNC_HELLO_COMPARE ? HELLO_FIELDS_COMPARE :
		nfields[m->type]);
	am_mp_write_uint(&w, AM_SYNC_VERSION);
	am_mp_write_uint(&w, m->type);
	write_fields(&w, m);
	if (!w.failed && w.buf.size > AM_SYNC_MAX_MSG) {
		am_mp_writer_finish(&w);
		return AM_ERR_TOO_BIG;
	}
	*buf = am_mp_writer_take(&w, len);
	return *buf != NULL ? AM_OK : AM_ERR_NOMEM;
}
