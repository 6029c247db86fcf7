/*
 * Sending and receiving on a wire (include/amends/wire.h): messages to and
 * from peers on the server socket and on outbound links, and what the
 * sockets' monitors report, turned into the node's stream of events.
 * src/wire.c sets the sockets up.
 *
 * A monitor says a connection closed on a socket of its own, which may be
 * read before the last messages that connection brought: a peer that sends
 * an ACK and goes away at once. Those messages belong to the session that
 * ends with the connection, so the DOWN is held back until nothing waits
 * to be read where they come (the link, or the server socket), and the
 * first message of another connection of the same peer is held back until
 * the DOWN of the one it follows is reported. What still comes from a
 * connection once its DOWN is reported is dropped.
 *
 * An outbound link that is lost through a protocol error (bytes damaged
 * in transit, a frame longer than ZMQ_MAXMSGSIZE) is not dialled again by
 * libzmq, which reconnects only after a lost connection or a timeout: its
 * DOWN is the last event it ever brings. The node dials such links again
 * itself (node.c, redial).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "amends/wire.h"
#include "wire_impl.h"

/* The sender's key, from the User-Id the ZAP handler gave its
 * connection: the key in hex. */
static bool
key_of_hex(const char *hex, uint8_t key[static AM_CURVE_BYTES])
{
	size_t bin_len;
	if (hex == NULL || strlen(hex) != 2 * AM_CURVE_BYTES)
		return false;
	return sodium_hex2bin(key, AM_CURVE_BYTES, hex, 2 * AM_CURVE_BYTES,
		NULL, &bin_len, NULL) == 0 && bin_len == AM_CURVE_BYTES;
}

/* How many inbound messages may be read while an inbound connection's
 * DOWN waits for the server socket to have nothing to read: a busy server
 * socket does not hold the DOWN back for longer. */
#define DOWN_AFTER 4096

/* The connection of key that spoke last and is not going down. */
static struct inbound *
inbound_find(struct am_wire *w, const uint8_t *key)
{
	struct inbound *best = NULL;
	for (size_t i = 0; i < w->nin; i++) {
		struct inbound *in = &w->in[i];
		if (!in->down && memcmp(in->key, key, AM_CURVE_BYTES) == 0 &&
		    (best == NULL || in->spoke > best->spoke))
			best = in;
	}
	return best;
}

/* A connection of key going down, whose DOWN is not reported yet. */
static struct inbound *
inbound_going(struct am_wire *w, const uint8_t *key)
{
	for (size_t i = 0; i < w->nin; i++)
		if (w->in[i].down && memcmp(w->in[i].key, key, AM_CURVE_BYTES) == 0)
			return &w->in[i];
	return NULL;
}

static struct inbound *
inbound_by_rid(struct am_wire *w, const uint8_t *rid, size_t len)
{
	for (size_t i = 0; i < w->nin; i++)
		if (w->in[i].rid_len == len && memcmp(w->in[i].rid, rid, len) == 0)
			return &w->in[i];
	return NULL;
}

static bool
closed_rid(const struct am_wire *w, const uint8_t *rid, size_t len)
{
	for (size_t i = 0; i < MAX_CLOSED; i++)
		if (w->closed[i].rid_len == len && len > 0 &&
		    memcmp(w->closed[i].rid, rid, len) == 0)
			return true;
	return false;
}

static void
going_down(struct am_wire *w, struct inbound *in)
{
	if (in->down)
		return;
	in->down = true;
	in->down_at = w->clock;
}

/* Forgets a connection, remembering its routing id as closed. */
static void
inbound_remove(struct am_wire *w, struct inbound *in)
{
	size_t i = (size_t)(in - w->in);
	struct closed *c = &w->closed[w->closed_next++ % MAX_CLOSED];
	memcpy(c->rid, in->rid, in->rid_len);
	c->rid_len = in->rid_len;
	memmove(&w->in[i], &w->in[i + 1], (w->nin - i - 1) * sizeof *w->in);
	w->nin--;
}

