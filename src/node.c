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
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <poll.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "amends/checkpoint.h"
#include "amends/home.h"
#include "amends/id.h"
#include "amends/invite.h"
#include "amends/node.h"
#include "amends/peer.h"
#include "amends/state.h"
#include "amends/store.h"
#include "amends/sync.h"
#include "amends/wire.h"
#include "store_impl.h"

#define TICK_MS 500              /* data_version fallback, and housekeeping */
#define RETRY_MS 50              /* wait when a peer's queue was full */
#define REFRESH_MS 30000         /* invites expire even when nothing changes */
#define RECHECK_MS 60000         /* anti-entropy: compare records again */
#define REFUSAL_LOG_MS 60000     /* log one refusal per key per minute */
#define FLUSH_MAX 64             /* messages sent to one peer per round */
#define SELFTEST_MS 5000
#define SETTLE_MS 250            /* a session quiet this long: digests, checkpoints */
#define SETTLE_MAX_MS 10000      /* ... or busy this long since they were last done */
#define WAL_FRAMES 1000          /* log frames that call for a checkpoint */
#define WAL_PAUSE_MS 100         /* at least this long between two checkpoints */

#define CHANGED_MAX 16      /* circles told one by one; more: all at once */
#define QUIET_LINES 10      /* lines of one kind a minute about one peer */

/*
 * The kinds of log line a peer can cause by what it sends. Each kind has
 * its own budget per peer and minute, so that a peer cannot fill the disk
 * through our log, and a flood of one kind does not hide the others.
 */
enum quiet_kind {
	QUIET_REFUSED,      /* an entry refused */
	QUIET_BAD,          /* a message refused */
	QUIET_DENIED,       /* asked about a circle it is not in */
	QUIET_PEER_ERROR,   /* its ERROR about a message of ours */
	QUIET_SHORTER,      /* a shorter feed shown */
	QUIET_FORK,         /* fork evidence stored */
	QUIET_DROPPED,      /* a message the transport dropped */
	QUIET_KINDS
};
#define PRINTS_MAX 256      /* circles whose membership fingerprint is kept */

struct peer {
	uint8_t id[AM_ID_BYTES];
	uint8_t curve[AM_CURVE_BYTES];
	bool member;                 /* in the current allow list */
	char address[AM_PEER_MAX_ADDRESS];
	int link;                    /* outbound link, 0 when none */
	bool link_up;
	bool inbound;                /* it has reached us on the server socket */
	struct am_sync *sync;
	uint8_t *out;                /* a message the transport could not take */
	size_t out_len;
	bool idle;                   /* the session was idle when last looked at */
	int64_t recheck_at;
	bool failed_told;            /* a handshake failure already logged */
	bool step_told;              /* "in step" logged for this session */
	int64_t quiet_since;         /* when the minute of its log budget began */
	unsigned said[QUIET_KINDS];  /* lines of each kind logged this minute */
	unsigned unsaid[QUIET_KINDS];   /* ... and not logged, only counted */
	/* circles whose digest to record when the session next settles */
	uint8_t touched[CHANGED_MAX][AM_HASH_BYTES];
	size_t ntouched;
	bool touched_all;
	bool asking;                 /* a command waits for the peer's heads */
	int asker;                   /* ... on this local socket */
	int64_t ask_until;           /* ... until then */
	bool settle_due;             /* idle since the touched circles moved */
	int64_t busy_since;          /* first activity since the last settling, 0 */
	int64_t settle_at;           /* settle no sooner (quiet for SETTLE_MS) */
};

struct refusal_seen {
	uint8_t key[AM_CURVE_BYTES];
	int64_t at;
};

/* A feed's head as the node last saw it, to tell which circles changed. */
struct feed_seen {
	int64_t id;
	int64_t seq;
	int64_t forks;      /* fork evidence entries */
	uint8_t circle[AM_HASH_BYTES];
};

/* The node's own queries: run on every change, so prepared once. */
enum query {
	Q_DATA_VERSION,
	Q_MEMBERSHIP_ONE,
	Q_MEMBERSHIP_ALL,
	Q_INVITES,
	Q_FEEDS,
	Q_COUNT
};

static const char *const query_sql[Q_COUNT] = {
	[Q_DATA_VERSION] = "PRAGMA data_version",
	[Q_MEMBERSHIP_ONE] =
	    "SELECT (SELECT count(*) FROM st_objects WHERE circle = ?1 AND kind IN (1, 2)) "
	    "* 1000003 + (SELECT count(*) FROM st_objects o JOIN st_acts a "
	    "ON a.target = o.hash WHERE o.circle = ?1 AND o.kind = 2)",
	[Q_MEMBERSHIP_ALL] =
	    "SELECT (SELECT count(*) FROM st_objects WHERE kind IN (1, 2)) * 1000003 + "
	    "(SELECT count(*) FROM st_acts a JOIN st_objects o ON o.hash = a.target "
	    "WHERE o.kind = 2)",
	[Q_INVITES] =
	    "SELECT (SELECT count(*) * 1000003 + count(used_at) FROM invites), "
	    "(SELECT group_concat(hex(id) || address, ',') FROM "
	    "(SELECT id, address FROM peers ORDER BY id))",
	/* fork evidence leaves the head alone: it counts as a change too */
	[Q_FEEDS] =
	    "SELECT id, head_seq, circle, (SELECT count(*) FROM forks k "
	    "WHERE k.feed = f.id) FROM feeds f ORDER BY id",
};

/* A label (see label()) as it was when the store was at version. */
struct label_seen {
	uint8_t id[AM_ID_BYTES];
	int64_t version;             /* n->data_version then; 0: slot unused */
	char text[96];
};

/* The thread that checkpoints the write-ahead log (see wal_loop). */
struct walcp {
	pthread_t thread;
	pthread_mutex_t lock;        /* guards wanted, stop, failed */
	pthread_cond_t cond;
	bool running;
	bool wanted;                 /* a checkpoint is asked for */
	bool stop;
	int failed;                  /* the last failure, not yet logged */
	struct am_store *store;      /* the thread's own connection */
};

