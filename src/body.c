/*
 * Entry bodies, encoded as positional msgpack arrays, one schema per kind
 * (protocol/entry.md, "Bodies"). Decoding is strict: exact field counts,
 * exact types, ranges checked. Encoding decodes its own output before
 * handing it out, so the two can never disagree.
 */
#include <stdlib.h>
#include <string.h>

#include "amends/body.h"
#include "mp.h"

#define TERMS_FIELDS 11

struct am_str
am_str_c(const char *s)
{
	struct am_str v = { s, s ? strlen(s) : 0 };
	return v;
}

static bool
digits(const char *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (p[i] < '0' || p[i] > '9')
			return false;
	return true;
}

static unsigned
num(const char *p, size_t n)
{
	unsigned v = 0;
	for (size_t i = 0; i < n; i++)
		v = v * 10 + (unsigned)(p[i] - '0');
	return v;
}

bool
am_date_ok(struct am_str s)
{
	static const unsigned mdays[] = { 31, 29, 31, 30, 31, 30, 31, 31, 30,
		31, 30, 31 };
	if (s.p == NULL || s.n != 10 || s.p[4] != '-' || s.p[7] != '-')
		return false;
	if (!digits(s.p, 4) || !digits(s.p + 5, 2) || !digits(s.p + 8, 2))
		return false;
	unsigned y = num(s.p, 4), m = num(s.p + 5, 2), d = num(s.p + 8, 2);
	if (y < 1970 || m < 1 || m > 12 || d < 1 || d > mdays[m - 1])
		return false;
	bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
	return !(m == 2 && d == 29 && !leap);
}

static bool
tz_ok(struct am_str s)
{
	if (s.p == NULL || s.n == 0 || s.n > AM_MAX_TZ || s.p[0] == '/')
		return false;
	for (size_t i = 0; i < s.n; i++) {
		char c = s.p[i];
		bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
			(c >= '0' && c <= '9') || c == '/' || c == '_' || c == '-' ||
			c == '+';
		if (!ok)
			return false;
		if (c == '.' || (i > 0 && c == '/' && s.p[i - 1] == '/'))
			return false;
	}
	return true;
}

static int
read_str(struct am_mp_reader *r, struct am_str *s, size_t max, bool nil_ok)
{
	if (nil_ok && am_mp_read_nil(r)) {
		s->p = NULL;
		s->n = 0;
		return AM_OK;
	}
	return am_mp_read_str(r, &s->p, &s->n, max);
}

static int
read_u32(struct am_mp_reader *r, uint32_t *v, uint32_t min, uint32_t max)
{
	uint64_t u;
	int rc = am_mp_read_uint(r, &u);
	if (rc != AM_OK)
		return rc;
	if (u < min || u > max)
		return AM_ERR_FIELD;
	*v = (uint32_t)u;
	return AM_OK;
}

static int
read_ids(struct am_mp_reader *r, uint8_t ids[][32], uint32_t *n, bool allow_empty)
{
	uint32_t count;
	int rc = am_mp_read_array(r, &count);
	if (rc != AM_OK)
		return rc;
	if (count > AM_MAX_PARTIES || (count == 0 && !allow_empty))
		return AM_ERR_COUNT;
	for (uint32_t i = 0; i < count; i++) {
		if ((rc = am_mp_read_bin_exact(r, ids[i], 32)) != AM_OK)
			return rc;
		for (uint32_t k = 0; k < i; k++)
			if (memcmp(ids[k], ids[i], 32) == 0)
				return AM_ERR_FIELD;    /* listed twice */
	}
	*n = count;
	return AM_OK;
}

static int
read_schedule(struct am_mp_reader *r, struct am_terms *t)
{
	uint32_t n;
	int rc;
	if (am_mp_read_nil(r)) {
		t->has_schedule = false;
		return AM_OK;
	}
	if ((rc = am_mp_read_array(r, &n)) != AM_OK)
		return rc;
	if (n != 4)
		return AM_ERR_COUNT;
	t->has_schedule = true;
	if ((rc = read_u32(r, &t->every, AM_EVERY_DAY, AM_EVERY_HOURS)) != AM_OK ||
	    (rc = read_u32(r, &t->hours, 0, 24 * 366)) != AM_OK ||
	    (rc = read_u32(r, &t->at, 0, 24 * 60 - 1)) != AM_OK ||
	    (rc = read_u32(r, &t->weekday, 0, 6)) != AM_OK)
		return rc;
	if ((t->every == AM_EVERY_HOURS) != (t->hours > 0))
		return AM_ERR_FIELD;
	if (t->every != AM_EVERY_WEEK && t->weekday != 0)
		return AM_ERR_FIELD;
	return AM_OK;
}

