/*
 * The transport: ZeroMQ sockets secured with CurveZMQ, behind a small API so
 * that nothing else in amends includes a ZeroMQ header.
 *
 * One struct am_wire per process holds the one ZeroMQ context, a ZAP
 * handler thread (bound before any server socket exists, and fail-closed:
 * it admits only the keys the caller lists), at most one ROUTER server
 * socket, one DEALER client socket per outbound link with the server's key
 * pinned, a monitor on every socket, and the local nudge socket. Settings
 * follow RELIABILITY.md ("ZeroMQ") exactly.
 *
 * Peers are known by their CurveZMQ public keys. An inbound message carries
 * the key the ZAP handler admitted (its User-Id), checked on every message;
 * an outbound link's key is the one pinned when it was opened. Messages are
 * exactly one data frame of at most AM_WIRE_MAX_DATA bytes; anything else is
 * dropped and reported.
 *
 * Everything here runs on the caller's thread except the ZAP handler, which
 * reads the allow list under a lock and queues its refusals for
 * am_wire_poll() to report.
 */
#ifndef AMENDS_WIRE_H
#define AMENDS_WIRE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "amends/error.h"
#include "amends/id.h"

#define AM_WIRE_DOMAIN "amends-v1"          /* the ZAP domain */
#define AM_WIRE_MAX_DATA 1048576            /* bytes of one message */
#define AM_WIRE_MAX_FRAME (1048576 + 4096)  /* ZMQ_MAXMSGSIZE */
#define AM_WIRE_MAX_ENDPOINT 256            /* bytes of an endpoint text */
#define AM_WIRE_INBOUND 0                   /* the link number of the server socket */
#define AM_WIRE_HANDSHAKE_MS 5000           /* ZMQ_HANDSHAKE_IVL: a handshake
                                               ends within this, one way
                                               or the other */

struct am_wire;

enum am_wire_kind {
	AM_WIRE_NONE = 0,          /* nothing happened before the timeout, or a
	                              signal interrupted the wait */
	AM_WIRE_MESSAGE = 1,       /* data from key on link */
	AM_WIRE_UP = 2,            /* an outbound link finished its handshake */
	AM_WIRE_DOWN = 3,          /* a link was lost (inbound: key says whose),
	                              after every message it brought */
	AM_WIRE_HANDSHAKE_FAILED = 4, /* an outbound handshake failed; detail says why */
	AM_WIRE_REFUSED = 5,       /* the ZAP handler refused a key; detail says why */
	AM_WIRE_DROPPED = 6,       /* a message was dropped; detail says why */
	AM_WIRE_NUDGE = 7,         /* a local process said the store changed */
	AM_WIRE_RETRYING = 8,      /* an outbound link cannot connect, and retries */
};

struct am_wire_event {
	enum am_wire_kind kind;
	int link;                   /* AM_WIRE_INBOUND or an outbound link */
	bool has_key;
	uint8_t key[AM_CURVE_BYTES]; /* the peer's CurveZMQ key, when known */
	uint8_t *data;              /* AM_WIRE_MESSAGE: malloc'd, the caller frees */
	size_t len;
	bool more;                  /* inbound DOWN: the same key still has
	                               another connection to the server socket */
	char detail[160];           /* a phrase for the log: reason, address */
};

/*
 * Creates the context and starts the ZAP handler with an empty allow list,
 * using the given CurveZMQ key pair for every socket (the secret is copied
 * into locked memory and wiped on destroy).
 */
AM_NODISCARD int am_wire_new(const uint8_t pub[static AM_CURVE_BYTES],
	const uint8_t sec[static AM_CURVE_BYTES], struct am_wire **out);

/* Closes every socket, stops the ZAP handler, frees; sets *w to NULL. */
void am_wire_destroy(struct am_wire **w);

/*
 * Replaces the list of client keys the ZAP handler admits. Inbound messages
 * from a key no longer listed are dropped from then on, even on a
 * connection admitted earlier.
 */
