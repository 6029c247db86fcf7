/*
 * Tests of the fact table's layout (st_facts, src/state.c): the 8-byte
 * hash keys keep the hashes' order, prefix lookups find objects whichever
 * side of the top bit their hash starts, the state read back carries the
 * fields that only the raw entries hold, the views st_objects and st_acts
 * show the facts to other readers, and a store written in the older layout
 * (st_objects and st_acts as tables, with copies of the bodies) migrates
 * to the same state and the same digest.
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>
#include <sqlite3.h>

#include "amends/state.h"
#include "state.h"
#include "fixture.h"
#include "store_impl.h"
#include "test.h"

static struct am_identity *sam, *alex;
static const uint8_t *SAM, *ALEX;
static int64_t clock_ms = 1700000000000;

/* What the reading side says about one circle, to compare before and
 * after a migration. */
struct seen {
	uint8_t digest[32];
	uint8_t state_digest[32];
	size_t nagreements, nstatements, ncheckins, nviolations;
	char title[64], statement[64], note[64], period[AM_MAX_PERIOD + 1];
	uint32_t status, nmarks;
	int64_t checkin_time;
};

static void
put(struct am_store *s, struct am_identity *id, const uint8_t *circle,
	const struct am_body *b, uint8_t *hash)
{
	clock_ms += 60000;
	fx_act(s, id, circle, b, clock_ms, hash);
}

static struct am_body
body(uint32_t kind, const uint8_t *target)
{
	struct am_body b = { .kind = kind };
	if (target != NULL) {
		memcpy(b.target, target, 32);
		b.has_target = kind == AM_KIND_STATEMENT;
	}
	return b;
}

/* A circle of Sam and Alex with an agreement, a check-in confirmed, two
 * statements (one about the agreement) and an answer to one. *ag is the
 * agreement, *ci the check-in. */
static void
fill(struct am_store *s, uint8_t circle[32], uint8_t ag[32], uint8_t ci[32])
{
	uint8_t p[32], st[32];
	struct am_body g = { .kind = AM_KIND_GENESIS, .name = am_str_c("us two") };
	randombytes_buf(g.nonce, 32);
	put(s, sam, NULL, &g, NULL);
	am_circle_id(SAM, g.nonce, circle);
	struct am_body m = body(AM_KIND_MEMBER, ALEX);
	m.role = AM_ROLE_MEMBER;
	put(s, sam, circle, &m, p);
	struct am_body a = body(AM_KIND_ACCEPT, p);
	put(s, alex, circle, &a, NULL);

	struct am_body t = fx_evening_checkin("Evening check-in", SAM, ALEX);
	put(s, sam, circle, &t, ag);
	a = body(AM_KIND_ACCEPT, ag);
	put(s, alex, circle, &a, NULL);

	struct am_body c = body(AM_KIND_CHECKIN, ag);
	c.period = am_str_c("2024-03-01");
	c.status = AM_PARTIAL;
	c.note = am_str_c("late, but called");
	put(s, sam, circle, &c, ci);
	struct am_body cf = body(AM_KIND_CONFIRM, ci);
	cf.note = am_str_c("yes");
	put(s, alex, circle, &cf, NULL);

	struct am_body say = body(AM_KIND_STATEMENT, NULL);
	say.note = am_str_c("I am sorry about Tuesday.");
	put(s, sam, circle, &say, st);
	say = body(AM_KIND_STATEMENT, ag);
	say.note = am_str_c("This one helps.");
	put(s, alex, circle, &say, NULL);
	cf = body(AM_KIND_CONFIRM, st);
	put(s, alex, circle, &cf, NULL);
}

static void
look(struct am_store *s, const uint8_t *circle, const uint8_t *ag,
	struct seen *w)
{
	struct am_agreement *as;
	struct am_statement *ss;
	struct am_checkin *cs;
	struct am_violation *vs;
	size_t n;

	memset(w, 0, sizeof *w);
	check_rc(am_store_digest(s, circle, w->digest), AM_OK);
	check_rc(am_state_digest(s, circle, w->state_digest), AM_OK);
	check_rc(am_state_agreements(s, circle, clock_ms, &as, &n), AM_OK);
	w->nagreements = n;
	check(n == 1 && as[0].title != NULL);
	snprintf(w->title, sizeof w->title, "%s", as[0].title);
	am_state_agreements_free(&as, n);
	check_rc(am_state_statements(s, circle, NULL, &ss, &n), AM_OK);
	w->nstatements = n;
	check(n == 2 && ss[0].text != NULL);
	snprintf(w->statement, sizeof w->statement, "%s", ss[0].text);
	am_state_statements_free(&ss, n);
	check_rc(am_state_checkins(s, ag, &cs, &n), AM_OK);
	w->ncheckins = n;
	check(n == 1);
	snprintf(w->note, sizeof w->note, "%s", cs[0].note ? cs[0].note : "");
	snprintf(w->period, sizeof w->period, "%s", cs[0].period);
	w->status = cs[0].status;
	w->nmarks = cs[0].nmarks;
	w->checkin_time = cs[0].time;
	am_state_checkins_free(&cs, n);
	check_rc(am_state_violations(s, circle, &vs, &n), AM_OK);
	w->nviolations = n;
	free(vs);
}