static int
read_pauses(struct am_mp_reader *r, struct am_terms *t)
{
	uint32_t n, two;
	int rc = am_mp_read_array(r, &n);
	if (rc != AM_OK)
		return rc;
	if (n > AM_MAX_PAUSES)
		return AM_ERR_COUNT;
	for (uint32_t i = 0; i < n; i++) {
		struct am_pause *p = &t->pauses[i];
		if ((rc = am_mp_read_array(r, &two)) != AM_OK)
			return rc;
		if (two != 2)
			return AM_ERR_COUNT;
		if ((rc = read_str(r, &p->from, 10, false)) != AM_OK ||
		    (rc = read_str(r, &p->until, 10, false)) != AM_OK)
			return rc;
		if (!am_date_ok(p->from) || !am_date_ok(p->until) ||
		    memcmp(p->from.p, p->until.p, 10) > 0)
			return AM_ERR_FIELD;
	}
	t->npauses = n;
	return AM_OK;
}

static int
read_terms(struct am_mp_reader *r, struct am_terms *t)
{
	int rc;
	if ((rc = read_str(r, &t->title, AM_MAX_TITLE, false)) != AM_OK ||
	    (rc = read_str(r, &t->text, AM_MAX_TEXT, false)) != AM_OK ||
	    (rc = read_ids(r, t->parties, &t->nparties, false)) != AM_OK ||
	    (rc = read_ids(r, t->by, &t->nby, true)) != AM_OK ||
	    (rc = read_schedule(r, t)) != AM_OK ||
	    (rc = read_str(r, &t->tz, AM_MAX_TZ, false)) != AM_OK ||
	    (rc = am_mp_read_uint(r, &t->grace)) != AM_OK ||
	    (rc = read_str(r, &t->from, 10, true)) != AM_OK ||
	    (rc = read_str(r, &t->until, 10, true)) != AM_OK ||
	    (rc = am_mp_read_uint(r, &t->notice)) != AM_OK ||
	    (rc = read_pauses(r, t)) != AM_OK)
		return rc;
	if (t->title.n == 0 || !tz_ok(t->tz))
		return AM_ERR_FIELD;
	if ((t->from.p && !am_date_ok(t->from)) || (t->until.p && !am_date_ok(t->until)))
		return AM_ERR_FIELD;
	if (t->from.p && t->until.p && memcmp(t->from.p, t->until.p, 10) > 0)
		return AM_ERR_FIELD;
	/* ten years of grace or notice is already more than anyone means */
	if (t->grace > 315360000u || t->notice > 315360000u)
		return AM_ERR_FIELD;
	/* whoever checks in must be a party */
	for (uint32_t i = 0; i < t->nby; i++) {
		bool found = false;
		for (uint32_t k = 0; k < t->nparties; k++)
			found = found || memcmp(t->by[i], t->parties[k], 32) == 0;
		if (!found)
			return AM_ERR_FIELD;
	}
	return AM_OK;
}

static int
read_heads(struct am_mp_reader *r, struct am_body *b)
{
	uint32_t n, three;
	int rc = am_mp_read_array(r, &n);
	if (rc != AM_OK)
		return rc;
	if (n == 0 || n > AM_MAX_HEADS)
		return AM_ERR_COUNT;
	for (uint32_t i = 0; i < n; i++) {
		struct am_head *h = &b->heads[i];
		if ((rc = am_mp_read_array(r, &three)) != AM_OK)
			return rc;
		if (three != 3)
			return AM_ERR_COUNT;
		if ((rc = am_mp_read_bin_exact(r, h->author, 32)) != AM_OK ||
		    (rc = am_mp_read_uint(r, &h->seq)) != AM_OK ||
		    (rc = am_mp_read_bin_exact(r, h->hash, 32)) != AM_OK)
			return rc;
		if (h->seq == 0)
			return AM_ERR_FIELD;
		/* sorted by author, each once: one canonical form */
		if (i > 0 && memcmp(b->heads[i - 1].author, h->author, 32) >= 0)
			return AM_ERR_FIELD;
	}
	b->nheads = n;
	return AM_OK;
}

