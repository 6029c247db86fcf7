/*
 * What the store shares with the other modules of libamends that keep
 * tables in the same database (the materialised state). Never installed.
 */
#ifndef AMENDS_STORE_IMPL_H
#define AMENDS_STORE_IMPL_H

#include <sqlite3.h>

#include "amends/store.h"

/* The store's connection; valid while the store is open. */
sqlite3 *am_store_sqlite(struct am_store *s);

/* Maps a SQLite result code to an AM_ERR_* code. */
int am_store_error(int sqlite_rc);

/* BEGIN IMMEDIATE / COMMIT / ROLLBACK on the store's connection. */
int am_store_begin(struct am_store *s);
int am_store_commit(struct am_store *s);
void am_store_rollback(struct am_store *s);

/* Runs one statement with no result rows. */
int am_store_exec(struct am_store *s, const char *sql);

#ifdef AMENDS_STORE_OWN
/*
 * What the store's own files share (store.c, store_ingest.c,
 * store_pending.c), kept from the other modules: each of those files
 * defines AMENDS_STORE_OWN before including this header.
 */
#include <stdbool.h>
#include <time.h>

#include "amends/entry.h"

/* The statements every store prepares once, at open (store.c). */
enum stmt {
	S_FEED_GET,
	S_FEED_INSERT,
	S_FEED_UPDATE,
	S_ENTRY_GET,
	S_ENTRY_INSERT,
	S_FORK_INSERT,
	S_FEED_FORKED,
	S_RANGE,
	S_HEADS,
	S_UNCHECKED_INSERT,
	S_COUNT
};

struct am_store {
	sqlite3 *db;
	struct timespec busy_start;     /* when the current wait for a lock began */
	sqlite3_stmt *stmt[S_COUNT];
	bool defer;                     /* see am_store_defer_sync() */
	bool unsynced;                  /* a deferred commit is not on disk yet */
	bool normal;                    /* synchronous is NORMAL, not FULL */
	bool held;                      /* a run's transaction is left open */
	size_t held_entries;            /* entries taken in it */
	struct timespec held_since;     /* when it began */
	bool reading;                   /* am_store_read_begin() opened one */
};

struct feed {
	int64_t id;          /* 0 when the feed does not exist yet */
	uint64_t head_seq;
	uint8_t head_hash[AM_HASH_BYTES];
	uint64_t forked_at;  /* 0 when the feed has not forked */
	uint64_t bytes;      /* of its entries, up to the head */
};

/* Whether an entry of len bytes fits after a feed's bytes under
 * AM_CAP_FEED_BYTES. */
static inline bool
store_feed_fits(uint64_t bytes, size_t len)
{
	return bytes <= AM_CAP_FEED_BYTES && len <= AM_CAP_FEED_BYTES - bytes;
}

/* Maps the result of a failed write to an AM_ERR_* code, telling a write
 * refused for want of room (AM_ERR_DB_FULL) from other I/O errors. */
int store_write_error(struct am_store *s, int rc);

/* May a held run's transaction stay open for another batch (within
 * AM_STORE_HOLD_ENTRIES and AM_STORE_HOLD_MS since it began)? */
bool store_hold_more(const struct am_store *s);

/* Sets synchronous to NORMAL (normal) or FULL, outside a transaction. */
int store_sync_mode(struct am_store *s, bool normal);

/* Runs a statement whose first row holds one integer, into *out. */
int store_pragma_int(sqlite3 *db, const char *sql, int64_t *out);

/* The text of a statement store_stmt() caches, to prepare apart. */
const char *store_sql(enum stmt which);

/* Resets a cached statement and returns it ready to bind. */
sqlite3_stmt *store_stmt(struct am_store *s, enum stmt which);

/* Steps a statement that returns no rows. */
int store_step_done(sqlite3_stmt *st);

/* Reads the feed of author in circle into *f; f->id is 0 when there is
 * none yet. */
int store_feed_get(struct am_store *s, const uint8_t *circle,
	const uint8_t *author, struct feed *f);

/* AM_ERR_IO when the caller's transaction is no longer open. */
int store_in_transaction(struct am_store *s);

/* Stores e as the next entry of feed f (which may not exist yet). The
 * caller holds the transaction and has checked the chain. */
int store_feed_extend(struct am_store *s, struct feed *f, const struct am_entry *e);
#endif

#endif
