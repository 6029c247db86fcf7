/*
 * The ZeroMQ transport (include/amends/wire.h): with src/wire_io.c and
 * src/wire_zap.c, the only code of amends that speaks ZeroMQ. It loads
 * libzmq and sets every socket up as RELIABILITY.md says; wire_io.c sends
 * and turns what the sockets and their monitors report into a stream of
 * events for the node; wire_zap.c holds the ZAP handler that decides which
 * keys may connect.
 *
 * libzmq 4.3 lets an unknown CURVE key in when no ZAP handler answers,
 * unless ZMQ_ZAP_ENFORCE_DOMAIN is set, and a refused handshake is silent
 * to the sender except on a socket monitor; so the handler is bound before
 * the server socket exists, the option is set and checked, the node tests
 * itself with a stranger's key at start-up, and every socket is monitored.
 */
#include <dlfcn.h>
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "amends/wire.h"
#include "wire_impl.h"

/*
 * libzmq is loaded when the first wire is made, not when amends starts:
 * mapping and relocating it and the libraries it pulls in (the C++
 * runtime, Kerberos, PGM, NORM) costs every command about 1.3 ms, and
 * only the node, join and verify --with use the network. The table keeps
 * each function's type from zmq.h. Names are looked up in the global
 * scope, so that a library loaded before (the fault tests' zapoff.so)
 * still comes first, as it would with libzmq linked in.
 */
struct wire_api wire_zmq;
static pthread_once_t z_once = PTHREAD_ONCE_INIT;
static bool z_loaded;

static void
z_load(void)
{
	if (dlopen(AM_ZMQ_LIBRARY, RTLD_NOW | RTLD_GLOBAL) == NULL)
		return;
	/* POSIX lets a dlsym() result be used as a function pointer; the
	 * copy keeps ISO C's object/function pointer rule out of the way */
#define X(f) { void *sym = dlsym(RTLD_DEFAULT, #f); \
		if (sym == NULL) \
			return; \
		memcpy(&wire_zmq.f, &sym, sizeof sym); }
	ZMQ_FUNCTIONS(X)
#undef X
	z_loaded = true;
}

/* Loads libzmq once; AM_ERR_NO_ZMQ when it is not there. */
static int
z_ready(void)
{
	pthread_once(&z_once, z_load);
	return z_loaded ? AM_OK : AM_ERR_NO_ZMQ;
}

int
wire_setopt_int(void *sock, int opt, int v)
{
	return wire_zmq.zmq_setsockopt(sock, opt, &v, sizeof v) == 0 ? AM_OK : AM_ERR_NET;
}

/* The options RELIABILITY.md gives every socket that carries peers. */
static int
common_options(void *sock)
{
	int64_t max = AM_WIRE_MAX_FRAME;
	if (wire_zmq.zmq_setsockopt(sock, ZMQ_MAXMSGSIZE, &max, sizeof max) != 0)
		return AM_ERR_NET;
	if (wire_setopt_int(sock, ZMQ_RCVHWM, 64) != AM_OK ||
	    wire_setopt_int(sock, ZMQ_SNDHWM, 64) != AM_OK ||
	    wire_setopt_int(sock, ZMQ_HANDSHAKE_IVL, AM_WIRE_HANDSHAKE_MS) != AM_OK ||
	    wire_setopt_int(sock, ZMQ_HEARTBEAT_IVL, 5000) != AM_OK ||
	    wire_setopt_int(sock, ZMQ_HEARTBEAT_TIMEOUT, 15000) != AM_OK ||
	    wire_setopt_int(sock, ZMQ_HEARTBEAT_TTL, 30000) != AM_OK ||
	    wire_setopt_int(sock, ZMQ_LINGER, 0) != AM_OK)
		return AM_ERR_NET;
	return AM_OK;
}

/* ------------------------------------------------------------------------
 * Set-up and tear-down.
 */

