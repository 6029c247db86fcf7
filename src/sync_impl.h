/*
 * What the files of the sync module share: the session structure and the
 * helpers that queue messages and events. Never installed.
 */
#ifndef AMENDS_SYNC_IMPL_H
#define AMENDS_SYNC_IMPL_H

#include <stdarg.h>

#include "amends/sync.h"

#define EVENTS_MAX 256
#define OUT_MAX_BYTES (8u << 20)   /* control messages queued for the peer */
#define LISTED_MAX 4096            /* circles named by one DIGESTS series */
#define TASKS_MAX 4096             /* feeds waiting to be pulled */
#define MODELS_MAX 4096            /* circles whose peer heads we track */

struct out_msg {
	struct out_msg *next;
	uint8_t *buf;
	size_t len;
};

/* Something to pull from the peer. */
enum task_kind {
	TASK_FEED,       /* the feed up to number seq */
	TASK_AT,         /* the one entry at number seq (a divergent head) */
	TASK_FORKS,      /* the feed's fork evidence */
};

struct task {
	enum task_kind kind;
	uint8_t circle[AM_HASH_BYTES];
	uint8_t author[AM_ID_BYTES];
	uint64_t seq;
};

/* A request of the peer's (WANT or WANT_FORKS) waiting to be answered. */
struct request {
	uint32_t type;
	uint8_t circle[AM_HASH_BYTES];
	uint8_t author[AM_ID_BYTES];
	uint64_t from, max;
};

struct feed_model {
	uint8_t author[AM_ID_BYTES];
	uint64_t seq;                   /* the peer holds at least 1..seq */
};

/* What we know of the peer's copy of one circle. */
struct circle_model {
	uint8_t circle[AM_HASH_BYTES];
	bool complete;                  /* feeds lists every feed the peer holds */
	bool announced;                 /* the peer knows our state at digest */
	uint8_t digest[AM_HASH_BYTES];
	size_t nfeeds, cap;
	struct feed_model *feeds;
};

struct am_sync {
	struct am_store *store;
	uint8_t self[AM_ID_BYTES];
	uint8_t peer[AM_ID_BYTES];
	struct am_sync_access access;
	bool restored;                  /* the restore guard may need lifting */
	struct am_sync_msg *in;         /* decoding scratch */

	struct out_msg *out_head, *out_tail;
	size_t out_bytes;
	struct request served[AM_SYNC_WANT_WINDOW];
	size_t served_head, nserved;

	/* pulling: tasks[task_head] is in flight when inflight is set */
	struct task *tasks;
	size_t task_head, ntasks, task_cap;
	bool inflight;
	uint32_t inflight_type;
	uint64_t inflight_from, inflight_max;
	/* the next batch of the same feed, asked for before the one in
	 * flight has come, so that the peer reads it while we store */
	bool ahead;
	uint64_t ahead_from, ahead_max;
	/* an answer still to come to a WANT we no longer need (a batch
	 * asked ahead that the feed went without): dropped quietly */
	bool drop;
	uint8_t drop_circle[AM_HASH_BYTES];
	uint8_t drop_author[AM_ID_BYTES];
	uint64_t drop_from;

	/* the request in flight when am_sync_recheck() started over: its
	 * answer may still come, and is then dropped quietly */
	bool stale;
	uint32_t stale_type;
	uint8_t stale_circle[AM_HASH_BYTES];
	uint8_t stale_author[AM_ID_BYTES];
	uint64_t stale_from;
	bool stale_done;                /* a DONE may still come */
	unsigned stale_acks;            /* ACKs that may still come */

	/* our pull round: DIGESTS sent, HEADS and DONE awaited, tasks drained */
	bool pulling;
	bool awaiting_done;
	bool again;                     /* a mismatch arrived during the round */
	bool caught_up;
	bool own_asked;                 /* this round asked for our own feed */
	uint64_t round_new;             /* entries stored in this round */
	uint64_t round_retry;           /* entries refused for now, not forever */

	/* serving a DIGESTS series of the peer's */
	uint8_t (*listed)[AM_HASH_BYTES];
	size_t nlisted, listed_cap;

	struct circle_model *models;
	size_t nmodels, models_cap;
	unsigned pushes_unacked;
	bool push_blocked;

	bool changed;                   /* our record moved since our last HELLO */
	/* am_sync_ask_heads(): open, and its DONE comes after query_ahead
	 * others (those of rounds opened before it) */
	bool query;
	unsigned query_ahead;

	struct am_sync_event events[EVENTS_MAX];
	size_t ev_head, nev;
	struct am_sync_stats stats;
};

/* Queues an encoded message, taking buf (freed even on failure). */
int sync_queue_raw(struct am_sync *s, uint8_t *buf, size_t len);

/* Encodes and queues m for the peer. */
int sync_queue(struct am_sync *s, const struct am_sync_msg *m);

/* Queues an ERROR about a message of type about (0: none); never fails
 * (an ERROR that cannot be queued is dropped). */
