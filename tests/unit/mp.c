/*
 * Tests of the strict msgpack reader: every class of hostile input is
 * refused with its own code, and what the writer produces is accepted.
 */
#include <string.h>

#include "mp.h"
#include "test.h"

static const struct am_mp_limits limits = {
	.max_bytes = 1 << 20, .max_depth = 4, .max_nodes = 4096,
	.max_count = 64, .max_str = 4096, .max_bin = 65536,
};

static int
validate(const void *p, size_t n)
{
	return am_mp_validate(p, n, &limits);
}

static void
test_scalars_canonical(void)
{
	check_rc(validate("\x00", 1), AM_OK);
	check_rc(validate("\x7f", 1), AM_OK);
	check_rc(validate("\xcc\x80", 2), AM_OK);
	check_rc(validate("\xcc\x7f", 2), AM_ERR_NONCANON);
	check_rc(validate("\xcd\x00\xff", 3), AM_ERR_NONCANON);
	check_rc(validate("\xce\x00\x00\xff\xff", 5), AM_ERR_NONCANON);
	check_rc(validate("\xcf\x00\x00\x00\x00\xff\xff\xff\xff", 9), AM_ERR_NONCANON);
	check_rc(validate("\xd0\xe0", 2), AM_ERR_NONCANON);   /* -32 fits fixint */
	check_rc(validate("\xd0\xdf", 2), AM_OK);             /* -33 */
	check_rc(validate("\xd0\x01", 2), AM_ERR_NONCANON);   /* positive as int8 */
	check_rc(validate("\xd9\x01" "a", 3), AM_ERR_NONCANON); /* str8 for 1 byte */
	check_rc(validate("\xc5\x00\x01" "a", 4), AM_ERR_NONCANON);
	check_rc(validate("\xdc\x00\x01\x00", 4), AM_ERR_NONCANON);
}

static void
test_refused_types(void)
{
	check_rc(validate("\xca\x00\x00\x00\x00", 5), AM_ERR_TYPE);  /* float */
	check_rc(validate("\x81\x00\x00", 3), AM_ERR_TYPE);          /* map */
	check_rc(validate("\xd4\x01\x00", 3), AM_ERR_TYPE);          /* ext */
	check_rc(validate("\xc1", 1), AM_ERR_TYPE);                  /* reserved */
}

static void
test_lengths(void)
{
	/* a 4 GiB bin in a few bytes: refused before anything looks further */
	check_rc(validate("\xc6\xff\xff\xff\xff", 5), AM_ERR_LENGTH);
	check_rc(validate("\xdd\xff\xff\xff\xff\x00", 6), AM_ERR_LENGTH);
	check_rc(validate("\xdb\xff\xff\xff\xff", 5), AM_ERR_LENGTH);
	/* an array cannot hold more elements than bytes remain */
	check_rc(validate("\x92\x01", 2), AM_ERR_LENGTH);
	check_rc(validate("\x92\x01\xcd\x01", 4), AM_ERR_TRUNCATED);
	check_rc(validate("\xcd\x01", 2), AM_ERR_TRUNCATED);
	check_rc(validate("", 0), AM_ERR_TRUNCATED);
	check_rc(validate("\x01\x02", 2), AM_ERR_TRAILING);
}

static void
test_depth_and_nodes(void)
{
	static uint8_t deep[10000];
	memset(deep, 0x91, sizeof deep);
	check_rc(validate(deep, sizeof deep), AM_ERR_DEPTH);
	check_rc(validate("\x91\x91\x91\x91\x00", 5), AM_OK);
	check_rc(validate("\x91\x91\x91\x91\x91\x00", 6), AM_ERR_DEPTH);
	/* 65 elements where 64 are allowed */
	uint8_t many[3 + 65];
	many[0] = 0xdc;
	many[1] = 0;
	many[2] = 65;
	memset(many + 3, 0, 65);
	check_rc(validate(many, sizeof many), AM_ERR_TOO_BIG);
}