struct node {
	const struct am_node_config *cfg;
	struct am_identity *id;
	struct am_store *store;
	struct am_wire *wire;
	struct peer *peers;
	size_t npeers;
	uint8_t (*invites)[AM_CURVE_BYTES];
	size_t ninvites;
	int64_t data_version;
	int64_t refresh_at;
	bool dirty;                  /* the store changed: push what is new */
	bool refresh_due;            /* re-read who may connect */
	int64_t membership;          /* fingerprint of the membership facts */
	int64_t invites_print;       /* and of the invites */
	struct {                     /* the same per circle, for a few circles */
		uint8_t circle[AM_HASH_BYTES];
		int64_t value;
	} prints[PRINTS_MAX];
	size_t nprints;
	struct feed_seen *feeds;     /* every feed's head when last looked at */
	int64_t settle_at;           /* when the next session settles, 0: none */
	int ask_fd;                  /* the socket of AM_NODE_ASK, -1 when none */
	char *ask_path;
	size_t nfeeds;
	struct refusal_seen refusals[16];
	struct walcp wal;
	struct label_seen labels[8];  /* the last labels made, round robin */
	unsigned nextlabel;
	sqlite3_stmt *queries[Q_COUNT];   /* prepared on first use */
};

static int64_t
wall_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int64_t
mono_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void
logf_(struct node *n, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void
logf_(struct node *n, const char *fmt, ...)
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
static void
label(struct node *n, const uint8_t *id, char *out, size_t len)
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

static void
short_hex(const uint8_t *h, char out[9])
{
	am_hex(h, 4, out);
}

/* ---- peers ---- */

static struct peer *
peer_by_id(struct node *n, const uint8_t *id)
{
	for (size_t i = 0; i < n->npeers; i++)
		if (memcmp(n->peers[i].id, id, AM_ID_BYTES) == 0)
			return &n->peers[i];
	return NULL;
}

static struct peer *
peer_by_curve(struct node *n, const uint8_t *key)
{
	for (size_t i = 0; i < n->npeers; i++)
		if (memcmp(n->peers[i].curve, key, AM_CURVE_BYTES) == 0)
			return &n->peers[i];
	return NULL;
}

static struct peer *
peer_by_link(struct node *n, int link)
{
	for (size_t i = 0; i < n->npeers; i++)
		if (n->peers[i].link == link && link != 0)
			return &n->peers[i];
	return NULL;
}

static bool
reachable(const struct peer *p)
{
	return p->link_up || p->inbound;
}

/* ---- questions from local commands (AM_NODE_ASK) ---- */

/*
 * A command asks on a local stream socket: one byte 'H' and a peer's ID.
 * The answer is a run of frames, each a 4-byte big-endian length and one
 * sync message: the peer's HEADS as they come, then DONE, or an ERROR
 * with a code and a sentence, after which the node closes the socket.
 */

/* Writes one frame to a command; false when it cannot take it (the
 * socket's send timeout bounds the wait). */
static bool
ask_frame(int fd, const uint8_t *msg, size_t len)
{
	uint8_t head[4] = { (uint8_t)(len >> 24), (uint8_t)(len >> 16),
		(uint8_t)(len >> 8), (uint8_t)len };
	struct iovec iov[2] = { { head, 4 }, { (void *)msg, len } };
	struct msghdr mh = { .msg_iov = iov, .msg_iovlen = 2 };
	size_t left = 4 + len;
	while (left > 0) {
		ssize_t put = sendmsg(fd, &mh, MSG_NOSIGNAL);
		if (put <= 0)
			return false;
		left -= (size_t)put;
		while (mh.msg_iovlen > 0 && (size_t)put >= mh.msg_iov[0].iov_len) {
			put -= (ssize_t)mh.msg_iov[0].iov_len;
			mh.msg_iov++;
			mh.msg_iovlen--;
		}
		if (mh.msg_iovlen > 0) {
			mh.msg_iov[0].iov_base = (uint8_t *)mh.msg_iov[0].iov_base + put;
			mh.msg_iov[0].iov_len -= (size_t)put;
		}
	}
	return true;
}

/* Ends a command's question on fd: DONE when code is AM_OK, else an
 * ERROR saying text; closes fd. */
static void
ask_close(int fd, int code, const char *text)
{
	struct am_sync_msg *m = calloc(1, sizeof *m);
	uint8_t *buf;
	size_t len;
	if (m != NULL) {
		m->type = code == AM_OK ? AM_SYNC_DONE : AM_SYNC_ERROR;
		m->code = (uint64_t)code;
		m->text = am_str_c(text);
		if (am_sync_msg_encode(m, &buf, &len) == AM_OK) {
			(void)ask_frame(fd, buf, len);
			free(buf);
		}
		free(m);
	}
	close(fd);
}

static void
ask_finish(struct peer *p, int code, const char *text)
{
	if (!p->asking)
		return;
	p->asking = false;
	ask_close(p->asker, code, text);
}

static void
session_end(struct peer *p)
{
	ask_finish(p, AM_ERR_UNREACHABLE, "the connection to the peer was lost");
	am_sync_destroy(&p->sync);
	free(p->out);
	p->out = NULL;
	p->idle = false;
	p->settle_due = false;
}

/* Starts a fresh session with p. */
static void
session_start(struct node *n, struct peer *p)
{
	char who[96];
	session_end(p);
	p->sync = am_sync_new(n->store, am_identity_public(n->id), p->id);
	if (p->sync == NULL || am_sync_start(p->sync) != AM_OK) {
		label(n, p->id, who, sizeof who);
		logf_(n, "could not start a sync session with %s: out of memory", who);
		am_sync_destroy(&p->sync);
		return;
	}
	p->recheck_at = mono_ms() + RECHECK_MS;
	p->step_told = false;
	p->touched_all = true;
}

/* Notes that circle changed, for the digest p's session records next. */
static void
touch(struct peer *p, const uint8_t circle[static AM_HASH_BYTES])
{
	if (p->touched_all)
		return;
	for (size_t i = 0; i < p->ntouched; i++)
		if (memcmp(p->touched[i], circle, AM_HASH_BYTES) == 0)
			return;
	if (p->ntouched == CHANGED_MAX)
		p->touched_all = true;
	else
		memcpy(p->touched[p->ntouched++], circle, AM_HASH_BYTES);
}

/* Something moved in p's session: settling waits until it has been quiet
 * for SETTLE_MS, or busy for SETTLE_MAX_MS. */
static void
busy(struct peer *p)
{
	int64_t now = mono_ms();
	p->idle = false;
	if (p->busy_since == 0)
		p->busy_since = now;
	p->settle_at = now + SETTLE_MS;
	if (p->settle_at > p->busy_since + SETTLE_MAX_MS)
		p->settle_at = p->busy_since + SETTLE_MAX_MS;
}

static void
peer_seen(struct node *n, struct peer *p, bool connected)
{
	int rc = am_peer_seen(n->store, p->id, wall_ms(), connected);
	if (rc != AM_OK)
		logf_(n, "could not record a peer's state: %s", am_strerror(rc));
}

/* A path to p came up (outbound) or was first used (inbound); was says
 * whether p was reachable before. */
static void
path_up(struct node *n, struct peer *p, bool was, const char *how)
{
	char who[96];
	label(n, p->id, who, sizeof who);
	if (!was) {
		logf_(n, "peer %s connected (%s)", who, how);
		peer_seen(n, p, true);
	}
	if (p->sync == NULL)
		session_start(n, p);
}

/* A path to p was lost: start over on what is left, if anything. */
static void
path_down(struct node *n, struct peer *p, const char *how)
{
	char who[96];
	label(n, p->id, who, sizeof who);
	if (!reachable(p)) {
		logf_(n, "peer %s lost (%s)", who, how);
		session_end(p);
		peer_seen(n, p, false);
	} else {
		session_start(n, p);
	}
}

static void
peer_drop(struct node *n, size_t i)
{
	struct peer *p = &n->peers[i];
	if (p->link != 0)
		am_wire_close(n->wire, p->link);
	if (reachable(p))
		peer_seen(n, p, false);
	session_end(p);
	memmove(&n->peers[i], &n->peers[i + 1], (n->npeers - i - 1) * sizeof *p);
	n->npeers--;
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

/* Every member (joined or pending) of every circle we are in, but us. */
static int
members(struct node *n, struct idset *out)
{
	struct am_circle_info *c = NULL;
	size_t nc = 0;
	const uint8_t *self = am_identity_public(n->id);
	int rc = am_state_circles(n->store, self, &c, &nc);
	if (rc != AM_OK)
		return rc;
	for (size_t i = 0; i < nc && rc == AM_OK; i++) {
		struct am_member *m = NULL;
		size_t nm = 0;
		if (am_state_members(n->store, c[i].id, &m, &nm) != AM_OK)
			continue;
		for (size_t j = 0; j < nm && rc == AM_OK; j++)
			if (memcmp(m[j].id, self, AM_ID_BYTES) != 0)
				rc = idset_add(out, m[j].id);
		free(m);
	}
	am_state_circles_free(&c, nc);
	return rc;
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

static bool
is_invite(struct node *n, const uint8_t *key)
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
			path_down(n, p, "its address changed");
		}
	}
	snprintf(p->address, sizeof p->address, "%s", address);
	if (address[0] == '\0')
		return;
	label(n, p->id, who, sizeof who);
	int rc = am_wire_connect(n->wire, p->curve, address, &p->link);
	if (rc != AM_OK) {
		p->link = 0;
		logf_(n, "cannot connect to %s at %s: %s", who, address, am_strerror(rc));
		return;
	}
	p->failed_told = false;
	logf_(n, "connecting to %s at %s", who, address);
}

