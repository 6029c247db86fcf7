/*
 * Successions as the commands name them: by the start of their hash
 * (include/amends/state.h, am_state_resolve_succession). The lookup goes
 * through the facts' 8-byte hash key, as am_state_resolve's does, so it
 * costs the same whatever the size of the record.
 */
#include <ctype.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "amends/state.h"
#include "state.h"
#include "store_impl.h"

/* lo: the prefix padded with zero bits; hi: lo plus one unit of its
 * last digit (*top when that passes every hash). */
static int
bounds(const char *hex, uint8_t lo[32], uint8_t hi[32], bool *top)
{
	size_t n = strlen(hex);
	if (n == 0 || n > 64)
		return AM_ERR_ARG;
	memset(lo, 0, 32);
	for (size_t i = 0; i < n; i++) {
		int c = tolower((unsigned char)hex[i]);
		int v = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ?
			c - 'a' + 10 : -1;
		if (v < 0)
			return AM_ERR_ARG;
		lo[i / 2] |= (uint8_t)(i % 2 == 0 ? v << 4 : v);
	}
	memcpy(hi, lo, 32);
	*top = true;
	unsigned carry = n % 2 == 1 ? 0x10 : 0x01;
	for (size_t i = (n - 1) / 2 + 1; i-- > 0 && carry != 0;) {
		unsigned v = hi[i] + carry;
		hi[i] = (uint8_t)v;
		carry = v > 0xff;
	}
	*top = carry != 0;
	return AM_OK;
}

int
am_state_resolve_succession(struct am_store *s, const char *hex,
	uint8_t hash[static AM_HASH_BYTES])
{
	static const uint8_t above[33] = {
		0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
		0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
		0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
	};
	sqlite3_stmt *st = NULL;
	uint8_t lo[32], hi[32];
	bool top;
	int found = 0, rc;

	if (hex == NULL || bounds(hex, lo, hi, &top) != AM_OK)
		return AM_ERR_ARG;
	if (sqlite3_prepare_v2(am_store_sqlite(s), "SELECT e.hash FROM st_facts x "
	    "JOIN entries e ON e.feed = x.feed AND e.seq = x.seq "
	    "WHERE x.hkey >= st_hkey(?1) AND x.hkey <= ?3 AND e.hash >= ?1 "
	    "AND e.hash < ?2 AND x.kind = 17 LIMIT 3", -1, &st, NULL) != SQLITE_OK)
		return AM_ERR_DB;
	sqlite3_bind_blob(st, 1, lo, 32, SQLITE_STATIC);
	if (top)
		sqlite3_bind_blob(st, 2, above, 33, SQLITE_STATIC);
	else
		sqlite3_bind_blob(st, 2, hi, 32, SQLITE_STATIC);
	/* the 8-byte keys up to hi's (a little wide: the hashes themselves
	 * are compared too) */
	sqlite3_bind_int64(st, 3, top ? INT64_MAX : st_hkey(hi));
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (sqlite3_column_bytes(st, 0) != AM_HASH_BYTES)
			continue;
		/* one entry may have a fact per role it plays: count hashes */
		if (found > 0 && memcmp(hash, sqlite3_column_blob(st, 0),
		    AM_HASH_BYTES) == 0)
			continue;
		if (found++ == 0)
			memcpy(hash, sqlite3_column_blob(st, 0), AM_HASH_BYTES);
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE)
		return AM_ERR_DB;
	return found == 0 ? AM_ERR_NOT_FOUND : found > 1 ? AM_ERR_AMBIGUOUS : AM_OK;
}

int
am_state_may_write_heir(struct am_store *s, const uint8_t circle[static AM_HASH_BYTES],
	const uint8_t author[static AM_ID_BYTES])
{
	static const uint8_t zero[AM_ID_BYTES];
	struct am_member *m = NULL;
	size_t n = 0;
	int rc = am_state_may_write(s, circle, author);
	if (rc != AM_ERR_NOT_MEMBER)
		return rc;
	if ((rc = am_state_members(s, circle, &m, &n)) != AM_OK)
		return rc;
	rc = AM_ERR_NOT_MEMBER;
	for (size_t i = 0; i < n; i++)
		if (memcmp(m[i].id, author, AM_ID_BYTES) == 0 &&
		    memcmp(m[i].succeeds, zero, AM_ID_BYTES) != 0 &&
		    (m[i].status == AM_MEMBER_JOINED ||
		    m[i].status == AM_MEMBER_PENDING))
			rc = AM_OK;
	free(m);
	return rc;
}
