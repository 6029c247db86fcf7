/*
 * The shared half of the state vectors (statevec.h): ingesting a case's
 * entries as sync does, and writing a circle's derived state as text.
 * The text is built only from the public readers of amends/state.h, so it
 * says what any reader of the library sees, in the order the state digest
 * uses (protocol/state.md, "State digest").
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "amends/state.h"
#include "statevec.h"
#include "test.h"

void
sv_printf(struct sv_text *t, const char *fmt, ...)
{
	va_list ap;
	char buf[512];
	va_start(ap, fmt);
	int w = vsnprintf(buf, sizeof buf, fmt, ap);
	va_end(ap);
	check(w >= 0 && (size_t)w < sizeof buf);
	if (t->n == t->cap) {
		t->cap = t->cap ? t->cap * 2 : 64;
		t->line = realloc(t->line, t->cap * sizeof *t->line);
		check(t->line != NULL);
	}
	t->line[t->n] = strdup(buf);
	check(t->line[t->n] != NULL);
	t->n++;
}

void
sv_text_free(struct sv_text *t)
{
	for (size_t i = 0; i < t->n; i++)
		free(t->line[i]);
	free(t->line);
	memset(t, 0, sizeof *t);
}

void
sv_hex(const uint8_t *p, size_t n, char *out)
{
	static const char digits[] = "0123456789abcdef";
	for (size_t i = 0; i < n; i++) {
		out[2 * i] = digits[p[i] >> 4];
		out[2 * i + 1] = digits[p[i] & 15];
	}
	out[2 * n] = '\0';
}

static int
nibble(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

bool
sv_unhex(const char *text, uint8_t *out, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		int hi = nibble(text[2 * i]), lo = hi < 0 ? -1 : nibble(text[2 * i + 1]);
		if (hi < 0 || lo < 0)
			return false;
		out[i] = (uint8_t)(hi << 4 | lo);
	}
	return text[2 * n] == '\0' || text[2 * n] == ' ';
}

bool
sv_unhex_alloc(const char *text, uint8_t **out, size_t *n)
{
	size_t len = strcspn(text, " ");
	if (len == 0 || len % 2 != 0)
		return false;
	*n = len / 2;
	*out = malloc(*n);
	check(*out != NULL);
	if (!sv_unhex(text, *out, *n)) {
		free(*out);
		*out = NULL;
		return false;
	}
	return true;
}

void
sv_ingest(struct am_store *s, const struct sv_case *c, const size_t *order,
	size_t n, int *rc)
{
	enum { UNTRIED = -1 };
	for (size_t i = 0; i < n; i++)
		rc[i] = UNTRIED;
	for (bool moved = true; moved;) {
		moved = false;
		for (size_t i = 0; i < n; i++) {
			enum am_ingest_result r;
			if (rc[i] != UNTRIED && rc[i] != AM_ERR_GAP &&
			    rc[i] != AM_ERR_NO_GENESIS)
				continue;
			rc[i] = am_store_ingest(s, c->raw[order[i]], c->len[order[i]], &r);
			moved = moved || rc[i] == AM_OK;
		}
	}
}

const char *
sv_refusal_name(int rc, char buf[static 16])
{
	switch (rc) {
	case AM_OK: return "stored";
	case AM_ERR_NO_GENESIS: return "no-genesis";
	case AM_ERR_GAP: return "gap";
	case AM_ERR_CHAIN: return "chain";
	case AM_ERR_SIGNATURE: return "signature";
	case AM_ERR_KIND: return "kind";
	case AM_ERR_FIELD: return "field";
	case AM_ERR_CAP: return "cap";
	default:
		snprintf(buf, 16, "error-%d", rc);
		return buf;
	}
}

const char *
sv_rule_name(uint32_t rule, char buf[static 16])
{
	const char *name = am_rule_name(rule);
	if (strcmp(name, "?") != 0)
		return name;
	snprintf(buf, 16, "rule-%u", rule);
	return buf;
}

/* ---- the derived state as text ---- */

/* Every entry of the case by hash, to write references as name/seq. */
struct refs {
	size_t n;
	uint8_t hash[SV_ENTRIES_MAX][32];
	int person[SV_ENTRIES_MAX];
	uint64_t seq[SV_ENTRIES_MAX];
	bool twin[SV_ENTRIES_MAX];       /* another entry has its author and seq */
};

