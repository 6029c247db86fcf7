/*
 * The sync protocol: one session per peer, as a pure state machine.
 *
 * Bytes from the peer go in through am_sync_receive(); messages for the
 * peer come out of am_sync_next_out(); store writes happen in between. The
 * session has no thread, clock or socket of its own, so the same code runs
 * in the node (src/node.c, behind the ZeroMQ transport of wire.h) and in a
 * deterministic simulator. protocol/sync.md is the specification; its
 * messages are decoded here with the strict reader of src/mp.h.
 *
 * In short: each side sends HELLO with one summary hash over the circles
 * both share; when the summaries differ, each side pulls what it lacks:
 * DIGESTS (per circle) are answered by HEADS (per feed) and DONE, then
 * WANT / ENTRIES move runs of one feed with one request in flight, and
 * WANT_FORKS / FORKS move fork evidence. A side that finished pulling
 * says so with a HELLO of its summary; an equal summary is answered with
 * a HELLO that asks for nothing, so each side learns from the other that
 * both hold the same record (event SAME), never from its own side alone.
 * Afterwards, am_sync_local_changed() pushes new entries live (PUSH,
 * answered by ACK). Entries of a circle go only to its joined members
 * (witnesses included), whatever the peer asks; and a node takes entries
 * only of circles it is in, is proposed to or created (the door,
 * protocol/sync.md "Who holds a circle"): any other is refused before
 * anything is stored.
 */
#ifndef AMENDS_SYNC_H
#define AMENDS_SYNC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "amends/body.h"
#include "amends/entry.h"
#include "amends/error.h"
#include "amends/id.h"
#include "amends/store.h"

#define AM_SYNC_VERSION 1            /* first field of every message */
#define AM_SYNC_MAX_MSG 1048576      /* bytes of one message */
#define AM_SYNC_MAX_ITEMS 256        /* digests, heads or entries per message */
#define AM_SYNC_MAX_FORKS 64         /* fork evidence entries per FORKS */
#define AM_SYNC_MAX_TEXT 200         /* bytes of an ERROR's text */
#define AM_SYNC_WANT_WINDOW 8        /* requests a peer may have outstanding */
#define AM_SYNC_PUSH_WINDOW 4        /* PUSH messages we leave unacknowledged */

enum am_sync_type {
	AM_SYNC_HELLO = 1,       /* summary over the shared circles */
	AM_SYNC_DIGESTS = 2,     /* per-circle digests: "show me your heads" */
	AM_SYNC_HEADS = 3,       /* every feed head of one circle */
	AM_SYNC_DONE = 4,        /* all HEADS answering your DIGESTS were sent */
	AM_SYNC_WANT = 5,        /* a run of one feed, asked for */
	AM_SYNC_ENTRIES = 6,     /* the answer to a WANT */
	AM_SYNC_PUSH = 7,        /* a run of one feed, not asked for (live) */
	AM_SYNC_ACK = 8,         /* the answer to a PUSH: our head now */
	AM_SYNC_WANT_FORKS = 9,  /* the fork evidence of one feed, asked for */
	AM_SYNC_FORKS = 10,      /* the answer to a WANT_FORKS */
	AM_SYNC_ERROR = 11,      /* a refusal, with a code and a sentence */
};
#define AM_SYNC_TYPE_MAX 11

/* What a HELLO asks of the receiver (protocol/sync.md, "HELLO"). */
enum am_sync_hello {
	AM_SYNC_HELLO_COMPARE = 0,   /* compare: pull when different, answer
	                                when equal (start, recheck) */
	AM_SYNC_HELLO_TELL = 1,      /* the sender's record changed (it pulled,
	                                or took a push): answer when equal */
	AM_SYNC_HELLO_ANSWER = 2,    /* the answer to an equal HELLO: nothing */
};

struct am_sync_digest {
	uint8_t circle[AM_HASH_BYTES];
	uint8_t digest[AM_HASH_BYTES];
};

struct am_sync_head {
	uint8_t author[AM_ID_BYTES];
	uint64_t seq;
	uint8_t hash[AM_HASH_BYTES];
	bool has_forks;                  /* the feed has fork evidence */
	uint8_t forks[AM_HASH_BYTES];    /* hash over its evidence (sync.md) */
};

/*
 * One decoded message. Which fields mean something depends on type
 * (protocol/sync.md, "Messages"). raw[] and text point into the bytes the
 * message was decoded from. The struct is large (tens of KiB): allocate it,
 * do not put it on a small stack.
 */
