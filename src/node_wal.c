/*
 * The node's thread that checkpoints the write-ahead log, on a connection
 * of its own, so that no commit of the node's has to.
 */
#include <errno.h>
#include <pthread.h>
#include <time.h>

#include "amends/store.h"
#include "node_impl.h"
#include "store_impl.h"


#define WAL_FRAMES 1000          /* log frames that call for a checkpoint */
#define WAL_PAUSE_MS 100         /* at least this long between two checkpoints */

/*
 * Copying the write-ahead log into the database, and syncing the database
 * to disk, is the slowest thing a commit can be asked to do: SQLite does
 * it inside the commit that fills the log past wal_autocheckpoint. Done by
 * the node's loop or by a command, that holds up the next entry by
 * milliseconds. So the node does it on a thread of its own, with a
 * connection of its own, in PASSIVE mode (it never waits for a reader or a
 * writer): the node's own commits no longer checkpoint, and it asks for a
 * checkpoint whenever its log has grown past WAL_FRAMES or a command wrote,
 * at most one per WAL_PAUSE_MS. The log then stays short, and the
 * commands' own automatic checkpoint (for when no node runs) is seldom
 * reached.
 */
static void *
wal_loop(void *arg)
{
	struct walcp *w = arg;
	pthread_mutex_lock(&w->lock);
	while (!w->stop) {
		if (!w->wanted) {
			pthread_cond_wait(&w->cond, &w->lock);
			continue;
		}
		w->wanted = false;
		pthread_mutex_unlock(&w->lock);
		int rc = sqlite3_wal_checkpoint_v2(am_store_sqlite(w->store), NULL,
			SQLITE_CHECKPOINT_PASSIVE, NULL, NULL);
		pthread_mutex_lock(&w->lock);
		/* busy: another connection is checkpointing; it does the work */
		if (rc != SQLITE_OK && (rc & 0xff) != SQLITE_BUSY &&
		    (rc & 0xff) != SQLITE_LOCKED)
			w->failed = am_store_error(rc);
		/* what is asked for meanwhile waits for the pause to end */
		struct timespec until;
		clock_gettime(CLOCK_MONOTONIC, &until);
		until.tv_nsec += WAL_PAUSE_MS * 1000000L;
		if (until.tv_nsec >= 1000000000L) {
			until.tv_sec++;
			until.tv_nsec -= 1000000000L;
		}
		while (!w->stop &&
		    pthread_cond_timedwait(&w->cond, &w->lock, &until) != ETIMEDOUT)
			;
	}
	pthread_mutex_unlock(&w->lock);
	return NULL;
}

/* Asks the thread for a checkpoint (nothing when it does not run). */
void
node_wal_ask(struct walcp *w)
{
	if (!w->running)
		return;
	pthread_mutex_lock(&w->lock);
	w->wanted = true;
	pthread_cond_signal(&w->cond);
	pthread_mutex_unlock(&w->lock);
}

/* Called by SQLite after each commit of the node's connection, in place
 * of its automatic checkpoint. */
static int
wal_hook(void *ctx, sqlite3 *db, const char *name, int frames)
{
	(void)db;
	(void)name;
	if (frames >= WAL_FRAMES)
		node_wal_ask(ctx);
	return SQLITE_OK;
}

/* Starts the checkpoint thread on a connection of its own to path; when it
 * cannot, the node's commits go on checkpointing as SQLite does. */
void
node_wal_start(struct node *n, const char *path)
{
	struct walcp *w = &n->wal;
	pthread_condattr_t attr;
	int rc = am_store_open(path, &w->store);
	if (rc != AM_OK)
		goto fail;
	rc = AM_ERR_NOMEM;
	if (pthread_mutex_init(&w->lock, NULL) != 0)
		goto fail;
	if (pthread_condattr_init(&attr) != 0) {
		pthread_mutex_destroy(&w->lock);
		goto fail;
	}
	pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
	bool cond = pthread_cond_init(&w->cond, &attr) == 0;
	pthread_condattr_destroy(&attr);
	if (!cond || pthread_create(&w->thread, NULL, wal_loop, w) != 0) {
		if (cond)
			pthread_cond_destroy(&w->cond);
		pthread_mutex_destroy(&w->lock);
		goto fail;
	}
	w->running = true;
	sqlite3_wal_hook(am_store_sqlite(n->store), wal_hook, w);
	return;
fail:
	am_store_close(&w->store);
	node_log(n, "cannot checkpoint the database log apart: %s; commits will "
		"do it", am_strerror(rc));
}

void
node_wal_stop(struct node *n)
{
	struct walcp *w = &n->wal;
	if (w->running) {
		pthread_mutex_lock(&w->lock);
		w->stop = true;
		pthread_cond_signal(&w->cond);
		pthread_mutex_unlock(&w->lock);
		pthread_join(w->thread, NULL);
		pthread_cond_destroy(&w->cond);
		pthread_mutex_destroy(&w->lock);
		w->running = false;
	}
	am_store_close(&w->store);
}

/* Logs a checkpoint that failed since the last look. */
void
node_wal_report(struct node *n)
{
	struct walcp *w = &n->wal;
	if (!w->running)
		return;
	pthread_mutex_lock(&w->lock);
	int rc = w->failed;
	w->failed = AM_OK;
	pthread_mutex_unlock(&w->lock);
	if (rc != AM_OK)
		node_log(n, "could not checkpoint the database log: %s", am_strerror(rc));
}