int
am_wire_new(const uint8_t pub[static AM_CURVE_BYTES],
	const uint8_t sec[static AM_CURVE_BYTES], struct am_wire **out)
{
	struct am_wire *w = calloc(1, sizeof *w);
	int rc;

	if (w == NULL)
		return AM_ERR_NOMEM;
	if ((rc = z_ready()) != AM_OK) {
		free(w);
		return rc;
	}
	if (sodium_init() < 0 || (w->sec = sodium_malloc(AM_CURVE_BYTES)) == NULL) {
		free(w);
		return AM_ERR_NOMEM;
	}
	memcpy(w->pub, pub, AM_CURVE_BYTES);
	memcpy(w->sec, sec, AM_CURVE_BYTES);
	pthread_mutex_init(&w->lock, NULL);
	w->next_link = 1;
	w->nudge = -1;
	if ((w->ctx = wire_zmq.zmq_ctx_new()) == NULL) {
		am_wire_destroy(&w);
		return AM_ERR_NET;
	}
	/* the handler is bound here, before any server socket can exist */
	if ((rc = wire_zap_start(w)) != AM_OK) {
		am_wire_destroy(&w);
		return rc;
	}
	*out = w;
	return AM_OK;
}

static void
close_monitored(void *sock, void *mon)
{
	if (sock != NULL) {
		wire_zmq.zmq_socket_monitor(sock, NULL, 0);
		wire_zmq.zmq_close(sock);
	}
	if (mon != NULL)
		wire_zmq.zmq_close(mon);
}

void
am_wire_destroy(struct am_wire **wp)
{
	struct am_wire *w = *wp;
	if (w == NULL)
		return;
	for (size_t i = 0; i < w->nlinks; i++)
		if (w->links[i].id != 0)
			close_monitored(w->links[i].sock, w->links[i].mon);
	free(w->links);
	close_monitored(w->router, w->router_mon);
	if (w->nudge >= 0)
		close(w->nudge);
	if (w->nudge_path != NULL) {
		unlink(w->nudge_path);
		free(w->nudge_path);
	}
	if (w->ctx != NULL) {
		wire_zmq.zmq_ctx_shutdown(w->ctx);
		if (w->zap_running)
			pthread_join(w->zap_thread, NULL);
		wire_zmq.zmq_ctx_term(w->ctx);
	}
	free(w->in);
	if (w->has_held)
		free(w->held.data);
	free(w->allow);
	pthread_mutex_destroy(&w->lock);
	sodium_free(w->sec);
	free(w);
	*wp = NULL;
}

/* Starts a monitor on sock and connects a PAIR socket to read it. */
static int
monitor(struct am_wire *w, void *sock, void **mon)
{
	char ep[64];
	snprintf(ep, sizeof ep, "inproc://amends-monitor-%d", w->next_monitor++);
	if (wire_zmq.zmq_socket_monitor(sock, ep, MONITOR_EVENTS) != 0)
		return AM_ERR_NET;
	if ((*mon = wire_zmq.zmq_socket(w->ctx, ZMQ_PAIR)) == NULL)
		return AM_ERR_NET;
	if (wire_setopt_int(*mon, ZMQ_LINGER, 0) != AM_OK || wire_zmq.zmq_connect(*mon, ep) != 0) {
		wire_zmq.zmq_close(*mon);
		*mon = NULL;
		return AM_ERR_NET;
	}
	return AM_OK;
}

/* Replaces a wildcard host with the loopback address, so that the text
 * names something this process can connect to. */
static void
local_endpoint(const char *in, char out[static AM_WIRE_MAX_ENDPOINT])
{
	static const char any[] = "tcp://0.0.0.0:";
	if (strncmp(in, any, sizeof any - 1) == 0)
		snprintf(out, AM_WIRE_MAX_ENDPOINT, "tcp://127.0.0.1:%.32s",
			in + sizeof any - 1);
	else
		snprintf(out, AM_WIRE_MAX_ENDPOINT, "%s", in);
}