/* The 8-byte keys sort as the hashes do, across the top bit. */
static void
test_keys(void)
{
	uint8_t a[32] = { 0 }, b[32] = { 0 };
	check(st_hkey(a) == INT64_MIN);
	memset(a, 0xff, 32);
	check(st_hkey(a) == INT64_MAX);
	for (int i = 0; i < 1000; i++) {
		randombytes_buf(a, 32);
		randombytes_buf(b, 32);
		int d = memcmp(a, b, 8);
		int64_t x = st_hkey(a), y = st_hkey(b);
		check((d < 0) == (x < y) && (d > 0) == (x > y));
	}
}

/* Every prefix of every object hash finds that object, and the fields
 * kept only in the raw entries come back. */
static void
test_read(struct am_store *s, const uint8_t *circle, const uint8_t *ag,
	const uint8_t *ci)
{
	struct seen w;
	look(s, circle, ag, &w);
	check(strcmp(w.title, "Evening check-in") == 0);
	check(strcmp(w.note, "late, but called") == 0);
	check(strcmp(w.period, "2024-03-01") == 0);
	check(w.status == AM_PARTIAL && w.nmarks >= 1);
	check(w.nviolations == 0);

	const uint8_t *objs[2] = { ag, ci };
	for (int k = 0; k < 2; k++) {
		char hex[65], prefix[65];
		uint8_t got[32];
		am_hex(objs[k], 32, hex);
		for (size_t len = 1; len <= 64; len++) {
			memcpy(prefix, hex, len);
			prefix[len] = '\0';
			int rc = am_state_resolve(s, prefix, AM_OBJ_AGREEMENT |
				AM_OBJ_CHECKIN | AM_OBJ_STATEMENT, got);
			/* short prefixes may be shared by another object */
			if (len < 8 && rc == AM_ERR_AMBIGUOUS)
				continue;
			check_rc(rc, AM_OK);
			check(memcmp(got, objs[k], 32) == 0);
		}
		struct am_object_info info;
		check_rc(am_state_lookup(s, objs[k], &info), AM_OK);
		check(info.kind == (k == 0 ? AM_KIND_PROPOSE : AM_KIND_CHECKIN));
		check(memcmp(info.circle, circle, 32) == 0);
		check(memcmp(info.agreement, ag, 32) == 0);
	}
	uint8_t got[32];
	check_rc(am_state_resolve(s, "ffffffffffffffffffffffffffffffffffffffffffff"
		"ffffffffffffffffffff", AM_OBJ_AGREEMENT, got), AM_ERR_NOT_FOUND);
	struct am_object_info info;
	check_rc(am_state_lookup(s, circle, &info), AM_OK);
	check(info.kind == AM_KIND_GENESIS);
}

static int64_t
count(sqlite3 *db, const char *sql)
{
	sqlite3_stmt *st;
	int64_t v = -1;
	check(sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK);
	if (sqlite3_step(st) == SQLITE_ROW)
		v = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return v;
}

static void
exec(sqlite3 *db, const char *sql)
{
	char *err = NULL;
	if (sqlite3_exec(db, sql, NULL, NULL, &err) != SQLITE_OK) {
		fprintf(stderr, "%s: %s\n", sql, err);
		check(0);
	}
}

/* The views show one row per object and per answer, with the entry's
 * hash; deleting through them deletes the facts. */
static void
test_views(const char *path)
{
	sqlite3 *db;
	check(sqlite3_open(path, &db) == SQLITE_OK);
	int64_t facts = count(db, "SELECT count(*) FROM st_facts");
	int64_t objects = count(db, "SELECT count(*) FROM st_objects "
		"WHERE length(hash) = 32");
	int64_t acts = count(db, "SELECT count(*) FROM st_acts "
		"WHERE length(hash) = 32");
	check(objects == 6 && acts == 4 && facts == objects + acts);
	check(count(db, "SELECT count(*) FROM st_objects o JOIN st_acts a "
		"ON a.target = o.hash WHERE o.kind = 2") == 1);
	sqlite3_close(db);
}

/*
 * Rewrites the store at path into the layout before st_facts: st_objects
 * and st_acts as tables, filled from the views (the columns the older
 * layout also had beyond these, copies of body fields, stay empty: the
 * migration does not read them), and user_version back to before the
 * layout migration (LAYOUT_VERSION); the tables of the migrations after it
 * are dropped, so those run again too.
 */
