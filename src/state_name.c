/*
 * Display names: what each person calls themselves in a circle, signed in
 * a NAME entry of their own feed (protocol/state.md, "Names"). A NAME
 * counts when its author is a joined member or witness of the circle; of
 * one author's NAMEs the one of the highest seq wins, so a person renames
 * themselves by writing another, and the rule depends on the set of
 * entries alone, never on claimed times. A later NAME that replaces an
 * earlier one is not an ignored entry: it is the person changing their
 * mind, as a second answer is.
 */
#include <stdlib.h>
#include <string.h>

#include "state.h"
#include "store_impl.h"

void
st_names_free(struct am_name *v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i].name);
	free(v);
}

static int
cmp_name(const void *a, const void *b)
{
	return memcmp(((const struct am_name *)a)->id,
		((const struct am_name *)b)->id, AM_ID_BYTES);
}

int
st_names_load(struct st_circle *c, struct am_name **out, size_t *n)
{
	sqlite3_stmt *st;
	struct am_name *v = NULL;
	size_t nv = 0, cap = 0;
	int rc;

	*out = NULL;
	*n = 0;
	/* by author, each author's newest first: the first row of an author
	 * is the one that counts */
	if ((rc = st_prepare(c->db, "SELECT f.author, x.seq, e.hash, x.time, "
	    "st_label(e.raw) FROM st_facts x JOIN feeds f ON f.id = x.feed "
	    "JOIN entries e ON e.feed = x.feed AND e.seq = x.seq "
	    "WHERE f.circle = ?1 AND x.kind = 16 "
	    "ORDER BY f.author, x.seq DESC", &st)) != AM_OK)
		return rc;
	sqlite3_bind_blob(st, 1, c->id, AM_HASH_BYTES, SQLITE_STATIC);
	uint8_t last[AM_ID_BYTES] = { 0 };
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		uint8_t author[AM_ID_BYTES], hash[AM_HASH_BYTES];
		st_col32(st, 0, author);
		st_col32(st, 2, hash);
		uint64_t seq = (uint64_t)sqlite3_column_int64(st, 1);
		const char *why;
		uint32_t cut = st_cut_rule(c, author, seq, &why);
		if (cut != 0) {
			st_sink_ignore(c->sink, author, seq, hash, AM_KIND_NAME, cut, why);
			continue;
		}
		/* a replaced key's name is its heir's until the heir writes one */
		const uint8_t *actor = st_actor(c, author, seq);
		bool heir = memcmp(actor, author, AM_ID_BYTES) != 0;
		if (st_member(c, actor) == NULL) {
			st_sink_ignore(c->sink, author, seq, hash, AM_KIND_NAME,
				AM_RULE_NOT_MEMBER,
				"a name written by someone who is not a joined member");
			continue;
		}
		st_sink_seen(c->sink, author, seq);
		if (nv > 0 && memcmp(last, author, AM_ID_BYTES) == 0)
			continue;       /* replaced by a later NAME of the author */
		memcpy(last, author, AM_ID_BYTES);
		struct am_name *m = NULL;
		for (size_t j = 0; j < nv && m == NULL; j++)
			if (memcmp(v[j].id, actor, AM_ID_BYTES) == 0)
				m = &v[j];
		if (m != NULL && heir)
			continue;       /* the heir's own, or a later key's, stands */
		if (m != NULL) {
			/* the heir's own replaces what an old key of theirs wrote */
			free(m->name);
			m->name = NULL;
			goto fill;
		}
		if (nv == cap) {
			size_t ncap = cap ? cap * 2 : 8;
			struct am_name *p = realloc(v, ncap * sizeof *p);
			if (p == NULL) {
				rc = AM_ERR_NOMEM;
				goto fail;
			}
			v = p;
			cap = ncap;
		}
		m = &v[nv++];
fill:
		memset(m, 0, sizeof *m);
		memcpy(m->id, actor, AM_ID_BYTES);
		memcpy(m->entry, hash, AM_HASH_BYTES);
		m->seq = seq;
		m->time = sqlite3_column_int64(st, 3);
		if ((m->name = st_coltext(st, 4)) == NULL) {
			rc = AM_ERR_NOMEM;
			goto fail;
		}
	}
	if (nv > 1)
		qsort(v, nv, sizeof *v, cmp_name);
	if ((rc = st_done(rc)) != AM_OK)
		goto fail;
	st_finish(st);
	*out = v;
	*n = nv;
	return AM_OK;
fail:
	st_finish(st);
	st_names_free(v, nv);
	return rc;
}

int
am_state_names(struct am_store *s, const uint8_t circle[static AM_HASH_BYTES],
	struct am_name **out, size_t *n)
{
	sqlite3 *db = am_store_sqlite(s);
	struct st_circle c;
	bool began = st_read_begin(db);
	*out = NULL;
	*n = 0;
	int rc = st_circle_load(db, circle, NULL, &c);
	if (rc != AM_OK) {
		st_read_end(db, began);
		return rc;
	}
	rc = c.has_genesis ? st_names_load(&c, out, n) : AM_ERR_NOT_FOUND;
	st_read_end(db, began);
	st_circle_finish(&c);
	return rc;
}

void
am_state_names_free(struct am_name **list, size_t n)
{
	if (*list == NULL)
		return;
	st_names_free(*list, n);
	*list = NULL;
}
