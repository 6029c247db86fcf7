/*
 * The node loop (include/amends/node.h): ties the transport (wire.h), the
 * sync sessions (sync.h), invites (invite.h) and the peers table (peer.h)
 * together around one store.
 *
 * Who may connect is the state's answer: the members (joined or pending)
 * of every circle this identity is in, plus the throwaway keys of pending
 * invites. That list is recomputed whenever the store changes, so a member
 * added by any means can connect at once, and an expired invite stops
 * being admitted within a minute.
 *
 * A peer can be reachable two ways: through our outbound link to its
 * address, and through its own link to our server socket. Its one sync
 * session speaks through the outbound link when that is up, else through
 * the server socket, and is started afresh whenever a path is lost, since
 * messages in flight on it may have been lost too.
 *
 * This file runs the loop, starts and stops the node and re-reads who may
 * connect when the store changes. The sessions and the transport's events
 * are in node_session.c, the answers to local commands in node_ask.c, the
 * checkpoint thread in node_wal.c; node_impl.h holds what they share.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "amends/home.h"
#include "amends/id.h"
#include "amends/invite.h"
#include "amends/node.h"
#include "amends/peer.h"
#include "amends/rotate.h"
#include "amends/state.h"
#include "amends/store.h"
#include "amends/sync.h"
#include "amends/wire.h"
#include "node_impl.h"
#include "store_impl.h"

#define TICK_MS 500              /* data_version fallback, and housekeeping */
#define RETRY_MS 50              /* wait when a peer's queue was full */
#define REFRESH_MS 30000         /* invites expire even when nothing changes */
#define SELFTEST_MS 5000
#define REBIND_TRIES 25          /* binding the same address again ... */
#define REBIND_MS 200            /* ... this far apart */

static const char *const query_sql[Q_COUNT] = {
	[Q_DATA_VERSION] = "PRAGMA data_version",
	/* GENESIS, MEMBER, LEAVE, REMOVE and SUCCESSION, and the answers to
	 * MEMBER, REMOVE and SUCCESSION: what decides who is a member (a
	 * LEAVE or REMOVE counted whether the state keeps it as an object or
	 * an act) */
	[Q_MEMBERSHIP_ONE] =
	    "SELECT (SELECT count(*) FROM st_facts x JOIN feeds f ON f.id = x.feed "
	    "WHERE f.circle = ?1 AND x.kind IN (1, 2, 13, 14, 17)) "
	    "* 1000003 + (SELECT count(*) FROM st_objects o JOIN st_acts a "
	    "ON a.target = o.hash WHERE o.circle = ?1 AND o.kind IN (2, 14, 17))",
	[Q_MEMBERSHIP_ALL] =
	    "SELECT (SELECT count(*) FROM st_facts WHERE kind IN (1, 2, 13, 14, 17)) "
	    "* 1000003 + (SELECT count(*) FROM st_acts a JOIN st_objects o "
	    "ON o.hash = a.target WHERE o.kind IN (2, 14, 17))",
	[Q_INVITES] =
	    "SELECT (SELECT count(*) * 1000003 + count(used_at) FROM invites), "
	    "(SELECT group_concat(hex(id) || address, ',') FROM "
	    "(SELECT id, address FROM peers ORDER BY id))",
	/* fork evidence leaves the head alone: it counts as a change too */
	[Q_FEEDS] =
	    ("SELECT id, head_seq, circle, (SELECT count(*) FROM forks k "
	    "WHERE k.feed = f.id) FROM feeds f ORDER BY id"),
};

int64_t
node_wall_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t
node_mono_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void
node_log(struct node *n, const char *fmt, ...)
{
	char line[512];
	va_list ap;
	if (n->cfg->log == NULL)
		return;
	va_start(ap, fmt);
	vsnprintf(line, sizeof line, fmt, ap);
	va_end(ap);
	n->cfg->log(n->cfg->log_ctx, line);
}

/*
 * A person's name for the log: the local nickname and the ID's start.
 * Every message from a peer may log a line about it, so the last few
 * labels are kept until another process (a command: only commands set
 * nicknames) writes to the store.
 */
void
node_label(struct node *n, const uint8_t *id, char *out, size_t len)
{
	size_t nl = sizeof n->labels / sizeof n->labels[0];
	for (size_t i = 0; i < nl; i++) {
		struct label_seen *l = &n->labels[i];
		if (l->version != 0 && l->version == n->data_version &&
		    memcmp(l->id, id, AM_ID_BYTES) == 0) {
			snprintf(out, len, "%s", l->text);
			return;
		}
	}
	struct label_seen *l = &n->labels[n->nextlabel++ % nl];
	char text[AM_ID_TEXT_BYTES];
	am_id_format(id, text);
	char *name = am_store_name_get(n->store, id);
	if (name != NULL)
		snprintf(l->text, sizeof l->text, "%s (%.12s)", name, text);
	else
		snprintf(l->text, sizeof l->text, "%.12s", text);
	free(name);
	memcpy(l->id, id, AM_ID_BYTES);
	/* a label made before the store was first read is not kept */
	l->version = n->data_version > 0 ? n->data_version : 0;
	snprintf(out, len, "%s", l->text);
}

void
node_short_hex(const uint8_t *h, char out[9])
{
	am_hex(h, 4, out);
}

/* ---- peers ---- */

struct peer *
node_peer_by_id(struct node *n, const uint8_t *id)
{
	for (size_t i = 0; i < n->npeers; i++)
		if (memcmp(n->peers[i].id, id, AM_ID_BYTES) == 0)
			return &n->peers[i];
	return NULL;
}