struct describe {
	const struct sv_case *c;
	struct refs r;
	struct sv_text *out;
	char buf[8][128];                /* the names of one line */
	int nbuf;
};

static int
person_of(const struct sv_case *c, const uint8_t id[32])
{
	for (size_t i = 0; i < c->npeople; i++)
		if (memcmp(c->people[i].id, id, 32) == 0)
			return (int)i;
	return -1;
}

static void
refs_make(const struct sv_case *c, struct refs *r)
{
	r->n = c->n;
	for (size_t i = 0; i < c->n; i++) {
		struct am_entry e;
		r->twin[i] = false;
		if (am_entry_decode(c->raw[i], c->len[i], &e) != AM_OK) {
			/* refused (of a kind this build does not know): no name */
			am_hash(c->raw[i], c->len[i], r->hash[i]);
			r->person[i] = -1;
			r->seq[i] = 0;
			continue;
		}
		memcpy(r->hash[i], e.hash, 32);
		r->person[i] = person_of(c, e.author);
		r->seq[i] = e.seq;
		for (size_t k = 0; k < i; k++)
			if (r->person[k] >= 0 && r->person[k] == r->person[i] &&
			    r->seq[k] == r->seq[i])
				r->twin[k] = r->twin[i] = true;
	}
}

static char *
next_buf(struct describe *d)
{
	return d->buf[d->nbuf++ % 8];
}

/* A person by name, or by ID in hex when the case does not name them. */
static const char *
who(struct describe *d, const uint8_t id[32])
{
	int p = person_of(d->c, id);
	char *b = next_buf(d);
	if (p >= 0)
		return d->c->people[p].name;
	sv_hex(id, 32, b);
	return b;
}

/* An entry as author/seq (with the start of its hash when a fork gave that
 * number twice), "-" for none, hex for an entry not in the case. */
static const char *
ref(struct describe *d, const uint8_t *hash)
{
	static const uint8_t zero[32];
	char *b = next_buf(d);
	if (hash == NULL || memcmp(hash, zero, 32) == 0)
		return "-";
	for (size_t i = 0; i < d->r.n; i++) {
		if (memcmp(d->r.hash[i], hash, 32) != 0)
			continue;
		const char *name = d->r.person[i] >= 0 ?
			d->c->people[d->r.person[i]].name : "?";
		char h[9];
		sv_hex(hash, 4, h);
		snprintf(b, 128, "%s/%llu%s%s", name, (unsigned long long)d->r.seq[i],
			d->r.twin[i] ? "#" : "", d->r.twin[i] ? h : "");
		return b;
	}
	sv_hex(hash, 32, b);
	return b;
}

static const char *
name_of(uint32_t v, const char *const *names, size_t n, char *buf)
{
	if (v < n && names[v] != NULL)
		return names[v];
	snprintf(buf, 16, "%u", v);
	return buf;
}

#define NAME(v, ...) name_of((v), (const char *const[]){ __VA_ARGS__ }, \
	sizeof((const char *const[]){ __VA_ARGS__ }) / sizeof(const char *), \
	next_buf(d))

/* Milliseconds as the integer and as UTC, "2026-01-08T09:00:00.000Z". */
static const char *
when(struct describe *d, int64_t ms)
{
	char *b = next_buf(d);
	time_t t = (time_t)(ms >= 0 ? ms / 1000 : (ms - 999) / 1000);
	struct tm tm;
	check(gmtime_r(&t, &tm) != NULL);
	int w = snprintf(b, 128, "%lld ", (long long)ms);
	size_t k = strftime(b + w, 128 - (size_t)w, "%Y-%m-%dT%H:%M:%S", &tm);
	check(k > 0);
	snprintf(b + w + k, 128 - (size_t)w - k, ".%03dZ",
		(int)(ms - (int64_t)t * 1000));
	return b;
}