static bool
readable(void *sock)
{
	int events = 0;
	size_t sz = sizeof events;
	return wire_zmq.zmq_getsockopt(sock, ZMQ_EVENTS, &events, &sz) == 0 &&
		(events & ZMQ_POLLIN);
}

int
am_wire_send(struct am_wire *w, int link, const uint8_t key[static AM_CURVE_BYTES],
	const uint8_t *data, size_t len)
{
	if (len > AM_WIRE_MAX_DATA)
		return AM_ERR_TOO_BIG;
	if (link != AM_WIRE_INBOUND) {
		struct link *l = wire_link_find(w, link);
		if (l == NULL || !l->up)
			return AM_ERR_UNREACHABLE;
		if (wire_zmq.zmq_send(l->sock, data, len, ZMQ_DONTWAIT) >= 0)
			return AM_OK;
		return wire_zmq.zmq_errno() == EAGAIN ? AM_ERR_AGAIN : AM_ERR_UNREACHABLE;
	}
	struct inbound *in = w->router != NULL ? inbound_find(w, key) : NULL;
	if (in == NULL) {
		/* its connection is going down: the DOWN comes first, once
		 * what it sent before is read */
		return w->router != NULL && inbound_going(w, key) != NULL ?
			AM_ERR_AGAIN : AM_ERR_UNREACHABLE;
	}
	/* ROUTER_MANDATORY: an unknown or full peer fails here, never silently */
	if (wire_zmq.zmq_send(w->router, in->rid, in->rid_len, ZMQ_SNDMORE | ZMQ_DONTWAIT) < 0) {
		int e = wire_zmq.zmq_errno();
		if (e == EHOSTUNREACH) {
			/* gone: reported as DOWN after what it sent before */
			going_down(w, in);
			return AM_ERR_AGAIN;
		}
		return e == EAGAIN ? AM_ERR_AGAIN : AM_ERR_UNREACHABLE;
	}
	if (wire_zmq.zmq_send(w->router, data, len, ZMQ_DONTWAIT) < 0)
		return wire_zmq.zmq_errno() == EAGAIN ? AM_ERR_AGAIN : AM_ERR_UNREACHABLE;
	return AM_OK;
}

static void
event_reset(struct am_wire_event *ev)
{
	memset(ev, 0, sizeof *ev);
	ev->kind = AM_WIRE_NONE;
}

/* Discards the remaining frames of a message; returns how many. */
static unsigned
drain(void *sock)
{
	unsigned n = 0;
	int more;
	size_t sz = sizeof more;
	while (wire_zmq.zmq_getsockopt(sock, ZMQ_RCVMORE, &more, &sz) == 0 && more) {
		zmq_msg_t m;
		wire_zmq.zmq_msg_init(&m);
		if (wire_zmq.zmq_msg_recv(&m, sock, ZMQ_DONTWAIT) < 0) {
			wire_zmq.zmq_msg_close(&m);
			break;
		}
		wire_zmq.zmq_msg_close(&m);
		n++;
		sz = sizeof more;
	}
	return n;
}

/* Moves a received frame into the event, as a malloc'd copy. */
static int
take_data(zmq_msg_t *m, struct am_wire_event *ev)
{
	size_t n = wire_zmq.zmq_msg_size(m);
	ev->data = malloc(n > 0 ? n : 1);
	if (ev->data == NULL)
		return AM_ERR_NOMEM;
	memcpy(ev->data, wire_zmq.zmq_msg_data(m), n);
	ev->len = n;
	ev->kind = AM_WIRE_MESSAGE;
	return AM_OK;
}