struct peer *
node_peer_by_curve(struct node *n, const uint8_t *key)
{
	for (size_t i = 0; i < n->npeers; i++)
		if (memcmp(n->peers[i].curve, key, AM_CURVE_BYTES) == 0)
			return &n->peers[i];
	return NULL;
}

struct peer *
node_peer_by_link(struct node *n, int link)
{
	for (size_t i = 0; i < n->npeers; i++)
		if (n->peers[i].link == link && link != 0)
			return &n->peers[i];
	return NULL;
}

bool
node_reachable(const struct peer *p)
{
	return p->link_up || p->inbound;
}

/* ---- who may connect ---- */

struct idset {
	uint8_t (*ids)[AM_ID_BYTES];
	size_t n, cap;
};

static int
idset_add(struct idset *s, const uint8_t *id)
{
	for (size_t i = 0; i < s->n; i++)
		if (memcmp(s->ids[i], id, AM_ID_BYTES) == 0)
			return AM_OK;
	if (s->n == s->cap) {
		size_t cap = s->cap ? 2 * s->cap : 16;
		uint8_t (*g)[AM_ID_BYTES] = realloc(s->ids, cap * sizeof *g);
		if (g == NULL)
			return AM_ERR_NOMEM;
		s->ids = g;
		s->cap = cap;
	}
	memcpy(s->ids[s->n++], id, AM_ID_BYTES);
	return AM_OK;
}

struct proposer_ctx {
	struct node *n;
	struct idset *out;
};

static int
proposer_add(void *ctx, const uint8_t circle[static AM_HASH_BYTES],
	const uint8_t proposer[static AM_ID_BYTES])
{
	struct proposer_ctx *p = ctx;
	/* a row left over once we are a joined member: the members are
	 * dialled as such, and the proposer's key may since have been
	 * replaced (protocol/sync.md, "Key rotation") */
	if (am_state_member_role(p->n->store, circle, am_identity_public(p->n->id),
	    NULL) == AM_OK)
		return AM_OK;
	return idset_add(p->out, proposer);
}

/* Every member, joined or pending, of every circle we are in (joined or
 * pending), but us, into out: the peers we dial; and the joined ones
 * (witnesses included) into joined: the keys we admit, as those who read
 * a circle's feeds (protocol/sync.md, "Who may connect"). A person who is
 * only proposed answers through the invite exchange, whose keys are
 * admitted apart (am_invite_admitted). Whoever proposed us to a circle we
 * do not hold yet (an invite's preview, protocol/invite.md) is dialled
 * too: from them the record comes once we are in. */
struct recovery_ctx {
	struct idset *out, *joined;
	const uint8_t *self;
};

static int
recovery_add(void *ctx, const struct am_peer *p)
{
	struct recovery_ctx *r = ctx;
	if (memcmp(p->id, r->self, AM_ID_BYTES) == 0)
		return AM_OK;
	int rc = idset_add(r->out, p->id);
	return rc == AM_OK ? idset_add(r->joined, p->id) : rc;
}

/* Are we in circle, whose members are m: joined or pending? Or have we
 * left it, by a LEAVE of our own that the others may not hold yet? */
static int
our_place(struct node *n, const uint8_t circle[static AM_HASH_BYTES],
	const struct am_member *m, size_t nm, bool *in, bool *left)
{
	const uint8_t *self = am_identity_public(n->id);
	*in = *left = false;
	for (size_t j = 0; j < nm; j++)
		if (memcmp(m[j].id, self, AM_ID_BYTES) == 0)
			*in = m[j].status == AM_MEMBER_JOINED ||
				m[j].status == AM_MEMBER_PENDING;
	if (*in)
		return AM_OK;
	return am_store_feed_has_kind(n->store, circle, self, AM_KIND_LEAVE, left);
}

/* A key that a succession replaced, whose new key has not connected to
 * this node yet: its node learns from us that the succession took effect,
 * and only then takes the new key (protocol/sync.md, "Key rotation").
 * Never our own old key, nor when the new key is ours. */
static bool
replaced_waits(struct node *n, const struct am_member *m)
{
	struct am_peer row;
	if (m->status != AM_MEMBER_DEPARTED ||
	    m->departure_kind != AM_KIND_SUCCESSION ||
	    memcmp(m->heir, am_identity_public(n->id), AM_ID_BYTES) == 0)
		return false;
	return am_peer_get(n->store, m->heir, &row) != AM_OK || row.last_seen == 0;
}

/* A new key (joined, or awaiting acceptance) is found at the address of
 * the key it replaces, where this node knows one and none of its own. */
static void
heir_address(struct node *n, const struct am_member *m)
{
	static const uint8_t zero[AM_ID_BYTES];
	struct am_peer old, row;
	if (memcmp(m->succeeds, zero, AM_ID_BYTES) == 0 ||
	    (m->status != AM_MEMBER_JOINED && m->status != AM_MEMBER_PENDING) ||
	    am_peer_get(n->store, m->succeeds, &old) != AM_OK ||
	    old.address[0] == '\0')
		return;
	if (am_peer_get(n->store, m->id, &row) == AM_OK && row.address[0] != '\0')
		return;
	if (am_peer_set_address(n->store, m->id, old.address) == AM_OK) {
		char who[96];
		node_label(n, m->id, who, sizeof who);
		node_log(n, "new key %s takes the address %s of the key it would "
			"replace", who, old.address);
	}
}

/* A member who left or was removed is in neither set: by our copy they
 * read nothing more of the circle (protocol/sync.md, "Departed members").
 * When we left, the joined members are still dialled and admitted, so
 * that our LEAVE reaches them; each stops reading from us once it holds
 * it. */
