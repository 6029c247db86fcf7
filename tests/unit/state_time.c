/*
 * Claimed times as the state reads them (protocol/state.md, "Claimed
 * times", "Ends", "Check-ins" rule 5), each test an attack by a member
 * whose client signs any time it likes: entries are appended with
 * am_store_append, which checks nothing, at the times the attacker
 * chose. Honest answers go through the writer's check (fx_act).
 */
#include <stdlib.h>
#include <string.h>

#include "amends/state.h"
#include "fixture.h"
#include "test.h"

#define DAY (86400 * INT64_C(1000))
#define T_2025 INT64_C(1735689600000)        /* 2025-01-01T00:00Z */
#define T_FORCE INT64_C(1796601600000)       /* 2026-12-07T00:00Z */
#define T_2030 INT64_C(1893456000000)        /* 2030-01-01T00:00Z */
#define T_2099 INT64_C(4070908800000)        /* 2099-01-01T00:00Z */
#define T_1990 INT64_C(631152000000)         /* 1990-01-01T00:00Z */
#define T_9999 INT64_C(253402214400000)      /* 9999-12-31T00:00Z */

static struct am_identity *sam, *alex;

struct world {
	struct am_store *s;
	char path[FX_PATH_MAX];
	uint8_t circle[32];
	uint8_t ag[32];              /* Sam's agreement with Alex */
};

/* Appends b to who's feed at time, unchecked, as a hostile client does. */
static void
raw_put(struct world *w, struct am_identity *who, struct am_body b,
	int64_t time, uint8_t *hash)
{
	check_rc(am_store_append(w->s, who, w->circle, time, &b, hash, NULL), AM_OK);
}

/* Sam and Alex in a circle made before `at`; Sam proposes an agreement
 * (notice_days of notice) at `at`, and Alex signs it at `at` too. */
static void
begin(struct world *w, int64_t at, uint64_t notice_days, bool signed_by_alex)
{
	w->s = fx_store_new(w->path);
	fx_genesis(w->s, sam, "us", at - 10 * DAY, w->circle);
	fx_admit(w->s, w->circle, sam, alex, at - 9 * DAY, at - 9 * DAY);
	struct am_body b = fx_evening_checkin("Evening check-in",
		am_identity_public(sam), am_identity_public(alex));
	b.terms.notice = notice_days * 86400;
	fx_act(w->s, sam, w->circle, &b, at, w->ag);
	if (signed_by_alex) {
		b = fx_body(AM_KIND_ACCEPT, w->ag);
		fx_act(w->s, alex, w->circle, &b, at, NULL);
	}
}

static void
finish(struct world *w)
{
	uint8_t d1[32], d2[32];
	check_rc(am_state_digest(w->s, w->circle, d1), AM_OK);
	check_rc(am_state_refold(w->s, w->circle, d2), AM_OK);
	check(memcmp(d1, d2, 32) == 0);
	am_store_close(&w->s);
	check(fx_store_unlink(w->path) == 0);
}

static struct am_agreement
agreement_at(struct world *w, int64_t now)
{
	struct am_agreement a;
	check_rc(am_state_agreement(w->s, w->ag, now, &a), AM_OK);
	return a;
}

/* The first attack: Alex signs on 2026-12-07, then ends the
 * agreement with an END dated 2025-01-01. It used to read "ended
 * 2025-01-31", before it was in force; it waits its 30 days from Alex's
 * own accept. */
static void
test_end_backdated(void)
{
	struct world w;
	begin(&w, T_FORCE, 30, true);
	raw_put(&w, alex, fx_body(AM_KIND_END, w.ag), T_2025, NULL);
	struct am_agreement a = agreement_at(&w, T_FORCE + DAY);
	check(a.has_end && !a.end_mutual);
	check(a.end_at == T_FORCE + 30 * DAY);
	check(a.status == AM_AGREEMENT_ENDING);
	am_state_agreement_finish(&a);
	finish(&w);
}

/* The END's author wrote the terms itself: its own proposal's time is
 * when it signed them. */
