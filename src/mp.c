/*
 * Strict msgpack reading and writing. msgpack-c's unpacker trusts length
 * headers and allocates from them, so untrusted bytes are read here instead,
 * in place and without allocating; see src/mp.h for the rules enforced.
 */
#include <stdlib.h>
#include <string.h>

#include "mp.h"

static uint64_t
be(const uint8_t *p, unsigned n)
{
	uint64_t v = 0;
	for (unsigned i = 0; i < n; i++)
		v = v << 8 | p[i];
	return v;
}

/*
 * One value header: its type and, for containers, strings and bins, the
 * count or length that follows. Integers are checked for their smallest
 * encoding here, so every reader shares the rule.
 */
enum hdr_type { H_NIL, H_BOOL, H_UINT, H_INT, H_STR, H_BIN, H_ARRAY };

struct hdr {
	enum hdr_type type;
	size_t size;       /* bytes of the header itself */
	uint64_t len;      /* str/bin length, array count */
	uint64_t u;        /* H_UINT value, H_BOOL value */
	int64_t i;         /* H_INT value (negative) */
};

static int
length_hdr(const uint8_t *p, size_t avail, unsigned n, uint64_t min,
	struct hdr *h)
{
	if (avail < 1 + n)
		return AM_ERR_TRUNCATED;
	h->size = 1 + n;
	h->len = be(p + 1, n);
	if (h->len < min)
		return AM_ERR_NONCANON;
	return AM_OK;
}

static int
int_hdr(const uint8_t *p, size_t avail, unsigned n, bool sign, struct hdr *h)
{
	if (avail < 1 + n)
		return AM_ERR_TRUNCATED;
	h->size = 1 + n;
	uint64_t raw = be(p + 1, n);
	if (!sign) {
		static const uint64_t min[9] = { 0, 128, 256, 0, 65536, 0, 0, 0,
			4294967296u };
		h->type = H_UINT;
		h->u = raw;
		return raw < min[n] ? AM_ERR_NONCANON : AM_OK;
	}
	int64_t v;
	switch (n) {
	case 1: v = (int8_t)raw; break;
	case 2: v = (int16_t)raw; break;
	case 4: v = (int32_t)raw; break;
	default: v = (int64_t)raw; break;
	}
	/* Non-negative values are written as uint; a signed form must need its
	 * width. */
	static const int64_t lo[9] = { 0, -32, -128, 0, -32768, 0, 0, 0,
		-2147483648LL };
	if (v >= 0 || v >= lo[n])
		return AM_ERR_NONCANON;
	h->type = H_INT;
	h->i = v;
	return AM_OK;
}

static int
read_hdr(const uint8_t *p, size_t avail, struct hdr *h)
{
	if (avail < 1)
		return AM_ERR_TRUNCATED;
	uint8_t b = p[0];
	memset(h, 0, sizeof *h);
	h->size = 1;
	if (b <= 0x7f) {
		h->type = H_UINT;
		h->u = b;
		return AM_OK;
	}
	if (b >= 0xe0) {
		h->type = H_INT;
		h->i = (int8_t)b;
		return AM_OK;
	}
	if ((b & 0xf0) == 0x90) {
		h->type = H_ARRAY;
		h->len = b & 0x0f;
		return AM_OK;
	}
	if ((b & 0xe0) == 0xa0) {
		h->type = H_STR;
		h->len = b & 0x1f;
		return AM_OK;
	}
	switch (b) {
	case 0xc0: h->type = H_NIL; return AM_OK;
	case 0xc2: h->type = H_BOOL; h->u = 0; return AM_OK;
	case 0xc3: h->type = H_BOOL; h->u = 1; return AM_OK;
	case 0xc4: h->type = H_BIN; return length_hdr(p, avail, 1, 0, h);
	case 0xc5: h->type = H_BIN; return length_hdr(p, avail, 2, 256, h);
	case 0xc6: h->type = H_BIN; return length_hdr(p, avail, 4, 65536, h);
	case 0xcc: return int_hdr(p, avail, 1, false, h);
	case 0xcd: return int_hdr(p, avail, 2, false, h);
	case 0xce: return int_hdr(p, avail, 4, false, h);
	case 0xcf: return int_hdr(p, avail, 8, false, h);
	case 0xd0: return int_hdr(p, avail, 1, true, h);
	case 0xd1: return int_hdr(p, avail, 2, true, h);
	case 0xd2: return int_hdr(p, avail, 4, true, h);
	case 0xd3: return int_hdr(p, avail, 8, true, h);
	case 0xd9: h->type = H_STR; return length_hdr(p, avail, 1, 32, h);
	case 0xda: h->type = H_STR; return length_hdr(p, avail, 2, 256, h);
	case 0xdb: h->type = H_STR; return length_hdr(p, avail, 4, 65536, h);
	case 0xdc: h->type = H_ARRAY; return length_hdr(p, avail, 2, 16, h);
	case 0xdd: h->type = H_ARRAY; return length_hdr(p, avail, 4, 65536, h);
	default:
		/* maps, floats, ext and the reserved byte 0xc1 */
		return AM_ERR_TYPE;
	}
}

