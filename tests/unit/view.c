/*
 * Tests of the view module: an agreement read through a view comes from
 * one snapshot. Another connection commits a check-in and an amendment
 * between two reads of the same view, and the view still shows the
 * agreement as it was when it opened, check-ins and versions alike; the
 * next view shows the new state, with the correction beside what it
 * corrects.
 */
#include <string.h>

#include <sodium.h>

#include "amends/view.h"
#include "fixture.h"
#include "test.h"

static struct am_identity *sam, *alex;
static const uint8_t *SAM, *ALEX;
static int64_t clock_ms = 1709280000000;    /* 2024-03-01 08:00 UTC */

static void
act(struct am_store *s, struct am_identity *id, const uint8_t *circle,
	const struct am_body *b, uint8_t *hash)
{
	clock_ms += 60000;
	fx_act(s, id, circle, b, clock_ms, hash);
}

static void
read_agreement(struct am_view *v, const uint8_t *ag, struct am_agreement_view *x)
{
	int rc = am_view_agreement(v, ag, clock_ms, true, x);
	check(rc == AM_OK || rc == AM_ERR_ZONE);
}

static void
test_one_snapshot(void)
{
	char path[FX_PATH_MAX];
	struct am_store *s = fx_store_open("view.db"), *other;
	uint8_t circle[32], ag[32], c1[32], v1[32];
	struct am_view *view, *second;
	struct am_agreement_view x;

	fx_genesis(s, sam, "us", clock_ms, circle);
	fx_admit(s, circle, sam, alex, clock_ms + 1000, clock_ms + 2000);
	struct am_body p = fx_evening_checkin("Evening check-in", SAM, ALEX);
	act(s, sam, circle, &p, ag);
	struct am_body acc = fx_body(AM_KIND_ACCEPT, ag);
	act(s, alex, circle, &acc, NULL);
	struct am_body ci = fx_body(AM_KIND_CHECKIN, ag);
	ci.period = am_str_c("2024-03-01");
	ci.status = AM_MISSED;
	act(s, sam, circle, &ci, c1);

	fx_path("view.db", path);
	check_rc(am_store_open(path, &other), AM_OK);

	check_rc(am_view_open(s, &view), AM_OK);
	/* one snapshot at a time on a connection */
	check_rc(am_view_open(s, &second), AM_ERR_ARG);
	check(second == NULL);
	check(am_view_store(view) == s);
	read_agreement(view, ag, &x);
	check(x.ncheckins == 1 && x.nversions == 1 && x.current != NULL &&
		memcmp(x.current->hash, ag, 32) == 0);
	am_agreement_view_finish(&x);

	/* another connection commits a correction and an amendment that
	 * both sign */
	ci.status = AM_KEPT;
	act(other, sam, circle, &ci, NULL);
	struct am_body am = p;
	am.kind = AM_KIND_AMEND;
	memcpy(am.target, ag, 32);
	memcpy(am.base, ag, 32);
	am.terms.title = am_str_c("Evening call");
	act(other, sam, circle, &am, v1);
	acc = fx_body(AM_KIND_ACCEPT, v1);
	act(other, alex, circle, &acc, NULL);

	/* the view still reads the state it opened on, through any reader */
	read_agreement(view, ag, &x);
	check(x.ncheckins == 1 && x.nversions == 1 &&
		memcmp(x.current->hash, ag, 32) == 0 &&
		strcmp(x.a.title, "Evening check-in") == 0);
	am_agreement_view_finish(&x);
	struct am_checkin *v;
	size_t n;
	check_rc(am_state_checkins(s, ag, &v, &n), AM_OK);
	check(n == 1);
	am_state_checkins_free(&v, n);
	am_view_close(&view);
	check(view == NULL);
	am_view_close(&view);       /* NULL: nothing */

	/* a new view sees both commits together */
	check_rc(am_view_open(s, &view), AM_OK);
	read_agreement(view, ag, &x);
	am_view_close(&view);
	check(x.ncheckins == 2 && x.nversions == 2 &&
		memcmp(x.current->hash, v1, 32) == 0 &&
		strcmp(x.a.title, "Evening call") == 0);
	/* the correction nobody answered counts; the original stays */
	check(memcmp(x.checkins[0].hash, c1, 32) == 0 && !x.checkins[0].counts);
	check(am_checkins_counting(x.checkins, x.ncheckins, 0) == &x.checkins[1]);
	check(x.checkins[1].correction && x.checkins[1].counts);
	check(am_checkins_open(x.checkins, x.ncheckins, 1) &&
		!am_checkins_open(x.checkins, x.ncheckins, 0));
	check(am_agreement_view_is_checker(&x, SAM) &&
		!am_agreement_view_is_checker(&x, ALEX));
	check(am_agreement_view_is_party(&x, ALEX));
	am_agreement_view_finish(&x);

	/* a view must be closed before writing on its connection */
	check_rc(am_view_open(s, &view), AM_OK);
	am_view_close(&view);
	act(s, sam, circle, &ci, NULL);

	am_store_close(&other);
	am_store_close(&s);
}