/*
 * Recomputes who may connect and which links to keep, from the state and
 * the peers table: called at start, whenever the store changed, and from
 * time to time for invites that expire.
 */
static int
refresh(struct node *n)
{
	struct idset ids = { 0 };
	uint8_t (*allow)[AM_CURVE_BYTES] = NULL;
	int rc;

	n->refresh_at = mono_ms() + REFRESH_MS;
	if ((rc = members(n, &ids)) != AM_OK)
		goto out;
	free(n->invites);
	n->invites = NULL;
	n->ninvites = 0;
	if ((rc = am_invite_admitted(n->store, wall_ms(), invite_add, n)) != AM_OK)
		goto out;

	/* peers no longer sharing a circle are dropped */
	for (size_t i = n->npeers; i-- > 0; ) {
		bool keep = false;
		for (size_t j = 0; j < ids.n && !keep; j++)
			keep = memcmp(ids.ids[j], n->peers[i].id, AM_ID_BYTES) == 0;
		if (!keep)
			peer_drop(n, i);
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
		struct peer *p = peer_by_id(n, ids.ids[j]);
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
		memcpy(allow[i], n->peers[i].curve, AM_CURVE_BYTES);
	if (n->ninvites > 0)
		memcpy(allow[n->npeers], n->invites, n->ninvites * sizeof *allow);
	rc = am_wire_allow(n->wire, (const uint8_t (*)[AM_CURVE_BYTES])allow,
		n->npeers + n->ninvites);
out:
	free(allow);
	free(ids.ids);
	if (rc != AM_OK)
		logf_(n, "could not read who may connect: %s", am_strerror(rc));
	return rc;
}

/* ---- checkpoints of the write-ahead log ---- */

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
static void
wal_ask(struct walcp *w)
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
		wal_ask(ctx);
	return SQLITE_OK;
}

/* Starts the checkpoint thread on a connection of its own to path; when it
 * cannot, the node's commits go on checkpointing as SQLite does. */
static void
wal_start(struct node *n, const char *path)
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
	logf_(n, "cannot checkpoint the database log apart: %s; commits will "
		"do it", am_strerror(rc));
}

static void
wal_stop(struct node *n)
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
static void
wal_report(struct node *n)
{
	struct walcp *w = &n->wal;
	if (!w->running)
		return;
	pthread_mutex_lock(&w->lock);
	int rc = w->failed;
	w->failed = AM_OK;
	pthread_mutex_unlock(&w->lock);
	if (rc != AM_OK)
		logf_(n, "could not checkpoint the database log: %s", am_strerror(rc));
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
static void
check_store(struct node *n)
{
	int64_t v = data_version(n);
	if (v != n->data_version) {
		n->data_version = v;
		n->dirty = true;
		wal_ask(&n->wal);      /* a command's commit grew the log */
	}
	wal_report(n);
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
		v = sqlite3_column_int64(st, 0);
		for (int i = 0; i < 8; i++)
			v = v * 31 + h[i];
		v &= INT64_MAX;
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

static bool flush(struct node *n, struct peer *p);

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
		busy(p);
		int rc = AM_OK;
		if (all) {
			rc = am_sync_local_changed(p->sync);
			p->touched_all = true;
		}
		for (size_t c = 0; !all && c < nc && rc == AM_OK; c++) {
			rc = am_sync_circle_changed(p->sync, circles[c]);
			touch(p, circles[c]);
		}
		if (rc != AM_OK)
			logf_(n, "could not offer new entries: %s", am_strerror(rc));
		(void)flush(n, p);     /* what it cannot take now waits for flush_all */
	}
	int64_t inv = invites_print(n);
	bool invites_moved = inv != n->invites_print || inv < 0;
	n->invites_print = inv;
	if (membership_moved(n, circles, nc, all) || invites_moved || n->refresh_due) {
		n->refresh_due = false;
		refresh(n);
	}
}

