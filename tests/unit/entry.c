/*
 * Tests of signed entries: every kind round-trips; any flipped bit fails;
 * each class of malformed input is refused with its own code.
 */
#include <string.h>

#include <sodium.h>

#include "amends/entry.h"
#include "mp.h"
#include "test.h"

static struct am_identity *sam;
static uint8_t circle[AM_HASH_BYTES];

static void
fill_terms(struct am_terms *t, const uint8_t *a, const uint8_t *b)
{
	memset(t, 0, sizeof *t);
	t->title = am_str_c("Evening check-in");
	t->text = am_str_c("Sam checks in every evening by 21:00.");
	t->nparties = 2;
	memcpy(t->parties[0], a, 32);
	memcpy(t->parties[1], b, 32);
	t->nby = 1;
	memcpy(t->by[0], a, 32);
	t->has_schedule = true;
	t->every = AM_EVERY_DAY;
	t->at = 21 * 60;
	t->tz = am_str_c("Europe/Paris");
	t->grace = 3600;
	t->from = am_str_c("2026-11-01");
	t->notice = 7 * 86400;
	t->npauses = 1;
	t->pauses[0].from = am_str_c("2026-12-24");
	t->pauses[0].until = am_str_c("2026-12-26");
}

/* One body of each kind. */
static void
body_of(uint32_t kind, struct am_body *b)
{
	uint8_t other[32];
	memset(other, 0xab, sizeof other);
	memset(b, 0, sizeof *b);
	b->kind = kind;
	memset(b->target, 0x11, 32);
	memset(b->base, 0x22, 32);
	switch (kind) {
	case AM_KIND_GENESIS:
		b->name = am_str_c("Sam & Alex");
		memset(b->nonce, 0x33, 32);
		break;
	case AM_KIND_MEMBER:
		b->role = AM_ROLE_WITNESS;
		break;
	case AM_KIND_PROPOSE:
	case AM_KIND_AMEND:
		fill_terms(&b->terms, am_identity_public(sam), other);
		break;
	case AM_KIND_DECLINE:
	case AM_KIND_END:
	case AM_KIND_CONFIRM:
		b->note = am_str_c("a reason");
		break;
	case AM_KIND_DISPUTE:
		b->note = am_str_c("that is not what happened");
		break;
	case AM_KIND_CHECKIN:
		b->period = am_str_c("2026-11-25");
		b->status = AM_PARTIAL;
		b->note = am_str_c("late, but called");
		break;
	case AM_KIND_STATEMENT:
		b->note = am_str_c("I am sorry I went quiet.");
		b->has_target = true;
		break;
	case AM_KIND_CHECKPOINT:
		b->nheads = 2;
		memset(b->heads[0].author, 1, 32);
		b->heads[0].seq = 5;
		memset(b->heads[1].author, 2, 32);
		b->heads[1].seq = 7;
		break;
	case AM_KIND_LEAVE:
		b->note = am_str_c("moving on");
		break;
	case AM_KIND_REMOVE:
		b->head_seq = 9;
		memset(b->head_hash, 0x66, 32);
		b->nneed = 2;
		memset(b->need[0], 0x01, 32);
		memset(b->need[1], 0x02, 32);
		b->note = am_str_c("gone quiet for a year");
		break;
	case AM_KIND_RENAME:
		b->name = am_str_c("Sam, Alex & Kim");
		break;
	}
}

static uint8_t *
make(uint32_t kind, uint64_t seq, size_t *len, struct am_entry *e)
{
	struct am_body b;
	struct am_entry_draft d = { .seq = seq, .has_prev = seq > 1, .time = 1764000000000 };
	uint8_t *raw;
	body_of(kind, &b);
	d.body = &b;
	if (kind == AM_KIND_GENESIS)
		am_circle_id(am_identity_public(sam), b.nonce, d.circle);
	else
		memcpy(d.circle, circle, 32);
	memset(d.prev, 0x44, 32);
	check_rc(am_entry_sign(sam, &d, &raw, len, e), AM_OK);
	return raw;
}

