/*
 * Sending and receiving on a wire (include/amends/wire.h): messages to and
 * from peers on the server socket and on outbound links, and what the
 * sockets' monitors report, turned into the node's stream of events.
 * src/wire.c sets the sockets up.
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

static struct inbound *
inbound_find(struct am_wire *w, const uint8_t *key)
{
	for (size_t i = 0; i < w->nin; i++)
		if (memcmp(w->in[i].key, key, AM_CURVE_BYTES) == 0)
			return &w->in[i];
	return NULL;
}

static void
inbound_remove(struct am_wire *w, struct inbound *in)
{
	size_t i = (size_t)(in - w->in);
	memmove(&w->in[i], &w->in[i + 1], (w->nin - i - 1) * sizeof *w->in);
	w->nin--;
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
	if (in == NULL)
		return AM_ERR_UNREACHABLE;
	/* ROUTER_MANDATORY: an unknown or full peer fails here, never silently */
	if (wire_zmq.zmq_send(w->router, in->rid, in->rid_len, ZMQ_SNDMORE | ZMQ_DONTWAIT) < 0) {
		int e = wire_zmq.zmq_errno();
		if (e == EHOSTUNREACH)
			inbound_remove(w, in);
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
	/* remember where replies to this key go, and which connection it is */
	struct inbound *in = inbound_find(w, ev->key);
	if (in == NULL && w->nin < MAX_INBOUND) {
		struct inbound *grown = realloc(w->in, (w->nin + 1) * sizeof *grown);
		if (grown != NULL) {
			w->in = grown;
			in = &w->in[w->nin++];
			memcpy(in->key, ev->key, AM_CURVE_BYTES);
		}
	}
	if (in != NULL && wire_zmq.zmq_msg_size(&rid) <= sizeof in->rid) {
		in->rid_len = wire_zmq.zmq_msg_size(&rid);
		memcpy(in->rid, wire_zmq.zmq_msg_data(&rid), in->rid_len);
		in->fd = wire_zmq.zmq_msg_get(&data, ZMQ_SRCFD);
	}
	rc = take_data(&data, ev);
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

static void
read_link_monitor(struct am_wire *w, struct link *l, struct am_wire_event *ev)
{
	uint16_t event;
	uint32_t value;

	(void)w;
	if (wire_monitor_read(l->mon, &event, &value, ZMQ_DONTWAIT) != 0)
		return;
	ev->link = l->id;
	ev->has_key = true;
	memcpy(ev->key, l->key, AM_CURVE_BYTES);
	switch (event) {
	case ZMQ_EVENT_HANDSHAKE_SUCCEEDED:
		l->up = true;
		l->retry_told = false;
		ev->kind = AM_WIRE_UP;
		break;
	case ZMQ_EVENT_DISCONNECTED:
		if (l->up) {
			l->up = false;
			ev->kind = AM_WIRE_DOWN;
			snprintf(ev->detail, sizeof ev->detail, "disconnected");
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
		l->up = false;
		ev->kind = AM_WIRE_HANDSHAKE_FAILED;
		snprintf(ev->detail, sizeof ev->detail, "%s",
			handshake_why(event, value));
		break;
	default:
		break;
	}
}

static void
read_router_monitor(struct am_wire *w, struct am_wire_event *ev)
{
	uint16_t event;
	uint32_t value;

	if (wire_monitor_read(w->router_mon, &event, &value, ZMQ_DONTWAIT) != 0)
		return;
	ev->link = AM_WIRE_INBOUND;
	if (event == ZMQ_EVENT_DISCONNECTED) {
		/* the value is the connection's descriptor: find whose it was */
		for (size_t i = 0; i < w->nin; i++) {
			if (w->in[i].fd == (int)value) {
				ev->kind = AM_WIRE_DOWN;
				ev->has_key = true;
				memcpy(ev->key, w->in[i].key, AM_CURVE_BYTES);
				snprintf(ev->detail, sizeof ev->detail, "disconnected");
				inbound_remove(w, &w->in[i]);
				break;
			}
		}
	} else if (event == ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL ||
	    event == ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL) {
		/* refusals by key come from the ZAP handler; these are the rest */
		ev->kind = AM_WIRE_REFUSED;
		snprintf(ev->detail, sizeof ev->detail, "an inbound handshake "
			"failed: %s", handshake_why(event, value));
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
		read_router_monitor(w, ev);
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
	if (pop_refusal(w, ev))
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
		if (ev->kind != AM_WIRE_NONE || rc != AM_OK || pop_refusal(w, ev))
			break;
		if (wire_now_ms() >= end)
			break;
	}
	free(items);
	return rc;
}