/* REMOVE's need: 0..AM_MAX_NEED IDs, strictly ascending by bytes (so each
 * once, in one canonical order). */
static int
read_need(struct am_mp_reader *r, struct am_body *b)
{
	uint32_t n;
	int rc = am_mp_read_array(r, &n);
	if (rc != AM_OK)
		return rc;
	if (n > AM_MAX_NEED)
		return AM_ERR_COUNT;
	for (uint32_t i = 0; i < n; i++) {
		if ((rc = am_mp_read_bin_exact(r, b->need[i], 32)) != AM_OK)
			return rc;
		if (i > 0 && memcmp(b->need[i - 1], b->need[i], 32) >= 0)
			return AM_ERR_FIELD;
	}
	b->nneed = n;
	return AM_OK;
}

/* REMOVE: [id, seq, hash?, need, reason?]; hash is nil exactly when seq
 * is 0 (the proposer holds nothing of the target's feed). */
static int
read_remove(struct am_mp_reader *r, struct am_body *b)
{
	int rc;
	if ((rc = am_mp_read_bin_exact(r, b->target, 32)) != AM_OK)
		return rc;
	if (b->kind == AM_KIND_SUCCESSION &&
	    (rc = am_mp_read_bin_exact(r, b->heir, 32)) != AM_OK)
		return rc;
	if ((rc = am_mp_read_uint(r, &b->head_seq)) != AM_OK)
		return rc;
	if (b->head_seq >= UINT64_C(1) << 63)
		return AM_ERR_FIELD;
	bool nil = am_mp_read_nil(r);
	if (!nil && (rc = am_mp_read_bin_exact(r, b->head_hash, 32)) != AM_OK)
		return rc;
	if (nil != (b->head_seq == 0))
		return AM_ERR_FIELD;
	if ((rc = read_need(r, b)) != AM_OK)
		return rc;
	return read_str(r, &b->note, AM_MAX_TEXT, true);
}

/* Fields each kind's array holds; 0 for a kind this build does not know.
 * A test build may be made without one kind (AM_WITHOUT_KIND), to show
 * how a node that predates a kind handles it. */
static uint32_t
field_count(uint32_t kind)
{
#ifdef AM_WITHOUT_KIND
	if (kind == AM_WITHOUT_KIND)
		return 0;
#endif
	switch (kind) {
	case AM_KIND_GENESIS: return 2;
	case AM_KIND_MEMBER: return 2;
	case AM_KIND_PROPOSE: return TERMS_FIELDS;
	case AM_KIND_AMEND: return 2 + TERMS_FIELDS;
	case AM_KIND_ACCEPT: return 1;
	case AM_KIND_DECLINE: return 2;
	case AM_KIND_END: return 2;
	case AM_KIND_CHECKIN: return 4;
	case AM_KIND_CONFIRM: return 2;
	case AM_KIND_DISPUTE: return 2;
	case AM_KIND_STATEMENT: return 2;
	case AM_KIND_CHECKPOINT: return 1;
	case AM_KIND_NAME: return 1;
	case AM_KIND_LEAVE: return 1;
	case AM_KIND_REMOVE: return 5;
	case AM_KIND_SUCCESSION: return 6;
	case AM_KIND_RENAME: return 2;
	default: return 0;
	}
}

