/*
 * amends-bench: the measuring half of tools/bench. Each mode measures one
 * thing on the real code paths and prints one JSON object per line, which
 * the tools/bench script gathers into a table and a JSON file.
 *
 *   amends-bench ref N              R1 (signature checks/s, 1 thread and all
 *                                   cores) and R2 (bare SQLite inserts/s, node
 *                                   durability) on N entry-sized messages
 *   amends-bench fill A B C N       makes data dirs A and B (two identities
 *                                   sharing C circles) and puts N entries
 *                                   authored by A, spread over the circles,
 *                                   into A's store through batched ingest
 *   amends-bench grow A N           puts N more entries authored by A, spread
 *                                   over its circles, into A's store through
 *                                   batched ingest
 *   amends-bench copy A B           makes B's store a copy of A's (SQLite's
 *                                   backup), less what is A's own (peers,
 *                                   their digests, names): B then holds the
 *                                   same entries, as a node in step with A
 *   amends-bench append A K         appends K more entries at A (one
 *                                   transaction each, as the CLI does)
 *   amends-bench same A B TIMEOUT   waits until every circle of A has the same
 *                                   digest at B; prints the seconds it took
 *   amends-bench size A             database bytes per entry, raw bytes per entry
 *   amends-bench live A B K CMD...  runs CMD K times (with AMENDS_HOME=A) and
 *                                   times each from its start until B stores
 *                                   the entry it wrote: p50/p99
 *   amends-bench live-lib A B K     the same with am_store_append and a nudge
 *                                   of A's node, no CLI process
 *   amends-bench run NAME K CMD...  runs CMD K times: p50/p99 of its duration
 *   amends-bench hostile A B N      the hostile figure: makes data dirs A and
 *                                   B (one circle, both members) and writes
 *                                   N open member proposals by B, each of a
 *                                   fresh key nobody answers, straight into
 *                                   A's store (past any cap: the derivation
 *                                   itself is measured); prints how long A
 *                                   takes to answer B's HELLO (the sync
 *                                   session the node runs) right after the
 *                                   store changed, how long one derivation
 *                                   of the members takes, and peak RSS
 */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <spawn.h>
#include <sys/inotify.h>
#include <sys/wait.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>
#include <sqlite3.h>

#include "amends/home.h"
#include "amends/node.h"
#include "amends/state.h"
#include "amends/store.h"
#include "amends/sync.h"
#include "amends/verify.h"

/* Entries are dated from here (2025-11-24): a time the state reads. */
#define BENCH_T0 INT64_C(1764000000000)

static double
now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void die(const char *what, int rc) __attribute__((noreturn));

static void
die(const char *what, int rc)
{
	fprintf(stderr, "amends-bench: %s: %s\n", what, am_strerror(rc));
	exit(1);
}

/* N signed statements of about 300 bytes, like real entries. */
static struct am_entry *
make_entries(struct am_identity *id, size_t n, uint8_t ***raws, size_t **lens)
{
	struct am_entry *e = calloc(n, sizeof *e);
	*raws = calloc(n, sizeof **raws);
	*lens = calloc(n, sizeof **lens);
	char text[200];
	memset(text, 'x', sizeof text - 1);
	text[sizeof text - 1] = '\0';
	struct am_body b = { .kind = AM_KIND_STATEMENT, .note = am_str_c(text) };
	struct am_entry_draft d = { .seq = 1, .body = &b };
	memset(d.circle, 1, sizeof d.circle);
	for (size_t i = 0; i < n; i++) {
		d.seq = i + 1;
		d.has_prev = i > 0;
		if (i > 0)
			memcpy(d.prev, e[i - 1].hash, AM_HASH_BYTES);
		d.time = BENCH_T0 + (int64_t)i;
		int rc = am_entry_sign(id, &d, &(*raws)[i], &(*lens)[i], &e[i]);
		if (rc != AM_OK)
			die("signing", rc);
	}
	return e;
}

static double
verify_rate(const struct am_entry *e, size_t n, unsigned threads)
{
	uint8_t *ok = malloc(n);
	double t0 = now();
	if (am_verify_signatures(e, n, threads, ok) != AM_OK)
		die("verifying", AM_ERR_NOMEM);
	double dt = now() - t0;
	for (size_t i = 0; i < n; i++)
		if (!ok[i])
			die("verifying", AM_ERR_SIGNATURE);
	free(ok);
	return (double)n / dt;
}