/* ---- sync sessions ---- */

/* Records the digest the peer said it holds of circle, one it shares
 * with us (event SAME: it is ours too). Only the peer's word counts, never
 * our own side of the session going quiet: that can come before the peer
 * has pulled what we hold. */
static void
record_one(struct node *n, struct peer *p, const uint8_t circle[static AM_HASH_BYTES],
	const uint8_t digest[static AM_HASH_BYTES], int64_t now)
{
	if (am_state_may_write(n->store, circle, p->id) == AM_OK &&
	    am_peer_digest_set(n->store, p->id, circle, digest, now) != AM_OK)
		logf_(n, "could not record a peer's digest");
}

/* In each of circles c shared with p, a checkpoint when every member is
 * known to hold what we hold (am_checkpoint_due says when; it never
 * repeats the same heads, so checkpoints do not feed one another). */
static void
checkpoint(struct node *n, struct peer *p, uint8_t (*c)[AM_HASH_BYTES], size_t nc)
{
	for (size_t i = 0; i < nc; i++) {
		bool written = false;
		char cid[9];
		if (am_state_may_write(n->store, c[i], p->id) != AM_OK)
			continue;
		int rc = am_checkpoint_write(n->store, n->id, c[i], wall_ms(),
			&written, NULL);
		short_hex(c[i], cid);
		/* a restored identity writes nothing before its feed is back */
		if (rc != AM_OK && rc != AM_ERR_RESTORING)
			logf_(n, "could not write a checkpoint of circle %s: %s", cid,
				am_strerror(rc));
		if (written) {
			logf_(n, "every member holds the same record of circle %s: "
				"checkpoint written", cid);
			n->dirty = true;
		}
	}
}

/*
 * Once a session with p has settled and stayed quiet: records that p holds
 * what we hold in the circles that moved since it last settled (every
 * circle we are in, after a new session or many changes), and writes the
 * checkpoints that became due there. Only those circles are looked at,
 * and only once a burst of entries is over, since judging a checkpoint
 * reads much of a circle's state and writing one is a signed entry that
 * travels to every member.
 */
static void
settle(struct node *n, struct peer *p)
{
	struct am_circle_info *all = NULL;
	size_t nall = 0, nc = p->ntouched;
	uint8_t (*c)[AM_HASH_BYTES] = p->touched, (*copy)[AM_HASH_BYTES] = NULL;

	p->settle_due = false;
	p->busy_since = 0;
	/* a burst is over: the peer learns our record, and its answer says
	 * whether it holds the same (SAME, which brings us back here) */
	if (am_sync_tell(p->sync) != AM_OK)
		logf_(n, "could not tell a peer our record: out of memory");
	(void)flush(n, p);
	if (p->sync == NULL)
		return;
	if (p->touched_all) {
		if (am_state_circles(n->store, am_identity_public(n->id), &all,
		    &nall) != AM_OK)
			return;
		if (nall > 0 && (copy = malloc(nall * sizeof *copy)) == NULL) {
			am_state_circles_free(&all, nall);
			return;
		}
		for (size_t i = 0; i < nall; i++)
			memcpy(copy[i], all[i].id, AM_HASH_BYTES);
		am_state_circles_free(&all, nall);
		c = copy;
		nc = nall;
	}
	if (nc > 0)
		checkpoint(n, p, c, nc);
	p->touched_all = false;
	p->ntouched = 0;
	free(copy);
}

/* What each kind of line says, for the count logged when its budget is
 * spent: "<count> more <what> <who> in the last minute". */
static const char *const quiet_what[QUIET_KINDS] = {
	[QUIET_REFUSED] = "entries refused from",
	[QUIET_BAD] = "messages refused from",
	[QUIET_DENIED] = "requests for circles not theirs from",
	[QUIET_PEER_ERROR] = "refusals of our messages by",
	[QUIET_SHORTER] = "shorter feeds shown by",
	[QUIET_FORK] = "fork evidence stored from",
	[QUIET_DROPPED] = "messages dropped from",
};

/* Logs how many lines about p were only counted in the minute that
 * ended, and starts a new minute. */
static void
quiet_report(struct node *n, struct peer *p, int64_t now)
{
	char who[96];
	bool labelled = false;
	for (int k = 0; k < QUIET_KINDS; k++) {
		if (p->unsaid[k] > 0) {
			if (!labelled)
				label(n, p->id, who, sizeof who);
			labelled = true;
			logf_(n, "%u more %s %s in the last minute (not logged one "
				"by one)", p->unsaid[k], quiet_what[k], who);
		}
		p->said[k] = 0;
		p->unsaid[k] = 0;
	}
	p->quiet_since = now;
}

/* May a line of kind about p be logged now? The first QUIET_LINES of a
 * minute may; the rest are counted, and the count is logged once the
 * minute is over. */
static bool
quiet_may(struct node *n, struct peer *p, enum quiet_kind kind)
{
	int64_t now = mono_ms();
	if (now - p->quiet_since >= 60000)
		quiet_report(n, p, now);
	if (p->said[kind] < QUIET_LINES) {
		p->said[kind]++;
		return true;
	}
	p->unsaid[kind]++;
	return false;
}

/* The counts of minutes that are over, for peers that went quiet. */
static void
quiet_tick(struct node *n)
{
	int64_t now = mono_ms();
	for (size_t i = 0; i < n->npeers; i++) {
		struct peer *p = &n->peers[i];
		if (now - p->quiet_since < 60000)
			continue;
		for (int k = 0; k < QUIET_KINDS; k++) {
			if (p->unsaid[k] > 0) {
				quiet_report(n, p, now);
				break;
			}
		}
	}
}

/* A feed shown shorter than ours is withholding or truncation when a
 * checkpoint says the peer held more (am_checkpoint_judge); the report
 * is kept for status and verify. */