static int
read_fields(struct am_mp_reader *r, struct am_body *b)
{
	int rc;
	switch (b->kind) {
	case AM_KIND_GENESIS:
		if ((rc = read_str(r, &b->name, AM_MAX_NAME, false)) != AM_OK)
			return rc;
		if (b->name.n == 0)
			return AM_ERR_FIELD;
		return am_mp_read_bin_exact(r, b->nonce, 32);
	case AM_KIND_MEMBER:
		if ((rc = am_mp_read_bin_exact(r, b->target, 32)) != AM_OK)
			return rc;
		return read_u32(r, &b->role, AM_ROLE_MEMBER, AM_ROLE_WITNESS);
	case AM_KIND_PROPOSE:
		return read_terms(r, &b->terms);
	case AM_KIND_AMEND:
		if ((rc = am_mp_read_bin_exact(r, b->target, 32)) != AM_OK ||
		    (rc = am_mp_read_bin_exact(r, b->base, 32)) != AM_OK)
			return rc;
		return read_terms(r, &b->terms);
	case AM_KIND_ACCEPT:
		return am_mp_read_bin_exact(r, b->target, 32);
	case AM_KIND_DECLINE:
	case AM_KIND_END:
	case AM_KIND_CONFIRM:
		if ((rc = am_mp_read_bin_exact(r, b->target, 32)) != AM_OK)
			return rc;
		return read_str(r, &b->note, AM_MAX_TEXT, true);
	case AM_KIND_DISPUTE:
		if ((rc = am_mp_read_bin_exact(r, b->target, 32)) != AM_OK ||
		    (rc = read_str(r, &b->note, AM_MAX_TEXT, false)) != AM_OK)
			return rc;
		return b->note.n == 0 ? AM_ERR_FIELD : AM_OK;
	case AM_KIND_CHECKIN:
		if ((rc = am_mp_read_bin_exact(r, b->target, 32)) != AM_OK ||
		    (rc = read_str(r, &b->period, AM_MAX_PERIOD, false)) != AM_OK ||
		    (rc = read_u32(r, &b->status, AM_KEPT, AM_MISSED)) != AM_OK)
			return rc;
		if (b->period.n == 0)
			return AM_ERR_FIELD;
		return read_str(r, &b->note, AM_MAX_TEXT, true);
	case AM_KIND_STATEMENT:
		if ((rc = read_str(r, &b->note, AM_MAX_TEXT, false)) != AM_OK)
			return rc;
		if (b->note.n == 0)
			return AM_ERR_FIELD;
		b->has_target = !am_mp_read_nil(r);
		return b->has_target ? am_mp_read_bin_exact(r, b->target, 32) : AM_OK;
	case AM_KIND_CHECKPOINT:
		return read_heads(r, b);
	case AM_KIND_NAME:
		if ((rc = read_str(r, &b->name, AM_MAX_DISPLAY, false)) != AM_OK)
			return rc;
		return b->name.n == 0 ? AM_ERR_FIELD : AM_OK;
	case AM_KIND_LEAVE:
		return read_str(r, &b->note, AM_MAX_TEXT, true);
	case AM_KIND_REMOVE:
	case AM_KIND_SUCCESSION:
		return read_remove(r, b);
	case AM_KIND_RENAME:
		if ((rc = read_str(r, &b->name, AM_MAX_NAME, false)) != AM_OK)
			return rc;
		if (b->name.n == 0)
			return AM_ERR_FIELD;
		return am_mp_read_bin_exact(r, b->base, 32);
	default:
		return AM_ERR_KIND;
	}
}

bool
am_kind_known(uint32_t kind)
{
	return field_count(kind) != 0;
}

int
am_body_decode(uint32_t kind, const uint8_t *data, size_t len, struct am_body *b)
{
	struct am_mp_reader r;
	uint32_t n;
	int rc;

	memset(b, 0, sizeof *b);
	b->kind = kind;
	uint32_t want = field_count(kind);
	if (want == 0)
		return AM_ERR_KIND;
	am_mp_reader_init(&r, data, len);
	if ((rc = am_mp_read_array(&r, &n)) != AM_OK)
		return rc;
	if (n != want)
		return AM_ERR_COUNT;
	if ((rc = read_fields(&r, b)) != AM_OK)
		return rc;
	return am_mp_reader_finish(&r);
}

static void
write_str(struct am_mp_writer *w, struct am_str s)
{
	if (s.p == NULL)
		am_mp_write_nil(w);
	else
		am_mp_write_str(w, s.p, s.n);
}

static void
write_ids(struct am_mp_writer *w, const uint8_t ids[][32], uint32_t n)
{
	am_mp_write_array(w, n);
	for (uint32_t i = 0; i < n; i++)
		am_mp_write_bin(w, ids[i], 32);
}

static void
write_terms(struct am_mp_writer *w, const struct am_terms *t)
{
	write_str(w, t->title);
	write_str(w, t->text);
	write_ids(w, t->parties, t->nparties);
	write_ids(w, t->by, t->nby);
	if (t->has_schedule) {
		am_mp_write_array(w, 4);
		am_mp_write_uint(w, t->every);
		am_mp_write_uint(w, t->hours);
		am_mp_write_uint(w, t->at);
		am_mp_write_uint(w, t->weekday);
	} else {
		am_mp_write_nil(w);
	}
	write_str(w, t->tz);
	am_mp_write_uint(w, t->grace);
	write_str(w, t->from);
	write_str(w, t->until);
	am_mp_write_uint(w, t->notice);
	am_mp_write_array(w, t->npauses);
	for (uint32_t i = 0; i < t->npauses; i++) {
		am_mp_write_array(w, 2);
		write_str(w, t->pauses[i].from);
		write_str(w, t->pauses[i].until);
	}
}