static void
test_roundtrip_every_kind(void)
{
	for (uint32_t kind = 1; kind <= AM_KIND_MAX; kind++) {
		struct am_entry e, d;
		struct am_body want, got;
		size_t len;
		uint64_t seq = kind == AM_KIND_GENESIS ? 1 : 3;
		uint8_t *raw = make(kind, seq, &len, &e);
		check_rc(am_entry_decode(raw, len, &d), AM_OK);
		check_rc(am_entry_verify(&d), AM_OK);
		check(d.kind == kind && d.seq == seq && d.time == 1764000000000);
		check(memcmp(d.author, am_identity_public(sam), 32) == 0);
		check(memcmp(d.hash, e.hash, 32) == 0);
		uint8_t h[32];
		am_hash(raw, len, h);
		check(memcmp(h, d.hash, 32) == 0);
		body_of(kind, &want);
		check_rc(am_body_decode(kind, d.body, d.body_len, &got), AM_OK);
		/* re-encoding what was decoded gives the same bytes */
		uint8_t *again;
		size_t again_len;
		check_rc(am_body_encode(&got, &again, &again_len), AM_OK);
		check(again_len == d.body_len && memcmp(again, d.body, again_len) == 0);
		free(again);
		if (kind == AM_KIND_CHECKIN) {
			check(got.status == AM_PARTIAL);
			check(got.period.n == 10 && memcmp(got.period.p, "2026-11-25", 10) == 0);
		}
		if (kind == AM_KIND_REMOVE) {
			check(got.head_seq == 9 && got.head_hash[31] == 0x66);
			check(got.nneed == 2 && got.need[1][0] == 0x02);
			check(memcmp(got.target, want.target, 32) == 0);
			check(got.note.n == 21);
		}
		if (kind == AM_KIND_RENAME)
			check(got.name.n == 15 && memcmp(got.base, want.base, 32) == 0);
		if (kind == AM_KIND_LEAVE)
			check(got.note.n == 9 && memcmp(got.note.p, "moving on", 9) == 0);
		if (kind == AM_KIND_PROPOSE) {
			check(got.terms.nparties == 2 && got.terms.at == 21 * 60);
			check(got.terms.npauses == 1 && got.terms.grace == 3600);
		}
		free(raw);
	}
}

static void
test_every_bit_flip_fails(void)
{
	struct am_entry e, d;
	size_t len;
	uint8_t *raw = make(AM_KIND_CHECKIN, 2, &len, &e);
	for (size_t i = 0; i < len; i++) {
		for (int bit = 0; bit < 8; bit++) {
			raw[i] ^= (uint8_t)(1 << bit);
			int rc = am_entry_decode(raw, len, &d);
			if (rc == AM_OK)
				rc = am_entry_verify(&d);
			check(rc != AM_OK);
			raw[i] ^= (uint8_t)(1 << bit);
		}
	}
	check_rc(am_entry_decode(raw, len, &d), AM_OK);
	check_rc(am_entry_verify(&d), AM_OK);
	free(raw);
}

/* Wraps signed bytes in an envelope with a zero signature. */
static uint8_t *
envelope(const uint8_t *signed_bytes, size_t n, size_t *len)
{
	struct am_mp_writer w;
	uint8_t sig[64] = { 0 };
	am_mp_writer_init(&w);
	am_mp_write_array(&w, 2);
	am_mp_write_bin(&w, signed_bytes, n);
	am_mp_write_bin(&w, sig, 64);
	return am_mp_writer_take(&w, len);
}

/* Signed bytes with one field replaced by a hostile variant. */
enum variant { V_OK, V_TYPE, V_VERSION, V_KIND, V_COUNT, V_NONCANON, V_UTF8,
	V_PREV, V_KIND0, V_KIND_BIG, V_KIND_LAST, V_UNKNOWN_NOT_ARRAY,
	V_UNKNOWN_BODY };

