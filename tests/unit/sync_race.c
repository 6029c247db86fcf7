/*
 * A write racing a comparison (protocol/sync.md, "Writing while
 * comparing"): Sam's node and Alex's node, two stores and two sessions
 * wired together in memory and driven one message at a time, while a
 * command writes one entry into Sam's store through a connection of its
 * own, as it does while Sam's node runs. The write lands before one
 * chosen SQL statement of Sam's connection: the first, then the second,
 * and so on through a whole exchange, so that every point between two
 * reads of Sam's session is tried, inside the handling of a HELLO or a
 * DIGESTS as well as between messages. (A command cannot commit while
 * Sam's connection holds the write lock: there, the write waits for the
 * next statement, as the command would wait for the lock.)
 *
 * Sam's node is told its store changed after the next message it moves
 * (the node notices another process's commit at the next turn of its
 * loop), and both nodes tell once quiet, as they do when a session
 * settles. No session starts over after the write: only a push, or a
 * round that Alex's rules make it open, may deliver the entry, and it
 * must arrive within STEPS_MAX messages. Then both stores hold the same
 * record of every circle.
 *
 * The exchanges:
 *  - reconnect: fresh sessions over equal records, both comparing, the
 *    messages moved in either order, so that Alex may be caught up (it
 *    took Sam's equal compare) before Sam's answer to Alex's compare;
 *  - recheck: sessions in step, then Alex starts over and compares;
 *  - round: Alex holds entries Sam lacks, so both compare and pull: the
 *    write lands while Sam's pull round is open, and while Sam answers
 *    Alex's DIGESTS (equal digests for the other circles);
 *  - answered: sessions in step, then Sam starts over and compares, and
 *    Alex answers equal: the write lands right after, and before.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "amends/state.h"
#include "amends/store.h"
#include "amends/sync.h"
#include "fixture.h"
#include "store_impl.h"
#include "test.h"

#define CIRCLES 3
#define STEPS_MAX 64        /* messages after the write within which it arrives */
#define MOVES_MAX 10000     /* an exchange that runs longer does not settle */

static struct am_identity *sam, *alex;

static const uint8_t *
pk(const struct am_identity *id)
{
	return am_identity_public(id);
}

static void
say(struct am_store *s, struct am_identity *id, const uint8_t circle[32],
	int n)
{
	for (int i = 0; i < n; i++) {
		struct am_body b = { .kind = AM_KIND_STATEMENT,
			.note = am_str_c("written while the nodes compare") };
		check_rc(am_store_append(s, id, circle, 2000 + i, &b, NULL, NULL),
			AM_OK);
	}
}

static uint64_t
head_of(struct am_store *s, const uint8_t circle[32], const uint8_t *author)
{
	uint64_t seq;
	uint8_t h[32];
	check_rc(am_store_head(s, circle, author, &seq, h), AM_OK);
	return seq;
}

static bool
same_digest(struct am_store *a, struct am_store *b, const uint8_t circle[32])
{
	uint8_t da[32], db[32];
	check_rc(am_store_digest(a, circle, da), AM_OK);
	check_rc(am_store_digest(b, circle, db), AM_OK);
	return memcmp(da, db, 32) == 0;
}

/* ---- the command that writes into Sam's store ---- */

struct writer {
	struct am_store *conn;      /* the command's own connection */
	sqlite3 *node_db;           /* Sam's node's connection, watched */
	const uint8_t *circle;      /* where it writes */
	bool armed;
	long at, seen;              /* write before statement at (from 0) */
	bool fired;
	char sql[100];              /* the statement it wrote before */
	const char *doing;          /* what Sam's session was doing then */
	const char *now;            /* what it is doing */
};

static int
on_statement(unsigned type, void *ctx, void *stmt, void *sql)
{
	struct writer *w = ctx;
	(void)type;
	(void)stmt;
	if (!w->armed || w->fired || w->seen++ < w->at)
		return 0;
	/* a command commits only while the node holds no write lock */
	if (sqlite3_txn_state(w->node_db, NULL) == SQLITE_TXN_WRITE)
		return 0;
	say(w->conn, sam, w->circle, 1);
	w->fired = true;
	w->doing = w->now;
	snprintf(w->sql, sizeof w->sql, "%s", (const char *)sql);
	return 0;
}

/* ---- the two nodes ---- */

struct pair {
	struct am_store *sa, *sb;   /* Sam's store, Alex's */
	struct am_sync *a, *b;      /* Sam's session with Alex, Alex's with Sam */
	uint8_t circles[CIRCLES][32];
	struct writer w;
	struct am_sync_msg *scratch;
	bool told;                  /* Sam's node offered the write */
	int after;                  /* messages moved since the write */
};