static void
test_end_backdated_by_proposer(void)
{
	struct world w;
	begin(&w, T_FORCE, 30, true);
	raw_put(&w, sam, fx_body(AM_KIND_END, w.ag), T_2025, NULL);
	struct am_agreement a = agreement_at(&w, T_FORCE);
	check(a.has_end && a.end_at == T_FORCE + 30 * DAY);
	am_state_agreement_finish(&a);
	finish(&w);
}

/* An END is not dated before its author's previous entry: Alex writes a
 * statement dated 2030 and then an END dated 2027. */
static void
test_end_after_previous_entry(void)
{
	struct world w;
	begin(&w, T_FORCE, 7, true);
	struct am_body st = { .kind = AM_KIND_STATEMENT, .note = am_str_c("ok") };
	raw_put(&w, alex, st, T_2030, NULL);
	raw_put(&w, alex, fx_body(AM_KIND_END, w.ag), T_FORCE + 100 * DAY, NULL);
	struct am_agreement a = agreement_at(&w, T_FORCE);
	check(a.has_end && a.end_at == T_2030 + 7 * DAY);
	am_state_agreement_finish(&a);
	finish(&w);
}

/* Never another party's time: Alex's accept dated 2099 does not hold
 * Sam's END until 2099; Sam's END, backdated to 2025, waits from his own
 * proposal. */
static void
test_end_ignores_others_times(void)
{
	struct world w;
	begin(&w, T_FORCE, 30, false);
	raw_put(&w, alex, fx_body(AM_KIND_ACCEPT, w.ag), T_2099, NULL);
	raw_put(&w, sam, fx_body(AM_KIND_END, w.ag), T_2025, NULL);
	struct am_agreement a = agreement_at(&w, T_FORCE + 40 * DAY);
	check(a.has_end && a.end_at == T_FORCE + 30 * DAY);
	check(a.status == AM_AGREEMENT_ENDED);
	am_state_agreement_finish(&a);
	finish(&w);
}

/* An END dated near INT64_MAX used to wrap round to year -292 million
 * ("ended on -292275045-05-14", and a signed overflow under UBSan); it
 * is outside the bounds, so ignored, and the agreement stays in force.
 * Its author's later, honest END counts from the times it signed,
 * never from the ignored one. */
static void
test_end_near_int64_max(void)
{
	struct world w;
	uint8_t e[32];
	begin(&w, T_FORCE, 30, true);
	raw_put(&w, alex, fx_body(AM_KIND_END, w.ag), INT64_MAX - 5, e);
	struct am_agreement a = agreement_at(&w, T_FORCE + DAY);
	check(!a.has_end && a.status == AM_AGREEMENT_IN_FORCE);
	am_state_agreement_finish(&a);
	check(fx_has_violation(w.s, w.circle, e, AM_RULE_TIME));
	raw_put(&w, alex, fx_body(AM_KIND_END, w.ag), T_FORCE + DAY, NULL);
	a = agreement_at(&w, T_FORCE + DAY);
	check(a.has_end && a.end_at == T_FORCE + 31 * DAY);
	am_state_agreement_finish(&a);
	raw_put(&w, sam, fx_body(AM_KIND_END, w.ag), INT64_MIN + 5, e);
	check(fx_has_violation(w.s, w.circle, e, AM_RULE_TIME));
	finish(&w);
}

/* One PROPOSE or ACCEPT at year 9999 used to stop every reader of the
 * store; now it is stored and ignored (time): the agreement signed at
 * 9999 is not in force, and the agreements list still reads. */
static void
test_year_9999(void)
{
	struct world w;
	uint8_t p[32], x[32];
	begin(&w, T_FORCE, 30, true);
	struct am_body b = fx_evening_checkin("Forever",
		am_identity_public(alex), am_identity_public(sam));
	raw_put(&w, alex, b, T_9999, p);
	raw_put(&w, sam, fx_body(AM_KIND_ACCEPT, w.ag), T_9999, x);
	check(fx_has_violation(w.s, w.circle, p, AM_RULE_TIME));
	check(fx_has_violation(w.s, w.circle, x, AM_RULE_TIME));
	struct am_agreement *list;
	size_t n;
	check_rc(am_state_agreements(w.s, w.circle, T_FORCE, &list, &n), AM_OK);
	check(n == 1 && memcmp(list[0].id, w.ag, 32) == 0);
	check(list[0].status == AM_AGREEMENT_IN_FORCE);
	am_state_agreements_free(&list, n);
	check_rc(am_state_agreement(w.s, p, T_FORCE, &(struct am_agreement){ 0 }),
		AM_ERR_NOT_FOUND);
	finish(&w);
}