/* R2: the node's durability settings on a bare table. */
static double
sqlite_rate(uint8_t **raw, const size_t *len, size_t n)
{
	char path[] = "/tmp/amends-bench-r2-XXXXXX";
	int fd = mkstemp(path);
	sqlite3 *db;
	sqlite3_stmt *st;
	close(fd);
	unlink(path);
	if (sqlite3_open(path, &db) != SQLITE_OK)
		die("sqlite", AM_ERR_DB);
	sqlite3_exec(db, "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;"
		"CREATE TABLE t(feed INTEGER, seq INTEGER, raw BLOB,"
		" PRIMARY KEY(feed, seq)) WITHOUT ROWID", NULL, NULL, NULL);
	sqlite3_prepare_v2(db, "INSERT INTO t VALUES (?1, ?2, ?3)", -1, &st, NULL);
	double t0 = now();
	for (size_t i = 0; i < n; i++) {
		if (i % 10000 == 0)
			sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL);
		sqlite3_bind_int64(st, 1, 1);
		sqlite3_bind_int64(st, 2, (int64_t)i + 1);
		sqlite3_bind_blob(st, 3, raw[i], (int)len[i], SQLITE_STATIC);
		if (sqlite3_step(st) != SQLITE_DONE)
			die("sqlite insert", AM_ERR_DB);
		sqlite3_reset(st);
		if (i % 10000 == 9999 || i + 1 == n)
			sqlite3_exec(db, "COMMIT", NULL, NULL, NULL);
	}
	double dt = now() - t0;
	sqlite3_finalize(st);
	sqlite3_close(db);
	char side[64];
	unlink(path);
	snprintf(side, sizeof side, "%s-wal", path);
	unlink(side);
	snprintf(side, sizeof side, "%s-shm", path);
	unlink(side);
	return (double)n / dt;
}

static int
mode_ref(size_t n)
{
	struct am_identity *id;
	uint8_t **raw;
	size_t *len, total = 0;
	if (am_identity_generate(&id) != AM_OK)
		die("identity", AM_ERR_NOMEM);
	struct am_entry *e = make_entries(id, n, &raw, &len);
	for (size_t i = 0; i < n; i++)
		total += len[i];
	long cores = sysconf(_SC_NPROCESSORS_ONLN);
	double r1 = verify_rate(e, n, 1);
	double r1all = verify_rate(e, n, 0);
	double r2 = sqlite_rate(raw, len, n);
	printf("{\"r1_verify_per_s_1thread\": %.0f, \"r1_verify_per_s_all\": %.0f, "
		"\"cores\": %ld, \"r2_sqlite_inserts_per_s\": %.0f, "
		"\"entry_bytes\": %.0f}\n", r1, r1all, cores, r2, (double)total / (double)n);
	for (size_t i = 0; i < n; i++)
		free(raw[i]);
	free(raw);
	free(len);
	free(e);
	am_identity_destroy(&id);
	return 0;
}

static struct am_identity *
make_home(const char *dir, struct am_store **store)
{
	struct am_identity *id;
	char *key = am_home_path(dir, AM_HOME_KEY), *db = am_home_path(dir, AM_HOME_DB);
	int rc;
	if ((rc = am_home_create(dir)) != AM_OK)
		die(dir, rc);
	if ((rc = am_identity_generate(&id)) != AM_OK ||
	    (rc = am_identity_save(id, key)) != AM_OK)
		die(key, rc);
	if ((rc = am_store_open(db, store)) != AM_OK)
		die(db, rc);
	free(key);
	free(db);
	return id;
}

enum { RUN = AM_STORE_BATCH_MAX };

/* One run of a feed, signed on a thread of its own while the run before
 * it is ingested: signing is about half the work of filling. */
struct run {
	struct am_identity *id;
	struct am_entry_draft d;      /* continues the feed; left after the run */
	size_t k;
	uint8_t *raw[RUN];
	size_t len[RUN];
};

static void *
sign_run(void *arg)
{
	struct run *r = arg;
	struct am_entry e;
	for (size_t i = 0; i < r->k; i++) {
		r->d.has_prev = r->d.seq > 0;
		r->d.seq++;
		int rc = am_entry_sign(r->id, &r->d, &r->raw[i], &r->len[i], &e);
		if (rc != AM_OK)
			die("signing", rc);
		memcpy(r->d.prev, e.hash, 32);
	}
	return NULL;
}

