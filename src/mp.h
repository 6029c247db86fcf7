/*
 * Strict msgpack for untrusted bytes, private to libamends.
 *
 * Reading never allocates: values are read in place from a caller's buffer,
 * each length checked against the bytes that remain before it is used, each
 * integer and length in its smallest encoding, strings valid UTF-8 without
 * NUL. am_mp_validate() walks a whole buffer first (depth, node count,
 * allowed types, exactly one top-level value), so a structured reader after
 * it only has to check the schema.
 *
 * Writing goes through msgpack-c's packer, which always picks the smallest
 * encoding, so what we write is what am_mp_validate() accepts.
 */
#ifndef AMENDS_MP_H
#define AMENDS_MP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <msgpack.h>

#include "amends/error.h"

#define AM_MP_MAX_STR 4096u   /* bytes in a str, unless a caller asks less */

struct am_mp_limits {
	size_t max_bytes;     /* whole buffer */
	unsigned max_depth;   /* 1 = a flat array of scalars */
	unsigned max_nodes;   /* values, containers included */
	uint32_t max_count;   /* elements of any one array */
	uint32_t max_str;     /* bytes of any one str */
	uint32_t max_bin;     /* bytes of any one bin */
};

/* Checks that buf holds exactly one msgpack value within limits, using only
 * nil, bool, int, str, bin and array, each in its smallest encoding. */
AM_NODISCARD int am_mp_validate(const uint8_t *buf, size_t len,
	const struct am_mp_limits *limits);

struct am_mp_reader {
	const uint8_t *p;
	size_t len;
	size_t off;
};

void am_mp_reader_init(struct am_mp_reader *r, const uint8_t *buf, size_t len);

/* Each reader below consumes one value of its type or fails without
 * consuming anything. */
AM_NODISCARD int am_mp_read_array(struct am_mp_reader *r, uint32_t *count);
AM_NODISCARD int am_mp_read_uint(struct am_mp_reader *r, uint64_t *v);
AM_NODISCARD int am_mp_read_int(struct am_mp_reader *r, int64_t *v);
AM_NODISCARD int am_mp_read_bool(struct am_mp_reader *r, bool *v);
/* Reads a bin of at most max bytes; *data points into the buffer. */
AM_NODISCARD int am_mp_read_bin(struct am_mp_reader *r, const uint8_t **data,
	size_t *n, size_t max);
/* Reads a bin of exactly n bytes into out. */
AM_NODISCARD int am_mp_read_bin_exact(struct am_mp_reader *r, uint8_t *out,
	size_t n);
/* Reads a str of at most max bytes; *s points into the buffer and is not
 * NUL-terminated. */
AM_NODISCARD int am_mp_read_str(struct am_mp_reader *r, const char **s,
	size_t *n, size_t max);
/* True when the next value is nil; then it is consumed. */
bool am_mp_read_nil(struct am_mp_reader *r);
/* AM_OK when every byte has been read, AM_ERR_TRAILING otherwise. */
AM_NODISCARD int am_mp_reader_finish(const struct am_mp_reader *r);

/* True when s[0..n) is valid UTF-8 without NUL. */
bool am_mp_utf8_ok(const char *s, size_t n);

struct am_mp_writer {
	msgpack_sbuffer buf;
	msgpack_packer pk;
	bool failed;           /* an allocation failed; the buffer is unusable */
};

/* The writer's bytes are w->buf.data, w->buf.size. A failed allocation is
 * remembered in w->failed so that callers check once, at the end. */
void am_mp_writer_init(struct am_mp_writer *w);
void am_mp_writer_finish(struct am_mp_writer *w);
/* Hands the buffer to the caller (free() it) and resets the writer. Returns
 * NULL when an allocation failed. */
uint8_t *am_mp_writer_take(struct am_mp_writer *w, size_t *len);
void am_mp_write_array(struct am_mp_writer *w, uint32_t n);
void am_mp_write_uint(struct am_mp_writer *w, uint64_t v);
void am_mp_write_int(struct am_mp_writer *w, int64_t v);
void am_mp_write_bool(struct am_mp_writer *w, bool v);
void am_mp_write_nil(struct am_mp_writer *w);
void am_mp_write_bin(struct am_mp_writer *w, const void *data, size_t n);
void am_mp_write_str(struct am_mp_writer *w, const char *s, size_t n);
/* Writes a NUL-terminated string, or nil when s is NULL. */
void am_mp_write_cstr(struct am_mp_writer *w, const char *s);
/* Appends bytes that already are one encoded value. */
void am_mp_write_raw(struct am_mp_writer *w, const void *data, size_t n);

#endif