int
am_wire_listen(struct am_wire *w, const char *endpoint,
	char bound[static AM_WIRE_MAX_ENDPOINT])
{
	void *r;
	int rc = AM_ERR_NET;

	if (w->router != NULL || strlen(endpoint) >= AM_WIRE_MAX_ENDPOINT)
		return AM_ERR_ARG;
	if ((r = wire_zmq.zmq_socket(w->ctx, ZMQ_ROUTER)) == NULL)
		return AM_ERR_NET;
	if (common_options(r) != AM_OK ||
	    wire_setopt_int(r, ZMQ_CURVE_SERVER, 1) != AM_OK ||
	    wire_zmq.zmq_setsockopt(r, ZMQ_CURVE_SECRETKEY, w->sec, AM_CURVE_BYTES) != 0 ||
	    wire_zmq.zmq_setsockopt(r, ZMQ_ZAP_DOMAIN, AM_WIRE_DOMAIN,
		strlen(AM_WIRE_DOMAIN)) != 0 ||
	    wire_setopt_int(r, ZMQ_ZAP_ENFORCE_DOMAIN, 1) != AM_OK ||
	    wire_setopt_int(r, ZMQ_ROUTER_MANDATORY, 1) != AM_OK ||
	    wire_setopt_int(r, ZMQ_ROUTER_HANDOVER, 0) != AM_OK)
		goto fail;
	if (monitor(w, r, &w->router_mon) != AM_OK)
		goto fail;
	if (wire_zmq.zmq_bind(r, endpoint) != 0)
		goto fail;
	char last[AM_WIRE_MAX_ENDPOINT];
	size_t n = sizeof last;
	if (wire_zmq.zmq_getsockopt(r, ZMQ_LAST_ENDPOINT, last, &n) != 0)
		goto fail;
	last[sizeof last - 1] = '\0';
	local_endpoint(last, w->bound);
	snprintf(bound, AM_WIRE_MAX_ENDPOINT, "%s", w->bound);
	w->router = r;
	return AM_OK;
fail:
	close_monitored(r, w->router_mon);
	w->router_mon = NULL;
	return rc;
}

/* Opens a CURVE client socket with the pinned server key and our keys (or
 * the given ones) and a monitor. */
static int
client_socket(struct am_wire *w, const uint8_t *server_key, const uint8_t *pub,
	const uint8_t *sec, void **sock, void **mon)
{
	void *s = wire_zmq.zmq_socket(w->ctx, ZMQ_DEALER);
	*sock = *mon = NULL;
	if (s == NULL)
		return AM_ERR_NET;
	if (common_options(s) != AM_OK ||
	    wire_zmq.zmq_setsockopt(s, ZMQ_CURVE_SERVERKEY, server_key, AM_CURVE_BYTES) != 0 ||
	    wire_zmq.zmq_setsockopt(s, ZMQ_CURVE_PUBLICKEY, pub, AM_CURVE_BYTES) != 0 ||
	    wire_zmq.zmq_setsockopt(s, ZMQ_CURVE_SECRETKEY, sec, AM_CURVE_BYTES) != 0 ||
	    wire_setopt_int(s, ZMQ_IMMEDIATE, 1) != AM_OK ||
	    wire_setopt_int(s, ZMQ_RECONNECT_IVL, 1000) != AM_OK ||
	    wire_setopt_int(s, ZMQ_RECONNECT_IVL_MAX, 30000) != AM_OK ||
	    wire_setopt_int(s, ZMQ_SNDTIMEO, 0) != AM_OK ||
	    monitor(w, s, mon) != AM_OK) {
		wire_zmq.zmq_close(s);
		return AM_ERR_NET;
	}
	*sock = s;
	return AM_OK;
}