/* Signs n statements by id continuing its feed in circle and ingests them
 * into s through the batched path sync uses. */
static void
feed(struct am_store *s, struct am_identity *id, const uint8_t circle[32], size_t n)
{
	static struct run runs[2];
	pthread_t tid;
	size_t done;
	enum am_ingest_result res[RUN];
	char text[200];
	memset(text, 'x', sizeof text - 1);
	text[sizeof text - 1] = '\0';
	struct am_body b = { .kind = AM_KIND_STATEMENT, .note = am_str_c(text) };
	struct run *cur = &runs[0], *next = &runs[1];
	int rc;
	memset(cur, 0, sizeof *cur);
	cur->id = id;
	cur->d.time = BENCH_T0;
	cur->d.body = &b;
	memcpy(cur->d.circle, circle, 32);
	if ((rc = am_store_head(s, circle, am_identity_public(id), &cur->d.seq,
	    cur->d.prev)) != AM_OK)
		die("head", rc);
	cur->k = n < RUN ? n : RUN;
	n -= cur->k;
	sign_run(cur);
	while (cur->k > 0) {
		/* the next run is signed while this one is ingested */
		next->id = id;
		next->d = cur->d;
		next->k = n < RUN ? n : RUN;
		n -= next->k;
		bool threaded = next->k > 0 &&
			pthread_create(&tid, NULL, sign_run, next) == 0;
		rc = am_store_ingest_batch(s, (const uint8_t *const *)cur->raw, cur->len,
			cur->k, res, &done);
		if (rc != AM_OK)
			die("batched ingest", rc);
		for (size_t i = 0; i < cur->k; i++)
			free(cur->raw[i]);
		if (threaded)
			pthread_join(tid, NULL);
		else if (next->k > 0)
			sign_run(next);
		struct run *t = cur;
		cur = next;
		next = t;
	}
}

static int
copy_to(void *ctx, const uint8_t *raw, size_t len)
{
	enum am_ingest_result r;
	return am_store_ingest(ctx, raw, len, &r);
}

static int
mode_fill(const char *adir, const char *bdir, size_t circles, size_t n)
{
	struct am_store *a, *b;
	struct am_identity *ida = make_home(adir, &a), *idb = make_home(bdir, &b);
	int rc;
	if ((rc = am_store_name_set(a, am_identity_public(idb), "B")) != AM_OK ||
	    (rc = am_store_name_set(b, am_identity_public(ida), "A")) != AM_OK)
		die("names", rc);
	double t0 = now();
	for (size_t c = 0; c < circles; c++) {
		uint8_t circle[32], proposal[32], *raw;
		size_t len;
		struct am_entry e;
		struct am_body g = { .kind = AM_KIND_GENESIS, .name = am_str_c("bench") };
		randombytes_buf(g.nonce, 32);
		if ((rc = am_store_append(a, ida, circle, BENCH_T0, &g, NULL, NULL)) != AM_OK)
			die("genesis", rc);
		am_circle_id(am_identity_public(ida), g.nonce, circle);
		struct am_body m = { .kind = AM_KIND_MEMBER, .role = AM_ROLE_MEMBER };
		memcpy(m.target, am_identity_public(idb), 32);
		if ((rc = am_store_append(a, ida, circle, BENCH_T0, &m, proposal, NULL)) != AM_OK)
			die("member", rc);
		/* B's acceptance, written by B and carried to A */
		struct am_body acc = { .kind = AM_KIND_ACCEPT };
		memcpy(acc.target, proposal, 32);
		struct am_entry_draft d = { .seq = 1, .time = BENCH_T0, .body = &acc };
		memcpy(d.circle, circle, 32);
		enum am_ingest_result r;
		if ((rc = am_entry_sign(idb, &d, &raw, &len, &e)) != AM_OK ||
		    (rc = am_store_ingest(a, raw, len, &r)) != AM_OK)
			die("accept", rc);
		/* B holds what pairing leaves it: the genesis, its proposal and
		 * its own acceptance */
		if ((rc = am_store_range(a, circle, am_identity_public(ida), 1, 2,
		    copy_to, b)) != AM_OK ||
		    (rc = am_store_ingest(b, raw, len, &r)) != AM_OK)
			die("pairing B", rc);
		free(raw);
		feed(a, ida, circle, n / circles + (c < n % circles));
	}
	double dt = now() - t0;
	printf("{\"fill_entries\": %zu, \"fill_circles\": %zu, \"fill_s\": %.2f}\n",
		n, circles, dt);
	am_store_close(&a);
	am_store_close(&b);
	am_identity_destroy(&ida);
	am_identity_destroy(&idb);
	return 0;
}

