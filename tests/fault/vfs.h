/*
 * A test-only SQLite VFS that wraps the default one and injects storage
 * faults into the store underneath (RELIABILITY.md, F2 and F9):
 *
 *  - failing the N-th read, write or sync with an I/O error, once, as a
 *    disk with a bad moment would;
 *  - power loss: every write since its file's last sync is remembered;
 *    at the N-th sync (or write) the VFS "crashes": that operation fails,
 *    and so does every write, sync, truncate and delete after it, until
 *    vfs_power_loss_apply() rewrites the files as a disk that lost power
 *    then might hold them: a random subset of the unsynced 512-byte
 *    sectors kept, the rest as they were at the last sync.
 *
 * One process, one thread, one test at a time: the state is global.
 */
#ifndef AMENDS_TEST_FAULT_VFS_H
#define AMENDS_TEST_FAULT_VFS_H

#include <stdbool.h>
#include <stdint.h>

enum vfs_op {
	VFS_READ = 0,
	VFS_WRITE = 1,
	VFS_SYNC = 2,
	VFS_NOPS = 3,
};

/* Where the work was when a fault fired: set by the test around what it
 * does, so that a fault during a checkpoint (after a commit succeeded) is
 * told apart from one inside a transaction. */
enum vfs_phase {
	VFS_PHASE_IDLE = 0,
	VFS_PHASE_WORK = 1,
	VFS_PHASE_CHECKPOINT = 2,
};

struct vfs_fired {
	bool fired;
	enum vfs_op op;
	enum vfs_phase phase;
	bool wal;                  /* on the -wal file */
	uint64_t tag;              /* the test's tag when it fired */
};

/* Registers the wrapping VFS as SQLite's default. Returns 0, or -1 when
 * there is no default VFS to wrap. */
int vfs_install(void);

/* Back to passing everything through: no fault armed, counts zeroed,
 * remembered writes forgotten, not crashed. */
void vfs_reset(void);

/* Operations of each kind since the last reset (the failed one included). */
uint64_t vfs_count(enum vfs_op op);

/* Arms a one-off fault: the n-th operation of kind op (counting from 1
 * after the last reset) fails with an I/O error. */
void vfs_fail(enum vfs_op op, uint64_t n);

/* Arms power loss at the n-th operation of kind op (VFS_WRITE or
 * VFS_SYNC), with seed choosing which unsynced sectors survive. Writes are
 * remembered from this call on. */
void vfs_power_loss(enum vfs_op op, uint64_t n, uint64_t seed);

/* True once the armed power loss happened. */
bool vfs_crashed(void);

/* Rewrites every file the way the power loss left it. Call it after every
 * connection is closed. Returns the number of unsynced sectors dropped, or
 * -1 when a file could not be rewritten. Then resets (vfs_reset). */
long vfs_power_loss_apply(void);

/* Sets the phase, and the tag (an operation number), recorded with a
 * fault when it fires. */
void vfs_set_phase(enum vfs_phase phase);
enum vfs_phase vfs_phase(void);
void vfs_set_tag(uint64_t tag);

/* What fired since the last reset. */
struct vfs_fired vfs_fired(void);

#endif
