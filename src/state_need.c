/*
 * The need sets of member proposals (protocol/state.md, "Membership"),
 * kept in space and time linear in what the record says.
 *
 * need(p) only grows along its author's feed: a proposal's author knew of
 * everything its earlier proposals knew of. So each author keeps one list
 * of the people their proposals need, in the order they first became
 * needed, each with the rank (0, 1, 2...) of the author's first proposal
 * that needs them; need(p) is the prefix of that list up to p's rank.
 * Taking in need(q) of another author's proposal q is then a walk over
 * the part of q's author's list not taken in before, so a feed of n
 * proposals costs O(n) however they are linked, where materialising each
 * set costs O(n^2) time and memory.
 *
 * IDs are interned (a keyed hash: they are chosen by peers); an author is
 * known by the index of its ID.
 */
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "state.h"

struct nlist {
	uint32_t *id;                /* interned IDs, in the order added */
	uint32_t *rank;              /* the rank that added each */
	uint32_t n, cap;
};

struct nent {
	uint64_t key;                /* see need_key and cursor_key */
	uint32_t val;
	uint32_t used;
};

struct st_needs {
	uint8_t hkey[crypto_shorthash_KEYBYTES];
	uint8_t (*id)[AM_ID_BYTES];  /* interned IDs */
	struct nlist *list;          /* by interned author */
	uint32_t nid, capid;
	uint32_t *islot;             /* interned index + 1; 0 empty */
	uint32_t imask;
	struct nent *m;              /* (author, ID) -> rank; (author, from
	                                author) -> how much of from's list
	                                author took in */
	uint64_t mmask, mn;
};

#define CURSOR_TAG (UINT64_C(1) << 63)

static uint64_t
need_key(uint32_t who, uint32_t id)
{
	return (uint64_t)who << 32 | id;
}

static uint64_t
cursor_key(uint32_t who, uint32_t from)
{
	return CURSOR_TAG | (uint64_t)who << 32 | from;
}

/* splitmix64's finaliser: the keys are small indexes, not peers' bytes */
static uint64_t
mix(uint64_t x)
{
	x ^= x >> 30;
	x *= UINT64_C(0xbf58476d1ce4e5b9);
	x ^= x >> 27;
	x *= UINT64_C(0x94d049bb133111eb);
	return x ^ (x >> 31);
}

int
st_needs_new(struct st_needs **out)
{
	struct st_needs *n = calloc(1, sizeof *n);
	*out = NULL;
	if (n == NULL)
		return AM_ERR_NOMEM;
	randombytes_buf(n->hkey, sizeof n->hkey);
	*out = n;
	return AM_OK;
}

void
st_needs_free(struct st_needs **np)
{
	struct st_needs *n = *np;
	if (n == NULL)
		return;
	for (uint32_t i = 0; i < n->nid; i++) {
		free(n->list[i].id);
		free(n->list[i].rank);
	}
	free(n->list);
	free(n->id);
	free(n->islot);
	free(n->m);
	free(n);
	*np = NULL;
}

static uint32_t
id_hash(const struct st_needs *n, const uint8_t *id)
{
	uint8_t h[crypto_shorthash_BYTES];
	uint32_t v;
	crypto_shorthash(h, id, AM_ID_BYTES, n->hkey);
	memcpy(&v, h, sizeof v);
	return v;
}

static bool
id_find(const struct st_needs *n, const uint8_t *id, uint32_t *ix)
{
	if (n->islot == NULL)
		return false;
	for (uint32_t s = id_hash(n, id) & n->imask;; s = (s + 1) & n->imask) {
		if (n->islot[s] == 0)
			return false;
		if (memcmp(n->id[n->islot[s] - 1], id, AM_ID_BYTES) == 0) {
			*ix = n->islot[s] - 1;
			return true;
		}
	}
}

static int
id_rehash(struct st_needs *n, uint32_t cap)
{
	uint32_t *s = calloc(cap, sizeof *s);
	if (s == NULL)
		return AM_ERR_NOMEM;
	free(n->islot);
	n->islot = s;
	n->imask = cap - 1;
	for (uint32_t i = 0; i < n->nid; i++) {
		uint32_t at = id_hash(n, n->id[i]) & n->imask;
		while (s[at] != 0)
			at = (at + 1) & n->imask;
		s[at] = i + 1;
	}
	return AM_OK;
}

int
st_needs_id(struct st_needs *n, const uint8_t id[static AM_ID_BYTES], uint32_t *ix)
{
	if (id_find(n, id, ix))
		return AM_OK;
	if (n->nid >= UINT32_MAX / 4)
		return AM_ERR_NOMEM;
	if (n->nid == n->capid) {
		uint32_t cap = n->capid ? n->capid * 2 : 16;
		void *p = realloc(n->id, cap * sizeof *n->id);
		if (p == NULL)
			return AM_ERR_NOMEM;
		n->id = p;
		if ((p = realloc(n->list, cap * sizeof *n->list)) == NULL)
			return AM_ERR_NOMEM;
		n->list = p;
		memset(n->list + n->capid, 0, (cap - n->capid) * sizeof *n->list);
		n->capid = cap;
	}
	memcpy(n->id[n->nid++], id, AM_ID_BYTES);
	/* at most half full */
	if (n->islot == NULL || n->nid * 2 > n->imask + 1) {
		int rc = id_rehash(n, n->islot == NULL ? 32 : (n->imask + 1) * 2);
		if (rc != AM_OK) {
			n->nid--;
			return rc;
		}
	} else {
		uint32_t at = id_hash(n, id) & n->imask;
		while (n->islot[at] != 0)
			at = (at + 1) & n->imask;
		n->islot[at] = n->nid;
	}
	*ix = n->nid - 1;
	return AM_OK;
}

