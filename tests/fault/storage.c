/*
 * Storage faults under the real store (RELIABILITY.md, F9 and F2), through
 * the fault VFS of vfs.h registered as SQLite's default.
 *
 *   fault-storage io [--stride K]      F9: for every N, the N-th read,
 *                                      write or sync of a fixed workload
 *                                      fails once
 *   fault-storage power [--seeds N] [--seed S]
 *                                      F2: power loss at a random sync (and,
 *                                      under synchronous=NORMAL, a random
 *                                      write), N seeds in each mode
 *
 * The workload, from the same starting database each time: appends of
 * this node's own entries (am_store_append, as the CLI writes) and batches
 * of another author's entries (am_store_ingest_batch, as sync writes),
 * with a checkpoint every few frames so that checkpoints are hit too. After
 * each run the database is reopened with no fault and must pass PRAGMA
 * integrity_check, the full verifier (am_verify_store), and a replay of the
 * state rules; and every append and batch that returned AM_OK must be there
 * (under synchronous=FULL, the node's setting, even after power loss).
 * An operation during which a write or sync failed must have returned an
 * error, unless the failure hit a checkpoint after its commit.
 *
 * Each prints one line, "F9: pass|fail ..." or "F2: pass|fail ...", and
 * exits 1 when anything failed.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>
#include <sqlite3.h>

#include "amends/state.h"
#include "amends/store.h"
#include "amends/verify.h"
#include "store_impl.h"
#include "vfs.h"

#define OPS 16                  /* operations of the workload */
#define BATCH 6                 /* entries per ingested batch */
#define B_ENTRIES (OPS / 4 * BATCH + 1)
#define CHECKPOINT_FRAMES 12    /* checkpoint once the WAL holds this many */

static char dir[] = "/tmp/amends-fault-storage-XXXXXX";
static char template_path[256], db_path[256];
static struct am_identity *me, *other;
static uint8_t my_circle[AM_HASH_BYTES];
/* the other author's feed, signed once: its genesis, then statements */
static uint8_t *b_raw[B_ENTRIES];
static size_t b_len[B_ENTRIES];

/* What one run of the workload achieved. */
struct run {
	bool opened;
	int rc[OPS];                /* what each operation returned */
	uint64_t acked;             /* own entries appended with AM_OK */
	uint8_t hash[OPS][AM_HASH_BYTES];   /* their hashes, by seq - 1 */
	size_t b_acked;             /* other entries stored with AM_OK */
};

/* What the checks after a run found. */
struct verdict {
	bool open_ok, integrity_ok, verify_ok, state_ok;
	uint64_t own_held;          /* own entries held after reopening */
	uint64_t missing;           /* acked but not held, or held differently */
	uint64_t b_held;
};

static void
die(const char *what, int rc)
{
	fprintf(stderr, "fault-storage: %s: %s\n", what, am_strerror(rc));
	exit(2);
}