static void
judge(struct node *n, struct peer *p, const struct am_sync_event *ev)
{
	struct am_checkpoint_report r;
	char who[96], whose[96], when[32], c[9];
	bool shorter;
	int rc = am_checkpoint_judge(n->store, ev->circle, p->id, ev->author,
		ev->seq, wall_ms(), &shorter, &r);
	if (rc != AM_OK) {
		logf_(n, "could not compare a shorter feed with the checkpoints: %s",
			am_strerror(rc));
		return;
	}
	if (!shorter || !quiet_may(n, p, QUIET_SHORTER))
		return;
	time_t t = (time_t)(r.checkpoint_time / 1000);
	struct tm tm;
	if (gmtime_r(&t, &tm) == NULL ||
	    strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		snprintf(when, sizeof when, "?");
	label(n, p->id, who, sizeof who);
	if (memcmp(p->id, ev->author, AM_ID_BYTES) == 0)
		snprintf(whose, sizeof whose, "its own");
	else
		label(n, ev->author, whose, sizeof whose);
	short_hex(ev->circle, c);
	logf_(n, "%s shows a shorter feed of %s than the checkpoint of %s "
		"(circle %s: %llu of %llu entries): withholding or truncation", who,
		whose, when, c, (unsigned long long)r.shown,
		(unsigned long long)r.named);
}

static void
log_events(struct node *n, struct peer *p)
{
	struct am_sync_event ev;
	char who[96], c[9];
	uint64_t stored = 0;
	bool began = false;
	label(n, p->id, who, sizeof who);
	while (am_sync_next_event(p->sync, &ev)) {
		short_hex(ev.circle, c);
		/* a peer must not fill the disk through our log: each kind of
		 * line it can cause has its budget (entries stored are not
		 * counted: their line is one per batch, and they take room of
		 * their own) */
		switch (ev.kind) {
		case AM_SYNC_EV_STORED:
			stored += ev.count;
			break;
		case AM_SYNC_EV_REFUSED:
			if (quiet_may(n, p, QUIET_REFUSED))
				logf_(n, "refused an entry from %s (circle %s, seq %llu): %s",
					who, c, (unsigned long long)ev.seq,
					ev.text[0] ? ev.text : am_strerror(ev.rc));
			break;
		case AM_SYNC_EV_BAD_MESSAGE:
			if (quiet_may(n, p, QUIET_BAD))
				logf_(n, "refused a message from %s: %s", who,
					ev.text[0] ? ev.text : am_strerror(ev.rc));
			break;
		case AM_SYNC_EV_DENIED:
			if (quiet_may(n, p, QUIET_DENIED))
				logf_(n, "refused %s a circle it is not in (%s): %s", who,
					c, ev.text);
			break;
		case AM_SYNC_EV_PEER_ERROR:
			if (quiet_may(n, p, QUIET_PEER_ERROR))
				logf_(n, "%s refused something of ours: %s", who, ev.text);
			break;
		case AM_SYNC_EV_SHORTER_HEAD:
			if (quiet_may(n, p, QUIET_SHORTER))
				logf_(n, "%s shows a shorter feed than ours (circle %s: "
					"%llu of %llu entries): behind, or withholding", who,
					c, (unsigned long long)ev.seq,
					(unsigned long long)ev.count);
			judge(n, p, &ev);
			break;
		case AM_SYNC_EV_FORK:
			if (quiet_may(n, p, QUIET_FORK))
				logf_(n, "fork evidence from %s stored (circle %s): %s",
					who, c, ev.text);
			n->dirty = true;      /* pass the evidence on at once */
			break;
		case AM_SYNC_EV_SAME:
			/* one transaction for all: one sync to disk */
			if (!began)
				began = am_store_begin(n->store) == AM_OK;
			record_one(n, p, ev.circle, ev.digest, wall_ms());
			touch(p, ev.circle);   /* a checkpoint may be due there */
			break;
		case AM_SYNC_EV_ANSWERED:
			ask_finish(p, ev.rc, ev.rc == AM_OK ? "" : ev.text);
			break;
		case AM_SYNC_EV_CAUGHT_UP:
			break;
		}
	}
	if (began && am_store_commit(n->store) != AM_OK)
		logf_(n, "could not record the peers' digests");
	if (stored > 0) {
		logf_(n, "received %llu entr%s from %s", (unsigned long long)stored,
			stored == 1 ? "y" : "ies", who);
		n->dirty = true;      /* tell the other peers, and re-read members */
	}
}

/* Sends what p's session has to say, as far as the transport takes it.
 * Returns true when something is left waiting for room. */
static bool
flush(struct node *n, struct peer *p)
{
	for (int sent = 0; p->sync != NULL && sent < FLUSH_MAX; sent++) {
		if (p->out == NULL) {
			int rc = am_sync_next_out(p->sync, &p->out, &p->out_len);
			if (rc != AM_OK) {
				logf_(n, "sync failed: %s", am_strerror(rc));
				return false;
			}
			if (p->out == NULL)
				break;
		}
		int rc = AM_ERR_UNREACHABLE;
		if (p->link_up)
			rc = am_wire_send(n->wire, p->link, p->curve, p->out, p->out_len);
		if (rc == AM_ERR_UNREACHABLE && p->inbound)
			rc = am_wire_send(n->wire, AM_WIRE_INBOUND, p->curve, p->out,
				p->out_len);
		if (rc == AM_ERR_AGAIN)
			return true;
		if (rc == AM_ERR_UNREACHABLE) {
			/* the peer's connection to us is gone (an outbound link
			 * that went down reports it by itself) */
			if (p->inbound) {
				p->inbound = false;
				path_down(n, p, "its connection to us is gone");
			}
			return false;
		}
		free(p->out);
		p->out = NULL;
	}
	return p->out != NULL;
}

static bool
flush_all(struct node *n)
{
	bool waiting = false;
	int64_t now = mono_ms();
	n->settle_at = 0;
	for (size_t i = 0; i < n->npeers; i++) {
		struct peer *p = &n->peers[i];
		if (p->sync == NULL)
			continue;
		if (now >= p->recheck_at) {
			p->recheck_at = now + RECHECK_MS;
			if (am_sync_recheck(p->sync) != AM_OK)
				logf_(n, "could not compare records: out of memory");
		}
		waiting |= flush(n, p);
		if (p->sync == NULL)
			continue;
		bool idle = am_sync_idle(p->sync);
		if (idle && !p->idle) {
			if (!p->step_told) {
				char who[96];
				label(n, p->id, who, sizeof who);
				struct am_sync_stats ss;
				am_sync_stats(p->sync, &ss);
				logf_(n, "in step with %s (%llu bytes in, %llu bytes out)",
					who, (unsigned long long)ss.bytes_in,
					(unsigned long long)ss.bytes_out);
				p->step_told = true;
			}
			p->settle_due = true;
		}
		p->idle = idle;
		if (idle && p->settle_due && now >= p->settle_at)
			settle(n, p);
		if (p->settle_due && (n->settle_at == 0 || p->settle_at < n->settle_at))
			n->settle_at = p->settle_at;
	}
	return waiting;
}

/* ---- questions from local commands, continued ---- */

/* Takes the questions waiting on the local socket: each asks a connected
 * peer for its heads on the live session, or is answered at once. */
static void
ask_accept(struct node *n)
{
	for (int k = 0; n->ask_fd >= 0 && k < 8; k++) {
		uint8_t req[1 + AM_ID_BYTES];
		struct timeval tv = { .tv_sec = 1 };
		int fd = accept4(n->ask_fd, NULL, NULL, SOCK_CLOEXEC);
		if (fd < 0)
			return;
		/* a command writes its question before it wakes us, so this
		 * takes no time; the timeouts bound one that does not */
		struct pollfd pf = { .fd = fd, .events = POLLIN };
		if (setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv) != 0 ||
		    poll(&pf, 1, 500) != 1 ||
		    recv(fd, req, sizeof req, MSG_WAITALL | MSG_DONTWAIT) !=
		    (ssize_t)sizeof req || req[0] != 'H') {
			ask_close(fd, AM_ERR_ARG, "not a question this node knows");
			continue;
		}
		struct peer *p = peer_by_id(n, req + 1);
		if (p == NULL) {
			ask_close(fd, AM_ERR_NOT_FOUND, "that ID shares no circle "
				"with this node");
		} else if (p->sync == NULL || !reachable(p)) {
			ask_close(fd, AM_ERR_UNREACHABLE, "the peer's node is not "
				"connected to this node now");
		} else if (p->asking) {
			ask_close(fd, AM_ERR_AGAIN, "another command is asking that "
				"peer already");
		} else if (am_sync_ask_heads(p->sync) != AM_OK) {
			ask_close(fd, AM_ERR_NOMEM, "out of memory");
		} else {
			p->asking = true;
			p->asker = fd;
			p->ask_until = mono_ms() + AM_NODE_ASK_MS;
			p->idle = false;
		}
	}
}