static struct nent *
map_find(const struct st_needs *n, uint64_t key)
{
	if (n->m == NULL)
		return NULL;
	for (uint64_t s = mix(key) & n->mmask;; s = (s + 1) & n->mmask) {
		if (!n->m[s].used)
			return NULL;
		if (n->m[s].key == key)
			return &n->m[s];
	}
}

static int
map_put(struct st_needs *n, uint64_t key, uint32_t val)
{
	if (n->m == NULL || (n->mn + 1) * 2 > n->mmask + 1) {
		uint64_t cap = n->m == NULL ? 64 : (n->mmask + 1) * 2;
		struct nent *m = calloc(cap, sizeof *m);
		if (m == NULL)
			return AM_ERR_NOMEM;
		for (uint64_t i = 0; n->m != NULL && i <= n->mmask; i++) {
			if (!n->m[i].used)
				continue;
			uint64_t s = mix(n->m[i].key) & (cap - 1);
			while (m[s].used)
				s = (s + 1) & (cap - 1);
			m[s] = n->m[i];
		}
		free(n->m);
		n->m = m;
		n->mmask = cap - 1;
	}
	uint64_t s = mix(key) & n->mmask;
	while (n->m[s].used && n->m[s].key != key)
		s = (s + 1) & n->mmask;
	if (!n->m[s].used)
		n->mn++;
	n->m[s] = (struct nent){ key, val, 1 };
	return AM_OK;
}

/* Adds interned id to who's list at rank, unless it is there already. */
static int
add_ix(struct st_needs *n, uint32_t who, uint32_t rank, uint32_t id)
{
	struct nlist *l = &n->list[who];
	int rc;
	if (map_find(n, need_key(who, id)) != NULL)
		return AM_OK;
	if (l->n == l->cap) {
		uint32_t cap = l->cap ? l->cap * 2 : 8;
		void *p = realloc(l->id, cap * sizeof *l->id);
		if (p == NULL)
			return AM_ERR_NOMEM;
		l->id = p;
		if ((p = realloc(l->rank, cap * sizeof *l->rank)) == NULL)
			return AM_ERR_NOMEM;
		l->rank = p;
		l->cap = cap;
	}
	if ((rc = map_put(n, need_key(who, id), rank)) != AM_OK)
		return rc;
	l->id[l->n] = id;
	l->rank[l->n++] = rank;
	return AM_OK;
}

int
st_needs_add(struct st_needs *n, uint32_t who, uint32_t rank,
	const uint8_t id[static AM_ID_BYTES])
{
	uint32_t ix;
	int rc = st_needs_id(n, id, &ix);
	return rc != AM_OK ? rc : add_ix(n, who, rank, ix);
}

int
st_needs_merge(struct st_needs *n, uint32_t who, uint32_t rank, uint32_t from,
	uint32_t upto)
{
	const struct nlist *l = &n->list[from];
	struct nent *e = map_find(n, cursor_key(who, from));
	uint32_t at = e != NULL ? e->val : 0;
	int rc;
	if (who == from)
		return AM_OK;
	for (; at < l->n && l->rank[at] <= upto; at++)
		if ((rc = add_ix(n, who, rank, l->id[at])) != AM_OK)
			return rc;
	return map_put(n, cursor_key(who, from), at);
}

uint32_t
st_needs_count(const struct st_needs *n, uint32_t who)
{
	return n->list[who].n;
}

bool
st_needs_has(const struct st_needs *n, uint32_t who, uint32_t rank,
	const uint8_t id[static AM_ID_BYTES])
{
	uint32_t ix;
	const struct nent *e;
	if (n == NULL || !id_find(n, id, &ix) ||
	    (e = map_find(n, need_key(who, ix))) == NULL)
		return false;
	return e->val <= rank;
}

static int
cmp_id(const void *a, const void *b)
{
	return memcmp(a, b, AM_ID_BYTES);
}

int
st_needs_list(const struct st_needs *n, uint32_t who, uint32_t count,
	uint8_t (**out)[AM_ID_BYTES], size_t *nout)
{
	const struct nlist *l = &n->list[who];
	*out = NULL;
	*nout = 0;
	if (count > l->n)
		count = l->n;
	uint8_t (*v)[AM_ID_BYTES] = malloc((count ? count : 1) * sizeof *v);
	if (v == NULL)
		return AM_ERR_NOMEM;
	for (uint32_t i = 0; i < count; i++)
		memcpy(v[i], n->id[l->id[i]], AM_ID_BYTES);
	qsort(v, count, sizeof *v, cmp_id);
	*out = v;
	*nout = count;
	return AM_OK;
}