/* Sam's node notices the command's commit at the next turn of its loop,
 * and offers what changed to its session. */
static void
notice(struct pair *p)
{
	if (!p->w.fired || p->told)
		return;
	p->told = true;
	check_rc(am_sync_circle_changed(p->a, p->w.circle), AM_OK);
}

/* Moves one message; true when there was one. As the nodes do, a session
 * whose store took entries is told so. */
static bool
move(struct pair *p, bool from_sam)
{
	struct am_sync *from = from_sam ? p->a : p->b, *to = from_sam ? p->b : p->a;
	struct am_sync_stats before, after;
	struct am_sync_event ev;
	static const char *const taking[AM_SYNC_TYPE_MAX + 1] = {
		"?", "taking a HELLO", "taking a DIGESTS", "taking a HEADS",
		"taking a DONE", "taking a WANT", "taking an ENTRIES",
		"taking a PUSH", "taking an ACK", "taking a WANT_FORKS",
		"taking a FORKS", "taking an ERROR",
	};
	uint8_t *msg;
	size_t len;

	p->w.now = "sending";
	check_rc(am_sync_next_out(from, &msg, &len), AM_OK);
	if (msg == NULL)
		return false;
	check_rc(am_sync_msg_decode(msg, len, p->scratch), AM_OK);
	p->w.now = taking[p->scratch->type];
	am_sync_stats(to, &before);
	check_rc(am_sync_receive(to, msg, len), AM_OK);
	am_sync_stats(to, &after);
	if (after.entries_in != before.entries_in)
		check_rc(am_sync_local_changed(to), AM_OK);
	while (am_sync_next_event(to, &ev))
		;
	free(msg);
	p->after += p->w.fired;
	p->w.now = "between messages";
	notice(p);
	return true;
}

/* Runs the exchange until both sides are quiet, each node telling its
 * peer once its session has settled; bounded. */
static void
run(struct pair *p, bool sam_first)
{
	for (int i = 0; i < MOVES_MAX; i++) {
		bool moved = move(p, sam_first);
		moved |= move(p, !sam_first);
		if (p->w.fired && p->after > STEPS_MAX)
			return;
		if (moved)
			continue;
		notice(p);
		p->w.now = "telling";
		check_rc(am_sync_tell(p->a), AM_OK);
		check_rc(am_sync_tell(p->b), AM_OK);
		moved = move(p, sam_first);
		moved |= move(p, !sam_first);
		if (!moved)
			return;
	}
	check(!"the sessions did not settle");
}

static void
sessions_new(struct pair *p)
{
	p->a = am_sync_new(p->sa, pk(sam), pk(alex));
	p->b = am_sync_new(p->sb, pk(alex), pk(sam));
	check(p->a != NULL && p->b != NULL);
	p->told = false;
	p->after = 0;
}

static void
sessions_end(struct pair *p)
{
	am_sync_destroy(&p->a);
	am_sync_destroy(&p->b);
}

/* Both stores hold the same record of every circle. */
static bool
in_step(struct pair *p)
{
	for (int i = 0; i < CIRCLES; i++)
		if (!same_digest(p->sa, p->sb, p->circles[i]))
			return false;
	return true;
}

enum exchange { RECONNECT, RECHECK, ROUND, ANSWERED };

static const char *const exchange_names[] = {
	[RECONNECT] = "reconnect", [RECHECK] = "recheck", [ROUND] = "round",
	[ANSWERED] = "answered",
};

/*
 * One exchange with the write before statement at of Sam's connection.
 * Returns false when the exchange ran fewer statements than that (the
 * write never came); fails the test when the entry did not arrive.
 */