/* Questions the peer left unanswered too long. */
static void
ask_expire(struct node *n)
{
	int64_t now = mono_ms();
	for (size_t i = 0; i < n->npeers; i++)
		if (n->peers[i].asking && now >= n->peers[i].ask_until)
			ask_finish(&n->peers[i], AM_ERR_UNREACHABLE, "the peer's "
				"node did not answer in time");
}

/* A message from p while a command waits for its heads: HEADS go on to
 * the command as they are. */
static void
ask_relay(struct peer *p, const uint8_t *data, size_t len)
{
	struct am_sync_msg *m;
	if (!p->asking || (m = malloc(sizeof *m)) == NULL)
		return;
	if (am_sync_msg_decode(data, len, m) == AM_OK && m->type == AM_SYNC_HEADS &&
	    !ask_frame(p->asker, data, len)) {
		p->asking = false;
		close(p->asker);
	}
	free(m);
}

/* ---- events from the transport ---- */

static void
on_invite(struct node *n, const uint8_t *key, const uint8_t *data, size_t len)
{
	struct am_invite_event ev;
	uint8_t *reply = NULL;
	size_t rlen = 0;
	char who[96] = "someone", c[9];
	int rc = am_invite_serve(n->store, n->id, key, wall_ms(), data, len,
		&reply, &rlen, &ev);
	if (rc != AM_OK) {
		logf_(n, "could not answer an invite: %s", am_strerror(rc));
		return;
	}
	if (ev.has_joiner)
		label(n, ev.joiner, who, sizeof who);
	short_hex(ev.circle, c);
	switch (ev.outcome) {
	case AM_INVITE_JOINED:
		logf_(n, "%s used an invite to circle %s; proposed them as a member",
			who, c);
		n->dirty = true;
		break;
	case AM_INVITE_ACCEPTED:
		if (ev.joined)
			logf_(n, "%s joined circle %s", who, c);
		else
			logf_(n, "%s accepted; circle %s still waits for %u member%s",
				who, c, ev.count, ev.count == 1 ? "" : "s");
		n->dirty = true;
		break;
	case AM_INVITE_SENT:
		logf_(n, "sent %u entr%s of circle %s to %s", ev.count,
			ev.count == 1 ? "y" : "ies", c, who);
		break;
	case AM_INVITE_REFUSED:
		logf_(n, "refused an invite request from %s: %s", who, ev.why);
		break;
	case AM_INVITE_NOTHING:
		break;
	}
	rc = am_wire_send(n->wire, AM_WIRE_INBOUND, key, reply, rlen);
	if (rc != AM_OK)
		logf_(n, "could not answer an invite: %s", am_strerror(rc));
	free(reply);
}

static void
on_message(struct node *n, struct am_wire_event *ev)
{
	if (ev->link == AM_WIRE_INBOUND && is_invite(n, ev->key)) {
		on_invite(n, ev->key, ev->data, ev->len);
		return;
	}
	struct peer *p = ev->link == AM_WIRE_INBOUND ? peer_by_curve(n, ev->key) :
		peer_by_link(n, ev->link);
	if (p == NULL) {
		char hex[17];
		am_hex(ev->key, 8, hex);
		logf_(n, "dropped a message from key %s: not a member of our circles",
			hex);
		return;
	}
	if (ev->link == AM_WIRE_INBOUND && !p->inbound) {
		bool was = reachable(p);
		p->inbound = true;
		path_up(n, p, was, "it connected to us");
	}
	if (p->sync == NULL)
		session_start(n, p);
	if (p->sync == NULL)
		return;
	ask_relay(p, ev->data, ev->len);
	int rc = am_sync_receive(p->sync, ev->data, ev->len);
	log_events(n, p);
	/* the records may differ now: look again once the session settles */
	busy(p);
	if (rc == AM_ERR_NOMEM || rc == AM_ERR_DB || rc == AM_ERR_DB_FULL ||
	    rc == AM_ERR_IO || rc == AM_ERR_DB_CORRUPT)
		logf_(n, "could not take a message: %s", am_strerror(rc));
}