struct am_sync_msg {
	uint32_t type;                   /* enum am_sync_type */
	uint8_t summary[AM_HASH_BYTES];  /* HELLO */
	uint64_t ncircles;               /* HELLO */
	uint32_t hello;                  /* HELLO: enum am_sync_hello */
	bool final;                      /* DIGESTS: the last of its series */
	uint8_t circle[AM_HASH_BYTES];   /* HEADS and every feed message */
	uint8_t author[AM_ID_BYTES];     /* WANT, ENTRIES, PUSH, ACK, *FORKS */
	uint64_t from;                   /* WANT: first number asked for */
	uint64_t max;                    /* WANT: at most this many entries */
	uint64_t seq;                    /* ACK: the head after the push */
	uint64_t code;                   /* ERROR: an AM_ERR_* code */
	uint64_t about;                  /* ERROR: type of the refused message,
	                                    0 when it had none */
	struct am_str text;              /* ERROR */
	uint32_t n;                      /* items below */
	union {
		struct am_sync_digest digests[AM_SYNC_MAX_ITEMS];  /* DIGESTS */
		struct am_sync_head heads[AM_SYNC_MAX_ITEMS];      /* HEADS */
		struct {                     /* ENTRIES, PUSH, FORKS */
			const uint8_t *raw[AM_SYNC_MAX_ITEMS];
			size_t len[AM_SYNC_MAX_ITEMS];
		};
	};
};

/*
 * Decodes one message: strict msgpack within the limits of sync.md, the
 * version, the type and every field's type and range. AM_ERR_VERSION for
 * another version, AM_ERR_MSG_TYPE for an unknown type, AM_ERR_TOO_BIG for
 * an oversize message or list, the decoder's codes (AM_ERR_TRUNCATED,
 * AM_ERR_LENGTH, AM_ERR_DEPTH, AM_ERR_TYPE...) for malformed bytes. Entries
 * inside are not decoded here. m points into buf.
 */
AM_NODISCARD int am_sync_msg_decode(const uint8_t *buf, size_t len,
	struct am_sync_msg *m);

/* Encodes m (by m->type) into a malloc'd buffer the caller frees.
 * AM_ERR_ARG when a field is out of the range decoding accepts. */
AM_NODISCARD int am_sync_msg_encode(const struct am_sync_msg *m, uint8_t **buf,
	size_t *len);

/* ---- sessions ---- */

struct am_sync;

/*
 * Who may see a circle: AM_OK when id may receive the entries of circle,
 * AM_ERR_NOT_SHARED when not, AM_ERR_NOT_FOUND when the store holds no
 * GENESIS of circle (membership unknown), or a store error.
 */
struct am_sync_access {
	int (*may_read)(void *ctx, struct am_store *s,
		const uint8_t circle[static AM_HASH_BYTES],
		const uint8_t id[static AM_ID_BYTES]);
	/* May id send us entries of circle? NULL: may_read decides. (The
	 * default takes them from pending members too.) */
	int (*may_receive)(void *ctx, struct am_store *s,
		const uint8_t circle[static AM_HASH_BYTES],
		const uint8_t id[static AM_ID_BYTES]);
	void *ctx;
};

/*
 * Creates the session of our identity self with the peer peer (the ID the
 * transport authenticated), over store, which must outlive the session.
 * Membership comes from the state module (am_state_members): the joined
 * members, witnesses included, read; the store's proposed_to table and a
 * pending proposal naming self open the door. NULL when out of memory.
 */
struct am_sync *am_sync_new(struct am_store *store,
	const uint8_t self[static AM_ID_BYTES],
	const uint8_t peer[static AM_ID_BYTES]);

/* Frees the session and everything queued; sets *sync to NULL. */
void am_sync_destroy(struct am_sync **sync);

/* Replaces the membership test (for a simulator); access is copied. */
void am_sync_set_access(struct am_sync *sync,
	const struct am_sync_access *access);

/* The peer's ID, valid while the session lives. */
const uint8_t *am_sync_peer(const struct am_sync *sync);

/* Queues the session's first message (HELLO). */
AM_NODISCARD int am_sync_start(struct am_sync *sync);

/*
 * Starts over: abandons our pull round and push window (a message may have
 * been lost with a connection) and queues a new HELLO, so that the two
 * sides compare their records again. The node calls it on reconnect, and
 * from time to time while the session is idle, as anti-entropy. Answers to
 * what was asked before are still taken when they come, or dropped quietly.
 */
AM_NODISCARD int am_sync_recheck(struct am_sync *sync);

/*
 * Consumes one message from the peer (the bytes are only read during the
 * call). Entries it carries are stored; answers are queued. Returns AM_OK
 * when the message was taken; otherwise the reason it was refused (an
 * ERROR reply is then queued, unless the message was itself an ERROR, and
 * an event says why), or a store error. Nothing half-written either way.
 */
AM_NODISCARD int am_sync_receive(struct am_sync *sync, const uint8_t *msg,
	size_t len);

/*
 * Takes the next message for the peer: on AM_OK, *msg is a malloc'd buffer
 * of *len bytes for the caller to send and free, or NULL when there is
 * nothing to send now. Entries asked for are read from the store only
 * here, one batch at a time, so a peer that does not read makes us hold at
 * most one batch for it.
 */
AM_NODISCARD int am_sync_next_out(struct am_sync *sync, uint8_t **msg,
	size_t *len);