int
wire_monitor_read(void *mon, uint16_t *event, uint32_t *value, int flags)
{
	zmq_msg_t m;
	int ok = -1;
	wire_zmq.zmq_msg_init(&m);
	if (wire_zmq.zmq_msg_recv(&m, mon, flags) < 0) {
		wire_zmq.zmq_msg_close(&m);
		return -1;
	}
	if (wire_zmq.zmq_msg_size(&m) == 6) {
		const uint8_t *d = wire_zmq.zmq_msg_data(&m);
		memcpy(event, d, 2);
		memcpy(value, d + 2, 4);
		ok = 0;
	}
	bool more = wire_zmq.zmq_msg_more(&m);
	wire_zmq.zmq_msg_close(&m);
	while (more) {      /* the endpoint frame */
		wire_zmq.zmq_msg_init(&m);
		if (wire_zmq.zmq_msg_recv(&m, mon, 0) < 0) {
			wire_zmq.zmq_msg_close(&m);
			return -1;
		}
		more = wire_zmq.zmq_msg_more(&m);
		wire_zmq.zmq_msg_close(&m);
	}
	return ok;
}

int64_t
wire_now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int
am_wire_selftest(struct am_wire *w, int timeout_ms)
{
	uint8_t pub[AM_CURVE_BYTES], sec[AM_CURVE_BYTES];
	void *s, *mon;
	int rc = AM_ERR_NET;

	if (w->router == NULL)
		return AM_ERR_ARG;
	crypto_box_keypair(pub, sec);
	rc = client_socket(w, w->pub, pub, sec, &s, &mon);
	sodium_memzero(sec, sizeof sec);
	if (rc != AM_OK)
		return rc;
	rc = AM_ERR_NET;
	if (wire_zmq.zmq_connect(s, w->bound) != 0)
		goto out;
	for (int64_t end = wire_now_ms() + timeout_ms; wire_now_ms() < end; ) {
		zmq_pollitem_t it = { mon, 0, ZMQ_POLLIN, 0 };
		if (wire_zmq.zmq_poll(&it, 1, (long)(end - wire_now_ms())) < 0 && wire_zmq.zmq_errno() != EINTR)
			break;
		if (!(it.revents & ZMQ_POLLIN))
			continue;
		uint16_t ev;
		uint32_t value;
		if (wire_monitor_read(mon, &ev, &value, 0) != 0)
			continue;
		if (ev == ZMQ_EVENT_HANDSHAKE_SUCCEEDED) {
			rc = AM_ERR_SELFTEST;
			break;
		}
		if (ev == ZMQ_EVENT_HANDSHAKE_FAILED_AUTH ||
		    ev == ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL) {
			rc = AM_OK;
			break;
		}
	}
out:
	close_monitored(s, mon);
	/* the refusal of the throwaway key is expected; do not report it */
	pthread_mutex_lock(&w->lock);
	for (size_t i = 0; i < w->nrefusals; ) {
		if (w->refusals[i].has_key &&
		    memcmp(w->refusals[i].key, pub, AM_CURVE_BYTES) == 0) {
			memmove(&w->refusals[i], &w->refusals[i + 1],
				(w->nrefusals - i - 1) * sizeof w->refusals[0]);
			w->nrefusals--;
		} else {
			i++;
		}
	}
	pthread_mutex_unlock(&w->lock);
	return rc;
}

/* ------------------------------------------------------------------------
 * Outbound links.
 */

struct link *
wire_link_find(struct am_wire *w, int id)
{
	for (size_t i = 0; i < w->nlinks; i++)
		if (w->links[i].id == id && id != 0)
			return &w->links[i];
	return NULL;
}