static int
decode_variant(enum variant v)
{
	struct am_mp_writer w;
	struct am_entry e;
	uint8_t id[32], prev[32];
	size_t n, len;
	memset(id, 1, 32);
	memset(prev, 2, 32);
	am_mp_writer_init(&w);
	am_mp_write_array(&w, v == V_COUNT ? 7 : 8);
	if (v == V_TYPE)
		am_mp_write_cstr(&w, "1");
	else if (v == V_NONCANON)
		am_mp_write_raw(&w, "\xcc\x01", 2);
	else
		am_mp_write_uint(&w, v == V_VERSION ? 2 : 1);
	am_mp_write_bin(&w, circle, 32);
	am_mp_write_bin(&w, id, 32);
	am_mp_write_uint(&w, 2);
	if (v == V_PREV)
		am_mp_write_nil(&w);
	else
		am_mp_write_bin(&w, prev, 32);
	am_mp_write_int(&w, 0);
	if (v == V_UNKNOWN_NOT_ARRAY) {
		am_mp_write_uint(&w, 99);
		am_mp_write_cstr(&w, "a body that is no array");
	} else if (v == V_UNKNOWN_BODY) {
		/* a shape no kind of format 1 has: three fields, one a list */
		am_mp_write_uint(&w, 13);
		am_mp_write_array(&w, 3);
		am_mp_write_uint(&w, 7);
		am_mp_write_array(&w, 1);
		am_mp_write_bin(&w, id, 32);
		am_mp_write_nil(&w);
	} else if (v != V_COUNT) {
		am_mp_write_uint(&w, v == V_KIND ? 99 : v == V_KIND0 ? 0 :
			v == V_KIND_BIG ? AM_KIND_LIMIT + 1 :
			v == V_KIND_LAST ? AM_KIND_LIMIT : AM_KIND_STATEMENT);
		am_mp_write_array(&w, 2);
		if (v == V_UTF8)
			am_mp_write_str(&w, "\xff\xfe", 2);
		else
			am_mp_write_cstr(&w, "sorry");
		am_mp_write_nil(&w);
	} else {
		am_mp_write_uint(&w, AM_KIND_STATEMENT);
	}
	uint8_t *sb = am_mp_writer_take(&w, &n);
	uint8_t *raw = envelope(sb, n, &len);
	int rc = am_entry_decode(raw, len, &e);
	free(sb);
	free(raw);
	return rc;
}

static void
test_malformed_classes(void)
{
	struct am_entry e;
	size_t len;
	uint8_t *raw = make(AM_KIND_STATEMENT, 2, &len, &e);

	check_rc(decode_variant(V_OK), AM_OK);
	check_rc(decode_variant(V_TYPE), AM_ERR_TYPE);
	check_rc(decode_variant(V_VERSION), AM_ERR_VERSION);
	/* a kind this build does not know decodes (protocol/entry.md, "Kinds
	 * a node does not know"), with any array as its body; kinds outside
	 * 1..65535 and bodies that are no array are refused */
	check_rc(decode_variant(V_KIND), AM_OK);
	check_rc(decode_variant(V_KIND_LAST), AM_OK);
	check_rc(decode_variant(V_UNKNOWN_BODY), AM_OK);
	check_rc(decode_variant(V_KIND0), AM_ERR_KIND);
	check_rc(decode_variant(V_KIND_BIG), AM_ERR_KIND);
	check_rc(decode_variant(V_UNKNOWN_NOT_ARRAY), AM_ERR_TYPE);
	check_rc(decode_variant(V_COUNT), AM_ERR_COUNT);
	check_rc(decode_variant(V_NONCANON), AM_ERR_NONCANON);
	check_rc(decode_variant(V_UTF8), AM_ERR_UTF8);
	check_rc(decode_variant(V_PREV), AM_ERR_FIELD);

	/* truncated anywhere */
	for (size_t cut = 0; cut < len; cut++) {
		int rc = am_entry_decode(raw, cut, &e);
		check(rc == AM_ERR_TRUNCATED || rc == AM_ERR_LENGTH);
	}
	check_rc(am_entry_decode(raw, 1, &e), AM_ERR_LENGTH);
	size_t plen;
	uint8_t *proposal = make(AM_KIND_PROPOSE, 2, &plen, &e);
	check(proposal[1] == 0xc5);     /* cut inside its bin16 header */
	check_rc(am_entry_decode(proposal, 3, &e), AM_ERR_TRUNCATED);
	free(proposal);
	check_rc(am_entry_decode(raw, 40, &e), AM_ERR_LENGTH);

	/* trailing bytes */
	uint8_t *longer = malloc(len + 1);
	memcpy(longer, raw, len);
	longer[len] = 0;
	check_rc(am_entry_decode(longer, len + 1, &e), AM_ERR_TRAILING);
	free(longer);

	/* oversized */
	uint8_t *big = calloc(1, AM_ENTRY_MAX + 1);
	check_rc(am_entry_decode(big, AM_ENTRY_MAX + 1, &e), AM_ERR_TOO_BIG);
	free(big);

	/* deep nesting */
	static uint8_t deep[10000];
	memset(deep, 0x91, sizeof deep);
	check_rc(am_entry_decode(deep, sizeof deep, &e), AM_ERR_DEPTH);

	/* a length header claiming 4 GiB */
	check_rc(am_entry_decode((const uint8_t *)"\x92\xc6\xff\xff\xff\xff\x00", 7, &e),
		AM_ERR_LENGTH);
	check_rc(am_entry_decode((const uint8_t *)"\xdd\xff\xff\xff\xff", 5, &e),
		AM_ERR_LENGTH);

	/* wrong shape of the envelope */
	check_rc(am_entry_decode((const uint8_t *)"\x93\xc0\xc0\xc0", 4, &e),
		AM_ERR_COUNT);
	check_rc(am_entry_decode((const uint8_t *)"\x00", 1, &e), AM_ERR_TYPE);
	free(raw);
}

