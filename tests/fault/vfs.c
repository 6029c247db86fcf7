/*
 * The fault-injecting SQLite VFS of the storage fault tests (vfs.h). It
 * wraps whatever VFS was the default (unix on Linux): every call goes
 * through to it, except that reads, writes and syncs are counted so that
 * one of them can be made to fail, and, while a power loss is armed, each
 * write and truncate is remembered with the bytes it replaced until its
 * file is synced. SQLite's own crash tests (src/test6.c) model power loss
 * the same way; this is a smaller model: whole 512-byte sectors survive or
 * not, and nothing that was synced is ever lost.
 *
 * The shared-memory index (-shm) is passed through untouched: SQLite
 * rebuilds it from the WAL when the first connection opens the database
 * after every other one closed, as it would after a reboot.
 */
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sqlite3.h>

#include "vfs.h"

#define SECTOR 512

enum { OP_WRITE, OP_TRUNCATE };

/* One write or truncate not yet synced, with what it replaced. */
struct op {
	int kind;
	sqlite3_int64 off;           /* write: where; truncate: the new size */
	size_t len;                  /* write: bytes written */
	unsigned char *data;         /* write: the bytes written */
	unsigned char *old;          /* the bytes it replaced (within old_size) */
	size_t old_len;
	sqlite3_int64 old_size;      /* the file's size before */
};

/* The unsynced operations of one file, by path. */
struct track {
	char *path;
	struct op *ops;
	size_t nops, cap;
};

struct shim_file {
	sqlite3_file base;           /* first: SQLite sees this */
	sqlite3_file *real;          /* the wrapped VFS's file, after this one */
	const char *path;            /* NULL for a file without a name */
	bool wal;
};

static struct {
	sqlite3_vfs *real;
	uint64_t count[VFS_NOPS];
	enum vfs_op fail_op;
	uint64_t fail_n;             /* 0: nothing armed */
	enum vfs_op crash_op;
	uint64_t crash_n;            /* 0: no power loss armed */
	uint64_t seed;
	bool tracking;
	bool crashed;
	enum vfs_phase phase;
	uint64_t tag;
	struct vfs_fired fired;
	struct track *tracks;
	size_t ntracks;
} g;

static uint64_t
rng(uint64_t *s)
{
	*s ^= *s >> 12;
	*s ^= *s << 25;
	*s ^= *s >> 27;
	return *s * 2685821657736338717ULL;
}

/* ---- remembered writes ---- */

static struct track *
track_of(const char *path)
{
	if (path == NULL)
		return NULL;
	for (size_t i = 0; i < g.ntracks; i++)
		if (strcmp(g.tracks[i].path, path) == 0)
			return &g.tracks[i];
	struct track *t = realloc(g.tracks, (g.ntracks + 1) * sizeof *t);
	if (t == NULL)
		return NULL;
	g.tracks = t;
	t = &g.tracks[g.ntracks];
	memset(t, 0, sizeof *t);
	t->path = strdup(path);
	if (t->path == NULL)
		return NULL;
	g.ntracks++;
	return t;
}

static void
track_clear(struct track *t)
{
	for (size_t i = 0; i < t->nops; i++) {
		free(t->ops[i].data);
		free(t->ops[i].old);
	}
	t->nops = 0;
}

static void
tracks_free(void)
{
	for (size_t i = 0; i < g.ntracks; i++) {
		track_clear(&g.tracks[i]);
		free(g.tracks[i].ops);
		free(g.tracks[i].path);
	}
	free(g.tracks);
	g.tracks = NULL;
	g.ntracks = 0;
}

static struct op *
op_new(struct track *t)
{
	if (t->nops == t->cap) {
		size_t cap = t->cap ? 2 * t->cap : 64;
		struct op *o = realloc(t->ops, cap * sizeof *o);
		if (o == NULL)
			return NULL;
		t->ops = o;
		t->cap = cap;
	}
	struct op *o = &t->ops[t->nops];
	memset(o, 0, sizeof *o);
	return o;
}