bool
am_mp_utf8_ok(const char *str, size_t n)
{
	const unsigned char *s = (const unsigned char *)str;
	size_t i = 0;
	while (i < n) {
		/* most text is ASCII: eight bytes at a time while no byte has
		 * its top bit set and none is zero */
		uint64_t v;
		while (n - i >= 8) {
			memcpy(&v, s + i, 8);
			if ((v & 0x8080808080808080u) != 0 ||
			    ((v - 0x0101010101010101u) & 0x8080808080808080u) != 0)
				break;
			i += 8;
		}
		if (i == n)
			break;
		unsigned char c = s[i];
		if (c == 0)
			return false;
		if (c < 0x80) {
			i++;
			continue;
		}
		size_t need;
		uint32_t cp;
		if (c >= 0xc2 && c <= 0xdf) {
			need = 1;
			cp = c & 0x1f;
		} else if (c >= 0xe0 && c <= 0xef) {
			need = 2;
			cp = c & 0x0f;
		} else if (c >= 0xf0 && c <= 0xf4) {
			need = 3;
			cp = c & 0x07;
		} else {
			return false;
		}
		if (n - i <= need)
			return false;
		for (size_t k = 1; k <= need; k++) {
			if ((s[i + k] & 0xc0) != 0x80)
				return false;
			cp = cp << 6 | (s[i + k] & 0x3f);
		}
		if ((need == 2 && cp < 0x800) || (need == 3 && cp < 0x10000) ||
		    cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
			return false;
		i += need + 1;
	}
	return true;
}

int
am_mp_validate(const uint8_t *buf, size_t len, const struct am_mp_limits *lim)
{
	/* Elements still to read at each open array level; the depth limit
	 * bounds this stack. */
	uint64_t left[64];
	unsigned depth = 0, nodes = 0;
	size_t off = 0;

	if (len > lim->max_bytes)
		return AM_ERR_TOO_BIG;
	if (lim->max_depth > 63)
		return AM_ERR_ARG;
	do {
		struct hdr h;
		int rc = read_hdr(buf + off, len - off, &h);
		if (rc != AM_OK)
			return rc;
		if (++nodes > lim->max_nodes)
			return AM_ERR_TOO_BIG;
		off += h.size;
		if (depth > 0)
			left[depth - 1]--;
		switch (h.type) {
		case H_STR:
		case H_BIN:
			if (h.len > len - off)
				return AM_ERR_LENGTH;
			if (h.len > (h.type == H_STR ? lim->max_str : lim->max_bin))
				return AM_ERR_TOO_BIG;
			if (h.type == H_STR &&
			    !am_mp_utf8_ok((const char *)buf + off, h.len))
				return AM_ERR_UTF8;
			off += h.len;
			break;
		case H_ARRAY:
			/* every element takes at least one byte */
			if (h.len > len - off)
				return AM_ERR_LENGTH;
			if (h.len > lim->max_count)
				return AM_ERR_TOO_BIG;
			if (depth >= lim->max_depth)
				return AM_ERR_DEPTH;
			left[depth++] = h.len;
			break;
		default:
			break;
		}
		while (depth > 0 && left[depth - 1] == 0)
			depth--;
	} while (depth > 0);
	return off == len ? AM_OK : AM_ERR_TRAILING;
}

void
am_mp_reader_init(struct am_mp_reader *r, const uint8_t *buf, size_t len)
{
	r->p = buf;
	r->len = len;
	r->off = 0;
}

static int
next(struct am_mp_reader *r, enum hdr_type want, struct hdr *h)
{
	int rc = read_hdr(r->p + r->off, r->len - r->off, h);
	if (rc != AM_OK)
		return rc;
	if (h->type != want)
		return AM_ERR_TYPE;
	if ((want == H_STR || want == H_BIN || want == H_ARRAY) &&
	    h->len > r->len - r->off - h->size)
		return AM_ERR_LENGTH;
	return AM_OK;
}

int
am_mp_read_array(struct am_mp_reader *r, uint32_t *count)
{
	struct hdr h;
	int rc = next(r, H_ARRAY, &h);
	if (rc != AM_OK)
		return rc;
	r->off += h.size;
	*count = (uint32_t)h.len;
	return AM_OK;
}

int
am_mp_read_uint(struct am_mp_reader *r, uint64_t *v)
{
	struct hdr h;
	int rc = next(r, H_UINT, &h);
	if (rc != AM_OK)
		return rc;
	r->off += h.size;
	*v = h.u;
	return AM_OK;
}

int
am_mp_read_int(struct am_mp_reader *r, int64_t *v)
{
	struct hdr h;
	int rc = read_hdr(r->p + r->off, r->len - r->off, &h);
	if (rc != AM_OK)
		return rc;
	if (h.type == H_UINT) {
		if (h.u > INT64_MAX)
			return AM_ERR_FIELD;
		*v = (int64_t)h.u;
	} else if (h.type == H_INT) {
		*v = h.i;
	} else {
		return AM_ERR_TYPE;
	}
	r->off += h.size;
	return AM_OK;
}

int
am_mp_read_bool(struct am_mp_reader *r, bool *v)
{
	struct hdr h;
	int rc = next(r, H_BOOL, &h);
	if (rc != AM_OK)
		return rc;
	r->off += h.size;
	*v = h.u != 0;
	return AM_OK;
}

int
am_mp_read_bin(struct am_mp_reader *r, const uint8_t **data, size_t *n,
	size_t max)
{
	struct hdr h;
	int rc = next(r, H_BIN, &h);
	if (rc != AM_OK)
		return rc;
	if (h.len > max)
		return AM_ERR_TOO_BIG;
	*data = r->p + r->off + h.size;
	*n = (size_t)h.len;
	r->off += h.size + (size_t)h.len;
	return AM_OK;
}

int
am_mp_read_bin_exact(struct am_mp_reader *r, uint8_t *out, size_t n)
{
	struct hdr h;
	int rc = next(r, H_BIN, &h);
	if (rc != AM_OK)
		return rc;
	if (h.len != n)
		return AM_ERR_FIELD;
	memcpy(out, r->p + r->off + h.size, n);
	r->off += h.size + n;
	return AM_OK;
}

int
am_mp_read_str(struct am_mp_reader *r, const char **s, size_t *n, size_t max)
{
	struct hdr h;
	int rc = next(r, H_STR, &h);
	if (rc != AM_OK)
		return rc;
	if (h.len > max)
		return AM_ERR_TOO_BIG;
	const char *p = (const char *)r->p + r->off + h.size;
	if (!am_mp_utf8_ok(p, (size_t)h.len))
		return AM_ERR_UTF8;
	*s = p;
	*n = (size_t)h.len;
	r->off += h.size + (size_t)h.len;
	return AM_OK;
}

bool
am_mp_read_nil(struct am_mp_reader *r)
{
	if (r->off < r->len && r->p[r->off] == 0xc0) {
		r->off++;
		return true;
	}
	return false;
}

int
am_mp_reader_finish(const struct am_mp_reader *r)
{
	return r->off == r->len ? AM_OK : AM_ERR_TRAILING;
}

void
am_mp_writer_init(struct am_mp_writer *w)
{
	msgpack_sbuffer_init(&w->buf);
	msgpack_packer_init(&w->pk, &w->buf, msgpack_sbuffer_write);
	w->failed = false;
}

void
am_mp_writer_finish(struct am_mp_writer *w)
{
	msgpack_sbuffer_destroy(&w->buf);
	msgpack_sbuffer_init(&w->buf);
}

uint8_t *
am_mp_writer_take(struct am_mp_writer *w, size_t *len)
{
	if (w->failed) {
		am_mp_writer_finish(w);
		return NULL;
	}
	*len = w->buf.size;
	uint8_t *data = (uint8_t *)msgpack_sbuffer_release(&w->buf);
	if (data == NULL)
		data = malloc(1); /* an empty buffer is still the caller's */
	return data;
}

#define PACK(w, call) do { if ((call) != 0) (w)->failed = true; } while (0)

void
am_mp_write_array(struct am_mp_writer *w, uint32_t n)
{
	PACK(w, msgpack_pack_array(&w->pk, n));
}

void
am_mp_write_uint(struct am_mp_writer *w, uint64_t v)
{
	PACK(w, msgpack_pack_uint64(&w->pk, v));
}

void
am_mp_write_int(struct am_mp_writer *w, int64_t v)
{
	PACK(w, msgpack_pack_int64(&w->pk, v));
}

void
am_mp_write_bool(struct am_mp_writer *w, bool v)
{
	PACK(w, v ? msgpack_pack_true(&w->pk) : msgpack_pack_false(&w->pk));
}

void
am_mp_write_nil(struct am_mp_writer *w)
{
	PACK(w, msgpack_pack_nil(&w->pk));
}

void
am_mp_write_bin(struct am_mp_writer *w, const void *data, size_t n)
{
	PACK(w, msgpack_pack_bin_with_body(&w->pk, data, n));
}

void
am_mp_write_str(struct am_mp_writer *w, const char *s, size_t n)
{
	PACK(w, msgpack_pack_str_with_body(&w->pk, s, n));
}

void
am_mp_write_cstr(struct am_mp_writer *w, const char *s)
{
	if (s == NULL)
		am_mp_write_nil(w);
	else
		am_mp_write_str(w, s, strlen(s));
}

void
am_mp_write_raw(struct am_mp_writer *w, const void *data, size_t n)
{
	PACK(w, msgpack_sbuffer_write(&w->buf, data, n));
}