static void
test_writer_refuses_what_reader_refuses(void)
{
	struct am_body b;
	uint8_t *out;
	size_t n;
	body_of(AM_KIND_PROPOSE, &b);
	b.terms.tz = am_str_c("../etc/passwd");
	check_rc(am_body_encode(&b, &out, &n), AM_ERR_FIELD);
	body_of(AM_KIND_PROPOSE, &b);
	b.terms.from = am_str_c("2026-02-30");
	check_rc(am_body_encode(&b, &out, &n), AM_ERR_FIELD);
	body_of(AM_KIND_PROPOSE, &b);
	memset(b.terms.by[0], 0x77, 32);        /* not a party */
	check_rc(am_body_encode(&b, &out, &n), AM_ERR_FIELD);
	body_of(AM_KIND_DISPUTE, &b);
	b.note = am_str_c("");
	check_rc(am_body_encode(&b, &out, &n), AM_ERR_FIELD);
}

/* Encodes a REMOVE body by hand, with one field made hostile. */
enum rvariant { R_OK, R_NO_HEAD, R_SEQ_NO_HASH, R_HASH_NO_SEQ, R_UNSORTED,
	R_REPEAT, R_TOO_MANY, R_MAX, R_SEQ_HUGE, R_SHORT_ID, R_FIELDS };

static int
decode_remove(enum rvariant v)
{
	struct am_mp_writer w;
	struct am_body b;
	uint8_t id[32];
	size_t n;
	memset(id, 0x11, 32);
	am_mp_writer_init(&w);
	am_mp_write_array(&w, v == R_FIELDS ? 4 : 5);
	am_mp_write_bin(&w, id, v == R_SHORT_ID ? 31 : 32);
	am_mp_write_uint(&w, v == R_NO_HEAD || v == R_HASH_NO_SEQ ? 0 :
		v == R_SEQ_HUGE ? UINT64_C(1) << 63 : 4);
	if (v == R_NO_HEAD || v == R_SEQ_NO_HASH)
		am_mp_write_nil(&w);
	else
		am_mp_write_bin(&w, id, 32);
	uint32_t count = v == R_TOO_MANY ? AM_MAX_NEED + 1 :
		v == R_MAX ? AM_MAX_NEED : 3;
	am_mp_write_array(&w, count);
	for (uint32_t i = 0; i < count; i++) {
		uint8_t x[32] = { 0 };
		x[0] = (uint8_t)(v == R_UNSORTED ? count - i : v == R_REPEAT ? i / 2 : i);
		am_mp_write_bin(&w, x, 32);
	}
	if (v != R_FIELDS)
		am_mp_write_nil(&w);
	uint8_t *body = am_mp_writer_take(&w, &n);
	int rc = am_body_decode(AM_KIND_REMOVE, body, n, &b);
	free(body);
	return rc;
}