/*
 * Tells the session that the store changed (our own new entries, or
 * entries from any peer): what the peer is known to lack is pushed (PUSH),
 * or, where its heads are not known, our HEADS are offered for it to pull.
 * Call it once the write is committed, whatever the session is doing: a
 * comparison answered meanwhile recorded as the peer's only what it read
 * (protocol/sync.md, "Writing while comparing"), so the write is pushed.
 */
AM_NODISCARD int am_sync_local_changed(struct am_sync *sync);

/* The same for one circle only: cheaper when the caller knows what changed
 * (a STORED event of another session names its circle). Nothing happens
 * when the circle is not shared with this session's peer. */
AM_NODISCARD int am_sync_circle_changed(struct am_sync *sync,
	const uint8_t circle[static AM_HASH_BYTES]);

/* True when nothing is in flight, queued or pending in either direction,
 * and the last comparison found both sides holding the same shared record
 * or finished pulling what the peer had. */
bool am_sync_idle(const struct am_sync *sync);

/*
 * Tells the peer our summary (a HELLO it answers when its own is equal)
 * when our record changed since we last sent one: entries we wrote, took
 * from this peer or from another. The peer's answer, or its next HELLO,
 * then says whether both hold the same record (event SAME). The node calls
 * it once a session has been quiet for a while, so that a burst of
 * entries costs one HELLO, not one per entry. Nothing is sent during a
 * pull round: its end tells.
 */
AM_NODISCARD int am_sync_tell(struct am_sync *sync);

/*
 * Asks the peer for the heads of every circle it shares with us: an empty,
 * final DIGESTS, which the peer answers with HEADS of each such circle
 * (none is named, so none is taken as equal), then DONE. The HEADS are
 * taken as any HEADS; event ANSWERED tells when the DONE of this question
 * came (rc AM_OK), or that the peer refused it (rc its code). At most one
 * question is open at a time: AM_ERR_AGAIN while one is.
 */
AM_NODISCARD int am_sync_ask_heads(struct am_sync *sync);

enum am_sync_event_kind {
	AM_SYNC_EV_STORED = 1,       /* count entries of a feed stored, from seq */
	AM_SYNC_EV_REFUSED = 2,      /* an entry from the peer refused; rc why */
	AM_SYNC_EV_BAD_MESSAGE = 3,  /* a malformed or out-of-turn message; rc */
	AM_SYNC_EV_DENIED = 4,       /* the peer asked about a circle it is not in */
	AM_SYNC_EV_PEER_ERROR = 5,   /* the peer refused something of ours */
	AM_SYNC_EV_SHORTER_HEAD = 6, /* the peer shows a shorter feed than ours
	                                (behind, or withholding); seq is the
	                                peer's head, count ours */
	AM_SYNC_EV_FORK = 7,         /* fork evidence stored for a feed */
	AM_SYNC_EV_CAUGHT_UP = 8,    /* we hold everything the peer showed us */
	AM_SYNC_EV_SAME = 9,         /* the peer said it holds circle at digest,
	                                which is ours too (its HELLO summary or
	                                its DIGESTS equal to ours) */
	AM_SYNC_EV_ANSWERED = 10,    /* am_sync_ask_heads() got its DONE (rc
	                                AM_OK) or was refused (rc why) */
	AM_SYNC_EV_OWN_BEHIND = 11,  /* the peer served a signed entry of our
	                                own feed at seq that we lack (we hold
	                                count): writing there stops until it
	                                is fetched */
	AM_SYNC_EV_CLAIM_REFUTED = 12, /* the peer (author) signed a checkpoint
	                                naming our own feed at seq, yet its
	                                node showed our feed at count and served
	                                nothing more: the claim no longer holds
	                                our writing back (am_checkpoint_refute) */
};

struct am_sync_event {
	enum am_sync_event_kind kind;
	int rc;                          /* an AM_ERR_* code, or AM_OK */
	bool has_feed;                   /* circle and author mean something */
	uint8_t circle[AM_HASH_BYTES];
	uint8_t author[AM_ID_BYTES];
	uint64_t seq;
	uint64_t count;
	uint8_t digest[AM_HASH_BYTES];   /* SAME: the digest both hold */
	char text[160];                  /* a phrase for the node's log */
};

/* Takes the oldest event not yet taken into ev; false when there is none.
 * At most 256 wait; older ones are dropped (counted in the stats). */
bool am_sync_next_event(struct am_sync *sync, struct am_sync_event *ev);

struct am_sync_stats {
	uint64_t bytes_in, bytes_out;
	uint64_t msgs_in, msgs_out;
	uint64_t entries_in;             /* entries stored from the peer */
	uint64_t entries_out;            /* entries sent (ENTRIES, PUSH, FORKS) */
	uint64_t refused;                /* entries from the peer refused */
	uint64_t faults;                 /* malformed or out-of-turn messages */
	uint64_t errors_in;              /* ERROR messages received */
	uint64_t events_dropped;
};

/* The session's counters so far. */
void am_sync_stats(const struct am_sync *sync, struct am_sync_stats *out);

#endif