static bool
refusal_recent(struct node *n, const uint8_t *key)
{
	int64_t now = mono_ms();
	size_t oldest = 0;
	for (size_t i = 0; i < sizeof n->refusals / sizeof n->refusals[0]; i++) {
		if (memcmp(n->refusals[i].key, key, AM_CURVE_BYTES) == 0) {
			if (now - n->refusals[i].at < REFUSAL_LOG_MS)
				return true;
			n->refusals[i].at = now;
			return false;
		}
		if (n->refusals[i].at < n->refusals[oldest].at)
			oldest = i;
	}
	memcpy(n->refusals[oldest].key, key, AM_CURVE_BYTES);
	n->refusals[oldest].at = now;
	return false;
}

static void
on_event(struct node *n, struct am_wire_event *ev)
{
	char who[96] = "an unknown peer";
	struct peer *p = NULL;
	if (ev->link != AM_WIRE_INBOUND)
		p = peer_by_link(n, ev->link);
	else if (ev->has_key)
		p = peer_by_curve(n, ev->key);
	if (p != NULL)
		label(n, p->id, who, sizeof who);

	switch (ev->kind) {
	case AM_WIRE_NONE:
		break;
	case AM_WIRE_MESSAGE:
		on_message(n, ev);
		break;
	case AM_WIRE_UP:
		if (p != NULL) {
			bool was = reachable(p);
			p->link_up = true;
			p->failed_told = false;
			path_up(n, p, was, p->address);
		}
		break;
	case AM_WIRE_DOWN:
		if (p == NULL)
			break;
		if (ev->link == AM_WIRE_INBOUND) {
			if (!p->inbound)
				break;
			p->inbound = false;
			path_down(n, p, "it disconnected from us");
		} else if (p->link_up) {
			p->link_up = false;
			path_down(n, p, p->address);
		}
		break;
	case AM_WIRE_HANDSHAKE_FAILED:
		if (p != NULL && !p->failed_told) {
			p->failed_told = true;
			logf_(n, "handshake with %s at %s failed: %s", who, p->address,
				ev->detail);
		}
		break;
	case AM_WIRE_RETRYING:
		if (p != NULL)
			logf_(n, "cannot reach %s at %s yet; retrying", who, p->address);
		break;
	case AM_WIRE_REFUSED:
		if (!ev->has_key) {
			logf_(n, "refused a connection: %s", ev->detail);
		} else if (!refusal_recent(n, ev->key)) {
			char hex[17];
			am_hex(ev->key, 8, hex);
			logf_(n, "refused key %s: %s", hex, ev->detail);
		}
		break;
	case AM_WIRE_DROPPED:
		if (p == NULL || quiet_may(n, p, QUIET_DROPPED))
			logf_(n, "dropped %s from %s", ev->detail, who);
		break;
	case AM_WIRE_NUDGE:
		check_store(n);
		ask_accept(n);
		break;
	}
}

/* ---- questions from local commands: the socket, and asking ---- */

static void
ask_listen(struct node *n, const char *home)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	char *path = am_home_path(home, AM_NODE_ASK);
	n->ask_fd = -1;
	if (path == NULL || strlen(path) >= sizeof sun.sun_path)
		goto fail;
	memcpy(sun.sun_path, path, strlen(path) + 1);
	unlink(path);       /* a stale socket of a node that died */
	n->ask_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (n->ask_fd < 0 || bind(n->ask_fd, (struct sockaddr *)&sun, sizeof sun) != 0 ||
	    listen(n->ask_fd, 8) != 0)
		goto fail;
	n->ask_path = path;
	return;
fail:
	if (n->ask_fd >= 0)
		close(n->ask_fd);
	n->ask_fd = -1;
	free(path);
	logf_(n, "no local socket for questions (path too long?): verify --with "
		"cannot ask through this node");
}

/* Reads exactly len bytes from fd by the deadline (mono_ms). */
static int
read_by(int fd, uint8_t *buf, size_t len, int64_t until)
{
	while (len > 0) {
		struct pollfd pf = { .fd = fd, .events = POLLIN };
		int64_t left = until - mono_ms();
		if (left <= 0 || poll(&pf, 1, (int)left) != 1)
			return AM_ERR_UNREACHABLE;
		ssize_t got = recv(fd, buf, len, 0);
		if (got <= 0)
			return AM_ERR_UNREACHABLE;
		buf += got;
		len -= (size_t)got;
	}
	return AM_OK;
}

int
am_node_ask_heads(const char *home, const uint8_t peer[static AM_ID_BYTES],
	int timeout_ms, int (*fn)(void *ctx, const struct am_sync_msg *m),
	void *ctx, char why[static 201])
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	struct am_sync_msg *m = malloc(sizeof *m);
	uint8_t req[1 + AM_ID_BYTES] = { 'H' }, *buf = NULL;
	char *path = am_home_path(home, AM_NODE_ASK);
	int64_t until = mono_ms() + timeout_ms;
	int fd = -1, rc = AM_ERR_NOMEM;

	snprintf(why, 201, "out of memory");
	if (m == NULL || path == NULL)
		goto out;
	rc = AM_ERR_UNREACHABLE;
	snprintf(why, 201, "the node does not answer on its local socket");
	if (strlen(path) >= sizeof sun.sun_path)
		goto out;
	memcpy(sun.sun_path, path, strlen(path) + 1);
	memcpy(req + 1, peer, AM_ID_BYTES);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sun, sizeof sun) != 0 ||
	    send(fd, req, sizeof req, MSG_NOSIGNAL) != (ssize_t)sizeof req)
		goto out;
	am_node_nudge(home);
	for (;;) {
		uint8_t head[4];
		if (read_by(fd, head, 4, until) != AM_OK) {
			snprintf(why, 201, "the node gave no answer in time");
			goto out;
		}
		size_t len = (size_t)head[0] << 24 | (size_t)head[1] << 16 |
			(size_t)head[2] << 8 | head[3];
		if (len > AM_SYNC_MAX_MSG || (buf = malloc(len > 0 ? len : 1)) == NULL ||
		    read_by(fd, buf, len, until) != AM_OK ||
		    am_sync_msg_decode(buf, len, m) != AM_OK) {
			snprintf(why, 201, "the node's answer is damaged");
			goto out;
		}
		if (m->type == AM_SYNC_DONE) {
			rc = AM_OK;
			goto out;
		}
		if (m->type == AM_SYNC_ERROR) {
			size_t k = 0;
			/* printable ASCII only, as any text from outside */
			for (size_t i = 0; i < m->text.n && k < 200; i++) {
				char ch = m->text.p[i];
				why[k++] = ch >= 0x20 && ch < 0x7f ? ch : '?';
			}
			why[k] = '\0';
			rc = m->code > 0 && m->code < INT32_MAX ? (int)m->code :
				AM_ERR_REFUSED;
			goto out;
		}
		if (m->type == AM_SYNC_HEADS && (rc = fn(ctx, m)) != AM_OK) {
			snprintf(why, 201, "%s", am_strerror(rc));
			goto out;
		}
		free(buf);
		buf = NULL;
	}