#define LAYOUT_VERSION 5
static void
downgrade(const char *path)
{
	sqlite3 *db;
	check(sqlite3_open(path, &db) == SQLITE_OK);
	int64_t version = count(db, "PRAGMA user_version");
	check(version > LAYOUT_VERSION);
	exec(db, "BEGIN;"
		"DROP TABLE proposed_to;"
		"ALTER TABLE feeds DROP COLUMN bytes;"
		"CREATE TABLE old_objects AS SELECT * FROM st_objects;"
		"CREATE TABLE old_acts AS SELECT * FROM st_acts;"
		"DROP VIEW st_objects; DROP VIEW st_acts; DROP TABLE st_facts;"
		"CREATE TABLE st_objects("
		"  id INTEGER PRIMARY KEY,"
		"  hash BLOB NOT NULL UNIQUE CHECK(length(hash) = 32),"
		"  circle BLOB NOT NULL CHECK(length(circle) = 32),"
		"  author BLOB NOT NULL CHECK(length(author) = 32),"
		"  seq INTEGER NOT NULL, time INTEGER NOT NULL, kind INTEGER NOT NULL,"
		"  ref BLOB, base BLOB, num INTEGER, label TEXT, note TEXT, body BLOB"
		") STRICT;"
		"CREATE INDEX st_objects_kind ON st_objects(circle, kind, author);"
		"CREATE INDEX st_objects_ref ON st_objects(ref, kind) WHERE ref IS NOT NULL;"
		"CREATE TABLE st_acts("
		"  circle BLOB NOT NULL CHECK(length(circle) = 32),"
		"  author BLOB NOT NULL CHECK(length(author) = 32),"
		"  seq INTEGER NOT NULL, hash BLOB NOT NULL CHECK(length(hash) = 32),"
		"  time INTEGER NOT NULL, kind INTEGER NOT NULL, target BLOB, note TEXT,"
		"  PRIMARY KEY(circle, author, seq)"
		") STRICT, WITHOUT ROWID;"
		"CREATE INDEX st_acts_target ON st_acts(target) WHERE target IS NOT NULL;"
		"INSERT INTO st_objects(hash, circle, author, seq, time, kind, ref) "
		"  SELECT hash, circle, author, seq, time, kind, ref FROM old_objects;"
		"INSERT INTO st_acts(circle, author, seq, hash, time, kind, target) "
		"  SELECT circle, author, seq, hash, time, kind, target FROM old_acts;"
		"DROP TABLE old_objects; DROP TABLE old_acts;");
	char sql[64];
	snprintf(sql, sizeof sql, "PRAGMA user_version = %d; COMMIT", LAYOUT_VERSION);
	exec(db, sql);
	check(count(db, "SELECT count(*) FROM sqlite_schema WHERE name = 'st_facts'") == 0);
	sqlite3_close(db);
}

/* The migration that counts each feed's bytes counted those it holds. */
static void
check_bytes(const char *path)
{
	sqlite3 *db;
	check(sqlite3_open(path, &db) == SQLITE_OK);
	check(count(db, "SELECT count(*) FROM feeds") > 0);
	check(count(db, "SELECT count(*) FROM feeds f WHERE f.bytes != "
		"(SELECT sum(length(raw)) FROM entries e WHERE e.feed = f.id)") == 0);
	sqlite3_close(db);
}

/* The keys the migration computed in SQL are st_hkey's. */
static void
check_keys(const char *path)
{
	sqlite3 *db;
	sqlite3_stmt *st;
	size_t n = 0;
	check(sqlite3_open(path, &db) == SQLITE_OK);
	check(sqlite3_prepare_v2(db, "SELECT x.hkey, e.hash FROM st_facts x "
		"JOIN entries e ON e.feed = x.feed AND e.seq = x.seq "
		"WHERE x.hkey IS NOT NULL", -1, &st, NULL) == SQLITE_OK);
	while (sqlite3_step(st) == SQLITE_ROW) {
		check(sqlite3_column_bytes(st, 1) == 32);
		check(sqlite3_column_int64(st, 0) == st_hkey(sqlite3_column_blob(st, 1)));
		n++;
	}
	sqlite3_finalize(st);
	check(n == 6);
	sqlite3_close(db);
}

static void
test_migration(void)
{
	char path[FX_PATH_MAX];
	struct am_store *s;
	uint8_t circle[32], ag[32], ci[32];
	struct seen before, after;

	fx_path("old.db", path);
	check_rc(am_store_open(path, &s), AM_OK);
	fill(s, circle, ag, ci);
	look(s, circle, ag, &before);
	test_read(s, circle, ag, ci);
	am_store_close(&s);
	test_views(path);
	check_bytes(path);

	downgrade(path);
	check_rc(am_store_open(path, &s), AM_OK);
	look(s, circle, ag, &after);
	check(memcmp(&before, &after, sizeof before) == 0);
	test_read(s, circle, ag, ci);
	bool same = false;
	check_rc(am_state_replay(s, circle, &same), AM_OK);
	check(same);
	check_rc(am_store_check(s), AM_OK);
	am_store_close(&s);
	check_keys(path);
	check_bytes(path);
	test_views(path);
}

int
main(void)
{
	check(sodium_init() >= 0);
	fx_dir_make("state-layout");
	check_rc(am_identity_generate(&sam), AM_OK);
	check_rc(am_identity_generate(&alex), AM_OK);
	SAM = am_identity_public(sam);
	ALEX = am_identity_public(alex);

	test_keys();
	test_migration();

	am_identity_destroy(&sam);
	am_identity_destroy(&alex);
	fx_dir_remove();
	printf("state-layout: ok\n");
	return 0;
}
