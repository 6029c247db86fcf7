/*
 * What the files of the node share: the node and its peers, and the
 * helpers each part calls in another. node.c runs the loop, starts, stops
 * and re-reads who may connect; node_session.c drives the sync sessions
 * and the transport's events; node_ask.c answers the questions of local
 * commands; node_wal.c checkpoints the write-ahead log. Never installed.
 */
#ifndef AMENDS_NODE_IMPL_H
#define AMENDS_NODE_IMPL_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <sqlite3.h>

#include "amends/id.h"
#include "amends/node.h"
#include "amends/peer.h"
#include "amends/store.h"
#include "amends/sync.h"
#include "amends/wire.h"

#define CHANGED_MAX 16      /* circles told one by one; more: all at once */

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

/* A command's connection to the node's local socket (node_ask.c). */
#define ASK_CONNS 8
enum ask_state { ASK_FREE, ASK_READING, ASK_WAITING, ASK_CLOSING };
struct ask_conn {
	enum ask_state state;
	int fd;
	unsigned gen;                /* one more each time the slot is freed */
	int64_t until;               /* READING, CLOSING: let go then */
	uint8_t req[1 + AM_ID_BYTES];   /* the question, 'H' and a peer's ID */
	size_t got;
	uint8_t *out;                /* answer bytes not yet taken */
	size_t nout, sent, cap;
};
#define REDIAL_MS 1000           /* first wait to dial a lost link again */
#define REDIAL_MAX_MS 16000      /* ... doubling up to this */
#define REDIAL_MAX_TEXT "16 s"   /* ... said in the log */

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
	int64_t store_retry_ms;      /* wait before comparing again after our
	                                store failed; 0 while it works */
	bool failed_told;            /* a handshake failure already logged */
	int64_t redial_at;           /* while the outbound link is not up: dial
	                                again then, whatever libzmq does (it
	                                gives a link up after a protocol error);
	                                0 while it is up, or nothing to dial */
	int64_t redial_ms;           /* ... the wait, doubling up to REDIAL_MAX_MS */
	int64_t lost_at;             /* when the link was last seen going down */
	bool redial_quiet;           /* dialling at REDIAL_MAX_MS was logged */
	bool step_told;              /* "in step" logged for this session */
	int64_t quiet_since;         /* when the minute of its log budget began */
	unsigned said[QUIET_KINDS];  /* lines of each kind logged this minute */
	unsigned unsaid[QUIET_KINDS];   /* ... and not logged, only counted */
	/* circles whose digest to record when the session next settles */
	uint8_t touched[CHANGED_MAX][AM_HASH_BYTES];
	size_t ntouched;
	bool touched_all;
	bool asking;                 /* a command waits for the peer's heads */
	struct ask_conn *asker;      /* ... on this connection (peers move in
	                                memory; connections do not) */
	unsigned asker_gen;          /* ... while it has this generation */
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

/* A label (see node_label()) as it was when the store was at version. */
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
	int64_t started_ms;          /* wall clock when the node started */
	bool compared;               /* a comparison with a peer ended since
	                                the node started: until then it writes
	                                no checkpoint (its store may be a stale
	                                copy, and a peer may hold newer entries
	                                of its own feed) */
	bool compared_told;          /* ... and the store says so
	                                (AM_NODE_SETTING_COMPARED) */
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
	struct ask_conn ask[ASK_CONNS];  /* commands' connections to it */
	size_t nfeeds;
	struct refusal_seen refusals[16];
	struct {                     /* lines about strangers, this minute */
		int64_t since;
		unsigned said, unsaid;
	} outside;
	struct walcp wal;
	struct label_seen labels[8];  /* the last labels made, round robin */
	unsigned nextlabel;
	sqlite3_stmt *queries[Q_COUNT];   /* prepared on first use */
	bool restart;                /* the key was rotated: start again with
	                                the new identity (include/amends/
	                                rotate.h) */
	char *bound;                 /* the endpoint bound, kept for the
	                                restart (malloc'd by the caller) */
	bool rotation_told;          /* the log said a rotation waits */
};


/* node.c */

/* The wall clock and a monotonic clock, in milliseconds. */
int64_t node_wall_ms(void);
int64_t node_mono_ms(void);

