/*
 * Tests of the transport (include/amends/wire.h) on 127.0.0.1, in one
 * process: a server wire and client wires, plus raw ZeroMQ sockets for
 * what an honest wire never sends (RELIABILITY.md, S1, S3, B3).
 *
 *  - the start-up self-test passes on a correctly set up server;
 *  - an admitted key gets through, both ways, keyed by its User-Id;
 *  - S1: an unknown key is refused, on both sides' events, nothing arrives;
 *  - S3: a client pinning the wrong server key fails its handshake;
 *  - B3: a two-frame message is dropped and an oversize frame cuts the
 *    connection, and the honest peer still gets through afterwards;
 *  - what a peer sent just before it went away comes before its DOWN,
 *    however the two wait to be read (a node must not take its last ACK
 *    for the first word of a new connection);
 *  - a key taken off the allow list is no longer heard, even on a
 *    connection admitted earlier;
 *  - the nudge reaches the node's socket.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>
#include <zmq.h>

#include "amends/wire.h"
#include "test.h"

#define WAIT_MS 10000

struct keys {
	uint8_t pub[AM_CURVE_BYTES], sec[AM_CURVE_BYTES];
};

static int64_t
now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Polls w until an event of kind arrives (others are dropped); false on
 * timeout. */
static bool
wait_kind(struct am_wire *w, enum am_wire_kind kind, struct am_wire_event *ev)
{
	int64_t end = now_ms() + WAIT_MS;
	while (now_ms() < end) {
		check_rc(am_wire_poll(w, 100, ev), AM_OK);
		if (ev->kind == kind)
			return true;
		free(ev->data);
		ev->data = NULL;
	}
	return false;
}

/* Polls w for a while and says whether any message arrived. */
static bool
quiet(struct am_wire *w, int ms)
{
	int64_t end = now_ms() + ms;
	bool got = false;
	while (now_ms() < end) {
		struct am_wire_event ev;
		check_rc(am_wire_poll(w, 50, &ev), AM_OK);
		got |= ev.kind == AM_WIRE_MESSAGE;
		free(ev.data);
	}
	return !got;
}

static struct am_wire *
client(const struct keys *k, const uint8_t *server_key, const char *ep, int *link)
{
	struct am_wire *w;
	check_rc(am_wire_new(k->pub, k->sec, &w), AM_OK);
	check_rc(am_wire_connect(w, server_key, ep, link), AM_OK);
	return w;
}

/* A raw DEALER with the given keys, connected to the server. */
static void *
raw_client(void *ctx, const struct keys *k, const uint8_t *server_key,
	const char *ep)
{
	void *s = zmq_socket(ctx, ZMQ_DEALER);
	int zero = 0;
	check(s != NULL);
	check(zmq_setsockopt(s, ZMQ_CURVE_SERVERKEY, server_key, 32) == 0);
	check(zmq_setsockopt(s, ZMQ_CURVE_PUBLICKEY, k->pub, 32) == 0);
	check(zmq_setsockopt(s, ZMQ_CURVE_SECRETKEY, k->sec, 32) == 0);
	check(zmq_setsockopt(s, ZMQ_LINGER, &zero, sizeof zero) == 0);
	check(zmq_connect(s, ep) == 0);
	return s;
}

/*
 * A raw peer says its first word, then three more and goes away at once
 * (with linger, so that all it said leaves): the server must report the
 * three before the DOWN of that connection, and nothing of it after.
 * Tried eight times; the server polls only once the peer is gone, so that
 * the messages and the disconnection both wait to be read (the pause is
 * only there to give a wrong order its chance: the check holds whatever
 * the timing).
 */
static void
test_last_words(struct am_wire *srv, const struct keys *k,
	const uint8_t *server_key, const char *ep)
{
	struct am_wire_event ev;
	int linger = 5000;

	for (int round = 0; round < 8; round++) {
		void *ctx = zmq_ctx_new();
		void *s = raw_client(ctx, k, server_key, ep);
		check(zmq_setsockopt(s, ZMQ_LINGER, &linger, sizeof linger) == 0);
		check(zmq_send(s, "first", 5, 0) == 5);
		check(wait_kind(srv, AM_WIRE_MESSAGE, &ev));
		check(ev.len == 5 && memcmp(ev.data, "first", 5) == 0);
		free(ev.data);
		for (int i = 0; i < 3; i++)
			check(zmq_send(s, "last", 4, 0) == 4);
		zmq_close(s);
		zmq_ctx_term(ctx);      /* returns once all was sent */
		usleep(100000);
		int before = 0;
		bool down = false;
		int64_t end = now_ms() + WAIT_MS;
		while (!down && now_ms() < end) {
			check_rc(am_wire_poll(srv, 100, &ev), AM_OK);
			if (ev.kind == AM_WIRE_MESSAGE) {
				check(ev.len == 4 && memcmp(ev.data, "last", 4) == 0);
				before++;
			}
			down = ev.kind == AM_WIRE_DOWN;
			if (down)
				check(ev.has_key && memcmp(ev.key, k->pub, 32) == 0);
			free(ev.data);
		}
		check(down);
		if (before != 3) {
			fprintf(stderr, "round %d: %d of 3 messages came before the "
				"DOWN of their connection\n", round, before);
			check(before == 3);
		}
		check(quiet(srv, 200));
	}
}

