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

#endif