static struct am_store *
open_home(const char *dir)
{
	struct am_store *s;
	char *db = am_home_path(dir, AM_HOME_DB);
	int rc = am_store_open(db, &s);
	if (rc != AM_OK)
		die(db, rc);
	free(db);
	return s;
}

static int
mode_grow(const char *dir, size_t n)
{
	struct am_store *s = open_home(dir);
	struct am_identity *id;
	char *key = am_home_path(dir, AM_HOME_KEY);
	struct am_circle_info *circles;
	size_t nc;
	int rc;
	if ((rc = am_identity_load(key, &id)) != AM_OK)
		die(key, rc);
	if ((rc = am_state_circles(s, am_identity_public(id), &circles, &nc)) != AM_OK ||
	    nc == 0)
		die("circles", rc ? rc : AM_ERR_NOT_FOUND);
	double t0 = now();
	for (size_t c = 0; c < nc; c++)
		feed(s, id, circles[c].id, n / nc + (c < n % nc));
	printf("{\"grow_entries\": %zu, \"grow_s\": %.2f}\n", n, now() - t0);
	am_state_circles_free(&circles, nc);
	am_identity_destroy(&id);
	am_store_close(&s);
	free(key);
	return 0;
}

/* Removes path and its WAL and shared-memory files. */
static void
remove_db(const char *path)
{
	char side[4096];
	unlink(path);
	snprintf(side, sizeof side, "%s-wal", path);
	unlink(side);
	snprintf(side, sizeof side, "%s-shm", path);
	unlink(side);
}

/* B in step with A at any size in seconds, where a catch-up would take
 * minutes (the catch-up figure measures that path): the same entries and
 * state, with B's own identity, nicknames and no peers yet. */