int
main(void)
{
	struct keys server, alex, eve, mallory;
	struct am_wire *srv, *a, *e;
	struct am_wire_event ev;
	char ep[AM_WIRE_MAX_ENDPOINT];
	int link;

	check(sodium_init() >= 0);
	crypto_box_keypair(server.pub, server.sec);
	crypto_box_keypair(alex.pub, alex.sec);
	crypto_box_keypair(eve.pub, eve.sec);
	crypto_box_keypair(mallory.pub, mallory.sec);

	check_rc(am_wire_new(server.pub, server.sec, &srv), AM_OK);
	check_rc(am_wire_listen(srv, "tcp://127.0.0.1:*", ep), AM_OK);
	check(strncmp(ep, "tcp://127.0.0.1:", 16) == 0);
	check_rc(am_wire_selftest(srv, 5000), AM_OK);
	const uint8_t allow[2][AM_CURVE_BYTES];
	memcpy((uint8_t *)allow[0], alex.pub, 32);
	memcpy((uint8_t *)allow[1], mallory.pub, 32);
	check_rc(am_wire_allow(srv, allow, 2), AM_OK);

	/* an admitted key, both ways */
	a = client(&alex, server.pub, ep, &link);
	int alink = link;
	check(wait_kind(a, AM_WIRE_UP, &ev));
	check(ev.link == link && am_wire_link_up(a, link));
	check_rc(am_wire_send(a, link, server.pub, (const uint8_t *)"hello", 5), AM_OK);
	check(wait_kind(srv, AM_WIRE_MESSAGE, &ev));
	check(ev.link == AM_WIRE_INBOUND && ev.has_key);
	check(memcmp(ev.key, alex.pub, 32) == 0);
	check(ev.len == 5 && memcmp(ev.data, "hello", 5) == 0);
	free(ev.data);
	check_rc(am_wire_send(srv, AM_WIRE_INBOUND, alex.pub,
		(const uint8_t *)"welcome", 7), AM_OK);
	check(wait_kind(a, AM_WIRE_MESSAGE, &ev));
	check(ev.len == 7 && memcmp(ev.data, "welcome", 7) == 0);
	free(ev.data);
	/* nobody else can be written to, and nothing oversize is sent */
	check_rc(am_wire_send(srv, AM_WIRE_INBOUND, eve.pub,
		(const uint8_t *)"x", 1), AM_ERR_UNREACHABLE);
	uint8_t *big = calloc(1, AM_WIRE_MAX_FRAME + 1);
	check_rc(am_wire_send(a, link, server.pub, big, AM_WIRE_MAX_DATA + 1),
		AM_ERR_TOO_BIG);

	/* S1: a stranger is refused; both sides say so; nothing arrives */
	e = client(&eve, server.pub, ep, &link);
	check(wait_kind(e, AM_WIRE_HANDSHAKE_FAILED, &ev));
	check(strstr(ev.detail, "refused") != NULL);
	check(!am_wire_link_up(e, link));
	check(wait_kind(srv, AM_WIRE_REFUSED, &ev));
	check(ev.has_key && memcmp(ev.key, eve.pub, 32) == 0);
	check_rc(am_wire_send(e, link, server.pub, (const uint8_t *)"x", 1),
		AM_ERR_UNREACHABLE);
	check(quiet(srv, 300));
	am_wire_destroy(&e);

	/* S3: the wrong server key pinned (the server's is not alex's) */
	e = client(&alex, alex.pub, ep, &link);
	check(wait_kind(e, AM_WIRE_HANDSHAKE_FAILED, &ev));
	check(!am_wire_link_up(e, link));
	am_wire_destroy(&e);

	/* B3: an admitted raw peer sends two frames, then an oversize one */
	void *ctx = zmq_ctx_new();
	void *m = raw_client(ctx, &mallory, server.pub, ep);
	check(zmq_send(m, "a", 1, ZMQ_SNDMORE) == 1);
	check(zmq_send(m, "b", 1, 0) == 1);
	check(wait_kind(srv, AM_WIRE_DROPPED, &ev));
	check(ev.has_key && memcmp(ev.key, mallory.pub, 32) == 0);
	check(strstr(ev.detail, "2 frames") != NULL);
	check(zmq_send(m, big, AM_WIRE_MAX_FRAME + 1, 0) == AM_WIRE_MAX_FRAME + 1);
	check(quiet(srv, 500));
	zmq_close(m);
	zmq_ctx_term(ctx);
	free(big);

	/* the honest peer is still heard */
	check_rc(am_wire_send(a, alink, server.pub,
		(const uint8_t *)"still", 5), AM_OK);
	check(wait_kind(srv, AM_WIRE_MESSAGE, &ev));
	check(ev.len == 5 && memcmp(ev.data, "still", 5) == 0);
	free(ev.data);

	/* a peer's last words, then the DOWN of its connection */
	test_last_words(srv, &mallory, server.pub, ep);

	/* off the list: no longer heard, though the connection stays */
	check_rc(am_wire_allow(srv, NULL, 0), AM_OK);
	check_rc(am_wire_send(a, alink, server.pub, (const uint8_t *)"late", 4),
		AM_OK);
	check(wait_kind(srv, AM_WIRE_DROPPED, &ev));
	check(strstr(ev.detail, "no longer admitted") != NULL);

	/* the nudge */
	char sock[] = "/tmp/amends-wire-XXXXXX";
	check(mkdtemp(sock) != NULL);
	char path[64];
	snprintf(path, sizeof path, "%s/node.sock", sock);
	check_rc(am_wire_nudge_bind(srv, path), AM_OK);
	am_wire_nudge(path);
	check(wait_kind(srv, AM_WIRE_NUDGE, &ev));

	am_wire_destroy(&a);
	am_wire_destroy(&srv);
	/* the node's socket file goes with it; a nudge then does nothing */
	check(access(path, F_OK) != 0);
	am_wire_nudge(path);
	rmdir(sock);
	printf("MN-WIRE: pass\n");
	return 0;
}