static int
members(struct node *n, struct idset *out, struct idset *joined)
{
	struct am_circle_info *c = NULL;
	size_t nc = 0;
	const uint8_t *self = am_identity_public(n->id);
	int rc = am_state_circles(n->store, NULL, &c, &nc);
	if (rc != AM_OK)
		return rc;
	for (size_t i = 0; i < nc && rc == AM_OK; i++) {
		struct am_member *m = NULL;
		size_t nm = 0;
		bool in, left;
		if (am_state_members(n->store, c[i].id, &m, &nm) != AM_OK)
			continue;
		if ((rc = our_place(n, c[i].id, m, nm, &in, &left)) != AM_OK ||
		    (!in && !left)) {
			free(m);
			continue;
		}
		for (size_t j = 0; j < nm && rc == AM_OK; j++) {
			if (memcmp(m[j].id, self, AM_ID_BYTES) == 0)
				continue;
			heir_address(n, &m[j]);
			if (replaced_waits(n, &m[j])) {
				rc = idset_add(out, m[j].id);
				if (rc == AM_OK)
					rc = idset_add(joined, m[j].id);
				continue;
			}
			if (m[j].status == AM_MEMBER_JOINED) {
				rc = idset_add(out, m[j].id);
				if (rc == AM_OK)
					rc = idset_add(joined, m[j].id);
			} else if (m[j].status == AM_MEMBER_PENDING && in) {
				rc = idset_add(out, m[j].id);
			}
		}
		free(m);
	}
	am_state_circles_free(&c, nc);
	if (rc == AM_OK)
		rc = am_store_proposed_list(n->store, proposer_add,
			&(struct proposer_ctx){ n, out });
	/* a node restored from a backup holds no circle yet: for the
	 * recovery window, every peer it knows (the backup's, or `amends
	 * peer add`) is let in, and dialled where its address is known; they
	 * tell it the
	 * circles it is a member of (protocol/sync.md, "A restored node") */
	if (rc == AM_OK && am_peer_recovering(n->store, node_wall_ms())) {
		struct recovery_ctx r = { out, joined, self };
		rc = am_peer_list(n->store, recovery_add, &r);
	}
	return rc;
}

static bool
idset_has(const struct idset *s, const uint8_t *id)
{
	for (size_t i = 0; i < s->n; i++)
		if (memcmp(s->ids[i], id, AM_ID_BYTES) == 0)
			return true;
	return false;
}

static int
invite_add(void *ctx, const uint8_t key[static AM_CURVE_BYTES])
{
	struct node *n = ctx;
	uint8_t (*g)[AM_CURVE_BYTES] = realloc(n->invites,
		(n->ninvites + 1) * sizeof *g);
	if (g == NULL)
		return AM_ERR_NOMEM;
	n->invites = g;
	memcpy(n->invites[n->ninvites++], key, AM_CURVE_BYTES);
	return AM_OK;
}

bool
node_is_invite(struct node *n, const uint8_t *key)
{
	for (size_t i = 0; i < n->ninvites; i++)
		if (memcmp(n->invites[i], key, AM_CURVE_BYTES) == 0)
			return true;
	return false;
}

/* Opens, moves or closes p's outbound link to match its address. */
static void
peer_link(struct node *n, struct peer *p, const char *address)
{
	char who[96];
	if (strcmp(p->address, address) == 0 && (p->link != 0 || address[0] == '\0'))
		return;
	if (p->link != 0) {
		am_wire_close(n->wire, p->link);
		p->link = 0;
		if (p->link_up) {
			p->link_up = false;
			node_path_down(n, p, "its address changed");
		}
	}
	snprintf(p->address, sizeof p->address, "%s", address);
	if (address[0] == '\0')
		return;
	node_label(n, p->id, who, sizeof who);
	int rc = am_wire_connect(n->wire, p->curve, address, &p->link);
	if (rc != AM_OK) {
		p->link = 0;
		node_log(n, "cannot connect to %s at %s: %s", who, address, am_strerror(rc));
		return;
	}
	p->failed_told = false;
	p->redial_at = 0;       /* a new address: its own waits, from the first */
	p->redial_ms = 0;
	p->redial_quiet = false;
	node_log(n, "connecting to %s at %s", who, address);
}

void
node_redial_arm(struct peer *p, int64_t now)
{
	if (p->redial_at != 0)
		return;
	if (p->redial_ms == 0)
		p->lost_at = now;
	p->redial_ms = p->redial_ms == 0 ? REDIAL_MS :
		p->redial_ms >= REDIAL_MAX_MS / 2 ? REDIAL_MAX_MS : 2 * p->redial_ms;
	p->redial_at = now + p->redial_ms;
}

/*
 * Dials again each outbound link that is not up once its wait is over,
 * whatever libzmq does. libzmq reconnects by itself after a lost
 * connection or a timeout, but it gives a link up for good after a
 * protocol error (bytes damaged in transit, a frame over ZMQ_MAXMSGSIZE)
 * or a refused handshake, and no event says so: the link's DOWN, or its
 * HANDSHAKE_FAILED, is the last it brings. So a link that is not up always
 * has its next dial scheduled (node_redial_arm: 1 s after it was up, then
 * doubling to REDIAL_MAX_MS), and a peer that comes back on its address is
 * reached within that, however it went away. A handshake under way is let
 * finish: it ends within AM_WIRE_HANDSHAKE_MS, and the wait for it is
 * bounded by the wire, so nothing can put a dial off for good.
 */