static int
mode_copy(const char *adir, const char *bdir)
{
	char *apath = am_home_path(adir, AM_HOME_DB), *bpath = am_home_path(bdir, AM_HOME_DB);
	char *akey = am_home_path(adir, AM_HOME_KEY);
	struct am_identity *ida;
	sqlite3 *a, *b;
	int rc;
	if ((rc = am_identity_load(akey, &ida)) != AM_OK)
		die(akey, rc);
	remove_db(bpath);
	if (sqlite3_open_v2(apath, &a, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK ||
	    sqlite3_open(bpath, &b) != SQLITE_OK)
		die("opening the stores to copy", AM_ERR_DB);
	sqlite3_backup *bk = sqlite3_backup_init(b, "main", a, "main");
	if (bk == NULL || sqlite3_backup_step(bk, -1) != SQLITE_DONE)
		die(sqlite3_errmsg(b), AM_ERR_DB);
	sqlite3_backup_finish(bk);
	if (sqlite3_exec(b, "DELETE FROM peers; DELETE FROM peer_digests; "
	    "DELETE FROM names", NULL, NULL, NULL) != SQLITE_OK)
		die(sqlite3_errmsg(b), AM_ERR_DB);
	sqlite3_close(a);
	sqlite3_close(b);
	struct am_store *s = open_home(bdir);
	if ((rc = am_store_name_set(s, am_identity_public(ida), "A")) != AM_OK)
		die("names", rc);
	am_store_close(&s);
	am_identity_destroy(&ida);
	free(apath);
	free(bpath);
	free(akey);
	return 0;
}

static int
mode_append(const char *dir, size_t k)
{
	struct am_store *s = open_home(dir);
	struct am_identity *id;
	char *key = am_home_path(dir, AM_HOME_KEY);
	struct am_circle_info *circles;
	size_t n;
	int rc;
	if ((rc = am_identity_load(key, &id)) != AM_OK)
		die(key, rc);
	if ((rc = am_state_circles(s, am_identity_public(id), &circles, &n)) != AM_OK || n == 0)
		die("circles", rc ? rc : AM_ERR_NOT_FOUND);
	double t0 = now();
	for (size_t i = 0; i < k; i++) {
		struct am_body b = { .kind = AM_KIND_STATEMENT, .note = am_str_c("more") };
		if ((rc = am_store_append(s, id, circles[i % n].id, BENCH_T0, &b, NULL, NULL)) != AM_OK)
			die("append", rc);
	}
	printf("{\"append_entries\": %zu, \"append_s\": %.3f}\n", k, now() - t0);
	am_state_circles_free(&circles, n);
	am_identity_destroy(&id);
	am_store_close(&s);
	free(key);
	return 0;
}

static int
mode_same(const char *adir, const char *bdir, double timeout)
{
	struct am_store *a = open_home(adir), *b = open_home(bdir);
	struct am_circle_info *circles;
	size_t n;
	int rc;
	if ((rc = am_state_circles(a, NULL, &circles, &n)) != AM_OK)
		die("circles", rc);
	double t0 = now();
	size_t done = 0;
	while (done < n) {
		uint8_t x[32], y[32];
		if ((rc = am_store_digest(a, circles[done].id, x)) != AM_OK ||
		    (rc = am_store_digest(b, circles[done].id, y)) != AM_OK)
			die("digest", rc);
		if (memcmp(x, y, 32) == 0) {
			done++;
			continue;
		}
		if (now() - t0 > timeout) {
			printf("{\"same\": false, \"same_s\": %.3f, \"circles_equal\": %zu}\n",
				now() - t0, done);
			return 1;
		}
		usleep(2000);
	}
	printf("{\"same\": true, \"same_s\": %.3f, \"circles\": %zu}\n", now() - t0, n);
	am_state_circles_free(&circles, n);
	am_store_close(&a);
	am_store_close(&b);
	return 0;
}

static int
mode_size(const char *dir)
{
	struct am_store *s = open_home(dir);
	sqlite3 *db;
	char *path = am_home_path(dir, AM_HOME_DB);
	sqlite3_stmt *st;
	int64_t entries = 0, raw = 0;
	am_store_close(&s);
	if (sqlite3_open(path, &db) != SQLITE_OK)
		die(path, AM_ERR_DB);
	sqlite3_exec(db, "PRAGMA wal_checkpoint(TRUNCATE)", NULL, NULL, NULL);
	if (sqlite3_prepare_v2(db, "SELECT count(*), sum(length(raw)) FROM entries",
	    -1, &st, NULL) == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW) {
		entries = sqlite3_column_int64(st, 0);
		raw = sqlite3_column_int64(st, 1);
	}
	sqlite3_finalize(st);
	sqlite3_close(db);
	struct stat sb;
	if (stat(path, &sb) != 0)
		die(path, AM_ERR_IO);
	printf("{\"db_entries\": %lld, \"db_bytes_per_entry\": %.1f, "
		"\"raw_bytes_per_entry\": %.1f}\n", (long long)entries,
		entries ? (double)sb.st_size / (double)entries : 0,
		entries ? (double)raw / (double)entries : 0);
	free(path);
	return 0;
}

extern char **environ;

static int
cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

static void
print_quantiles(const char *name, double *v, size_t n)
{
	qsort(v, n, sizeof *v, cmp_double);
	size_t p99 = (size_t)((double)n * 0.99);
	if (p99 >= n)
		p99 = n - 1;
	printf("{\"%s_p50_ms\": %.3f, \"%s_p99_ms\": %.3f, \"%s_n\": %zu}\n",
		name, v[n / 2] * 1e3, name, v[p99] * 1e3, name, n);
}

/* Runs argv to completion; returns its exit status. */
static int
run(char **argv)
{
	pid_t pid;
	int status;
	if (posix_spawnp(&pid, argv[0], NULL, NULL, argv, environ) != 0)
		die(argv[0], AM_ERR_IO);
	if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status))
		return 1;
	return WEXITSTATUS(status);
}

/* The number of entries B's feeds hold (from the small feeds table,
 * so that polling stays cheap with millions of entries). */
static int64_t
count_entries(sqlite3_stmt *st)
{
	int64_t n = -1;
	if (sqlite3_step(st) == SQLITE_ROW)
		n = sqlite3_column_int64(st, 0);
	sqlite3_reset(st);
	return n;
}

