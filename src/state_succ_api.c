/*
 * Successions as the commands name them: by the start of their hash
 * (include/amends/state.h, am_state_resolve_succession).
 */
#include <ctype.h>
#include <string.h>

#include <sqlite3.h>

#include "amends/state.h"
#include "store_impl.h"

int
am_state_resolve_succession(struct am_store *s, const char *hex,
	uint8_t hash[static AM_HASH_BYTES])
{
	sqlite3_stmt *st = NULL;
	size_t n = hex != NULL ? strlen(hex) : 0;
	int found = 0, rc;

	if (n == 0 || n > 2 * AM_HASH_BYTES)
		return AM_ERR_ARG;
	for (size_t i = 0; i < n; i++)
		if (!isxdigit((unsigned char)hex[i]))
			return AM_ERR_ARG;
	/* successions are few: the facts of kind 17, each hash compared */
	if (sqlite3_prepare_v2(am_store_sqlite(s), "SELECT e.hash FROM st_facts x "
	    "JOIN entries e ON e.feed = x.feed AND e.seq = x.seq WHERE x.kind = 17 "
	    "AND substr(hex(e.hash), 1, ?2) = upper(?1) LIMIT 3", -1, &st,
	    NULL) != SQLITE_OK)
		return AM_ERR_DB;
	sqlite3_bind_text(st, 1, hex, (int)n, SQLITE_STATIC);
	sqlite3_bind_int(st, 2, (int)n);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (sqlite3_column_bytes(st, 0) != AM_HASH_BYTES)
			continue;
		/* one entry may have a fact per role it plays: count hashes */
		if (found > 0 && memcmp(hash, sqlite3_column_blob(st, 0),
		    AM_HASH_BYTES) == 0)
			continue;
		memcpy(hash, sqlite3_column_blob(st, 0), AM_HASH_BYTES);
		found++;
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE)
		return AM_ERR_DB;
	return found == 0 ? AM_ERR_NOT_FOUND : found > 1 ? AM_ERR_AMBIGUOUS : AM_OK;
}