static void
write_fields(struct am_mp_writer *w, const struct am_body *b)
{
	switch (b->kind) {
	case AM_KIND_GENESIS:
		write_str(w, b->name);
		am_mp_write_bin(w, b->nonce, 32);
		break;
	case AM_KIND_MEMBER:
		am_mp_write_bin(w, b->target, 32);
		am_mp_write_uint(w, b->role);
		break;
	case AM_KIND_PROPOSE:
		write_terms(w, &b->terms);
		break;
	case AM_KIND_AMEND:
		am_mp_write_bin(w, b->target, 32);
		am_mp_write_bin(w, b->base, 32);
		write_terms(w, &b->terms);
		break;
	case AM_KIND_ACCEPT:
		am_mp_write_bin(w, b->target, 32);
		break;
	case AM_KIND_DECLINE:
	case AM_KIND_END:
	case AM_KIND_CONFIRM:
	case AM_KIND_DISPUTE:
		am_mp_write_bin(w, b->target, 32);
		write_str(w, b->note);
		break;
	case AM_KIND_CHECKIN:
		am_mp_write_bin(w, b->target, 32);
		write_str(w, b->period);
		am_mp_write_uint(w, b->status);
		write_str(w, b->note);
		break;
	case AM_KIND_STATEMENT:
		write_str(w, b->note);
		if (b->has_target)
			am_mp_write_bin(w, b->target, 32);
		else
			am_mp_write_nil(w);
		break;
	case AM_KIND_CHECKPOINT:
		am_mp_write_array(w, b->nheads);
		for (uint32_t i = 0; i < b->nheads; i++) {
			am_mp_write_array(w, 3);
			am_mp_write_bin(w, b->heads[i].author, 32);
			am_mp_write_uint(w, b->heads[i].seq);
			am_mp_write_bin(w, b->heads[i].hash, 32);
		}
		break;
	case AM_KIND_NAME:
		write_str(w, b->name);
		break;
	case AM_KIND_LEAVE:
		write_str(w, b->note);
		break;
	case AM_KIND_REMOVE:
	case AM_KIND_SUCCESSION:
		am_mp_write_bin(w, b->target, 32);
		if (b->kind == AM_KIND_SUCCESSION)
			am_mp_write_bin(w, b->heir, 32);
		am_mp_write_uint(w, b->head_seq);
		if (b->head_seq == 0)
			am_mp_write_nil(w);
		else
			am_mp_write_bin(w, b->head_hash, 32);
		write_ids(w, b->need, b->nneed);
		write_str(w, b->note);
		break;
	case AM_KIND_RENAME:
		write_str(w, b->name);
		am_mp_write_bin(w, b->base, 32);
		break;
	}
}

int
am_body_encode(const struct am_body *b, uint8_t **data, size_t *len)
{
	struct am_mp_writer w;
	uint32_t n = field_count(b->kind);
	if (n == 0)
		return AM_ERR_KIND;
	if (b->terms.nparties > AM_MAX_PARTIES || b->terms.nby > AM_MAX_PARTIES ||
	    b->terms.npauses > AM_MAX_PAUSES || b->nheads > AM_MAX_HEADS ||
	    b->nneed > AM_MAX_NEED)
		return AM_ERR_FIELD;
	am_mp_writer_init(&w);
	am_mp_write_array(&w, n);
	write_fields(&w, b);
	uint8_t *out = am_mp_writer_take(&w, len);
	if (out == NULL)
		return AM_ERR_NOMEM;
	/* Refuse to produce anything a reader would refuse. The check body
	 * is large, so it lives on the heap. */
	struct am_body *check = malloc(sizeof *check);
	if (check == NULL) {
		free(out);
		return AM_ERR_NOMEM;
	}
	int rc = am_body_decode(b->kind, out, *len, check);
	free(check);
	if (rc != AM_OK) {
		free(out);
		return rc == AM_ERR_TOO_BIG || rc == AM_ERR_COUNT ? rc : AM_ERR_FIELD;
	}
	*data = out;
	return AM_OK;
}