static void
redial(struct node *n, int64_t now)
{
	for (size_t i = 0; i < n->npeers; i++) {
		struct peer *p = &n->peers[i];
		char who[96];
		if (p->link_up || p->address[0] == '\0')
			continue;
		if (p->redial_at == 0) {
			/* nothing scheduled: a link just opened, or one that
			 * could not be */
			node_redial_arm(p, now);
			continue;
		}
		if (now < p->redial_at)
			continue;
		if (p->link != 0 && am_wire_link_dialing(n->wire, p->link)) {
			p->redial_at = now + REDIAL_MS;
			continue;
		}
		p->redial_at = 0;
		node_redial_arm(p, now);      /* the next, should this one fail */
		/* a line per dial while the wait grows, then one saying the
		 * rest are not logged: a peer away for days costs a few lines */
		if (!p->redial_quiet) {
			node_label(n, p->id, who, sizeof who);
			p->redial_quiet = p->redial_ms == REDIAL_MAX_MS;
			node_log(n, "dialling %s at %s again (no connection for %lld s)%s",
				who, p->address, (long long)((now - p->lost_at) / 1000),
				p->redial_quiet ? "; from now on every " REDIAL_MAX_TEXT
				", not logged until it connects" : "");
		}
		if (p->link != 0)
			am_wire_close(n->wire, p->link);
		if (am_wire_connect(n->wire, p->curve, p->address, &p->link) != AM_OK)
			p->link = 0;      /* tried again when its wait is over */
	}
}

/*
 * Recomputes who may connect and which links to keep, from the state and
 * the peers table: called at start, whenever the store changed, and from
 * time to time for invites that expire.
 */
static int
refresh(struct node *n)
{
	struct idset ids = { 0 }, joined = { 0 };
	uint8_t (*allow)[AM_CURVE_BYTES] = NULL;
	size_t nallow = 0;
	int rc;

	n->refresh_at = node_mono_ms() + REFRESH_MS;
	if ((rc = members(n, &ids, &joined)) != AM_OK)
		goto out;
	free(n->invites);
	n->invites = NULL;
	n->ninvites = 0;
	if ((rc = am_invite_admitted(n->store, node_wall_ms(), invite_add, n)) != AM_OK)
		goto out;

	/* peers no longer sharing a circle are dropped */
	for (size_t i = n->npeers; i-- > 0; ) {
		bool keep = false;
		for (size_t j = 0; j < ids.n && !keep; j++)
			keep = memcmp(ids.ids[j], n->peers[i].id, AM_ID_BYTES) == 0;
		if (!keep)
			node_peer_drop(n, i);
	}
	if (ids.n > 0) {
		struct peer *g = realloc(n->peers, (n->npeers + ids.n) * sizeof *g);
		if (g == NULL) {
			rc = AM_ERR_NOMEM;
			goto out;
		}
		n->peers = g;
	}
	for (size_t j = 0; j < ids.n; j++) {
		struct peer *p = node_peer_by_id(n, ids.ids[j]);
		if (p == NULL) {
			p = &n->peers[n->npeers];
			memset(p, 0, sizeof *p);
			memcpy(p->id, ids.ids[j], AM_ID_BYTES);
			if (am_id_to_curve(p->id, p->curve) != AM_OK)
				continue;      /* not a valid key: it cannot connect */
			n->npeers++;
		}
		p->member = true;
		struct am_peer row;
		if (am_peer_get(n->store, p->id, &row) != AM_OK)
			row.address[0] = '\0';
		peer_link(n, p, row.address);
	}

	allow = malloc((n->npeers + n->ninvites + 1) * sizeof *allow);
	if (allow == NULL) {
		rc = AM_ERR_NOMEM;
		goto out;
	}
	for (size_t i = 0; i < n->npeers; i++)
		if (idset_has(&joined, n->peers[i].id))
			memcpy(allow[nallow++], n->peers[i].curve, AM_CURVE_BYTES);
	if (n->ninvites > 0)
		memcpy(allow[nallow], n->invites, n->ninvites * sizeof *allow);
	rc = am_wire_allow(n->wire, (const uint8_t (*)[AM_CURVE_BYTES])allow,
		nallow + n->ninvites);
out:
	free(allow);
	free(ids.ids);
	free(joined.ids);
	if (rc != AM_OK)
		node_log(n, "could not read who may connect: %s", am_strerror(rc));
	return rc;
}

/* ---- the store changed under us ---- */

/* Query q, ready to bind and step; the caller resets it when done, so
 * that it holds no read transaction open. NULL when it cannot be
 * prepared. */
static sqlite3_stmt *
query(struct node *n, enum query q)
{
	if (n->queries[q] == NULL &&
	    sqlite3_prepare_v3(am_store_sqlite(n->store), query_sql[q], -1,
	    SQLITE_PREPARE_PERSISTENT, &n->queries[q], NULL) != SQLITE_OK)
		return NULL;
	return n->queries[q];
}

static int64_t
data_version(struct node *n)
{
	sqlite3_stmt *st;
	int64_t v = -1;
	if ((st = query(n, Q_DATA_VERSION)) == NULL)
		return -1;
	if (sqlite3_step(st) == SQLITE_ROW)
		v = sqlite3_column_int64(st, 0);
	sqlite3_reset(st);
	return v;
}

/* Another process (a command) committed: refresh and push. */
void
node_check_store(struct node *n)
{
	int64_t v = data_version(n);
	if (v != n->data_version) {
		n->data_version = v;
		n->dirty = true;
		node_wal_ask(&n->wal);      /* a command's commit grew the log */
	}
	node_wal_report(n);
}