/* The bounds of the kinds after format 1 (13 LEAVE, 14 REMOVE, 15 RENAME):
 * checked by am_body_decode, which the state runs; never by
 * am_entry_decode, which takes any array as their body. */
static void
test_later_kinds_bounds(void)
{
	check_rc(decode_remove(R_OK), AM_OK);
	check_rc(decode_remove(R_NO_HEAD), AM_OK);
	check_rc(decode_remove(R_MAX), AM_OK);
	check_rc(decode_remove(R_SEQ_NO_HASH), AM_ERR_FIELD);
	check_rc(decode_remove(R_HASH_NO_SEQ), AM_ERR_FIELD);
	check_rc(decode_remove(R_UNSORTED), AM_ERR_FIELD);
	check_rc(decode_remove(R_REPEAT), AM_ERR_FIELD);
	check_rc(decode_remove(R_TOO_MANY), AM_ERR_COUNT);
	check_rc(decode_remove(R_SEQ_HUGE), AM_ERR_FIELD);
	check(decode_remove(R_SHORT_ID) != AM_OK);
	check_rc(decode_remove(R_FIELDS), AM_ERR_COUNT);

	struct am_body b;
	uint8_t *out;
	size_t n;
	/* the writer refuses what the reader refuses */
	body_of(AM_KIND_REMOVE, &b);
	memset(b.need[1], 0x01, 32);            /* listed twice */
	check_rc(am_body_encode(&b, &out, &n), AM_ERR_FIELD);
	body_of(AM_KIND_REMOVE, &b);
	b.nneed = AM_MAX_NEED + 1;
	check_rc(am_body_encode(&b, &out, &n), AM_ERR_FIELD);
	body_of(AM_KIND_REMOVE, &b);
	b.head_seq = 0;                         /* written with a nil hash */
	check_rc(am_body_encode(&b, &out, &n), AM_OK);
	struct am_body got;
	check_rc(am_body_decode(AM_KIND_REMOVE, out, n, &got), AM_OK);
	check(got.head_seq == 0 && got.head_hash[0] == 0);
	free(out);
	body_of(AM_KIND_RENAME, &b);
	b.name = am_str_c("");
	check_rc(am_body_encode(&b, &out, &n), AM_ERR_FIELD);
	char name[AM_MAX_NAME + 2];
	memset(name, 'n', sizeof name - 1);
	name[sizeof name - 1] = 0;
	b.name = am_str_c(name);
	check_rc(am_body_encode(&b, &out, &n), AM_ERR_TOO_BIG);
	name[AM_MAX_NAME] = 0;
	b.name = am_str_c(name);
	check_rc(am_body_encode(&b, &out, &n), AM_OK);
	free(out);
	char text[AM_MAX_TEXT + 2];
	memset(text, 't', sizeof text - 1);
	text[sizeof text - 1] = 0;
	body_of(AM_KIND_LEAVE, &b);
	b.note = am_str_c(text);
	check(am_body_encode(&b, &out, &n) != AM_OK);
	b.note = am_str_c(NULL);
	check_rc(am_body_encode(&b, &out, &n), AM_OK);
	check(n == 2 && out[0] == 0x91 && out[1] == 0xc0);
	free(out);
	/* a LEAVE of two fields is no LEAVE */
	check_rc(am_body_decode(AM_KIND_LEAVE, (const uint8_t *)"\x92\xc0\xc0", 3, &b),
		AM_ERR_COUNT);
}

int
main(void)
{
	check(sodium_init() >= 0);
	check_rc(am_identity_generate(&sam), AM_OK);
	memset(circle, 0x55, sizeof circle);
	test_roundtrip_every_kind();
	test_every_bit_flip_fails();
	test_malformed_classes();
	test_writer_refuses_what_reader_refuses();
	test_later_kinds_bounds();
	am_identity_destroy(&sam);
	printf("entry: ok\n");
	return 0;
}