AM_NODISCARD int am_wire_allow(struct am_wire *w,
	const uint8_t (*keys)[AM_CURVE_BYTES], size_t n);

/*
 * Binds the CURVE server (ROUTER) socket to endpoint ("tcp://HOST:PORT";
 * port 0 or "*" picks a free one). The endpoint really bound, with a
 * wildcard host replaced by the loopback address, is written to bound.
 * AM_ERR_NET when the address is unusable or in use.
 */
AM_NODISCARD int am_wire_listen(struct am_wire *w, const char *endpoint,
	char bound[static AM_WIRE_MAX_ENDPOINT]);

/*
 * The start-up self-test: connects to the bound endpoint with a throwaway
 * key and waits (at most timeout_ms) for the handshake to be refused.
 * AM_OK when it was; AM_ERR_SELFTEST when the stranger got in (the ZAP
 * handler is not enforcing), AM_ERR_NET when nothing answered in time.
 */
AM_NODISCARD int am_wire_selftest(struct am_wire *w, int timeout_ms);

/*
 * Opens an outbound link to endpoint whose server must hold server_key
 * (pinned: a different server fails the handshake). Connecting, retrying
 * with back-off and reconnecting happen in the background; AM_WIRE_UP and
 * AM_WIRE_DOWN say when it is usable. *link receives its number (>= 1).
 */
AM_NODISCARD int am_wire_connect(struct am_wire *w,
	const uint8_t server_key[static AM_CURVE_BYTES], const char *endpoint,
	int *link);

/* Closes an outbound link; unknown numbers are ignored. */
void am_wire_close(struct am_wire *w, int link);

/* True when the outbound link has completed its handshake and is up. */
bool am_wire_link_up(struct am_wire *w, int link);

/*
 * True while the outbound link has a TCP connection whose handshake is not
 * over yet: closing the link now would cut a handshake that may succeed.
 * Never true for longer than AM_WIRE_HANDSHAKE_MS and a second after the
 * connection was made, whatever libzmq reports.
 */
bool am_wire_link_dialing(struct am_wire *w, int link);

/*
 * Sends one message without blocking: on an outbound link, or with link
 * AM_WIRE_INBOUND to the peer holding key on the server socket (on its
 * connection that spoke last). AM_ERR_AGAIN when the peer's queue is full,
 * or when its connection is going down and its DOWN is still to be
 * reported (try later), AM_ERR_UNREACHABLE when there is no such
 * connection, AM_ERR_TOO_BIG past AM_WIRE_MAX_DATA.
 */
AM_NODISCARD int am_wire_send(struct am_wire *w, int link,
	const uint8_t key[static AM_CURVE_BYTES], const uint8_t *data, size_t len);

/*
 * Waits at most timeout_ms for the next event and fills ev (kind
 * AM_WIRE_NONE when none came, or a signal arrived). Monitors, the server
 * socket, every link and the nudge socket are all read here. The DOWN of
 * a connection comes after every message it brought, and before any
 * message of the peer's next connection; what a connection still brings
 * once its DOWN was reported is dropped.
 */
AM_NODISCARD int am_wire_poll(struct am_wire *w, int timeout_ms,
	struct am_wire_event *ev);

/*
 * Binds the nudge socket (a local datagram socket at path, in the private
 * data directory), replacing a stale socket file. Local processes wake the
 * node through it with am_wire_nudge(); am_wire_poll() reports
 * AM_WIRE_NUDGE once for every nudge queued. AM_ERR_ARG when path is too
 * long for a local socket.
 */
AM_NODISCARD int am_wire_nudge_bind(struct am_wire *w, const char *path);

/*
 * Tells a node bound to path that the store changed, and waits (a quarter
 * of a second at most) for its answer, which says it has read the store:
 * best effort; does nothing when no node listens.
 */
void am_wire_nudge(const char *path);

/*
 * Answers the commands whose nudges the last AM_WIRE_NUDGE stood for; the
 * node calls it once it has read the store and acted on what changed.
 */
void am_wire_nudge_answer(struct am_wire *w);

#endif