/*
 * A number that changes whenever a circle, a member proposal or an accept
 * of one is recorded in circle (or anywhere, with circle NULL: that counts
 * every object and so is only for when many circles moved): who may
 * connect is re-read only when it changes (or the invites do), not on
 * every check-in.
 */
static int64_t
membership(struct node *n, const uint8_t *circle)
{
	sqlite3_stmt *st;
	int64_t v = -1;
	if ((st = query(n, circle != NULL ? Q_MEMBERSHIP_ONE : Q_MEMBERSHIP_ALL)) == NULL)
		return -1;
	if (circle != NULL)
		sqlite3_bind_blob(st, 1, circle, AM_HASH_BYTES, SQLITE_STATIC);
	if (sqlite3_step(st) == SQLITE_ROW)
		v = sqlite3_column_int64(st, 0);
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	return v;
}

/* A number that changes when an invite is made, used or withdrawn, or a
 * peer's address is set or removed (`amends peer add`). */
static int64_t
invites_print(struct node *n)
{
	sqlite3_stmt *st;
	int64_t v = -1;
	if ((st = query(n, Q_INVITES)) == NULL)
		return -1;
	if (sqlite3_step(st) == SQLITE_ROW) {
		uint8_t h[8];
		const unsigned char *text = sqlite3_column_text(st, 1);
		size_t len = (size_t)sqlite3_column_bytes(st, 1);
		crypto_generichash(h, sizeof h, text, text ? len : 0, NULL, 0);
		/* unsigned: the sum wraps, as a fingerprint may */
		uint64_t u = (uint64_t)sqlite3_column_int64(st, 0);
		for (int i = 0; i < 8; i++)
			u = u * 31 + h[i];
		v = (int64_t)(u & INT64_MAX);
	}
	sqlite3_reset(st);
	return v;
}

/* True when membership may have moved in one of the circles (or, with
 * all, anywhere) since last asked; remembers the new fingerprints. */
static bool
membership_moved(struct node *n, uint8_t circles[][AM_HASH_BYTES], size_t nc,
	bool all)
{
	bool moved = false;
	if (all) {
		int64_t m = membership(n, NULL);
		moved = m != n->membership || m < 0;
		n->membership = m;
		n->nprints = 0;      /* per-circle prints are stale now */
		return moved;
	}
	for (size_t i = 0; i < nc; i++) {
		int64_t m = membership(n, circles[i]);
		size_t k;
		for (k = 0; k < n->nprints; k++)
			if (memcmp(n->prints[k].circle, circles[i], AM_HASH_BYTES) == 0)
				break;
		if (k == n->nprints) {
			/* a circle not seen yet counts as moved */
			moved = true;
			if (n->nprints < PRINTS_MAX) {
				memcpy(n->prints[k].circle, circles[i], AM_HASH_BYTES);
				n->nprints++;
			} else {
				continue;
			}
		} else if (n->prints[k].value != m) {
			moved = true;
		}
		n->prints[k].value = m;
	}
	return moved;
}

/*
 * Compares every feed's head with what was seen last and collects the
 * circles that moved (at most CHANGED_MAX; *all is set when there were
 * more, or when the heads could not be read).
 */
static void
changed_circles(struct node *n, uint8_t out[][AM_HASH_BYTES], size_t *nout,
	bool *all)
{
	sqlite3_stmt *st;
	struct feed_seen *now = NULL;
	size_t cap = 0, k = 0, old = 0;

	*nout = 0;
	*all = true;
	if ((st = query(n, Q_FEEDS)) == NULL)
		return;
	while (sqlite3_step(st) == SQLITE_ROW) {
		if (k == cap) {
			cap = cap ? 2 * cap : 64;
			void *g = realloc(now, cap * sizeof *now);
			if (g == NULL)
				goto out;
			now = g;
		}
		now[k].id = sqlite3_column_int64(st, 0);
		now[k].seq = sqlite3_column_int64(st, 1);
		now[k].forks = sqlite3_column_int64(st, 3);
		if (sqlite3_column_bytes(st, 2) != AM_HASH_BYTES)
			continue;
		memcpy(now[k].circle, sqlite3_column_blob(st, 2), AM_HASH_BYTES);
		/* both lists are ordered by id */
		while (old < n->nfeeds && n->feeds[old].id < now[k].id)
			old++;
		bool same = old < n->nfeeds && n->feeds[old].id == now[k].id &&
			n->feeds[old].seq == now[k].seq &&
			n->feeds[old].forks == now[k].forks;
		if (!same && *nout <= CHANGED_MAX) {
			bool listed = false;
			for (size_t i = 0; i < *nout && !listed; i++)
				listed = memcmp(out[i], now[k].circle, AM_HASH_BYTES) == 0;
			if (!listed && *nout < CHANGED_MAX)
				memcpy(out[(*nout)++], now[k].circle, AM_HASH_BYTES);
			else if (!listed)
				*nout = CHANGED_MAX + 1;
		}
		k++;
	}
	*all = *nout > CHANGED_MAX;
	free(n->feeds);
	n->feeds = now;
	n->nfeeds = k;
	now = NULL;
out:
	sqlite3_reset(st);
	free(now);
}

static void rotation(struct node *n);

/* The store changed: offer what is new to every session (circle by circle
 * when few moved), and re-read who may connect when membership moved. */
