/*
 * The ZAP handler (RFC 27) of src/wire.c: decides which CurveZMQ keys may
 * connect to the server socket. It admits only the keys on the allow
 * list, answers every request, and queues a refusal for am_wire_poll() to
 * report. It runs on a thread of its own, bound before any server socket
 * exists, until the context shuts down.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "amends/entry.h"
#include "amends/wire.h"
#include "wire_impl.h"

/* Under w->lock. */
static bool
allowed_locked(const struct am_wire *w, const uint8_t *key)
{
	for (size_t i = 0; i < w->nallow; i++)
		if (sodium_memcmp(w->allow[i], key, AM_CURVE_BYTES) == 0)
			return true;
	return false;
}

bool
wire_allowed(struct am_wire *w, const uint8_t *key)
{
	pthread_mutex_lock(&w->lock);
	bool ok = allowed_locked(w, key);
	pthread_mutex_unlock(&w->lock);
	return ok;
}

void
wire_refusal_push(struct am_wire *w, const uint8_t *key, const char *why)
{
	pthread_mutex_lock(&w->lock);
	if (w->nrefusals == MAX_REFUSALS) {
		w->refusals_lost++;
	} else {
		struct refusal *r = &w->refusals[w->nrefusals++];
		r->has_key = key != NULL;
		if (key != NULL)
			memcpy(r->key, key, AM_CURVE_BYTES);
		snprintf(r->why, sizeof r->why, "%s", why);
	}
	pthread_mutex_unlock(&w->lock);
}

/* ------------------------------------------------------------------------
 * The ZAP handler (RFC 27): one request in, one reply out, on its own
 * thread, until the context shuts down.
 */

/* Receives every frame of one request; keeps the first ZAP_FRAMES. */
static int
zap_recv(void *sock, zmq_msg_t frames[static ZAP_FRAMES], int *n)
{
	int more = 1;
	*n = 0;
	while (more) {
		zmq_msg_t m;
		wire_zmq.zmq_msg_init(&m);
		if (wire_zmq.zmq_msg_recv(&m, sock, 0) < 0) {
			wire_zmq.zmq_msg_close(&m);
			return -1;
		}
		more = wire_zmq.zmq_msg_more(&m);
		if (*n < ZAP_FRAMES)
			frames[(*n)++] = m;
		else
			wire_zmq.zmq_msg_close(&m);
	}
	return 0;
}

static bool
frame_is(zmq_msg_t *m, const char *s)
{
	size_t n = strlen(s);
	return wire_zmq.zmq_msg_size(m) == n && memcmp(wire_zmq.zmq_msg_data(m), s, n) == 0;
}

static void
zap_reply(void *sock, zmq_msg_t *request_id, const char *status,
	const char *text, const char *user)
{
	wire_zmq.zmq_send(sock, "1.0", 3, ZMQ_SNDMORE);
	if (request_id != NULL)
		wire_zmq.zmq_send(sock, wire_zmq.zmq_msg_data(request_id), wire_zmq.zmq_msg_size(request_id),
			ZMQ_SNDMORE);
	else
		wire_zmq.zmq_send(sock, "", 0, ZMQ_SNDMORE);
	wire_zmq.zmq_send(sock, status, strlen(status), ZMQ_SNDMORE);
	wire_zmq.zmq_send(sock, text, strlen(text), ZMQ_SNDMORE);
	wire_zmq.zmq_send(sock, user, strlen(user), ZMQ_SNDMORE);
	wire_zmq.zmq_send(sock, "", 0, 0);
}