int
am_wire_connect(struct am_wire *w, const uint8_t server_key[static AM_CURVE_BYTES],
	const char *endpoint, int *out)
{
	struct link *l = NULL;
	int rc;

	for (size_t i = 0; i < w->nlinks; i++)
		if (w->links[i].id == 0)
			l = &w->links[i];
	if (l == NULL) {
		struct link *grown = realloc(w->links,
			(w->nlinks + 1) * sizeof *grown);
		if (grown == NULL)
			return AM_ERR_NOMEM;
		w->links = grown;
		l = &w->links[w->nlinks++];
	}
	memset(l, 0, sizeof *l);
	if ((rc = client_socket(w, server_key, w->pub, w->sec, &l->sock,
	    &l->mon)) != AM_OK)
		return rc;
	if (wire_zmq.zmq_connect(l->sock, endpoint) != 0) {
		close_monitored(l->sock, l->mon);
		memset(l, 0, sizeof *l);
		return AM_ERR_NET;
	}
	memcpy(l->key, server_key, AM_CURVE_BYTES);
	l->id = w->next_link++;
	*out = l->id;
	return AM_OK;
}

void
am_wire_close(struct am_wire *w, int id)
{
	struct link *l = wire_link_find(w, id);
	if (l == NULL)
		return;
	close_monitored(l->sock, l->mon);
	memset(l, 0, sizeof *l);
}

bool
am_wire_link_up(struct am_wire *w, int id)
{
	struct link *l = wire_link_find(w, id);
	return l != NULL && l->up;
}

bool
am_wire_link_dialing(struct am_wire *w, int id)
{
	struct link *l = wire_link_find(w, id);
	return l != NULL && !l->up && l->dialed_at != 0 &&
		wire_now_ms() - l->dialed_at < AM_WIRE_HANDSHAKE_MS + 1000;
}

/* ------------------------------------------------------------------------
 * The nudge socket.
 */

int
am_wire_nudge_bind(struct am_wire *w, const char *path)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };

	if (w->nudge >= 0 || strlen(path) >= sizeof sun.sun_path)
		return AM_ERR_ARG;
	memcpy(sun.sun_path, path, strlen(path) + 1);
	unlink(path);       /* a stale socket of a node that died */
	w->nudge = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (w->nudge < 0)
		return AM_ERR_NET;
	if (bind(w->nudge, (struct sockaddr *)&sun, sizeof sun) != 0) {
		close(w->nudge);
		w->nudge = -1;
		return AM_ERR_NET;
	}
	if ((w->nudge_path = strdup(path)) == NULL)
		return AM_ERR_NOMEM;
	return AM_OK;
}

void
am_wire_nudge_answer(struct am_wire *w)
{
	for (size_t i = 0; i < w->nnudgers; i++)
		(void)sendto(w->nudge, "k", 1, MSG_DONTWAIT,
			(struct sockaddr *)&w->nudgers[i], w->nudger_len[i]);
	w->nnudgers = 0;
}

/*
 * One datagram on a local socket, from an address of the command's own
 * (the kernel picks one), and the node's answer once it has read the store:
 * a command pays a few system calls and the node's reading, not a ZeroMQ
 * context with its threads and a connection handshake, and when it exits
 * the node knows what it wrote (an invite made is admitted, for one). A
 * node that is not running refuses the datagram at once (or the path is
 * not there); one that does not answer is waited for NUDGE_WAIT_MS.
 */
void
am_wire_nudge(const char *path)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	struct sockaddr_un me = { .sun_family = AF_UNIX };

	if (strlen(path) >= sizeof sun.sun_path)
		return;
	memcpy(sun.sun_path, path, strlen(path) + 1);
	int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return;
	if (bind(fd, (struct sockaddr *)&me, sizeof(sa_family_t)) == 0 &&
	    sendto(fd, "n", 1, 0, (struct sockaddr *)&sun, sizeof sun) == 1) {
		struct pollfd pf = { .fd = fd, .events = POLLIN };
		char answer;
		if (poll(&pf, 1, NUDGE_WAIT_MS) == 1)
			(void)recv(fd, &answer, 1, 0);
	}
	close(fd);
}