out:
	if (fd >= 0)
		close(fd);
	free(buf);
	free(path);
	free(m);
	return rc;
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
		logf_(n, "cannot load the key %s: %s", key, am_strerror(rc));
		goto out;
	}
	if ((rc = am_store_open(db, &n->store)) != AM_OK) {
		logf_(n, "cannot open the database %s: %s", db, am_strerror(rc));
		goto out;
	}
	wal_start(n, db);
	if ((rc = am_identity_curve(n->id, pub, sec)) != AM_OK)
		goto out;
	rc = am_wire_new(pub, sec, &n->wire);
	sodium_memzero(sec, sizeof sec);
	if (rc != AM_OK)
		logf_(n, "cannot start the network layer: %s", am_strerror(rc));
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

	if (ep == NULL && (setting = am_store_setting_get(n->store,
	    AM_NODE_SETTING_LISTEN)) != NULL)
		ep = setting;
	if (ep == NULL)
		ep = AM_NODE_LISTEN;
	rc = am_wire_listen(n->wire, ep, bound);
	if (rc != AM_OK) {
		logf_(n, "cannot listen on %s: %s", ep, am_strerror(rc));
		goto out;
	}
	rc = am_wire_selftest(n->wire, SELFTEST_MS);
	if (rc == AM_ERR_SELFTEST) {
		logf_(n, "self-test failed: a stranger's key was let in on %s; "
			"refusing to run unprotected", bound);
		goto out;
	}
	if (rc != AM_OK) {
		logf_(n, "self-test failed: no answer from our own address %s", bound);
		goto out;
	}
	char *sock = am_home_path(home, AM_NODE_SOCKET);
	if (sock == NULL || am_wire_nudge_bind(n->wire, sock) != AM_OK)
		logf_(n, "no local socket for commands (path too long?); changes "
			"are noticed within %d ms instead", TICK_MS);
	free(sock);
	ask_listen(n, home);
	am_id_format(am_identity_public(n->id), text);
	logf_(n, "node %s started, listening on %s (self-test passed: strangers "
		"are refused)", text, bound);
out:
	free(setting);
	return rc;
}

static void
close_all(struct node *n)
{
	for (size_t i = 0; i < n->npeers; i++)
		session_end(&n->peers[i]);
	if (n->ask_fd >= 0) {
		close(n->ask_fd);
		unlink(n->ask_path);
	}
	free(n->ask_path);
	if (n->store != NULL && am_peer_disconnect_all(n->store) != AM_OK)
		logf_(n, "could not record the peers as disconnected");
	am_wire_destroy(&n->wire);
	free(n->peers);
	free(n->invites);
	free(n->feeds);
	wal_stop(n);
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
	label(n, b->author, who, sizeof who);
	am_hex(b->circle, 4, circle);
	logf_(n, "entry %llu of %s in circle %s has a signature that does not "
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
		logf_(n, "could not check pending signatures: %s", am_strerror(rc));
	return rc == AM_OK && checked > 0;
}

int
am_node_run(const struct am_node_config *cfg)
{
	struct node n = { .cfg = cfg, .ask_fd = -1 };
	int lock = -1, rc;

	if ((rc = lock_home(cfg->home, &lock)) != AM_OK) {
		if (rc == AM_ERR_LOCKED)
			logf_(&n, "another node is already running on %s", cfg->home);
		else
			logf_(&n, "cannot lock %s/%s: %s", cfg->home, AM_NODE_LOCK,
				am_strerror(rc));
		return rc;
	}
	if ((rc = open_all(&n, cfg->home)) != AM_OK ||
	    (rc = listen_and_test(&n, cfg->home)) != AM_OK)
		goto out;
	if ((rc = am_peer_disconnect_all(n.store)) != AM_OK)
		goto out;
	n.data_version = data_version(&n);
	refresh(&n);

	int64_t tick_at = mono_ms() + TICK_MS;
	int64_t heard_at = mono_ms(), checked_at = heard_at;
	bool waiting = false, pending = true;
	while (!*cfg->stop) {
		struct am_wire_event ev;
		int64_t now = mono_ms();
		int64_t wake = tick_at;
		if (n.settle_at != 0 && n.settle_at < wake)
			wake = n.settle_at;
		int timeout = waiting ? RETRY_MS : (int)(wake > now ? wake - now : 0);
		bool quiet = pending && now - heard_at >= PENDING_QUIET_MS;
		if (pending && timeout > PENDING_QUIET_MS)
			timeout = PENDING_QUIET_MS;
		if (quiet)
			timeout = 0;
		rc = am_wire_poll(n.wire, timeout, &ev);
		if (rc != AM_OK) {
			logf_(&n, "network layer failed: %s", am_strerror(rc));
			break;
		}
		on_event(&n, &ev);
		free(ev.data);
		if (ev.kind == AM_WIRE_MESSAGE) {
			pending = true;
			heard_at = mono_ms();
		} else if (ev.kind == AM_WIRE_NONE && quiet) {
			pending = check_pending(&n);
			checked_at = mono_ms();
		}
		now = mono_ms();
		if (now >= tick_at) {
			tick_at = now + TICK_MS;
			if (now - checked_at >= PENDING_FORCE_MS) {
				pending = check_pending(&n);
				checked_at = now;
			} else {
				pending = true;  /* a command may have imported some */
			}
			check_store(&n);
			quiet_tick(&n);
			ask_accept(&n);
			ask_expire(&n);
			if (now >= n.refresh_at) {
				/* invites expire with time alone */
				n.refresh_due = true;
				n.dirty = true;
			}
		}
		if (n.dirty)
			changed(&n);
		am_wire_nudge_answer(n.wire);   /* the commands know we read it */
		waiting = flush_all(&n);
	}
	if (*cfg->stop)
		logf_(&n, "stopping");
	rc = AM_OK;
out:
	close_all(&n);
	close(lock);
	return rc;
}