static sqlite3_stmt *
counter(const char *dir, sqlite3 **db)
{
	char *path = am_home_path(dir, AM_HOME_DB);
	sqlite3_stmt *st;
	if (sqlite3_open_v2(path, db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(*db, "SELECT sum(head_seq) FROM feeds", -1, &st, NULL) != SQLITE_OK)
		die(path, AM_ERR_DB);
	free(path);
	return st;
}

/*
 * What B's commits touch: its write-ahead log. Waiting on it, rather
 * than asking B's database in a tight loop, leaves both cores to the
 * nodes and the command being measured.
 */
struct watch {
	sqlite3 *db;
	sqlite3_stmt *count;
	int fd;                      /* inotify on B's -wal file */
};

static void
watch_open(const char *dir, struct watch *w)
{
	char *path = am_home_path(dir, AM_HOME_DB);
	char wal[4096];
	w->count = counter(dir, &w->db);
	snprintf(wal, sizeof wal, "%s-wal", path);
	w->fd = inotify_init1(IN_CLOEXEC | IN_NONBLOCK);
	if (w->fd < 0 || inotify_add_watch(w->fd, wal, IN_MODIFY) < 0)
		die(wal, AM_ERR_IO);
	free(path);
}

static void
watch_close(struct watch *w)
{
	close(w->fd);
	sqlite3_finalize(w->count);
	sqlite3_close(w->db);
}

/* Waits (bounded) until B holds more than before entries. Sleeps until B
 * writes to its log (looking every millisecond in case the write came
 * between the look and the wait), then looks every 50 us until the
 * commit shows, as it does once B has synced the log. */
static bool
wait_more(struct watch *w, int64_t before, double t0, double limit)
{
	char buf[4096];
	bool written = false;
	while (count_entries(w->count) <= before) {
		if (now() - t0 > limit)
			return false;
		if (written) {
			struct timespec pause = { 0, 50000 };
			nanosleep(&pause, NULL);
			continue;
		}
		struct pollfd p = { .fd = w->fd, .events = POLLIN };
		if (poll(&p, 1, 1) > 0) {
			while (read(w->fd, buf, sizeof buf) > 0)
				;
			written = true;
		}
	}
	return true;
}

static int
mode_live(const char *adir, const char *bdir, size_t k, char **cmd)
{
	struct watch w;
	watch_open(bdir, &w);
	double *lat = calloc(k, sizeof *lat);
	int devnull = open("/dev/null", O_WRONLY), saved = dup(1);
	setenv("AMENDS_HOME", adir, 1);
	for (size_t i = 0; i < k; i++) {
		int64_t before = count_entries(w.count);
		double t0 = now();
		dup2(devnull, 1);
		int rc = run(cmd);
		dup2(saved, 1);
		if (rc != 0)
			die("the command failed", AM_ERR_ARG);
		if (!wait_more(&w, before, t0, 10.0))
			die("the entry did not arrive within 10 s", AM_ERR_NOT_FOUND);
		lat[i] = now() - t0;
	}
	print_quantiles("live_cli", lat, k);
	close(devnull);
	close(saved);
	watch_close(&w);
	free(lat);
	return 0;
}

static int
mode_live_lib(const char *adir, const char *bdir, size_t k)
{
	struct watch w;
	watch_open(bdir, &w);
	struct am_store *a = open_home(adir);
	struct am_identity *id;
	struct am_circle_info *circles;
	size_t n;
	char *key = am_home_path(adir, AM_HOME_KEY);
	int rc;
	if ((rc = am_identity_load(key, &id)) != AM_OK)
		die(key, rc);
	if ((rc = am_state_circles(a, am_identity_public(id), &circles, &n)) != AM_OK || n == 0)
		die("circles", rc ? rc : AM_ERR_NOT_FOUND);
	double *lat = calloc(k, sizeof *lat);
	for (size_t i = 0; i < k; i++) {
		int64_t before = count_entries(w.count);
		double t0 = now();
		struct am_body b = { .kind = AM_KIND_STATEMENT, .note = am_str_c("live") };
		if ((rc = am_store_append(a, id, circles[0].id, BENCH_T0, &b, NULL, NULL)) != AM_OK)
			die("append", rc);
		am_node_nudge(adir);
		if (!wait_more(&w, before, t0, 10.0))
			die("the entry did not arrive within 10 s", AM_ERR_NOT_FOUND);
		lat[i] = now() - t0;
	}
	print_quantiles("live_lib", lat, k);
	am_state_circles_free(&circles, n);
	am_identity_destroy(&id);
	am_store_close(&a);
	watch_close(&w);
	free(key);
	free(lat);
	return 0;
}

/* Signs n member proposals by id in circle, each of a fresh key, and
 * ingests them into s in batches, continuing id's feed. */
static void
feed_members(struct am_store *s, struct am_identity *id,
	const uint8_t circle[32], size_t n)
{
	static uint8_t *raw[RUN];
	static size_t len[RUN];
	enum am_ingest_result res[RUN];
	struct am_body b = { .kind = AM_KIND_MEMBER, .role = AM_ROLE_MEMBER };
	struct am_entry_draft d = { .time = BENCH_T0, .body = &b };
	struct am_entry e;
	size_t done;
	int rc;
	memcpy(d.circle, circle, 32);
	if ((rc = am_store_head(s, circle, am_identity_public(id), &d.seq,
	    d.prev)) != AM_OK)
		die("head", rc);
	while (n > 0) {
		size_t k = n < RUN ? n : RUN;
		for (size_t i = 0; i < k; i++) {
			uint8_t sk[crypto_sign_SECRETKEYBYTES];
			crypto_sign_keypair(b.target, sk);
			d.has_prev = d.seq > 0;
			d.seq++;
			if ((rc = am_entry_sign(id, &d, &raw[i], &len[i], &e)) != AM_OK)
				die("signing", rc);
			memcpy(d.prev, e.hash, 32);
		}
		if ((rc = am_store_ingest_batch(s, (const uint8_t *const *)raw, len, k,
		    res, &done)) != AM_OK)
			die("batched ingest", rc);
		for (size_t i = 0; i < k; i++)
			free(raw[i]);
		n -= k;
	}
}

static long
peak_rss_kb(void)
{
	char line[256];
	long kb = -1;
	FILE *f = fopen("/proc/self/status", "r");
	while (f != NULL && fgets(line, sizeof line, f) != NULL)
		if (strncmp(line, "VmHWM:", 6) == 0)
			kb = strtol(line + 6, NULL, 10);
	if (f != NULL)
		fclose(f);
	return kb;
}

/* Runs session x until it has nothing more to send; hands each message to
 * y when y is set. */
static void
drain(struct am_sync *x, struct am_sync *y)
{
	uint8_t *msg;
	size_t len;
	int rc;
	for (;;) {
		if ((rc = am_sync_next_out(x, &msg, &len)) != AM_OK)
			die("sync out", rc);
		if (msg == NULL)
			return;
		if (y != NULL && (rc = am_sync_receive(y, msg, len)) != AM_OK)
			die("sync in", rc);
		free(msg);
	}
}

static const struct am_body g_statement = {
	.kind = AM_KIND_STATEMENT, .note = { "a change", 8 },
};

static int
mode_hostile(const char *adir, const char *bdir, size_t n)
{
	struct am_store *a, *b;
	struct am_identity *ida = make_home(adir, &a), *idb = make_home(bdir, &b);
	uint8_t circle[32], proposal[32];
	int rc;
	struct am_body g = { .kind = AM_KIND_GENESIS, .name = am_str_c("hostile") };
	randombytes_buf(g.nonce, 32);
	if ((rc = am_store_append(a, ida, circle, BENCH_T0, &g, NULL, NULL)) != AM_OK)
		die("genesis", rc);
	am_circle_id(am_identity_public(ida), g.nonce, circle);
	struct am_body m = { .kind = AM_KIND_MEMBER, .role = AM_ROLE_MEMBER };
	memcpy(m.target, am_identity_public(idb), 32);
	if ((rc = am_store_append(a, ida, circle, BENCH_T0, &m, proposal, NULL)) != AM_OK)
		die("member", rc);
	struct am_body acc = { .kind = AM_KIND_ACCEPT };
	memcpy(acc.target, proposal, 32);
	if ((rc = am_store_append(a, idb, circle, BENCH_T0, &acc, NULL, NULL)) != AM_OK)
		die("accept", rc);
	double t0 = now();
	feed_members(a, idb, circle, n);
	double fill = now() - t0;
	am_store_close(&a);
	am_store_close(&b);
	a = open_home(adir);

	/* B's HELLO is made over A's store (the same record, so A's answer
	 * is the HELLO that asks for nothing); A's session is started first,
	 * as the node does on connect */
	struct am_sync *sa = am_sync_new(a, am_identity_public(ida), am_identity_public(idb));
	struct am_sync *sb = am_sync_new(a, am_identity_public(idb), am_identity_public(ida));
	if (sa == NULL || sb == NULL)
		die("session", AM_ERR_NOMEM);
	if ((rc = am_sync_start(sa)) != AM_OK || (rc = am_sync_start(sb)) != AM_OK)
		die("sync start", rc);
	drain(sa, NULL);
	/* the first message after the store changed derives the members
	 * again (B's side makes its HELLO over the same store, so the figure
	 * holds that derivation once); later ones find them kept */
	if ((rc = am_store_append(a, ida, circle, BENCH_T0, &g_statement, NULL,
	    NULL)) != AM_OK)
		die("statement", rc);
	t0 = now();
	drain(sb, sa);
	drain(sa, NULL);
	double hello = now() - t0;
	/* one derivation of the circle's members, as every reader runs it
	 * when the store has changed since */
	struct am_member *list;
	size_t nm;
	if ((rc = am_store_append(a, ida, circle, BENCH_T0, &g_statement, NULL,
	    NULL)) != AM_OK)
		die("statement", rc);
	t0 = now();
	if ((rc = am_state_members(a, circle, &list, &nm)) != AM_OK)
		die("members", rc);
	double members = now() - t0;
	free(list);
	printf("{\"hostile_proposals\": %zu, \"hostile_fill_s\": %.2f, "
		"\"hostile_hello_ms\": %.1f, \"hostile_members_ms\": %.1f, "
		"\"hostile_pending\": %zu, \"hostile_rss_kb\": %ld}\n",
		n, fill, hello * 1e3, members * 1e3, nm, peak_rss_kb());
	am_sync_destroy(&sa);
	am_sync_destroy(&sb);
	am_store_close(&a);
	am_identity_destroy(&ida);
	am_identity_destroy(&idb);
	return 0;
}

static int
mode_run(const char *name, size_t k, char **cmd)
{
	double *lat = calloc(k, sizeof *lat);
	int devnull = open("/dev/null", O_WRONLY);
	int saved = dup(1);
	for (size_t i = 0; i < k; i++) {
		double t0 = now();
		dup2(devnull, 1);
		int rc = run(cmd);
		dup2(saved, 1);
		if (rc != 0)
			die("the command failed", AM_ERR_ARG);
		lat[i] = now() - t0;
	}
	print_quantiles(name, lat, k);
	close(devnull);
	close(saved);
	free(lat);
	return 0;
}

int
main(int argc, char **argv)
{
	if (sodium_init() < 0)
		return 1;
	if (argc == 3 && strcmp(argv[1], "ref") == 0)
		return mode_ref((size_t)strtoull(argv[2], NULL, 10));
	if (argc == 6 && strcmp(argv[1], "fill") == 0)
		return mode_fill(argv[2], argv[3], (size_t)strtoull(argv[4], NULL, 10),
			(size_t)strtoull(argv[5], NULL, 10));
	if (argc == 4 && strcmp(argv[1], "grow") == 0)
		return mode_grow(argv[2], (size_t)strtoull(argv[3], NULL, 10));
	if (argc == 4 && strcmp(argv[1], "copy") == 0)
		return mode_copy(argv[2], argv[3]);
	if (argc == 4 && strcmp(argv[1], "append") == 0)
		return mode_append(argv[2], (size_t)strtoull(argv[3], NULL, 10));
	if (argc == 5 && strcmp(argv[1], "same") == 0)
		return mode_same(argv[2], argv[3], strtod(argv[4], NULL));
	if (argc == 3 && strcmp(argv[1], "size") == 0)
		return mode_size(argv[2]);
	if (argc >= 6 && strcmp(argv[1], "live") == 0)
		return mode_live(argv[2], argv[3], (size_t)strtoull(argv[4], NULL, 10),
			argv + 5);
	if (argc == 5 && strcmp(argv[1], "live-lib") == 0)
		return mode_live_lib(argv[2], argv[3], (size_t)strtoull(argv[4], NULL, 10));
	if (argc == 5 && strcmp(argv[1], "hostile") == 0)
		return mode_hostile(argv[2], argv[3], (size_t)strtoull(argv[4], NULL, 10));
	if (argc >= 5 && strcmp(argv[1], "run") == 0)
		return mode_run(argv[2], (size_t)strtoull(argv[3], NULL, 10), argv + 4);
	fprintf(stderr, "usage: see the comment at the top of tools/bench.c\n");
	return 2;
}