void sync_queue_error(struct am_sync *s, int code, uint32_t about,
	const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/* Records an event for the node's log. circle and author may be NULL. */
void sync_event(struct am_sync *s, enum am_sync_event_kind kind, int rc,
	const uint8_t *circle, const uint8_t *author, uint64_t seq,
	uint64_t count, const char *fmt, ...)
	__attribute__((format(printf, 8, 9)));

/* Short hex of a key or hash for log lines: 8 characters and NUL. */
void sync_short(const uint8_t *key, char out[9]);

/* The circles the store holds, malloc'd (free() it). */
int sync_circles(struct am_sync *s, uint8_t (**out)[AM_HASH_BYTES], size_t *n);

/* AM_OK when circle is shared with the peer: both we and the peer may see
 * it. AM_ERR_NOT_SHARED, AM_ERR_NOT_FOUND (no GENESIS held), or an error. */
int sync_shared(struct am_sync *s, const uint8_t circle[static AM_HASH_BYTES]);

/* The model of circle, created empty when create is set (NULL when it
 * does not exist, or cannot be made). */
struct circle_model *sync_model(struct am_sync *s,
	const uint8_t circle[static AM_HASH_BYTES], bool create);

/* The peer holds at least 1..seq of the feed (exact: it holds 1..seq). */
int sync_model_note(struct am_sync *s, const uint8_t circle[static AM_HASH_BYTES],
	const uint8_t author[static AM_ID_BYTES], uint64_t seq, bool exact);

/* The peer's copy of circle equals ours, whose digest is digest. */
int sync_model_equal(struct am_sync *s, const uint8_t circle[static AM_HASH_BYTES],
	const uint8_t digest[static AM_HASH_BYTES]);

/* The hash over the fork evidence of one feed; false when it has none. */
int sync_fork_hash(struct am_sync *s, const uint8_t circle[static AM_HASH_BYTES],
	const uint8_t author[static AM_ID_BYTES], bool *has,
	uint8_t out[static AM_HASH_BYTES]);

/* Queues HEADS of circle: every feed we hold, up to AM_SYNC_MAX_ITEMS. */
int sync_send_heads(struct am_sync *s, const uint8_t circle[static AM_HASH_BYTES]);

/* Queues a HELLO of our summary, of kind (enum am_sync_hello). */
int sync_send_hello(struct am_sync *s, uint32_t kind);

/* The same with a summary of count circles read already (an answer says
 * the summary it compared, of the moment it was read). */
int sync_send_summary(struct am_sync *s, uint32_t kind,
	const uint8_t summary[static AM_HASH_BYTES], uint64_t count);

/* The HELLO summary over the circles shared with the peer. */
int sync_summary(struct am_sync *s, uint8_t out[static AM_HASH_BYTES],
	uint64_t *count);

/* Do we hold circle's GENESIS? True on a store error (the usual rules
 * then decide); asked of the membership test when it is not the state
 * module's. */
bool sync_holds_circle(struct am_sync *s,
	const uint8_t circle[static AM_HASH_BYTES]);

/* AM_OK when the peer may tell us about circle and send its entries:
 * listed by our copy (joined or pending), or we hold no GENESIS of it
 * yet. */
int sync_may_receive(struct am_sync *s,
	const uint8_t circle[static AM_HASH_BYTES]);

/*
 * The door (protocol/sync.md, "Who holds a circle"): may this node take
 * entries of circle at all? AM_OK when it is a joined member by its own
 * copy (the creator is one), when it is proposed to circle (its copy
 * names it in a proposal not refused, or, holding nothing of the circle
 * yet, the proposed_to table has it: *proposed is then set), or when ours
 * says the
 * entries offered are its own (a restored node: a GENESIS it signed, a
 * circle where the peer shows a feed of its own). AM_ERR_NOT_SHARED
 * otherwise, or a store error. Checked before anything is stored.
 */
int sync_door(struct am_sync *s, const uint8_t circle[static AM_HASH_BYTES],
	bool ours, bool *proposed);

/* After entries of a circle taken as proposed to it: once our copy counts
 * us joined, the proposed_to row is done with and removed. */
int sync_door_passed(struct am_sync *s,
	const uint8_t circle[static AM_HASH_BYTES]);

/* Gives up the batch asked ahead, if any: its answer is dropped when it
 * comes (sync_pull.c). */
void sync_pull_abandon(struct am_sync *s);

/* True for errors that are ours (the store, memory), not the peer's. */
bool sync_local_failure(int rc);

/* The peer's messages, pulling side (sync_pull.c). */
int sync_on_hello(struct am_sync *s, const struct am_sync_msg *m);
int sync_on_heads(struct am_sync *s, const struct am_sync_msg *m);
int sync_on_done(struct am_sync *s);
int sync_on_entries(struct am_sync *s, const struct am_sync_msg *m);
int sync_on_push(struct am_sync *s, const struct am_sync_msg *m);
int sync_on_ack(struct am_sync *s, const struct am_sync_msg *m);
int sync_on_forks(struct am_sync *s, const struct am_sync_msg *m);
int sync_on_error(struct am_sync *s, const struct am_sync_msg *m);

/* Answers the peer's DIGESTS, WANT and WANT_FORKS (sync_serve.c). */
int sync_on_digests(struct am_sync *s, const struct am_sync_msg *m);
int sync_on_request(struct am_sync *s, const struct am_sync_msg *m);
/* Builds the answer to the oldest waiting request; *buf NULL when none. */
int sync_answer(struct am_sync *s, uint8_t **buf, size_t *len);
/* Pushes what the peer lacks, or offers HEADS (sync_serve.c). */
int sync_announce(struct am_sync *s);

#endif