static const char *
handshake_why(uint16_t event, uint32_t value)
{
	if (event == ZMQ_EVENT_HANDSHAKE_FAILED_AUTH)
		return value == 400 ? "the peer refused our key" :
			"the peer's authentication failed";
	if (event == ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL) {
		if (value >= 0x11000000u && value < 0x12000000u)
			return "the peer's key is not the one expected (or it is "
				"not an amends node)";
		return "the peer broke the handshake protocol";
	}
	return "the handshake failed (no detail)";
}

/* One event of the server socket's monitor: a DISCONNECTED marks its
 * connection going down (the oldest of those on that descriptor); a
 * failed handshake is queued as a refusal (refusals by key come from the
 * ZAP handler; these are the rest). */
static void
router_monitor_event(struct am_wire *w, uint16_t event, uint32_t value)
{
	if (event == ZMQ_EVENT_DISCONNECTED) {
		struct inbound *in = NULL;
		for (size_t i = 0; i < w->nin; i++)
			if (!w->in[i].down && w->in[i].fd == (int)value &&
			    (in == NULL || w->in[i].spoke < in->spoke))
				in = &w->in[i];
		if (in != NULL)
			going_down(w, in);
	} else if (event == ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL ||
	    event == ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL) {
		char why[120];
		snprintf(why, sizeof why, "an inbound handshake failed: %s",
			handshake_why(event, value));
		wire_refusal_push(w, NULL, why);
	}
}

/* Takes every event waiting on the server socket's monitor. */
static void
take_router_monitor(struct am_wire *w)
{
	uint16_t event;
	uint32_t value;
	while (w->router_mon != NULL &&
	    wire_monitor_read(w->router_mon, &event, &value, ZMQ_DONTWAIT) == 0)
		router_monitor_event(w, event, value);
}

/* Fills ev with the DOWN of inbound connection in, and forgets it. */
static void
inbound_down_event(struct am_wire *w, struct inbound *in,
	struct am_wire_event *ev)
{
	ev->kind = AM_WIRE_DOWN;
	ev->link = AM_WIRE_INBOUND;
	ev->has_key = true;
	memcpy(ev->key, in->key, AM_CURVE_BYTES);
	snprintf(ev->detail, sizeof ev->detail, "disconnected");
	inbound_remove(w, in);
	ev->more = inbound_find(w, ev->key) != NULL;
}

/* Reports a DOWN held back, once nothing waits to be read where the
 * messages of its connection come: false when there is none to report. */
static bool
report_down(struct am_wire *w, struct am_wire_event *ev)
{
	for (size_t i = 0; i < w->nlinks; i++) {
		struct link *l = &w->links[i];
		if (l->id == 0 || !l->down || readable(l->sock))
			continue;
		l->down = false;
		ev->kind = AM_WIRE_DOWN;
		ev->link = l->id;
		ev->has_key = true;
		memcpy(ev->key, l->key, AM_CURVE_BYTES);
		snprintf(ev->detail, sizeof ev->detail, "disconnected");
		return true;
	}
	for (size_t i = 0; i < w->nin; i++) {
		struct inbound *in = &w->in[i];
		if (!in->down)
			continue;
		if (w->clock - in->down_at < DOWN_AFTER && readable(w->router))
			return false;
		inbound_down_event(w, in, ev);
		return true;
	}
	return false;
}