static void
changed(struct node *n)
{
	uint8_t circles[CHANGED_MAX][AM_HASH_BYTES];
	size_t nc;
	bool all;

	n->dirty = false;
	changed_circles(n, circles, &nc, &all);
	/* what is new goes out first: who may connect is only read after */
	for (size_t i = 0; (all || nc > 0) && i < n->npeers; i++) {
		struct peer *p = &n->peers[i];
		if (p->sync == NULL)
			continue;
		node_busy(p);
		int rc = AM_OK;
		if (all) {
			rc = am_sync_local_changed(p->sync);
			p->touched_all = true;
		}
		for (size_t c = 0; !all && c < nc && rc == AM_OK; c++) {
			rc = am_sync_circle_changed(p->sync, circles[c]);
			node_touch(p, circles[c]);
		}
		if (rc != AM_OK)
			node_log(n, "could not offer new entries: %s", am_strerror(rc));
		(void)node_flush(n, p);     /* what it cannot take now waits for flush_all */
	}
	int64_t inv = invites_print(n);
	bool invites_moved = inv != n->invites_print || inv < 0;
	n->invites_print = inv;
	if (membership_moved(n, circles, nc, all) || invites_moved || n->refresh_due) {
		n->refresh_due = false;
		refresh(n);
		rotation(n);
	}
}

/*
 * A rotation in progress (include/amends/rotate.h): once, by our copy,
 * the old key is in place in no circle any more (each succession to the
 * new key took effect, or the circle is otherwise gone for it), the new
 * key becomes the identity and the node starts again with it
 * (protocol/sync.md, "Key rotation"). Until then the old key is kept
 * for transport: peers admit joined members only.
 */
static void
rotation(struct node *n)
{
	struct am_identity *next = NULL;
	struct am_rotate_progress pr;
	char of[AM_FPR_TEXT_BYTES], nf[AM_FPR_TEXT_BYTES];
	const uint8_t *self = am_identity_public(n->id);
	int rc = am_rotate_next(n->cfg->home, &next);
	if (rc == AM_ERR_NOT_FOUND)
		return;
	if (rc != AM_OK) {
		if (!n->rotation_told)
			node_log(n, "cannot load the new key of the rotation: %s",
				am_strerror(rc));
		n->rotation_told = true;
		return;
	}
	am_id_fingerprint(self, of);
	am_id_fingerprint(am_identity_public(next), nf);
	rc = am_rotate_progress(n->store, self, am_identity_public(next), &pr);
	am_identity_destroy(&next);
	if (rc != AM_OK) {
		node_log(n, "cannot read the rotation's progress: %s", am_strerror(rc));
		return;
	}
	if (pr.open > 0) {
		if (!n->rotation_told)
			node_log(n, "rotation from key %s to %s: %zu of %zu circles "
				"wait for their succession to take effect; the old key "
				"is kept until then", of, nf, pr.open, pr.circles);
		n->rotation_told = true;
		return;
	}
	if ((rc = am_rotate_switch(n->cfg->home, self)) != AM_OK) {
		node_log(n, "cannot switch to the new key %s: %s", nf, am_strerror(rc));
		return;
	}
	node_log(n, "rotation done: the new key %s replaced %s in %zu circles "
		"(%zu otherwise gone); the old key file is kept as %s<ID>.key; "
		"starting the network layer again with the new key", nf, of,
		pr.done, pr.gone, AM_ROTATE_OLD_PREFIX);
	n->restart = true;
}

/* ---- start and stop ---- */

static int
lock_home(const char *home, int *fd)
{
	char *path = am_home_path(home, AM_NODE_LOCK);
	if (path == NULL)
		return AM_ERR_NOMEM;
	*fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	free(path);
	if (*fd < 0)
		return AM_ERR_IO;
	if (flock(*fd, LOCK_EX | LOCK_NB) != 0) {
		int e = errno;
		close(*fd);
		*fd = -1;
		return e == EWOULDBLOCK ? AM_ERR_LOCKED : AM_ERR_IO;
	}
	return AM_OK;
}

bool
am_node_running(const char *home)
{
	char *path = am_home_path(home, AM_NODE_LOCK);
	if (path == NULL)
		return false;
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	free(path);
	if (fd < 0)
		return false;
	bool held = flock(fd, LOCK_SH | LOCK_NB) != 0 && errno == EWOULDBLOCK;
	close(fd);
	return held;
}

static int
any_peer(void *ctx, const struct am_peer *p)
{
	(void)p;
	*(bool *)ctx = true;
	return AM_ERR_EXISTS;      /* one is enough: stop */
}

bool
am_node_fresh(const char *home, struct am_store *s, int64_t *started_ms)
{
	bool peers = false;
	char *started = am_store_setting_get(s, AM_NODE_SETTING_STARTED);
	char *compared = am_store_setting_get(s, AM_NODE_SETTING_COMPARED);
	bool fresh = started != NULL &&
		(compared == NULL || strcmp(started, compared) != 0);
	if (fresh) {
		/* our own setting; anything that is not a number is no start */
		char *end;
		long long ms = strtoll(started, &end, 10);
		fresh = *started != '\0' && *end == '\0' && ms > 0;
		*started_ms = ms;
	}
	if (fresh) {
		/* a store that cannot say whether it knows peers: wait too */
		int rc = am_peer_list(s, any_peer, &peers);
		fresh = peers || (rc != AM_OK && rc != AM_ERR_EXISTS);
	}
	/* last, since it opens a file: a stopped node's settings mean nothing */
	if (fresh)
		fresh = am_node_running(home);
	free(started);
	free(compared);
	return fresh;
}

void
am_node_nudge(const char *home)
{
	char *path = am_home_path(home, AM_NODE_SOCKET);
	if (path == NULL)
		return;
	am_wire_nudge(path);
	free(path);
}