/*
 * Claimed times at the edges (issue 16): agreements proposed, accepted and
 * checked in at the first and last instants the state reads, and in 2100,
 * read through a view with adherence whatever the reader's clock (INT64's
 * ends included); proposals at INT64_MIN, year 9999 and INT64_MAX are
 * ignored by the state (rule `time`) and simply not there; the one
 * proposed at an ordinary time is unaffected.
 */
static void
test_extreme_times(void)
{
	struct am_store *s = fx_store_open("extreme.db");
	uint8_t circle[32], good[32], ag[3][32];
	const int64_t times[3] = { AM_TIME_MIN, INT64_C(4102444800000),
		AM_TIME_MAX - 1 };
	const int64_t outside[3] = { INT64_MIN, INT64_C(253402300799000),
		INT64_MAX };
	const int64_t clocks[4] = { INT64_MIN, -1, 1800000000000LL, INT64_MAX };
	struct am_agreement_view x;
	struct am_adherence ad;
	struct am_view *view;

	fx_genesis(s, sam, "us", clock_ms, circle);
	fx_admit(s, circle, sam, alex, clock_ms + 1000, clock_ms + 2000);
	struct am_body p = fx_evening_checkin("Good", SAM, ALEX);
	act(s, sam, circle, &p, good);
	struct am_body acc = fx_body(AM_KIND_ACCEPT, good);
	act(s, alex, circle, &acc, NULL);
	for (int i = 0; i < 3; i++) {
		struct am_body b = fx_evening_checkin("Bad", SAM, ALEX);
		fx_act(s, sam, circle, &b, times[i], ag[i]);
		acc = fx_body(AM_KIND_ACCEPT, ag[i]);
		fx_act(s, alex, circle, &acc, times[i], NULL);
		struct am_body ci = fx_body(AM_KIND_CHECKIN, ag[i]);
		ci.period = am_str_c("2026-03-02");
		ci.status = AM_KEPT;
		fx_act(s, sam, circle, &ci, times[i], NULL);
	}
	uint8_t out[3][32];
	for (int i = 0; i < 3; i++) {
		struct am_body b = fx_evening_checkin("Outside", SAM, ALEX);
		check_rc(am_store_append(s, sam, circle, outside[i], &b, out[i], NULL),
			AM_OK);
	}
	check_rc(am_view_open(s, &view), AM_OK);
	for (int i = 0; i < 3; i++)
		check_rc(am_view_agreement(view, out[i], clock_ms, true, &x),
			AM_ERR_NOT_FOUND);
	for (int c = 0; c < 4; c++) {
		for (int i = 0; i < 3; i++) {
			int rc = am_view_agreement(view, ag[i], clocks[c], true, &x);
			check(rc == AM_OK || rc == AM_ERR_ZONE);
			if (rc == AM_OK) {
				check_rc(am_agreement_view_adherence(&x, NULL, &ad), AM_OK);
				check_rc(am_agreement_view_adherence(&x, SAM, &ad), AM_OK);
			}
			am_agreement_view_finish(&x);
		}
		int rc = am_view_agreement(view, good, clocks[c], true, &x);
		check(rc == AM_OK || rc == AM_ERR_ZONE);
		if (rc == AM_OK)
			check_rc(am_agreement_view_adherence(&x, NULL, &ad), AM_OK);
		am_agreement_view_finish(&x);
	}
	am_view_close(&view);
	am_store_close(&s);
}

/* Marks of claimed times: any int64 is taken, the tolerance is exact. */
static void
test_dated(void)
{
	const int64_t now = 1800000000000LL, tol = AM_VIEW_FUTURE_MS;
	check(am_view_dated(now, INT64_MIN, now) == 0);
	check(am_view_dated(now + tol, INT64_MIN, now) == 0);
	check(am_view_dated(now + tol + 1, INT64_MIN, now) == AM_DATED_FUTURE);
	check(am_view_dated(now - 1, now, now) == AM_DATED_BEFORE);
	check(am_view_dated(now, now, now) == 0);
	check(am_view_dated(INT64_MAX, INT64_MIN, now) == AM_DATED_FUTURE);
	check(am_view_dated(INT64_MIN, INT64_MIN, now) == 0);
	check(am_view_dated(INT64_MIN, now, now) == AM_DATED_BEFORE);
	check(am_view_dated(now + tol + 1, INT64_MAX, now) ==
		(AM_DATED_BEFORE | AM_DATED_FUTURE));
	/* a reader's clock at either end: no overflow */
	check(am_view_dated(INT64_MAX, INT64_MIN, INT64_MAX) == 0);
	check(am_view_dated(INT64_MAX, INT64_MIN, INT64_MIN) == AM_DATED_FUTURE);
	check(am_view_dated(INT64_MIN + tol, INT64_MIN, INT64_MIN) == 0);
	check(am_view_dated(0, INT64_MIN, INT64_MIN) == AM_DATED_FUTURE);
}

int
main(void)
{
	check(sodium_init() >= 0);
	fx_dir_make("view");
	sam = fx_identity_seeded(1);
	alex = fx_identity_seeded(2);
	SAM = am_identity_public(sam);
	ALEX = am_identity_public(alex);
	test_one_snapshot();
	test_dated();
	test_extreme_times();
	am_identity_destroy(&sam);
	am_identity_destroy(&alex);
	fx_dir_remove();
	printf("view: ok\n");
	return 0;
}