static int
read_router(struct am_wire *w, struct am_wire_event *ev)
{
	zmq_msg_t rid, data;
	int rc = AM_OK;

	wire_zmq.zmq_msg_init(&rid);
	wire_zmq.zmq_msg_init(&data);
	if (wire_zmq.zmq_msg_recv(&rid, w->router, ZMQ_DONTWAIT) < 0)
		goto out;
	if (!wire_zmq.zmq_msg_more(&rid) || wire_zmq.zmq_msg_recv(&data, w->router, ZMQ_DONTWAIT) < 0)
		goto out;
	ev->link = AM_WIRE_INBOUND;
	const char *user = wire_zmq.zmq_msg_gets(&data, "User-Id");
	if (!key_of_hex(user, ev->key)) {
		drain(w->router);
		ev->kind = AM_WIRE_DROPPED;
		snprintf(ev->detail, sizeof ev->detail, "a message without an "
			"authenticated key");
		goto out;
	}
	ev->has_key = true;
	if (wire_zmq.zmq_msg_more(&data)) {
		unsigned extra = drain(w->router);
		ev->kind = AM_WIRE_DROPPED;
		snprintf(ev->detail, sizeof ev->detail, "a message of %u frames "
			"(exactly one is allowed)", extra + 1);
		goto out;
	}
	if (!wire_allowed(w, ev->key)) {
		ev->kind = AM_WIRE_DROPPED;
		snprintf(ev->detail, sizeof ev->detail, "a message from a key no "
			"longer admitted");
		goto out;
	}
	if (wire_zmq.zmq_msg_size(&data) > AM_WIRE_MAX_DATA) {
		ev->kind = AM_WIRE_DROPPED;
		snprintf(ev->detail, sizeof ev->detail, "a message of %zu bytes "
			"(at most %d)", wire_zmq.zmq_msg_size(&data), AM_WIRE_MAX_DATA);
		goto out;
	}
	/* which connection brought it: where replies to this key go */
	const uint8_t *rbytes = wire_zmq.zmq_msg_data(&rid);
	size_t rlen = wire_zmq.zmq_msg_size(&rid);
	struct inbound *in = inbound_by_rid(w, rbytes, rlen);
	if (in == NULL && closed_rid(w, rbytes, rlen)) {
		/* a connection reported down: its session is over */
		event_reset(ev);
		goto out;
	}
	bool fresh = in == NULL;
	if (fresh) {
		/* a new connection: a DISCONNECTED waiting may be of the one it
		 * follows, whose DOWN is reported before this */
		take_router_monitor(w);
		if (w->nin < MAX_INBOUND && rlen <= sizeof in->rid) {
			struct inbound *grown = realloc(w->in, (w->nin + 1) * sizeof *grown);
			if (grown != NULL) {
				w->in = grown;
				in = &w->in[w->nin++];
				memset(in, 0, sizeof *in);
				memcpy(in->key, ev->key, AM_CURVE_BYTES);
				memcpy(in->rid, rbytes, rlen);
				in->rid_len = rlen;
				in->fd = wire_zmq.zmq_msg_get(&data, ZMQ_SRCFD);
			}
		}
	}
	w->clock++;
	if (in != NULL && !in->down)
		in->spoke = w->clock;
	if ((rc = take_data(&data, ev)) != AM_OK)
		goto out;
	struct inbound *old = fresh ? inbound_going(w, ev->key) : NULL;
	if (old != NULL) {
		w->held = *ev;
		w->has_held = true;
		event_reset(ev);
		inbound_down_event(w, old, ev);
	}
out:
	wire_zmq.zmq_msg_close(&rid);
	wire_zmq.zmq_msg_close(&data);
	return rc;
}

static int
read_link(struct am_wire *w, struct link *l, struct am_wire_event *ev)
{
	zmq_msg_t data;
	int rc = AM_OK;

	(void)w;
	wire_zmq.zmq_msg_init(&data);
	if (wire_zmq.zmq_msg_recv(&data, l->sock, ZMQ_DONTWAIT) < 0)
		goto out;
	ev->link = l->id;
	ev->has_key = true;
	memcpy(ev->key, l->key, AM_CURVE_BYTES);
	if (wire_zmq.zmq_msg_more(&data)) {
		unsigned extra = drain(l->sock);
		ev->kind = AM_WIRE_DROPPED;
		snprintf(ev->detail, sizeof ev->detail, "a message of %u frames "
			"(exactly one is allowed)", extra + 1);
		goto out;
	}
	if (wire_zmq.zmq_msg_size(&data) > AM_WIRE_MAX_DATA) {
		ev->kind = AM_WIRE_DROPPED;
		snprintf(ev->detail, sizeof ev->detail, "a message of %zu bytes",
			wire_zmq.zmq_msg_size(&data));
		goto out;
	}
	rc = take_data(&data, ev);
out:
	wire_zmq.zmq_msg_close(&data);
	return rc;
}