static int
open_all(struct node *n, const char *home)
{
	uint8_t pub[AM_CURVE_BYTES], sec[AM_CURVE_BYTES];
	char *key = am_home_path(home, AM_HOME_KEY);
	char *db = am_home_path(home, AM_HOME_DB);
	int rc = AM_ERR_NOMEM;

	if (key == NULL || db == NULL)
		goto out;
	if ((rc = am_identity_load(key, &n->id)) != AM_OK) {
		node_log(n, "cannot load the key %s: %s", key, am_strerror(rc));
		goto out;
	}
	if ((rc = am_store_open(db, &n->store)) != AM_OK) {
		node_log(n, "cannot open the database %s: %s", db, am_strerror(rc));
		goto out;
	}
	node_wal_start(n, db);
	if ((rc = am_identity_curve(n->id, pub, sec)) != AM_OK)
		goto out;
	rc = am_wire_new(pub, sec, &n->wire);
	sodium_memzero(sec, sizeof sec);
	if (rc != AM_OK)
		node_log(n, "cannot start the network layer: %s", am_strerror(rc));
out:
	free(key);
	free(db);
	return rc;
}

static int
listen_and_test(struct node *n, const char *home)
{
	char bound[AM_WIRE_MAX_ENDPOINT], text[AM_ID_TEXT_BYTES];
	char *setting = NULL;
	const char *ep = n->cfg->listen;
	int rc;

	/* started again after a rotation: the same address, which the
	 * peers know */
	if (n->bound != NULL && n->bound[0] != '\0')
		ep = n->bound;
	if (ep == NULL && (setting = am_store_setting_get(n->store,
	    AM_NODE_SETTING_LISTEN)) != NULL)
		ep = setting;
	if (ep == NULL)
		ep = AM_NODE_LISTEN;
	rc = am_wire_listen(n->wire, ep, bound);
	/* started again after a rotation: the address the peers know is
	 * worth a few tries (a connection elsewhere may hold the port a
	 * moment) */
	for (int i = 0; rc == AM_ERR_NET && ep == n->bound && i < REBIND_TRIES;
	    i++) {
		nanosleep(&(struct timespec){ 0, REBIND_MS * 1000000L }, NULL);
		rc = am_wire_listen(n->wire, ep, bound);
	}
	if (rc != AM_OK) {
		node_log(n, "cannot listen on %s: %s", ep, am_strerror(rc));
		goto out;
	}
	rc = am_wire_selftest(n->wire, SELFTEST_MS);
	if (rc == AM_ERR_SELFTEST) {
		node_log(n, "self-test failed: a stranger's key was let in on %s; "
			"refusing to run unprotected", bound);
		goto out;
	}
	if (rc != AM_OK) {
		node_log(n, "self-test failed: no answer from our own address %s", bound);
		goto out;
	}
	char *sock = am_home_path(home, AM_NODE_SOCKET);
	if (sock == NULL || am_wire_nudge_bind(n->wire, sock) != AM_OK)
		node_log(n, "no local socket for commands (path too long?); changes "
			"are noticed within %d ms instead", TICK_MS);
	free(sock);
	node_ask_listen(n, home);
	if (n->bound != NULL)
		snprintf(n->bound, AM_WIRE_MAX_ENDPOINT, "%s", bound);
	am_id_format(am_identity_public(n->id), text);
	node_log(n, "node %s started, listening on %s (self-test passed: strangers "
		"are refused)", text, bound);
out:
	free(setting);
	return rc;
}

static void
close_all(struct node *n)
{
	for (size_t i = 0; i < n->npeers; i++)
		node_session_end(&n->peers[i]);
	node_ask_close_all(n);
	if (n->ask_fd >= 0) {
		close(n->ask_fd);
		unlink(n->ask_path);
	}
	free(n->ask_path);
	if (n->store != NULL && am_peer_disconnect_all(n->store) != AM_OK)
		node_log(n, "could not record the peers as disconnected");
	am_wire_destroy(&n->wire);
	free(n->peers);
	free(n->invites);
	free(n->feeds);
	node_wal_stop(n);
	for (int q = 0; q < Q_COUNT; q++)
		sqlite3_finalize(n->queries[q]);
	am_store_close(&n->store);
	am_identity_destroy(&n->id);
}

/*
 * Signatures left pending by batched ingest (protocol/sync.md, "Verifying
 * on ingest") are checked once no message has come for PENDING_QUIET_MS,
 * PENDING_SLICE at a time (a few ms on all cores) with the network looked
 * at between slices, so that the check never slows a sync down, at either
 * end: a node serving a catch-up is as busy as the one catching up. One
 * slice goes every PENDING_FORCE_MS whatever comes, so that a peer that
 * never rests cannot put the check off for ever. Each entry found with a
 * bad signature gets one line.
 */
#define PENDING_SLICE 256
#define PENDING_QUIET_MS 100
#define PENDING_FORCE_MS 5000

static int
bad_signature_found(void *ctx, const struct am_bad_signature *b)
{
	struct node *n = ctx;
	char who[96], circle[2 * 4 + 1];
	node_label(n, b->author, who, sizeof who);
	am_hex(b->circle, 4, circle);
	node_log(n, "entry %llu of %s in circle %s has a signature that does not "
		"verify; entry %llu of the same author names its hash and vouches "
		"for its content: kept, and held against its author",
		(unsigned long long)b->seq, who, circle,
		(unsigned long long)b->seq + 1);
	return AM_OK;
}

/* One slice of the pending check; false when nothing is left (or the
 * check cannot run now: it is tried again on the next tick). */