static void
test_utf8(void)
{
	check_rc(validate("\xa2\xc3\xa9", 3), AM_OK);        /* é */
	check_rc(validate("\xa2\xc3\x28", 3), AM_ERR_UTF8);
	check_rc(validate("\xa1\x00", 2), AM_ERR_UTF8);      /* NUL */
	check_rc(validate("\xa2\xc0\x80", 2 + 1), AM_ERR_UTF8); /* overlong */
	check_rc(validate("\xa3\xed\xa0\x80", 4), AM_ERR_UTF8); /* surrogate */

	/* ASCII is read a word at a time: a NUL, a stray continuation byte, a
	 * cut sequence or a good one at every offset of a 24-byte string */
	uint8_t buf[1 + 24];
	buf[0] = 0xb8;                               /* str of 24 bytes */
	for (size_t at = 0; at < 24; at++) {
		memset(buf + 1, 'a', 24);
		check_rc(validate(buf, sizeof buf), AM_OK);
		buf[1 + at] = 0;
		check_rc(validate(buf, sizeof buf), AM_ERR_UTF8);
		buf[1 + at] = 0x80;
		check_rc(validate(buf, sizeof buf), AM_ERR_UTF8);
		buf[1 + at] = 0xc3;
		check_rc(validate(buf, sizeof buf), AM_ERR_UTF8);
		if (at + 1 < 24) {
			buf[2 + at] = 0xa9;                  /* é */
			check_rc(validate(buf, sizeof buf), AM_OK);
		}
	}
}

static void
test_writer_reader_roundtrip(void)
{
	struct am_mp_writer w;
	struct am_mp_reader r;
	uint8_t bin[300];
	memset(bin, 7, sizeof bin);
	am_mp_writer_init(&w);
	am_mp_write_array(&w, 7);
	am_mp_write_uint(&w, 300);
	am_mp_write_int(&w, -200);
	am_mp_write_int(&w, 5);
	am_mp_write_cstr(&w, "hello");
	am_mp_write_bin(&w, bin, sizeof bin);
	am_mp_write_nil(&w);
	am_mp_write_bool(&w, true);
	size_t len;
	uint8_t *buf = am_mp_writer_take(&w, &len);
	check(buf != NULL);
	check_rc(validate(buf, len), AM_OK);

	uint32_t n;
	uint64_t u;
	int64_t i;
	const char *s;
	const uint8_t *b;
	size_t sn;
	bool flag;
	am_mp_reader_init(&r, buf, len);
	check_rc(am_mp_read_array(&r, &n), AM_OK);
	check(n == 7);
	check_rc(am_mp_read_uint(&r, &u), AM_OK);
	check(u == 300);
	check_rc(am_mp_read_uint(&r, &u), AM_ERR_TYPE);  /* -200 is not a uint */
	check_rc(am_mp_read_int(&r, &i), AM_OK);
	check(i == -200);
	check_rc(am_mp_read_int(&r, &i), AM_OK);
	check(i == 5);
	check_rc(am_mp_read_str(&r, &s, &sn, 4), AM_ERR_TOO_BIG);
	check_rc(am_mp_read_str(&r, &s, &sn, 100), AM_OK);
	check(sn == 5 && memcmp(s, "hello", 5) == 0);
	check_rc(am_mp_read_bin(&r, &b, &sn, 1000), AM_OK);
	check(sn == 300 && b[299] == 7);
	check(am_mp_read_nil(&r));
	check_rc(am_mp_read_bool(&r, &flag), AM_OK);
	check(flag);
	check_rc(am_mp_reader_finish(&r), AM_OK);
	free(buf);
}

int
main(void)
{
	test_scalars_canonical();
	test_refused_types();
	test_lengths();
	test_depth_and_nodes();
	test_utf8();
	test_writer_reader_roundtrip();
	printf("mp: ok\n");
	return 0;
}