static bool
try_at(struct pair *p, enum exchange x, bool sam_first, long at)
{
	uint64_t want = head_of(p->sa, p->w.circle, pk(sam)) + 1;

	check(in_step(p));
	p->w.fired = false;
	if (x == ROUND)
		say(p->sb, alex, p->circles[0], 2);
	sessions_new(p);
	if (x == RECHECK || x == ANSWERED) {
		check_rc(am_sync_start(p->a), AM_OK);
		check_rc(am_sync_start(p->b), AM_OK);
		run(p, sam_first);
		check(am_sync_idle(p->a) && am_sync_idle(p->b));
	}
	p->w.at = at;
	p->w.seen = 0;
	p->w.now = "starting";
	p->w.armed = true;
	if (x == RECONNECT || x == ROUND) {
		check_rc(am_sync_start(p->a), AM_OK);
		check_rc(am_sync_start(p->b), AM_OK);
	} else {
		check_rc(am_sync_recheck(x == RECHECK ? p->b : p->a), AM_OK);
	}
	notice(p);
	run(p, sam_first);
	p->w.armed = false;
	if (!p->w.fired) {
		sessions_end(p);
		/* the exchange is over: what Alex wrote has arrived too */
		check(in_step(p));
		return false;
	}
	uint64_t got = head_of(p->sb, p->w.circle, pk(sam));
	if (got < want || !in_step(p)) {
		fprintf(stderr, "sync-race: %s, %s first: Sam wrote entry %llu "
			"before Sam's statement %ld (%s), %s; Alex holds %llu of Sam's "
			"feed after %d messages more, %s\n", exchange_names[x],
			sam_first ? "Sam" : "Alex", (unsigned long long)want, at,
			p->w.sql, p->w.doing, (unsigned long long)got, p->after,
			in_step(p) ? "the records equal" : "the records differ");
		check(!"the entry written while comparing did not arrive");
	}
	sessions_end(p);
	return true;
}

/* Every point of the exchange, one after the other. */
static void
sweep(struct pair *p, enum exchange x, bool sam_first)
{
	long at = 0;
	while (try_at(p, x, sam_first, at))
		at++;
	printf("sync-race: %s, %s first: a write before each of Sam's %ld "
		"statements arrived\n", exchange_names[x], sam_first ? "Sam" : "Alex",
		at);
}

static int
by_bytes(const void *x, const void *y)
{
	return memcmp(x, y, 32);
}

static void
test_write_while_comparing(void)
{
	struct pair p = { 0 };
	char path[FX_PATH_MAX];

	p.sa = fx_store_open("race-sam.db");
	p.sb = fx_store_open("race-alex.db");
	fx_path("race-sam.db", path);
	check_rc(am_store_open(path, &p.w.conn), AM_OK);
	p.scratch = malloc(sizeof *p.scratch);
	check(p.scratch != NULL);

	/* three circles of Sam's with Alex, each with entries of both */
	for (int i = 0; i < CIRCLES; i++) {
		struct am_body m = { .kind = AM_KIND_MEMBER, .role = AM_ROLE_MEMBER };
		fx_genesis(p.sa, sam, "us", 1000, p.circles[i]);
		memcpy(m.target, pk(alex), 32);
		check_rc(am_store_append(p.sa, sam, p.circles[i], 1000, &m, NULL,
			NULL), AM_OK);
		say(p.sa, sam, p.circles[i], 2);
		fx_invite(p.sa, p.circles[i], p.sb, alex);
	}
	/* in the order the summary takes them (circle IDs are random) */
	qsort(p.circles, CIRCLES, sizeof p.circles[0], by_bytes);
	sessions_new(&p);
	check_rc(am_sync_start(p.a), AM_OK);
	check_rc(am_sync_start(p.b), AM_OK);
	run(&p, true);
	sessions_end(&p);
	for (int i = 0; i < CIRCLES; i++)
		say(p.sb, alex, p.circles[i], 1);
	sessions_new(&p);
	check_rc(am_sync_start(p.a), AM_OK);
	check_rc(am_sync_start(p.b), AM_OK);
	run(&p, true);
	sessions_end(&p);
	check(in_step(&p));

	/* the command writes into the middle circle of the summary's order */
	p.w.circle = p.circles[1];
	p.w.node_db = am_store_sqlite(p.sa);
	check(sqlite3_trace_v2(p.w.node_db, SQLITE_TRACE_STMT, on_statement,
		&p.w) == SQLITE_OK);
	/* who moves first decides whether Alex has taken Sam's compare (and
	 * so caught up) when Sam's answer comes; the other exchanges do the
	 * same either way */
	sweep(&p, RECONNECT, true);
	sweep(&p, RECONNECT, false);
	sweep(&p, RECHECK, true);
	sweep(&p, ROUND, true);
	sweep(&p, ANSWERED, true);
	sqlite3_trace_v2(p.w.node_db, 0, NULL, NULL);
	free(p.scratch);
	am_store_close(&p.w.conn);
	am_store_close(&p.sa);
	am_store_close(&p.sb);
}

int
main(void)
{
	check(sodium_init() >= 0);
	fx_dir_make_in_memory("sync-race");
	sam = fx_identity_seeded(1);
	alex = fx_identity_seeded(2);
	test_write_while_comparing();
	am_identity_destroy(&sam);
	am_identity_destroy(&alex);
	fx_dir_remove();
	printf("sync-race: all tests passed\n");
	return 0;
}