/* Statements are data: one dated 2030 and one dated before the circle
 * existed count (readers mark them); one dated 1990 is outside the
 * bounds and ignored. A confirmation dated before the check-in it
 * confirms counts too. */
static void
test_times_are_data(void)
{
	struct world w;
	uint8_t s1[32], s2[32], s3[32], c[32];
	begin(&w, T_FORCE, 30, true);
	struct am_body st = { .kind = AM_KIND_STATEMENT, .note = am_str_c("hi") };
	raw_put(&w, alex, st, T_2030, s1);
	raw_put(&w, alex, st, T_FORCE - 100 * DAY, s2);
	raw_put(&w, alex, st, T_1990, s3);
	struct am_statement *v;
	size_t n;
	check_rc(am_state_statements(w.s, w.circle, NULL, &v, &n), AM_OK);
	check(n == 2);
	am_state_statements_free(&v, n);
	check(fx_has_violation(w.s, w.circle, s3, AM_RULE_TIME));
	struct am_body ci = { .kind = AM_KIND_CHECKIN, .period = am_str_c("2026-12-08"),
		.status = AM_KEPT };
	memcpy(ci.target, w.ag, 32);
	raw_put(&w, sam, ci, T_FORCE + DAY, c);
	raw_put(&w, alex, fx_body(AM_KIND_CONFIRM, c), T_FORCE - DAY, NULL);
	struct am_checkin *cs;
	check_rc(am_state_checkins(w.s, w.ag, &cs, &n), AM_OK);
	check(n == 1 && cs[0].verified);
	am_state_checkins_free(&cs, n);
	finish(&w);
}

static void
checkin(struct world *w, const char *period, int64_t at, uint8_t *hash)
{
	struct am_body b = { .kind = AM_KIND_CHECKIN, .period = am_str_c(period),
		.status = AM_KEPT };
	memcpy(b.target, w->ag, 32);
	raw_put(w, sam, b, at, hash);
}

/* A check-in for a period after the agreement ended used to count; and
 * one before the terms' `from`. Both are ignored (period); the period in
 * which the end falls still counts. The writer refuses the late one. */
static void
test_period_after_end(void)
{
	struct world w;
	uint8_t late[32], last[32];
	begin(&w, T_FORCE, 7, true);
	raw_put(&w, alex, fx_body(AM_KIND_END, w.ag), T_FORCE + DAY, NULL);
	/* the end takes effect on 2026-12-15 */
	checkin(&w, "2026-12-15", T_FORCE + 8 * DAY, last);
	checkin(&w, "2026-12-16", T_FORCE + 9 * DAY, late);
	check(fx_has_violation(w.s, w.circle, late, AM_RULE_PERIOD));
	check(!fx_has_violation(w.s, w.circle, last, AM_RULE_PERIOD));
	struct am_checkin *cs;
	size_t n;
	check_rc(am_state_checkins(w.s, w.ag, &cs, &n), AM_OK);
	check(n == 1 && memcmp(cs[0].hash, last, 32) == 0);
	am_state_checkins_free(&cs, n);
	char why[200];
	struct am_body b = { .kind = AM_KIND_CHECKIN, .period = am_str_c("2026-12-20"),
		.status = AM_KEPT };
	memcpy(b.target, w.ag, 32);
	check_rc(am_state_check(w.s, w.circle, am_identity_public(sam), &b, why,
		sizeof why), AM_ERR_RULE);
	check(strstr(why, "2026-12-20") != NULL && strstr(why, "end") != NULL);
	finish(&w);
}