static void
describe_circle(struct am_store *s, struct describe *d)
{
	struct am_circle_info *ci;
	struct am_member *m;
	size_t nci, nm;
	char hex[65];
	uint8_t ci_genesis[32] = { 0 };
	check_rc(am_state_circles(s, NULL, &ci, &nci), AM_OK);
	sv_hex(d->c->circle, 32, hex);
	for (size_t i = 0; i < nci; i++)
		if (memcmp(ci[i].id, d->c->circle, 32) == 0) {
			sv_printf(d->out, "circle %s creator %s genesis %s", hex,
				who(d, ci[i].creator), ref(d, ci[i].genesis));
			memcpy(ci_genesis, ci[i].genesis, 32);
		}
	am_state_circles_free(&ci, nci);
	int rc = am_state_members(s, d->c->circle, &m, &nm);
	if (rc == AM_ERR_NOT_FOUND) {
		sv_printf(d->out, "circle %s no-genesis", hex);
		return;
	}
	check_rc(rc, AM_OK);
	char *cname;
	uint8_t centry[32];
	check_rc(am_state_circle_name(s, d->c->circle, &cname, centry), AM_OK);
	bool from_genesis = true;
	for (size_t i = 0; i < 32; i++)
		from_genesis = from_genesis && centry[i] == ci_genesis[i];
	if (!from_genesis)
		sv_printf(d->out, "name %s by %s", cname, ref(d, centry));
	free(cname);
	for (size_t i = 0; i < nm; i++) {
		const char *via = m[i].creator ? "creator" : "via";
		char gone[128] = "";
		if (m[i].status == AM_MEMBER_DEPARTED &&
		    m[i].departure_kind == AM_KIND_SUCCESSION)
			snprintf(gone, sizeof gone, " replaced %s by %s",
				ref(d, m[i].departure), who(d, m[i].heir));
		else if (m[i].status == AM_MEMBER_DEPARTED)
			snprintf(gone, sizeof gone, " %s %s",
				NAME(m[i].departure_kind - AM_KIND_LEAVE, "left", "removed"),
				ref(d, m[i].departure));
		sv_printf(d->out, "member %s %s %s %s%s%s%s", who(d, m[i].id),
			NAME(m[i].role, "member", "witness"),
			NAME(m[i].status, NULL, "joined", "pending", "departed"), via,
			m[i].creator ? "" : " ", m[i].creator ? "" : ref(d, m[i].proposal),
			gone);
	}
	free(m);
}

static void
describe_marks(struct describe *d, const struct am_mark *m, uint32_t n)
{
	for (uint32_t i = 0; i < n; i++)
		sv_printf(d->out, "    mark %s %s %s", who(d, m[i].id),
			NAME(m[i].kind, NULL, "confirmed", "disputed"),
			ref(d, m[i].entry));
}

static void
describe_versions(struct am_store *s, struct describe *d, const uint8_t *id)
{
	struct am_version *v;
	size_t nv;
	check_rc(am_state_versions(s, id, &v, &nv), AM_OK);
	for (size_t i = 0; i < nv; i++) {
		sv_printf(d->out, "  version %s depth %u %s", ref(d, v[i].hash),
			v[i].depth, NAME(v[i].status, NULL, "pending", "in-force",
			"superseded", "declined", "passed-over"));
		/* its parties, then the others whose acceptance it needs */
		for (uint32_t k = 0; k < v[i].nsigs + v[i].nothers; k++) {
			const struct am_signature *g = k < v[i].nsigs ? &v[i].sigs[k] :
				&v[i].others[k - v[i].nsigs];
			char before[64] = "";
			if (g->was_declined)
				snprintf(before, sizeof before, " after-decline %s",
					ref(d, g->declined));
			sv_printf(d->out, "    %s %s %s %s%s",
				k < v[i].nsigs ? "party" : "needs", who(d, g->id),
				NAME(g->position, "none", "accepted", "declined"),
				g->position == AM_POS_NONE ? "-" : ref(d, g->entry), before);
		}
		if (v[i].withdrawn)
			sv_printf(d->out, "    withdrawn %s", ref(d, v[i].withdrawal));
	}
	am_state_versions_free(&v, nv);
}

