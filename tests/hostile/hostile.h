/*
 * The hostile test peer (tests/hostile): a member of a circle, with a real
 * key, that connects to a running node and misbehaves on command.
 *
 * peer.c is the member's side of the connection: a CurveZMQ client that
 * sends any bytes it is told to, reads the node's answers (answering the
 * node as a quiet honest peer would meanwhile), and signs entries with the
 * member's key. hostile.c holds the cases, one misdeed each. outside.c
 * needs no key: raw bytes before any handshake, and a circle digest
 * recomputed from a database.
 */
#ifndef HOSTILE_H
#define HOSTILE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "amends/entry.h"
#include "amends/store.h"
#include "amends/sync.h"

#define WAIT_MS 10000           /* the handshake, and each awaited answer */
#define TIME_MS 1800000000000LL /* claimed time of the entries written here */

/* The member, its store and its connection to the node. */
struct hostile {
	struct am_identity *id;
	struct am_store *store;
	const uint8_t *self;
	uint8_t server[AM_ID_BYTES];  /* the node's ID */
	const char *endpoint;         /* the node's address */
	void *ctx, *sock, *mon;
	bool down;                    /* the connection was dropped */
	bool quiet;                   /* count messages instead of printing */
	bool hold_acks;               /* PUSH is not answered by itself */
	struct am_sync_msg *in;       /* the last message from the node */
	uint8_t *buf;                 /* its bytes: in points into them */
	unsigned long got[AM_SYNC_TYPE_MAX + 1];
	unsigned long untyped_errors; /* ERRORs about a message of no type */
	unsigned long undecodable;
};

/* What a case waits for: a message of type (ERROR: with code and, unless
 * any_about, about; ACK and ENTRIES: of the feed, when circle is set). */
struct want {
	uint32_t type;
	uint64_t code, about;
	bool any_about;
	const uint8_t *circle, *author;
	uint64_t seq;                 /* ACK: the head the node reports */
	bool any_seq;
};

/* Entries read from the member's own store: copies, freed by
 * peer_range_free(). */
struct range {
	uint8_t *raw[AM_SYNC_MAX_ITEMS];
	size_t len[AM_SYNC_MAX_ITEMS];
	uint32_t n;
	size_t bytes;
};

/* An entry signed here: raw is malloc'd, e points into it. */
struct made {
	uint8_t *raw;
	size_t len;
	struct am_entry e;
};

/* The names of the sync messages, by type ("?" for 0). */
extern const char *const peer_type_names[AM_SYNC_TYPE_MAX + 1];

/* Milliseconds of a monotonic clock. */
int64_t peer_now_ms(void);

/* The first 8 hex digits of a 32-byte key or hash, NUL-terminated. */
void peer_short_hex(const uint8_t *b, char out[9]);

/* Prints "unexpected: ..." as a case's last line; returns 1. */
int peer_unexpected(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Parses 64 hex digits into 32 bytes. */
bool peer_hex32(const char *text, uint8_t out[static 32]);

/* Connects as a CurveZMQ client with the member's key, pinning the key of
 * the node h->server, and waits for the handshake. A dropped connection
 * stays dropped, so that a case sees it. AM_OK or AM_ERR_NET. */
int peer_connect(struct hostile *h, const char *endpoint);

/* Closes the connection and the ZeroMQ context. */
void peer_disconnect(struct hostile *h);

/* Sends len bytes as one frame (flags: ZMQ_SNDMORE for a first frame). */
int peer_send_bytes(struct hostile *h, const void *data, size_t len, int flags);

/* Encodes and sends a well-formed message. */
int peer_send_msg(struct hostile *h, const struct am_sync_msg *m);

/* A zeroed message of type about a feed (circle, author may be NULL);
 * the caller frees it. */
struct am_sync_msg *peer_msg_new(uint32_t type, const uint8_t *circle,
	const uint8_t *author);

/* Sends a message with no list: HELLO, DONE, WANT (from, max), ACK (seq
 * from), WANT_FORKS. */
int peer_send_simple(struct hostile *h, uint32_t type, const uint8_t *circle,
	const uint8_t *author, uint64_t from, uint64_t max);

/* Sends PUSH, ENTRIES or FORKS of n raw entries of one feed. */
int peer_send_entries(struct hostile *h, uint32_t type, const uint8_t *circle,
	const uint8_t *author, uint8_t *const raw[], const size_t len[], uint32_t n);

/* Reads entries from..to of a feed from the member's store (at most one
 * message's worth). */
int peer_read_range(struct hostile *h, const uint8_t *circle,
	const uint8_t *author, uint64_t from, uint64_t to, struct range *r);
void peer_range_free(struct range *r);

/* Waits at most timeout_ms for the node's next message, answering it if it
 * asks something. AM_OK with h->in filled; AM_ERR_NOT_FOUND when nothing
 * came; AM_ERR_UNREACHABLE when the connection was dropped. */
int peer_next(struct hostile *h, int64_t timeout_ms);

/* True when m is what w waits for. */
bool peer_matches(const struct am_sync_msg *m, const struct want *w);

/* Reads until a message matching w arrives: AM_OK, or why it did not. */
int peer_await(struct hostile *h, const struct want *w, int64_t timeout_ms);

/* Waits WAIT_MS for ERROR code about a type (0: none), or for an ACK of a
 * feed at seq; 0 when it came, else prints why and returns 1. */
int peer_await_error(struct hostile *h, uint64_t code, uint64_t about);
int peer_await_ack(struct hostile *h, const uint8_t *circle,
	const uint8_t *author, uint64_t seq);

/* Starts the node's session with us (our HELLO, its HELLO back), so that
 * the node also knows which connection is ours. */
int peer_open_session(struct hostile *h);

/* Asks for our own first entry of circle and waits for the answer: since
 * a session takes messages in order, it shows that everything sent before
 * was taken, and that the connection still serves. */
int peer_marker(struct hostile *h, const uint8_t *circle, int64_t timeout_ms);

/* Signs a statement of id at seq in circle linked to prev (NULL: none). */
int peer_make_entry(const struct am_identity *id, const uint8_t *circle,
	uint64_t seq, const uint8_t *prev, const char *text, struct made *out);

/* Pushes one entry of author's feed. */
int peer_push_one(struct hostile *h, const uint8_t *circle,
	const uint8_t *author, struct made *m);

/* The member's head in circle, by its own store; AM_ERR_NOT_FOUND when it
 * wrote nothing there. */
int peer_own_head(struct hostile *h, const uint8_t *circle, uint64_t *seq,
	uint8_t hash[static AM_HASH_BYTES]);

/*
 * hostile raw ENDPOINT [SILENT]: opens several plain TCP connections to a
 * node's port, each sending bytes that are not a CurveZMQ handshake (or
 * nothing), plus SILENT more that send nothing, all at once, and waits,
 * bounded, for the node to close every one. Prints "connected: N" once
 * all are open, a line per kind of connection, and a last line; returns 0
 * when all were closed, 1 when not, 2 on misuse.
 */
int raw_main(int argc, char **argv);

/*
 * hostile digest DB CIRCLE-HEX: prints the circle's digest computed from
 * the tables of the database DB (read only), as protocol/entry.md defines
 * it, for comparison with the digest the node itself reports. Returns 0,
 * or 2 when the database cannot be read.
 */
int digest_main(int argc, char **argv);

#endif
