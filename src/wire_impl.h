/*
 * What src/wire.c, src/wire_io.c and src/wire_zap.c share: the state of a
 * wire, and libzmq's functions, which src/wire.c loads when the first wire
 * is made.
 */
#ifndef AMENDS_WIRE_IMPL_H
#define AMENDS_WIRE_IMPL_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/un.h>

#include <zmq.h>

#include "amends/wire.h"

/* A draft option in libzmq 4.3's header, stable in the library itself. */
#ifndef ZMQ_ZAP_ENFORCE_DOMAIN
#define ZMQ_ZAP_ENFORCE_DOMAIN 93
#endif

/* libzmq's functions that amends calls, each with its type from zmq.h */
#define ZMQ_FUNCTIONS(X) \
	X(zmq_bind) \
	X(zmq_close) \
	X(zmq_connect) \
	X(zmq_ctx_new) \
	X(zmq_ctx_shutdown) \
	X(zmq_ctx_term) \
	X(zmq_errno) \
	X(zmq_getsockopt) \
	X(zmq_msg_close) \
	X(zmq_msg_data) \
	X(zmq_msg_get) \
	X(zmq_msg_gets) \
	X(zmq_msg_init) \
	X(zmq_msg_more) \
	X(zmq_msg_recv) \
	X(zmq_msg_size) \
	X(zmq_poll) \
	X(zmq_send) \
	X(zmq_setsockopt) \
	X(zmq_socket) \
	X(zmq_socket_monitor)

struct wire_api {
#define X(f) __typeof__(f) *f;
	ZMQ_FUNCTIONS(X)
#undef X
};
extern struct wire_api wire_zmq;

#define ZAP_ENDPOINT "inproc://zeromq.zap.01"
#define MONITOR_EVENTS (ZMQ_EVENT_HANDSHAKE_SUCCEEDED | \
	ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL | ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL | \
	ZMQ_EVENT_HANDSHAKE_FAILED_AUTH | ZMQ_EVENT_DISCONNECTED | \
	ZMQ_EVENT_CONNECT_RETRIED | ZMQ_EVENT_CONNECTED)
#define MAX_REFUSALS 32      /* refusals queued by the ZAP handler */
#define MAX_INBOUND 1024     /* peers remembered on the server socket */
#define ZAP_FRAMES 7         /* a CURVE ZAP request */
#define NUDGERS 16           /* commands answered per wake-up */
#define NUDGE_WAIT_MS 250    /* a command waits this long for the answer */

struct refusal {
	uint8_t key[AM_CURVE_BYTES];
	bool has_key;
	char why[120];
};

#define MAX_CLOSED 16       /* inbound connections remembered once down */

/* A connection to the server socket that has sent something: where
 * replies go. A peer may have more than one (a new one before the old one
 * is seen to close); replies go to the one that spoke last. */
struct inbound {
	uint8_t key[AM_CURVE_BYTES];
	uint8_t rid[256];            /* its routing id on the ROUTER */
	size_t rid_len;
	int fd;                      /* its descriptor, to match DISCONNECTED */
	uint64_t spoke;              /* when it last brought a message (w->clock) */
	bool down;                   /* DISCONNECTED came: its DOWN is reported
	                                once what it sent before is read */
	uint64_t down_at;            /* w->clock then */
};

/* A routing id of an inbound connection already reported down: what
 * still comes from it belongs to a session that is over, and is dropped. */
struct closed {
	uint8_t rid[256];
	size_t rid_len;
};

struct link {
	int id;                      /* 0 when the slot is free */
	void *sock, *mon;
	uint8_t key[AM_CURVE_BYTES];
	bool up;
	bool down;                   /* DISCONNECTED came: DOWN once what it
	                                sent before is read */
	bool retry_told;             /* AM_WIRE_RETRYING reported since the last UP */
	int64_t dialed_at;           /* CONNECTED came then (wire_now_ms) and the
	                                handshake has not ended; 0 otherwise */
};

struct am_wire {
	void *ctx;
	pthread_t zap_thread;
	bool zap_running;
	uint8_t pub[AM_CURVE_BYTES];
	uint8_t *sec;                /* sodium_malloc'd */

	pthread_mutex_t lock;        /* guards allow, nallow, refusals */
	uint8_t (*allow)[AM_CURVE_BYTES];
	size_t nallow;
	struct refusal refusals[MAX_REFUSALS];
	size_t nrefusals;
	unsigned long refusals_lost;

	void *router, *router_mon;
	char bound[AM_WIRE_MAX_ENDPOINT];
	struct inbound *in;
	size_t nin;
	uint64_t clock;              /* counts inbound messages */
	struct closed closed[MAX_CLOSED];   /* a ring */
	size_t closed_next;
	/* an event already taken, reported by the next am_wire_poll(): what
	 * came after a DOWN that had to be reported first */
	struct am_wire_event held;
	bool has_held;

	struct link *links;
	size_t nlinks;
	int next_link;
	int next_monitor;
	unsigned turn;               /* where the next poll starts reading */

	int nudge;                   /* the nudge socket's descriptor, -1 */
	char *nudge_path;
	struct sockaddr_un nudgers[NUDGERS];   /* who nudged, to answer */
	socklen_t nudger_len[NUDGERS];
	size_t nnudgers;
};

/* zmq_setsockopt() of an int; AM_ERR_NET when refused. */
int wire_setopt_int(void *sock, int opt, int v);

/* Reads one monitor event: *event and *value, 0 on success. */
int wire_monitor_read(void *mon, uint16_t *event, uint32_t *value, int flags);
/* The monotonic clock in milliseconds. */
int64_t wire_now_ms(void);
/* The outbound link with this id, or NULL. */
struct link *wire_link_find(struct am_wire *w, int id);

/* Binds the ZAP handler and starts its thread (src/wire_zap.c). */
int wire_zap_start(struct am_wire *w);
/* Queues a refusal for am_wire_poll() to report (key may be NULL). Takes
 * w->lock. */
void wire_refusal_push(struct am_wire *w, const uint8_t *key, const char *why);
/* Is key on the allow list? Takes w->lock. */
bool wire_allowed(struct am_wire *w, const uint8_t *key);

#endif