static void
test_period_outside_terms(void)
{
	struct world w;
	uint8_t before[32], after[32], week[32], in[32];
	w.s = fx_store_new(w.path);
	fx_genesis(w.s, sam, "us", T_FORCE - 10 * DAY, w.circle);
	fx_admit(w.s, w.circle, sam, alex, T_FORCE - 9 * DAY, T_FORCE - 9 * DAY);
	struct am_body b = fx_evening_checkin("Evening check-in",
		am_identity_public(sam), am_identity_public(alex));
	b.terms.from = am_str_c("2026-12-07");
	b.terms.until = am_str_c("2026-12-31");
	fx_act(w.s, sam, w.circle, &b, T_FORCE, w.ag);
	b = fx_body(AM_KIND_ACCEPT, w.ag);
	fx_act(w.s, alex, w.circle, &b, T_FORCE, NULL);
	checkin(&w, "2026-12-06", T_FORCE, before);
	checkin(&w, "2027-01-01", T_FORCE, after);
	checkin(&w, "2026-W49", T_FORCE, week);     /* 2026-11-30 to 12-06 */
	checkin(&w, "2026-12-07", T_FORCE, in);
	check(fx_has_violation(w.s, w.circle, before, AM_RULE_PERIOD));
	check(fx_has_violation(w.s, w.circle, after, AM_RULE_PERIOD));
	check(fx_has_violation(w.s, w.circle, week, AM_RULE_PERIOD));
	check(!fx_has_violation(w.s, w.circle, in, AM_RULE_PERIOD));
	check(strcmp(am_rule_name(AM_RULE_PERIOD), "period") == 0);
	check(strcmp(am_rule_name(AM_RULE_TIME), "time") == 0);
	finish(&w);
}

/* What the state ignores, a writer refuses: a clock outside the bounds. */
static void
test_writer_time(void)
{
	char why[200];
	check_rc(am_state_check_time(T_FORCE, why, sizeof why), AM_OK);
	check_rc(am_state_check_time(AM_TIME_MIN, why, sizeof why), AM_OK);
	check_rc(am_state_check_time(AM_TIME_MAX - 1, NULL, 0), AM_OK);
	check_rc(am_state_check_time(AM_TIME_MAX, why, sizeof why), AM_ERR_RULE);
	check(strstr(why, "2200") != NULL);
	check_rc(am_state_check_time(T_1990, why, sizeof why), AM_ERR_RULE);
	check(strstr(why, "2000") != NULL);
	check_rc(am_state_check_time(INT64_MIN, NULL, 0), AM_ERR_RULE);
}

/* A genesis dated out of the bounds creates nothing, and every entry of
 * its circle is still stored (ingest never looks at times). */
static void
test_genesis_out_of_bounds(void)
{
	struct world w;
	uint8_t g[32];
	w.s = fx_store_new(w.path);
	struct am_body b = { .kind = AM_KIND_GENESIS, .name = am_str_c("late") };
	memset(b.nonce, 7, sizeof b.nonce);
	memset(w.circle, 0, sizeof w.circle);
	check_rc(am_store_append(w.s, sam, w.circle, T_9999, &b, g, NULL), AM_OK);
	am_circle_id(am_identity_public(sam), b.nonce, w.circle);
	struct am_body st = { .kind = AM_KIND_STATEMENT, .note = am_str_c("hi") };
	raw_put(&w, sam, st, T_FORCE, NULL);
	bool held = false;
	check_rc(am_state_holds_circle(w.s, w.circle, &held), AM_OK);
	check(held);
	check(fx_has_violation(w.s, w.circle, g, AM_RULE_TIME));
	struct am_circle_info *c;
	size_t n;
	check_rc(am_state_circles(w.s, NULL, &c, &n), AM_OK);
	check(n == 0);
	am_state_circles_free(&c, n);
	am_store_close(&w.s);
	check(fx_store_unlink(w.path) == 0);
}

int
main(void)
{
	fx_dir_make("state-time");
	sam = fx_identity_seeded(1);
	alex = fx_identity_seeded(2);
	test_end_backdated();
	test_end_backdated_by_proposer();
	test_end_after_previous_entry();
	test_end_ignores_others_times();
	test_end_near_int64_max();
	test_year_9999();
	test_times_are_data();
	test_period_after_end();
	test_period_outside_terms();
	test_writer_time();
	test_genesis_out_of_bounds();
	am_identity_destroy(&sam);
	am_identity_destroy(&alex);
	fx_dir_remove();
	return 0;
}