/* Reads [off, off+len) of f, clipped to its size, into a new buffer. */
static int
preimage(sqlite3_file *f, sqlite3_int64 off, sqlite3_int64 end,
	sqlite3_int64 size, unsigned char **out, size_t *len)
{
	*out = NULL;
	*len = 0;
	if (end > size)
		end = size;
	if (end <= off)
		return SQLITE_OK;
	*len = (size_t)(end - off);
	*out = malloc(*len);
	if (*out == NULL)
		return SQLITE_NOMEM;
	int rc = f->pMethods->xRead(f, *out, (int)*len, off);
	return rc == SQLITE_IOERR_SHORT_READ ? SQLITE_OK : rc;
}

/* Remembers a write about to be made (before it is made). */
static int
remember_write(struct shim_file *sf, const void *buf, int amt, sqlite3_int64 off)
{
	struct track *t = track_of(sf->path);
	sqlite3_int64 size;
	if (t == NULL)
		return sf->path == NULL ? SQLITE_OK : SQLITE_NOMEM;
	int rc = sf->real->pMethods->xFileSize(sf->real, &size);
	if (rc != SQLITE_OK)
		return rc;
	struct op *o = op_new(t);
	if (o == NULL)
		return SQLITE_NOMEM;
	o->kind = OP_WRITE;
	o->off = off;
	o->len = (size_t)amt;
	o->old_size = size;
	o->data = malloc((size_t)amt);
	if (o->data == NULL)
		return SQLITE_NOMEM;
	memcpy(o->data, buf, (size_t)amt);
	rc = preimage(sf->real, off, off + amt, size, &o->old, &o->old_len);
	if (rc != SQLITE_OK) {
		free(o->data);
		free(o->old);
		return rc;
	}
	t->nops++;
	return SQLITE_OK;
}

static int
remember_truncate(struct shim_file *sf, sqlite3_int64 size)
{
	struct track *t = track_of(sf->path);
	sqlite3_int64 old;
	if (t == NULL)
		return sf->path == NULL ? SQLITE_OK : SQLITE_NOMEM;
	int rc = sf->real->pMethods->xFileSize(sf->real, &old);
	if (rc != SQLITE_OK)
		return rc;
	struct op *o = op_new(t);
	if (o == NULL)
		return SQLITE_NOMEM;
	o->kind = OP_TRUNCATE;
	o->off = size;
	o->old_size = old;
	if ((rc = preimage(sf->real, size, old, old, &o->old, &o->old_len)) != SQLITE_OK)
		return rc;
	t->nops++;
	return SQLITE_OK;
}

static int
write_all(int fd, const unsigned char *p, size_t n, sqlite3_int64 off)
{
	while (n > 0) {
		ssize_t w = pwrite(fd, p, n, (off_t)off);
		if (w <= 0)
			return -1;
		p += w;
		n -= (size_t)w;
		off += w;
	}
	return 0;
}

/*
 * Puts one file in the state a power loss leaves: every unsynced operation
 * undone, newest first, then each 512-byte sector of each one redone or
 * not, as chance (keep, in thousandths) has it, oldest first.
 */
static long
lose(struct track *t, uint64_t *seed, unsigned keep)
{
	long dropped = 0;
	if (t->nops == 0)
		return 0;
	int fd = open(t->path, O_RDWR | O_CLOEXEC);
	if (fd < 0)
		return -1;
	for (size_t i = t->nops; i-- > 0; ) {
		struct op *o = &t->ops[i];
		if (ftruncate(fd, (off_t)o->old_size) != 0 ||
		    write_all(fd, o->old, o->old_len, o->off) != 0)
			goto fail;
	}
	for (size_t i = 0; i < t->nops; i++) {
		struct op *o = &t->ops[i];
		if (o->kind == OP_TRUNCATE) {
			if (rng(seed) % 1000 < keep) {
				if (ftruncate(fd, (off_t)o->off) != 0)
					goto fail;
			} else {
				dropped++;
			}
			continue;
		}
		sqlite3_int64 at = o->off, end = o->off + (sqlite3_int64)o->len;
		while (at < end) {
			sqlite3_int64 next = (at / SECTOR + 1) * SECTOR;
			if (next > end)
				next = end;
			if (rng(seed) % 1000 < keep) {
				if (write_all(fd, o->data + (at - o->off),
				    (size_t)(next - at), at) != 0)
					goto fail;
			} else {
				dropped++;
			}
			at = next;
		}
	}
	close(fd);
	return dropped;
fail:
	close(fd);
	return -1;
}