static int
copy_file(const char *from, const char *to)
{
	int in = open(from, O_RDONLY | O_CLOEXEC);
	int out = open(to, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	char buf[65536];
	ssize_t n;
	int rc = 0;
	if (in < 0 || out < 0)
		rc = -1;
	while (rc == 0 && (n = read(in, buf, sizeof buf)) > 0)
		if (write(out, buf, (size_t)n) != n)
			rc = -1;
	if (rc == 0 && fsync(out) != 0)
		rc = -1;
	if (in >= 0)
		close(in);
	if (out >= 0)
		close(out);
	return rc;
}

/* Removes the run's database and its WAL and index. */
static void
remove_db(void)
{
	char p[300];
	unlink(db_path);
	snprintf(p, sizeof p, "%s-wal", db_path);
	unlink(p);
	snprintf(p, sizeof p, "%s-shm", db_path);
	unlink(p);
}

/* The starting database: this node's circle, and nothing of the other's. */
static void
make_template(void)
{
	struct am_store *s;
	struct am_body g = { .kind = AM_KIND_GENESIS, .name = am_str_c("us") };
	int rc;
	memset(g.nonce, 7, sizeof g.nonce);
	if ((rc = am_store_open(template_path, &s)) != AM_OK)
		die("template", rc);
	if ((rc = am_store_append(s, me, my_circle, 1800000000000LL, &g, NULL, NULL)) != AM_OK)
		die("genesis", rc);
	am_circle_id(am_identity_public(me), g.nonce, my_circle);
	am_store_close(&s);

	/* the other author's circle and feed */
	struct am_body og = { .kind = AM_KIND_GENESIS, .name = am_str_c("them") };
	struct am_entry_draft d = { .seq = 1, .time = 2000, .body = &og };
	struct am_entry e;
	memset(og.nonce, 9, sizeof og.nonce);
	am_circle_id(am_identity_public(other), og.nonce, d.circle);
	for (size_t i = 0; i < B_ENTRIES; i++) {
		char text[64];
		struct am_body st = { .kind = AM_KIND_STATEMENT };
		snprintf(text, sizeof text, "their statement %zu", i);
		st.note = am_str_c(text);
		if (i > 0) {
			d.body = &st;
			d.seq = i + 1;
			d.has_prev = true;
			memcpy(d.prev, e.hash, AM_HASH_BYTES);
		}
		if ((rc = am_entry_sign(other, &d, &b_raw[i], &b_len[i], &e)) != AM_OK)
			die("signing", rc);
	}
}

/* Checkpoints as the store's autocheckpoint would, but often, and marks
 * the time spent in it: a fault there comes after a commit succeeded. */
static int
wal_hook(void *ctx, sqlite3 *db, const char *name, int frames)
{
	(void)ctx;
	if (frames < CHECKPOINT_FRAMES)
		return SQLITE_OK;
	enum vfs_phase was = vfs_phase();
	vfs_set_phase(VFS_PHASE_CHECKPOINT);
	sqlite3_wal_checkpoint_v2(db, name, SQLITE_CHECKPOINT_PASSIVE, NULL, NULL);
	vfs_set_phase(was);
	return SQLITE_OK;
}

/* Runs the workload on a fresh copy of the template. normal: under
 * synchronous=NORMAL instead of the store's FULL. */
static void
workload(struct run *r, bool normal)
{
	struct am_store *s = NULL;
	size_t b_next = 0;
	memset(r, 0, sizeof *r);
	for (size_t i = 0; i < OPS; i++)
		r->rc[i] = AM_ERR_IO;
	vfs_set_phase(VFS_PHASE_WORK);
	vfs_set_tag(0);
	if (am_store_open(db_path, &s) != AM_OK)
		goto out;
	r->opened = true;
	sqlite3 *db = am_store_sqlite(s);
	sqlite3_wal_hook(db, wal_hook, NULL);
	if (normal && sqlite3_exec(db, "PRAGMA synchronous = NORMAL", NULL, NULL,
	    NULL) != SQLITE_OK)
		goto out;
	for (size_t i = 0; i < OPS; i++) {
		if (vfs_crashed())
			break;
		vfs_set_tag(i + 1);
		if (i % 4 == 3) {
			const uint8_t *raw[BATCH];
			size_t len[BATCH], n = 0, done = 0;
			enum am_ingest_result res[BATCH];
			for (; n < BATCH && b_next + n < B_ENTRIES; n++) {
				raw[n] = b_raw[b_next + n];
				len[n] = b_len[b_next + n];
			}
			r->rc[i] = am_store_ingest_batch(s, raw, len, n, res, &done);
			if (r->rc[i] == AM_OK)
				b_next += done;
			r->b_acked = b_next;
		} else {
			char text[64];
			struct am_body b = { .kind = AM_KIND_STATEMENT };
			uint8_t hash[AM_HASH_BYTES];
			uint64_t seq;
			snprintf(text, sizeof text, "statement %zu", i);
			b.note = am_str_c(text);
			r->rc[i] = am_store_append(s, me, my_circle, 1800000003000LL + (int64_t)i, &b,
				hash, &seq);
			if (r->rc[i] == AM_OK) {
				if (seq < 2 || seq - 2 >= OPS) {
					fprintf(stderr, "append %zu returned seq %llu\n", i,
						(unsigned long long)seq);
					exit(2);
				}
				/* seq 1 is the genesis */
				memcpy(r->hash[seq - 2], hash, AM_HASH_BYTES);
				if (seq - 1 > r->acked)
					r->acked = seq - 1;
			}
		}
	}
out:
	vfs_set_phase(VFS_PHASE_IDLE);
	vfs_set_tag(0);
	am_store_close(&s);
}

struct own_check {
	const struct run *r;
	struct verdict *v;
	uint64_t seq;
};

static int
own_entry(void *ctx, const uint8_t *raw, size_t len)
{
	struct own_check *c = ctx;
	struct am_entry e;
	c->seq++;
	if (am_entry_decode(raw, len, &e) != AM_OK || e.seq != c->seq)
		return AM_ERR_DB_CORRUPT;
	if (c->seq >= 2) {
		c->v->own_held = c->seq - 1;
		if (c->seq - 1 <= c->r->acked &&
		    memcmp(e.hash, c->r->hash[c->seq - 2], AM_HASH_BYTES) != 0)
			c->v->missing++;
	}
	return AM_OK;
}

static void
on_problem(void *ctx, const struct am_verify_problem *p)
{
	(void)ctx;
	fprintf(stderr, "  problem: seq %llu: %s\n", (unsigned long long)p->seq,
		p->what);
}

/* Reopens the database with no fault and checks it. */
static void
check_after(const struct run *r, struct verdict *v)
{
	struct am_store *s;
	memset(v, 0, sizeof *v);
	if (am_store_open(db_path, &s) != AM_OK)
		return;
	v->open_ok = true;
	v->integrity_ok = am_store_check(s) == AM_OK;
	struct am_verify_report rep;
	v->verify_ok = am_verify_store(s, NULL, 1, on_problem, NULL, &rep) == AM_OK &&
		rep.problems == 0;

	uint8_t circle[AM_HASH_BYTES], a[AM_HASH_BYTES], b[AM_HASH_BYTES];
	v->state_ok = am_state_digest(s, my_circle, a) == AM_OK &&
		am_state_refold(s, my_circle, b) == AM_OK && memcmp(a, b, sizeof a) == 0;
	struct am_entry e;
	if (am_entry_decode(b_raw[0], b_len[0], &e) != AM_OK)
		die("decoding", AM_ERR_DB);
	memcpy(circle, e.circle, sizeof circle);
	uint64_t seq = 0;
	uint8_t hash[AM_HASH_BYTES];
	if (am_store_head(s, circle, am_identity_public(other), &seq, hash) != AM_OK)
		v->verify_ok = false;
	v->b_held = seq;
	if (seq > 0)
		v->state_ok = v->state_ok && am_state_digest(s, circle, a) == AM_OK &&
			am_state_refold(s, circle, b) == AM_OK &&
			memcmp(a, b, sizeof a) == 0;

	struct own_check c = { .r = r, .v = v };
	if (am_store_range(s, my_circle, am_identity_public(me), 1, UINT64_MAX,
	    own_entry, &c) != AM_OK)
		v->verify_ok = false;
	if (v->own_held < r->acked)
		v->missing += r->acked - v->own_held;
	if (v->b_held < r->b_acked)
		v->missing += r->b_acked - v->b_held;
	am_store_close(&s);
}

static bool
verdict_ok(const struct verdict *v)
{
	return v->open_ok && v->integrity_ok && v->verify_ok && v->state_ok &&
		v->missing == 0;
}

static void
fresh_copy(void)
{
	remove_db();
	if (copy_file(template_path, db_path) != 0) {
		fprintf(stderr, "fault-storage: cannot copy %s: %s\n", template_path,
			strerror(errno));
		exit(2);
	}
}

/* ---- F9: the N-th read, write or sync fails ---- */

static const char *const op_names[] = { "read", "write", "sync" };

static int
test_io(uint64_t stride)
{
	struct run r;
	struct verdict v;
	uint64_t total[VFS_NOPS], runs = 0, bad = 0, silent = 0, fired = 0;
	uint64_t integrity_failures = 0, missing = 0;

	/* the workload without faults, to count its operations */
	fresh_copy();
	vfs_reset();
	workload(&r, false);
	for (int op = 0; op < VFS_NOPS; op++)
		total[op] = vfs_count((enum vfs_op)op);
	vfs_reset();
	check_after(&r, &v);
	if (!verdict_ok(&v) || r.acked != OPS - OPS / 4) {
		printf("F9: fail the workload without faults did not pass its checks\n");
		return 1;
	}

	for (int op = 0; op < VFS_NOPS; op++) {
		for (uint64_t n = 1; n <= total[op]; n += stride) {
			fresh_copy();
			vfs_reset();
			vfs_fail((enum vfs_op)op, n);
			workload(&r, false);
			struct vfs_fired f = vfs_fired();
			vfs_reset();
			check_after(&r, &v);
			runs++;
			if (f.fired)
				fired++;
			bool ok = verdict_ok(&v);
			/* a write or sync that failed inside an operation must
			 * make it fail; a read may be retried or answered from
			 * elsewhere by SQLite */
			if (f.fired && f.op != VFS_READ && f.phase == VFS_PHASE_WORK &&
			    f.tag > 0 && r.rc[f.tag - 1] == AM_OK) {
				silent++;
				ok = false;
			}
			if (!v.integrity_ok)
				integrity_failures++;
			missing += v.missing;
			if (!ok) {
				bad++;
				fprintf(stderr, "F9: failing %s %llu (fired: %d, phase %d, "
					"op %llu): open %d integrity %d verify %d state %d "
					"missing %llu\n", op_names[op], (unsigned long long)n,
					f.fired, f.phase, (unsigned long long)f.tag, v.open_ok,
					v.integrity_ok, v.verify_ok, v.state_ok,
					(unsigned long long)v.missing);
			}
		}
	}
	printf("F9: %s injection points %llu (reads %llu, writes %llu, syncs %llu, "
		"stride %llu), fired %llu; failures returned as success %llu; "
		"integrity failures %llu; acked-but-missing %llu\n",
		bad == 0 ? "pass" : "fail", (unsigned long long)runs,
		(unsigned long long)total[VFS_READ], (unsigned long long)total[VFS_WRITE],
		(unsigned long long)total[VFS_SYNC], (unsigned long long)stride,
		(unsigned long long)fired, (unsigned long long)silent,
		(unsigned long long)integrity_failures, (unsigned long long)missing);
	return bad == 0 ? 0 : 1;
}

/* ---- F2: power loss ---- */

static uint64_t
mix(uint64_t x)
{
	x += 0x9E3779B97F4A7C15ULL;
	x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ULL;
	x = (x ^ (x >> 27)) * 0x94D049BB133111EBULL;
	return x ^ (x >> 31);
}

struct power_figures {
	uint64_t runs, crashed, integrity_failures, lost, tail_lost, bad;
};

static void
power_mode(bool normal, uint64_t seeds, uint64_t seed0, struct power_figures *pf)
{
	struct run r;
	struct verdict v;
	uint64_t total[VFS_NOPS];

	fresh_copy();
	vfs_reset();
	workload(&r, normal);
	for (int op = 0; op < VFS_NOPS; op++)
		total[op] = vfs_count((enum vfs_op)op);
	vfs_reset();

	for (uint64_t i = 0; i < seeds; i++) {
		uint64_t seed = mix(seed0 + i + (normal ? 1000000 : 0));
		/* under FULL every commit syncs: crash at a sync; under NORMAL
		 * most commits do not, so half the crashes come at a write */
		enum vfs_op op = normal && (seed & 1) ? VFS_WRITE : VFS_SYNC;
		if (total[op] == 0)
			op = VFS_WRITE;
		uint64_t n = 1 + (seed >> 8) % total[op];
		fresh_copy();
		vfs_reset();
		vfs_power_loss(op, n, seed);
		workload(&r, normal);
		bool crashed = vfs_crashed();
		long dropped = vfs_power_loss_apply();
		check_after(&r, &v);
		pf->runs++;
		pf->crashed += crashed;
		pf->integrity_failures += !v.integrity_ok;
		bool ok = dropped >= 0 && v.open_ok && v.integrity_ok && v.verify_ok &&
			v.state_ok;
		if (normal) {
			/* the tail may go, but what is left is what was acked */
			uint64_t lost = r.acked > v.own_held ? r.acked - v.own_held : 0;
			pf->tail_lost += lost;
			if (v.missing > lost + (r.b_acked > v.b_held ?
			    r.b_acked - v.b_held : 0))
				ok = false;
		} else {
			pf->lost += v.missing;
			ok = ok && v.missing == 0;
		}
		if (!ok) {
			pf->bad++;
			fprintf(stderr, "F2: %s, seed %llu, crash at %s %llu (crashed %d, "
				"dropped %ld): open %d integrity %d verify %d state %d "
				"acked %llu held %llu missing %llu\n",
				normal ? "NORMAL" : "FULL", (unsigned long long)seed,
				op_names[op], (unsigned long long)n, crashed, dropped,
				v.open_ok, v.integrity_ok, v.verify_ok, v.state_ok,
				(unsigned long long)r.acked, (unsigned long long)v.own_held,
				(unsigned long long)v.missing);
		}
	}
}

static int
test_power(uint64_t seeds, uint64_t seed0)
{
	struct power_figures full = { 0 }, normal = { 0 };
	power_mode(false, seeds, seed0, &full);
	power_mode(true, seeds, seed0, &normal);
	bool ok = full.bad == 0 && normal.bad == 0;
	printf("F2: %s seeds %llu x {FULL, NORMAL}; crashed %llu + %llu; integrity "
		"failures %llu; FULL committed-lost %llu; NORMAL tail entries lost "
		"%llu (allowed), inconsistent %llu\n", ok ? "pass" : "fail",
		(unsigned long long)seeds, (unsigned long long)full.crashed,
		(unsigned long long)normal.crashed,
		(unsigned long long)(full.integrity_failures + normal.integrity_failures),
		(unsigned long long)full.lost, (unsigned long long)normal.tail_lost,
		(unsigned long long)normal.bad);
	return ok ? 0 : 1;
}

static void
cleanup(void)
{
	remove_db();
	unlink(template_path);
	rmdir(dir);
}

int
main(int argc, char **argv)
{
	uint64_t stride = 1, seeds = 50, seed0 = 1;
	const char *mode = argc > 1 ? argv[1] : "";
	for (int i = 2; i + 1 < argc; i += 2) {
		uint64_t v = strtoull(argv[i + 1], NULL, 10);
		if (strcmp(argv[i], "--stride") == 0 && v > 0)
			stride = v;
		else if (strcmp(argv[i], "--seeds") == 0 && v > 0)
			seeds = v;
		else if (strcmp(argv[i], "--seed") == 0)
			seed0 = v;
		else
			mode = "";
	}
	if (getenv("AMENDS_LONG") != NULL && strcmp(mode, "power") == 0)
		seeds *= 10;
	if ((strcmp(mode, "io") != 0 && strcmp(mode, "power") != 0) || argc % 2 != 0) {
		fprintf(stderr, "usage: fault-storage io [--stride K] | "
			"power [--seeds N] [--seed S]\n");
		return 2;
	}
	if (sodium_init() < 0 || vfs_install() != 0) {
		fprintf(stderr, "fault-storage: cannot set up\n");
		return 2;
	}
	if (mkdtemp(dir) == NULL) {
		fprintf(stderr, "fault-storage: mkdtemp: %s\n", strerror(errno));
		return 2;
	}
	atexit(cleanup);
	snprintf(template_path, sizeof template_path, "%s/template.db", dir);
	snprintf(db_path, sizeof db_path, "%s/run.db", dir);
	if (am_identity_generate(&me) != AM_OK || am_identity_generate(&other) != AM_OK)
		die("identity", AM_ERR_NOMEM);
	make_template();

	int rc = strcmp(mode, "io") == 0 ? test_io(stride) : test_power(seeds, seed0);
	for (size_t i = 0; i < B_ENTRIES; i++)
		free(b_raw[i]);
	am_identity_destroy(&me);
	am_identity_destroy(&other);
	return rc;
}