static bool
check_pending(struct node *n)
{
	size_t checked;
	int rc = am_store_check_pending(n->store, PENDING_SLICE,
		bad_signature_found, n, &checked);
	if (rc != AM_OK && rc != AM_ERR_DB_BUSY)
		node_log(n, "could not check pending signatures: %s", am_strerror(rc));
	return rc == AM_OK && checked > 0;
}

/* The commands learn from the store when this node started, and that it
 * has not compared with a peer since (am_node_fresh). */
static int
record_start(struct node *n)
{
	char v[24];
	snprintf(v, sizeof v, "%lld", (long long)n->started_ms);
	int rc = am_store_setting_set(n->store, AM_NODE_SETTING_STARTED, v);
	if (rc != AM_OK)
		node_log(n, "cannot record the node's start: %s", am_strerror(rc));
	return rc;
}

/* A node stopping: the next one to start on this store has compared
 * with nobody, even in the moment before it records its own start. */
static void
forget_compared(struct node *n)
{
	if (n->store == NULL || am_store_begin(n->store) != AM_OK)
		return;
	if (am_store_setting_set(n->store, AM_NODE_SETTING_COMPARED, "") != AM_OK ||
	    am_store_commit(n->store) != AM_OK)
		am_store_rollback(n->store);
}

/* One run of the node, from opening the key and store to closing them:
 * until *cfg->stop, or until a rotation sets n->restart. */
static int
run(struct node *np)
{
	struct node n = *np;
	const struct am_node_config *cfg = n.cfg;
	int rc;

	if ((rc = open_all(&n, cfg->home)) != AM_OK ||
	    (rc = am_peer_disconnect_all(n.store)) != AM_OK ||
	    (rc = record_start(&n)) != AM_OK)
		goto out;
	n.data_version = data_version(&n);
	/* who may connect (members, open invites) is known before the server
	 * socket opens: a joiner who connects the moment the node says it
	 * has started is not refused for being early */
	refresh(&n);
	/* a rotation finished while no node ran: the new key at once */
	rotation(&n);
	if (n.restart)
		goto out;
	if ((rc = listen_and_test(&n, cfg->home)) != AM_OK)
		goto out;

	int64_t tick_at = node_mono_ms() + TICK_MS;
	int64_t heard_at = node_mono_ms(), checked_at = heard_at;
	bool waiting = false, pending = true;
	while (!*cfg->stop && !n.restart) {
		struct am_wire_event ev;
		int64_t now = node_mono_ms();
		int64_t wake = tick_at;
		if (n.settle_at != 0 && n.settle_at < wake)
			wake = n.settle_at;
		int timeout = waiting ? RETRY_MS : (int)(wake > now ? wake - now : 0);
		bool quiet = pending && now - heard_at >= PENDING_QUIET_MS;
		if (pending && timeout > PENDING_QUIET_MS)
			timeout = PENDING_QUIET_MS;
		if (quiet || am_store_held(n.store))
			timeout = 0;   /* a run's next batch is read if it waits */
		rc = am_wire_poll(n.wire, timeout, &ev);
		if (rc != AM_OK) {
			node_log(&n, "network layer failed: %s", am_strerror(rc));
			break;
		}
		node_on_event(&n, &ev);
		free(ev.data);
		/* no batch waits, or the run has been held long enough while
		 * other messages kept coming: commit it */
		if (ev.kind != AM_WIRE_MESSAGE || am_store_hold_due(n.store))
			node_release(&n);
		if (ev.kind == AM_WIRE_MESSAGE) {
			pending = true;
			heard_at = node_mono_ms();
		} else if (ev.kind == AM_WIRE_NONE && quiet) {
			pending = check_pending(&n);
			checked_at = node_mono_ms();
		}
		now = node_mono_ms();
		if (now >= tick_at) {
			tick_at = now + TICK_MS;
			if (now - checked_at >= PENDING_FORCE_MS) {
				pending = check_pending(&n);
				checked_at = now;
			} else {
				pending = true;  /* a command may have imported some */
			}
			node_check_store(&n);
			node_quiet_tick(&n);
			redial(&n, now);
			node_ask_accept(&n);
			node_ask_expire(&n);
			if (now >= n.refresh_at) {
				/* invites expire with time alone */
				n.refresh_due = true;
				n.dirty = true;
			}
		}
		/* what a held run brings is offered once it is committed: a
		 * run of many batches is announced once, and only entries on
		 * disk are */
		if (n.dirty && !am_store_held(n.store))
			changed(&n);
		am_wire_nudge_answer(n.wire);   /* the commands know we read it */
		waiting = node_flush_all(&n);
	}
	if (*cfg->stop)
		node_log(&n, "stopping");
	rc = AM_OK;
out:
	forget_compared(&n);
	close_all(&n);
	np->restart = n.restart;
	return rc;
}

int
am_node_run(const struct am_node_config *cfg)
{
	struct node n = { .cfg = cfg, .ask_fd = -1 };
	char bound[AM_WIRE_MAX_ENDPOINT] = "";
	int lock = -1, rc;

	if ((rc = lock_home(cfg->home, &lock)) != AM_OK) {
		if (rc == AM_ERR_LOCKED)
			node_log(&n, "another node is already running on %s", cfg->home);
		else
			node_log(&n, "cannot lock %s/%s: %s", cfg->home, AM_NODE_LOCK,
				am_strerror(rc));
		return rc;
	}
	/* the lock is held across a restart: no other node slips in */
	do {
		struct node one = { .cfg = cfg, .ask_fd = -1,
			.started_ms = node_wall_ms(), .bound = bound };
		rc = run(&one);
		n.restart = one.restart;
	} while (rc == AM_OK && n.restart && !*cfg->stop);
	close(lock);
	return rc;
}