long
vfs_power_loss_apply(void)
{
	long dropped = 0;
	uint64_t seed = g.seed | 1;
	/* sometimes nothing unsynced survives, sometimes all of it */
	static const unsigned keeps[] = { 0, 1000, 500, 500, 250, 750 };
	unsigned keep = keeps[rng(&seed) % (sizeof keeps / sizeof keeps[0])];
	if (g.crashed) {
		for (size_t i = 0; i < g.ntracks && dropped >= 0; i++) {
			long d = lose(&g.tracks[i], &seed, keep);
			dropped = d < 0 ? -1 : dropped + d;
		}
	}
	vfs_reset();
	return dropped;
}

/* ---- faults ---- */

static void
fire(enum vfs_op op, const struct shim_file *sf)
{
	if (g.fired.fired)
		return;
	g.fired.fired = true;
	g.fired.op = op;
	g.fired.phase = g.phase;
	g.fired.wal = sf->wal;
	g.fired.tag = g.tag;
}

/* Counts an operation; true when it is the one to fail. */
static bool
injected(enum vfs_op op, const struct shim_file *sf)
{
	uint64_t n = ++g.count[op];
	if (g.fail_n != 0 && g.fail_op == op && g.fail_n == n) {
		fire(op, sf);
		return true;
	}
	if (g.crash_n != 0 && g.crash_op == op && g.crash_n == n && !g.crashed) {
		fire(op, sf);
		g.crashed = true;
		return true;
	}
	return false;
}

/* ---- the file methods ---- */

static int
shim_close(sqlite3_file *f)
{
	struct shim_file *sf = (struct shim_file *)f;
	int rc = sf->real->pMethods->xClose(sf->real);
	free((char *)sf->path);
	sf->path = NULL;
	return rc;
}

static int
shim_read(sqlite3_file *f, void *buf, int amt, sqlite3_int64 off)
{
	struct shim_file *sf = (struct shim_file *)f;
	if (injected(VFS_READ, sf))
		return SQLITE_IOERR_READ;
	return sf->real->pMethods->xRead(sf->real, buf, amt, off);
}

static int
shim_write(sqlite3_file *f, const void *buf, int amt, sqlite3_int64 off)
{
	struct shim_file *sf = (struct shim_file *)f;
	if (g.crashed || injected(VFS_WRITE, sf))
		return SQLITE_IOERR_WRITE;
	if (g.tracking) {
		int rc = remember_write(sf, buf, amt, off);
		if (rc != SQLITE_OK)
			return rc;
	}
	return sf->real->pMethods->xWrite(sf->real, buf, amt, off);
}

static int
shim_truncate(sqlite3_file *f, sqlite3_int64 size)
{
	struct shim_file *sf = (struct shim_file *)f;
	if (g.crashed)
		return SQLITE_IOERR_TRUNCATE;
	if (g.tracking) {
		int rc = remember_truncate(sf, size);
		if (rc != SQLITE_OK)
			return rc;
	}
	return sf->real->pMethods->xTruncate(sf->real, size);
}

static int
shim_sync(sqlite3_file *f, int flags)
{
	struct shim_file *sf = (struct shim_file *)f;
	if (g.crashed || injected(VFS_SYNC, sf))
		return SQLITE_IOERR_FSYNC;
	int rc = sf->real->pMethods->xSync(sf->real, flags);
	if (rc == SQLITE_OK && g.tracking) {
		struct track *t = track_of(sf->path);
		if (t != NULL)
			track_clear(t);
	}
	return rc;
}

static int
shim_file_size(sqlite3_file *f, sqlite3_int64 *size)
{
	struct shim_file *sf = (struct shim_file *)f;
	return sf->real->pMethods->xFileSize(sf->real, size);
}

static int
shim_lock(sqlite3_file *f, int level)
{
	struct shim_file *sf = (struct shim_file *)f;
	return sf->real->pMethods->xLock(sf->real, level);
}