static void
read_link_monitor(struct am_wire *w, struct link *l, struct am_wire_event *ev)
{
	uint16_t event;
	uint32_t value;
	bool was_up;

	if (wire_monitor_read(l->mon, &event, &value, ZMQ_DONTWAIT) != 0)
		return;
	ev->link = l->id;
	ev->has_key = true;
	memcpy(ev->key, l->key, AM_CURVE_BYTES);
	switch (event) {
	case ZMQ_EVENT_CONNECTED:
		/* a handshake begins: it ends within AM_WIRE_HANDSHAKE_MS */
		l->dialed_at = wire_now_ms();
		break;
	case ZMQ_EVENT_HANDSHAKE_SUCCEEDED:
		was_up = l->up;
		l->up = true;
		l->retry_told = false;
		l->dialed_at = 0;
		ev->kind = AM_WIRE_UP;
		if (l->down || was_up) {
			/* the DOWN of the connection before comes first (when
			 * the link was still up, its DISCONNECTED was lost: the
			 * monitor's queue was full; the session on the new
			 * connection must start over all the same) */
			l->down = false;
			w->held = *ev;
			w->has_held = true;
			ev->kind = AM_WIRE_DOWN;
			snprintf(ev->detail, sizeof ev->detail, "disconnected");
		}
		break;
	case ZMQ_EVENT_DISCONNECTED:
		/* reported once what it brought before is read */
		l->dialed_at = 0;
		if (l->up) {
			l->up = false;
			l->down = true;
		}
		break;
	case ZMQ_EVENT_CONNECT_RETRIED:
		if (!l->retry_told) {
			l->retry_told = true;
			ev->kind = AM_WIRE_RETRYING;
			snprintf(ev->detail, sizeof ev->detail, "cannot connect; "
				"retrying with back-off");
		}
		break;
	case ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL:
	case ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL:
	case ZMQ_EVENT_HANDSHAKE_FAILED_AUTH:
		l->dialed_at = 0;
		if (l->up) {
			/* after the handshake, libzmq reports a message that
			 * fails CurveZMQ's check (damaged in transit) this way,
			 * and the DISCONNECTED that follows finds the link no
			 * longer up: the link is down now, reported as such */
			l->up = false;
			l->down = true;
			break;
		}
		ev->kind = AM_WIRE_HANDSHAKE_FAILED;
		snprintf(ev->detail, sizeof ev->detail, "%s",
			handshake_why(event, value));
		break;
	default:
		break;
	}
}

static bool
pop_refusal(struct am_wire *w, struct am_wire_event *ev)
{
	bool got = false;
	pthread_mutex_lock(&w->lock);
	if (w->refusals_lost > 0) {
		ev->kind = AM_WIRE_REFUSED;
		snprintf(ev->detail, sizeof ev->detail, "%lu more connections "
			"refused (not logged one by one)", w->refusals_lost);
		w->refusals_lost = 0;
		got = true;
	} else if (w->nrefusals > 0) {
		struct refusal *r = &w->refusals[0];
		ev->kind = AM_WIRE_REFUSED;
		ev->link = AM_WIRE_INBOUND;
		ev->has_key = r->has_key;
		memcpy(ev->key, r->key, AM_CURVE_BYTES);
		snprintf(ev->detail, sizeof ev->detail, "%s", r->why);
		memmove(&w->refusals[0], &w->refusals[1],
			(w->nrefusals - 1) * sizeof w->refusals[0]);
		w->nrefusals--;
		got = true;
	}
	pthread_mutex_unlock(&w->lock);
	return got;
}