static void
zap_handle(struct am_wire *w, void *sock, zmq_msg_t *f, int n)
{
	/* frames: version, request id, domain, address, identity, mechanism,
	 * credentials */
	if (n != ZAP_FRAMES || !frame_is(&f[0], "1.0")) {
		wire_refusal_push(w, NULL, "a malformed authentication request");
		zap_reply(sock, n >= 2 ? &f[1] : NULL, "500", "malformed request", "");
		return;
	}
	char addr[64] = "";
	size_t an = wire_zmq.zmq_msg_size(&f[3]) < sizeof addr - 1 ?
		wire_zmq.zmq_msg_size(&f[3]) : sizeof addr - 1;
	memcpy(addr, wire_zmq.zmq_msg_data(&f[3]), an);
	addr[an] = '\0';
	for (size_t i = 0; i < an; i++)
		if ((unsigned char)addr[i] < 0x20 || addr[i] == 0x7f)
			addr[i] = '?';

	char why[120];
	if (!frame_is(&f[2], AM_WIRE_DOMAIN) || !frame_is(&f[5], "CURVE") ||
	    wire_zmq.zmq_msg_size(&f[6]) != AM_CURVE_BYTES) {
		snprintf(why, sizeof why, "not an amends CURVE client, from %s", addr);
		wire_refusal_push(w, NULL, why);
		zap_reply(sock, &f[1], "400", "not an amends client", "");
		return;
	}
	const uint8_t *key = wire_zmq.zmq_msg_data(&f[6]);
	if (!wire_allowed(w, key)) {
		snprintf(why, sizeof why, "a key that shares no circle with this "
			"node, from %s", addr);
		wire_refusal_push(w, key, why);
		zap_reply(sock, &f[1], "400", "unknown key", "");
		return;
	}
	char hex[2 * AM_CURVE_BYTES + 1];
	am_hex(key, AM_CURVE_BYTES, hex);
	zap_reply(sock, &f[1], "200", "OK", hex);
}

struct zap_start {
	struct am_wire *w;
	void *sock;
};

static void *
zap_loop(void *arg)
{
	struct zap_start *st = arg;
	struct am_wire *w = st->w;
	void *sock = st->sock;
	free(st);
	for (;;) {
		zmq_msg_t f[ZAP_FRAMES];
		int n;
		if (zap_recv(sock, f, &n) < 0) {
			if (wire_zmq.zmq_errno() == EINTR)
				continue;
			break;      /* ETERM: the context is shutting down */
		}
		zap_handle(w, sock, f, n);
		for (int i = 0; i < n; i++)
			wire_zmq.zmq_msg_close(&f[i]);
	}
	wire_zmq.zmq_close(sock);
	return NULL;
}

int
wire_zap_start(struct am_wire *w)
{
	void *sock;
	struct zap_start *st;
	if ((sock = wire_zmq.zmq_socket(w->ctx, ZMQ_REP)) == NULL)
		return AM_ERR_NET;
	if (wire_setopt_int(sock, ZMQ_LINGER, 0) != AM_OK ||
	    wire_zmq.zmq_bind(sock, ZAP_ENDPOINT) != 0) {
		wire_zmq.zmq_close(sock);
		return AM_ERR_NET;
	}
	if ((st = malloc(sizeof *st)) == NULL) {
		wire_zmq.zmq_close(sock);
		return AM_ERR_NOMEM;
	}
	st->w = w;
	st->sock = sock;
	if (pthread_create(&w->zap_thread, NULL, zap_loop, st) != 0) {
		free(st);
		wire_zmq.zmq_close(sock);
		return AM_ERR_NET;
	}
	w->zap_running = true;
	return AM_OK;
}

int
am_wire_allow(struct am_wire *w, const uint8_t (*keys)[AM_CURVE_BYTES], size_t n)
{
	uint8_t (*copy)[AM_CURVE_BYTES] = NULL;
	if (n > 0) {
		if ((copy = malloc(n * sizeof *copy)) == NULL)
			return AM_ERR_NOMEM;
		memcpy(copy, keys, n * sizeof *copy);
	}
	pthread_mutex_lock(&w->lock);
	free(w->allow);
	w->allow = copy;
	w->nallow = n;
	pthread_mutex_unlock(&w->lock);
	return AM_OK;
}