static int
shim_unlock(sqlite3_file *f, int level)
{
	struct shim_file *sf = (struct shim_file *)f;
	return sf->real->pMethods->xUnlock(sf->real, level);
}

static int
shim_check_reserved(sqlite3_file *f, int *out)
{
	struct shim_file *sf = (struct shim_file *)f;
	return sf->real->pMethods->xCheckReservedLock(sf->real, out);
}

static int
shim_file_control(sqlite3_file *f, int op, void *arg)
{
	struct shim_file *sf = (struct shim_file *)f;
	return sf->real->pMethods->xFileControl(sf->real, op, arg);
}

static int
shim_sector_size(sqlite3_file *f)
{
	struct shim_file *sf = (struct shim_file *)f;
	return sf->real->pMethods->xSectorSize(sf->real);
}

static int
shim_device(sqlite3_file *f)
{
	struct shim_file *sf = (struct shim_file *)f;
	return sf->real->pMethods->xDeviceCharacteristics(sf->real);
}

static int
shim_shm_map(sqlite3_file *f, int page, int size, int extend, void volatile **p)
{
	struct shim_file *sf = (struct shim_file *)f;
	return sf->real->pMethods->xShmMap(sf->real, page, size, extend, p);
}

static int
shim_shm_lock(sqlite3_file *f, int off, int n, int flags)
{
	struct shim_file *sf = (struct shim_file *)f;
	return sf->real->pMethods->xShmLock(sf->real, off, n, flags);
}

static void
shim_shm_barrier(sqlite3_file *f)
{
	struct shim_file *sf = (struct shim_file *)f;
	sf->real->pMethods->xShmBarrier(sf->real);
}

static int
shim_shm_unmap(sqlite3_file *f, int delete_flag)
{
	struct shim_file *sf = (struct shim_file *)f;
	return sf->real->pMethods->xShmUnmap(sf->real, delete_flag);
}

/* Version 2: no xFetch, so every read of a page comes through xRead. */
static const sqlite3_io_methods shim_io = {
	.iVersion = 2,
	.xClose = shim_close,
	.xRead = shim_read,
	.xWrite = shim_write,
	.xTruncate = shim_truncate,
	.xSync = shim_sync,
	.xFileSize = shim_file_size,
	.xLock = shim_lock,
	.xUnlock = shim_unlock,
	.xCheckReservedLock = shim_check_reserved,
	.xFileControl = shim_file_control,
	.xSectorSize = shim_sector_size,
	.xDeviceCharacteristics = shim_device,
	.xShmMap = shim_shm_map,
	.xShmLock = shim_shm_lock,
	.xShmBarrier = shim_shm_barrier,
	.xShmUnmap = shim_shm_unmap,
};

/* ---- the VFS methods ---- */

/* The wrapped file sits right after ours, suitably aligned. */
#define SHIM_SIZE ((sizeof(struct shim_file) + 15) & ~(size_t)15)

static int
shim_open(sqlite3_vfs *vfs, const char *name, sqlite3_file *f, int flags,
	int *out_flags)
{
	struct shim_file *sf = (struct shim_file *)f;
	(void)vfs;
	memset(sf, 0, sizeof *sf);
	sf->real = (sqlite3_file *)((char *)f + SHIM_SIZE);
	int rc = g.real->xOpen(g.real, name, sf->real, flags, out_flags);
	if (rc != SQLITE_OK)
		return rc;
	if (name != NULL && (sf->path = strdup(name)) == NULL) {
		sf->real->pMethods->xClose(sf->real);
		return SQLITE_NOMEM;
	}
	sf->wal = (flags & SQLITE_OPEN_WAL) != 0;
	f->pMethods = &shim_io;
	return SQLITE_OK;
}

static int
shim_delete(sqlite3_vfs *vfs, const char *name, int sync_dir)
{
	(void)vfs;
	if (g.crashed)
		return SQLITE_IOERR_DELETE;
	return g.real->xDelete(g.real, name, sync_dir);
}

static int
shim_access(sqlite3_vfs *vfs, const char *name, int flags, int *out)
{
	(void)vfs;
	return g.real->xAccess(g.real, name, flags, out);
}