/* Reads what is ready on pollable item i; fills ev when it is worth
 * reporting. */
static int
read_ready(struct am_wire *w, void *sock, struct am_wire_event *ev)
{
	if (sock == w->router)
		return read_router(w, ev);
	if (sock == w->router_mon) {
		uint16_t event;
		uint32_t value;
		if (wire_monitor_read(w->router_mon, &event, &value, ZMQ_DONTWAIT) == 0)
			router_monitor_event(w, event, value);
		return AM_OK;
	}
	for (size_t i = 0; i < w->nlinks; i++) {
		struct link *l = &w->links[i];
		if (l->id == 0)
			continue;
		if (sock == l->sock)
			return read_link(w, l, ev);
		if (sock == l->mon) {
			read_link_monitor(w, l, ev);
			return AM_OK;
		}
	}
	return AM_OK;
}

int
am_wire_poll(struct am_wire *w, int timeout_ms, struct am_wire_event *ev)
{
	zmq_pollitem_t *items;
	size_t n = 0, cap = 3 + 2 * w->nlinks;
	bool nudged = false;
	int64_t end = wire_now_ms() + (timeout_ms > 0 ? timeout_ms : 0);
	int rc = AM_OK;

	event_reset(ev);
	if (w->has_held) {
		*ev = w->held;
		w->has_held = false;
		return AM_OK;
	}
	if (pop_refusal(w, ev) || report_down(w, ev))
		return AM_OK;
	if ((items = calloc(cap, sizeof *items)) == NULL)
		return AM_ERR_NOMEM;
	if (w->router != NULL) {
		items[n++].socket = w->router;
		items[n++].socket = w->router_mon;
	}
	if (w->nudge >= 0)
		items[n++].fd = w->nudge;
	for (size_t i = 0; i < w->nlinks; i++) {
		if (w->links[i].id == 0)
			continue;
		items[n++].socket = w->links[i].mon;
		items[n++].socket = w->links[i].sock;
	}
	for (size_t i = 0; i < n; i++)
		items[i].events = ZMQ_POLLIN;
	for (;;) {
		int64_t left = end - wire_now_ms();
		int got = wire_zmq.zmq_poll(items, (int)n, left > 0 ? (long)left : 0);
		if (got < 0)
			break;      /* EINTR: let the caller look at its signals */
		/* take turns, so that a busy socket cannot starve the others;
		 * a link's monitor comes before the link, so UP precedes data */
		size_t start = n > 0 ? w->turn++ % n : 0;
		for (size_t k = 0; k < n && ev->kind == AM_WIRE_NONE && rc == AM_OK; k++) {
			size_t i = (start + k) % n;
			if (!(items[i].revents & ZMQ_POLLIN))
				continue;
			if (items[i].socket != NULL)
				rc = read_ready(w, items[i].socket, ev);
			else
				nudged = true;
		}
		if (nudged && ev->kind == AM_WIRE_NONE && rc == AM_OK) {
			/* every nudge queued is one wake-up: the node reads the
			 * store once for them all (a nudge not taken now stays
			 * readable for the next poll) */
			char buf[16];
			struct sockaddr_un from;
			socklen_t len = sizeof from;
			while (recvfrom(w->nudge, buf, sizeof buf, MSG_DONTWAIT,
			    (struct sockaddr *)&from, &len) >= 0) {
				if (len > sizeof(sa_family_t) && len <= sizeof from &&
				    w->nnudgers < NUDGERS) {
					w->nudgers[w->nnudgers] = from;
					w->nudger_len[w->nnudgers++] = len;
				}
				len = sizeof from;
			}
			ev->kind = AM_WIRE_NUDGE;
			break;
		}
		if (ev->kind != AM_WIRE_NONE || rc != AM_OK || pop_refusal(w, ev) ||
		    report_down(w, ev))
			break;
		if (wire_now_ms() >= end)
			break;
	}
	free(items);
	return rc;
}