static void
describe_checkins(struct am_store *s, struct describe *d, const uint8_t *id)
{
	struct am_checkin *ci;
	size_t n;
	check_rc(am_state_checkins(s, id, &ci, &n), AM_OK);
	for (size_t i = 0; i < n; i++) {
		char corrects[96] = "";
		if (ci[i].correction)
			snprintf(corrects, sizeof corrects, " corrects %s",
				ref(d, ci[i].corrects));
		if (memcmp(ci[i].signer, ci[i].author, 32) != 0)
			snprintf(corrects + strlen(corrects), sizeof corrects -
				strlen(corrects), " signed %s", who(d, ci[i].signer));
		sv_printf(d->out, "  checkin %s by %s period %s %s %s %s %s%s",
			ref(d, ci[i].hash), who(d, ci[i].author), ci[i].period,
			NAME(ci[i].status, NULL, "kept", "partial", "missed"),
			ci[i].verified ? "verified" : "unverified",
			ci[i].disputed ? "disputed" : "undisputed",
			ci[i].counts ? "counts" : "not-counted", corrects);
		describe_marks(d, ci[i].marks, ci[i].nmarks);
		for (uint32_t k = 0; k < ci[i].nanswers; k++)
			sv_printf(d->out, "    answer %s %s %s",
				who(d, ci[i].answers[k].id),
				NAME(ci[i].answers[k].kind, NULL, "confirmed", "disputed"),
				ref(d, ci[i].answers[k].entry));
	}
	am_state_checkins_free(&ci, n);
}

static int
agreement_cmp(const void *a, const void *b)
{
	const struct am_agreement *x = a, *y = b;
	return memcmp(x->id, y->id, 32);
}

static void
describe_agreements(struct am_store *s, struct describe *d)
{
	struct am_agreement *ag;
	size_t n;
	/* no clock: an end by notice is "ending", with its date */
	check_rc(am_state_agreements(s, d->c->circle, INT64_MIN, &ag, &n), AM_OK);
	if (n > 0)
		qsort(ag, n, sizeof *ag, agreement_cmp);
	for (size_t i = 0; i < n; i++) {
		const struct am_agreement *a = &ag[i];
		sv_printf(d->out, "agreement %s %s current %s newest %s", ref(d, a->id),
			NAME(a->status, NULL, "proposed", "in-force", "declined",
			"ending", "ended"),
			a->has_current ? ref(d, a->current) : "-", ref(d, a->newest));
		if (a->has_end)
			sv_printf(d->out, "  end %s by %s %s at %s%s", ref(d, a->end),
				who(d, a->ended_by), !a->in_force_ever ? "withdrawal" :
				a->end_mutual ? "mutual" : "notice", when(d, a->end_at),
				a->end_kind == AM_KIND_LEAVE ? " leave" :
				a->end_kind == AM_KIND_REMOVE ? " remove" : "");
		describe_versions(s, d, a->id);
		describe_checkins(s, d, a->id);
	}
	am_state_agreements_free(&ag, n);
}

static void
describe_statements(struct am_store *s, struct describe *d)
{
	struct am_statement *st;
	size_t n;
	check_rc(am_state_statements(s, d->c->circle, NULL, &st, &n), AM_OK);
	for (size_t i = 0; i < n; i++) {
		sv_printf(d->out, "statement %s by %s about %s", ref(d, st[i].hash),
			who(d, st[i].author), st[i].has_about ? ref(d, st[i].about) : "-");
		describe_marks(d, st[i].marks, st[i].nmarks);
	}
	am_state_statements_free(&st, n);
}

static void
describe_names(struct am_store *s, struct describe *d)
{
	struct am_name *v;
	size_t n;
	int rc = am_state_names(s, d->c->circle, &v, &n);
	check(rc == AM_OK || rc == AM_ERR_NOT_FOUND);
	for (size_t i = 0; i < n; i++)
		sv_printf(d->out, "name %s %s %s", who(d, v[i].id), ref(d, v[i].entry),
			v[i].name);
	am_state_names_free(&v, n);
}

static void
describe_ignored(struct am_store *s, struct describe *d)
{
	struct am_violation *v;
	size_t n;
	char rb[16];
	check_rc(am_state_violations(s, d->c->circle, &v, &n), AM_OK);
	for (size_t i = 0; i < n; i++)
		sv_printf(d->out, "ignored %s %llu %s", who(d, v[i].author),
			(unsigned long long)v[i].seq, sv_rule_name(v[i].rule, rb));
	free(v);
}

void
sv_describe(struct am_store *s, const struct sv_case *c, struct sv_text *out)
{
	struct describe *d = calloc(1, sizeof *d);
	check(d != NULL);
	d->c = c;
	d->out = out;
	refs_make(c, &d->r);
	describe_circle(s, d);
	describe_agreements(s, d);
	describe_statements(s, d);
	describe_names(s, d);
	describe_ignored(s, d);
	free(d);
}