/* Logs one line through the configured log function, if any. */
void node_log(struct node *n, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/*
 * A person's name for the log: the local nickname and the ID's start.
 * Every message from a peer may log a line about it, so the last few
 * labels are kept until another process (a command: only commands set
 * nicknames) writes to the store.
 */
void node_label(struct node *n, const uint8_t *id, char *out, size_t len);

/* The first 8 hex digits of h, for the log. */
void node_short_hex(const uint8_t *h, char out[9]);

/* The peer with that identity, Curve key or outbound link; NULL when none. */
struct peer *node_peer_by_id(struct node *n, const uint8_t *id);
struct peer *node_peer_by_curve(struct node *n, const uint8_t *key);
struct peer *node_peer_by_link(struct node *n, int link);

/* Whether p has a path: its outbound link is up or it has reached us. */
bool node_reachable(const struct peer *p);

/* Schedules the next dial of p's outbound link, unless one is scheduled:
 * REDIAL_MS after the link was up, then doubling up to REDIAL_MAX_MS. */
void node_redial_arm(struct peer *p, int64_t now);

/* Whether key is the throwaway key of a pending invite. */
bool node_is_invite(struct node *n, const uint8_t *key);

/* Another process (a command) committed: refresh and push. */
void node_check_store(struct node *n);

/* node_session.c */

/* Ends p's session, and the question a command was asking through it. */
void node_session_end(struct peer *p);

/* Notes that circle changed, for the digest p's session records next. */
void node_touch(struct peer *p, const uint8_t circle[static AM_HASH_BYTES]);

/* Something moved in p's session: settling waits until it has been quiet
 * for SETTLE_MS, or busy for SETTLE_MAX_MS. */
void node_busy(struct peer *p);

/* A path to p was lost: start over on what is left, if anything. */
void node_path_down(struct node *n, struct peer *p, const char *how);

/* Closes p = n->peers[i]'s link and session and removes it from the table. */
void node_peer_drop(struct node *n, size_t i);

/* The counts of minutes that are over, for peers that went quiet. */
void node_quiet_tick(struct node *n);

/* Sends what p's session has to say, as far as the transport takes it.
 * Returns true when something is left waiting for room. */
bool node_flush(struct node *n, struct peer *p);

/* The same for every peer, settling the sessions that are due; true when
 * something is left waiting for room. */
bool node_flush_all(struct node *n);
/* Commits the run the store holds open (am_store_defer_sync), once no
 * batch of it waits to be read; on failure, every session asks again. */
void node_release(struct node *n);

/* Handles one event from the transport. */
void node_on_event(struct node *n, struct am_wire_event *ev);

/* node_ask.c */

/* Ends the question a command asks through p, if any: DONE when code is
 * AM_OK, else an ERROR saying text. */
void node_ask_finish(struct peer *p, int code, const char *text);

/* Takes the questions waiting on the local socket, without waiting for
 * any: each asks a connected peer for its heads on the live session, or
 * is answered at once; answers not yet taken go on. Runs on each nudge
 * and tick. */
void node_ask_accept(struct node *n);

/* Closes every command's connection (the node stops). */
void node_ask_close_all(struct node *n);

/* Questions the peer left unanswered too long. */
void node_ask_expire(struct node *n);

/* A message from p while a command waits for its heads: HEADS go on to
 * the command as they are. */
void node_ask_relay(struct peer *p, const uint8_t *data, size_t len);

/* Opens the local socket (AM_NODE_ASK) in home; the node runs without it
 * when it cannot, and says so. */
void node_ask_listen(struct node *n, const char *home);

/* node_wal.c */

/* Starts the checkpoint thread on a connection of its own to path; when it
 * cannot, the node's commits go on checkpointing as SQLite does. */
void node_wal_start(struct node *n, const char *path);

/* Stops the checkpoint thread and closes its connection. */
void node_wal_stop(struct node *n);

/* Asks the thread for a checkpoint (nothing when it does not run). */
void node_wal_ask(struct walcp *w);

/* Logs a checkpoint that failed since the last look. */
void node_wal_report(struct node *n);

#endif