static int
shim_full_pathname(sqlite3_vfs *vfs, const char *name, int n, char *out)
{
	(void)vfs;
	return g.real->xFullPathname(g.real, name, n, out);
}

static void *
shim_dlopen(sqlite3_vfs *vfs, const char *name)
{
	(void)vfs;
	return g.real->xDlOpen(g.real, name);
}

static void
shim_dlerror(sqlite3_vfs *vfs, int n, char *out)
{
	(void)vfs;
	g.real->xDlError(g.real, n, out);
}

static void (*shim_dlsym(sqlite3_vfs *vfs, void *h, const char *sym))(void)
{
	(void)vfs;
	return g.real->xDlSym(g.real, h, sym);
}

static void
shim_dlclose(sqlite3_vfs *vfs, void *h)
{
	(void)vfs;
	g.real->xDlClose(g.real, h);
}

static int
shim_randomness(sqlite3_vfs *vfs, int n, char *out)
{
	(void)vfs;
	return g.real->xRandomness(g.real, n, out);
}

static int
shim_sleep(sqlite3_vfs *vfs, int us)
{
	(void)vfs;
	return g.real->xSleep(g.real, us);
}

static int
shim_current_time(sqlite3_vfs *vfs, double *out)
{
	(void)vfs;
	return g.real->xCurrentTime(g.real, out);
}

static int
shim_last_error(sqlite3_vfs *vfs, int n, char *out)
{
	(void)vfs;
	return g.real->xGetLastError(g.real, n, out);
}

static int
shim_current_time64(sqlite3_vfs *vfs, sqlite3_int64 *out)
{
	(void)vfs;
	return g.real->xCurrentTimeInt64(g.real, out);
}

static sqlite3_vfs shim_vfs = {
	.iVersion = 2,
	.zName = "amends-fault",
	.xOpen = shim_open,
	.xDelete = shim_delete,
	.xAccess = shim_access,
	.xFullPathname = shim_full_pathname,
	.xDlOpen = shim_dlopen,
	.xDlError = shim_dlerror,
	.xDlSym = shim_dlsym,
	.xDlClose = shim_dlclose,
	.xRandomness = shim_randomness,
	.xSleep = shim_sleep,
	.xCurrentTime = shim_current_time,
	.xGetLastError = shim_last_error,
	.xCurrentTimeInt64 = shim_current_time64,
};

/* ---- the test's side ---- */

int
vfs_install(void)
{
	if (g.real != NULL)
		return 0;
	if (sqlite3_initialize() != SQLITE_OK)
		return -1;
	g.real = sqlite3_vfs_find(NULL);
	if (g.real == NULL || g.real->iVersion < 2)
		return -1;
	shim_vfs.szOsFile = (int)SHIM_SIZE + g.real->szOsFile;
	shim_vfs.mxPathname = g.real->mxPathname;
	return sqlite3_vfs_register(&shim_vfs, 1) == SQLITE_OK ? 0 : -1;
}

void
vfs_reset(void)
{
	memset(g.count, 0, sizeof g.count);
	g.fail_n = 0;
	g.crash_n = 0;
	g.tracking = false;
	g.crashed = false;
	g.phase = VFS_PHASE_IDLE;
	g.tag = 0;
	memset(&g.fired, 0, sizeof g.fired);
	tracks_free();
}

uint64_t
vfs_count(enum vfs_op op)
{
	return g.count[op];
}

void
vfs_fail(enum vfs_op op, uint64_t n)
{
	g.fail_op = op;
	g.fail_n = n;
}

void
vfs_power_loss(enum vfs_op op, uint64_t n, uint64_t seed)
{
	g.crash_op = op;
	g.crash_n = n;
	g.seed = seed;
	g.tracking = true;
}

bool
vfs_crashed(void)
{
	return g.crashed;
}

void
vfs_set_phase(enum vfs_phase phase)
{
	g.phase = phase;
}

void
vfs_set_tag(uint64_t tag)
{
	g.tag = tag;
}

enum vfs_phase
vfs_phase(void)
{
	return g.phase;
}

struct vfs_fired
vfs_fired(void)
{
	return g.fired;
}
