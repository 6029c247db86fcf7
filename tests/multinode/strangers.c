/*
 * Strangers knocking on a node's port, as anyone on the network can: for
 * SECONDS, connection after connection, each with a fresh CurveZMQ key
 * (curve: the handshake completes and the node refuses the key) or with
 * no security at all (null: the node refuses the greeting).
 *
 *   strangers ENDPOINT SERVER-ID SECONDS curve|null
 *
 * Prints "knocked N times in SECONDS s" and exits 0.
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sodium.h>
#include <zmq.h>

#include "amends/id.h"

#define MAX_KNOCKS 200000

static int64_t
now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int
main(int argc, char **argv)
{
	uint8_t id[AM_ID_BYTES], server[crypto_box_PUBLICKEYBYTES];
	if (argc != 5 || am_id_parse(argv[2], id) != AM_OK ||
	    (strcmp(argv[4], "curve") != 0 && strcmp(argv[4], "null") != 0)) {
		fprintf(stderr, "usage: strangers ENDPOINT SERVER-ID SECONDS curve|null\n");
		return 2;
	}
	if (sodium_init() < 0 || crypto_sign_ed25519_pk_to_curve25519(server, id) != 0)
		return 2;
	bool curve = strcmp(argv[4], "curve") == 0;
	int seconds = atoi(argv[3]);
	void *ctx = zmq_ctx_new();
	int64_t until = now_ms() + (int64_t)seconds * 1000;
	long knocks = 0;
	while (now_ms() < until && knocks < MAX_KNOCKS) {
		void *s = zmq_socket(ctx, ZMQ_DEALER);
		int zero = 0;
		zmq_setsockopt(s, ZMQ_LINGER, &zero, sizeof zero);
		if (curve) {
			uint8_t pub[crypto_box_PUBLICKEYBYTES], sec[crypto_box_SECRETKEYBYTES];
			crypto_box_keypair(pub, sec);
			zmq_setsockopt(s, ZMQ_CURVE_SERVERKEY, server, sizeof server);
			zmq_setsockopt(s, ZMQ_CURVE_PUBLICKEY, pub, sizeof pub);
			zmq_setsockopt(s, ZMQ_CURVE_SECRETKEY, sec, sizeof sec);
		}
		if (zmq_connect(s, argv[1]) == 0) {
			zmq_send(s, "hello", 5, ZMQ_DONTWAIT);
			/* long enough for the handshake to reach the node */
			zmq_pollitem_t item = { .socket = s, .events = ZMQ_POLLIN };
			zmq_poll(&item, 1, 20);
			knocks++;
		}
		zmq_close(s);
	}
	zmq_ctx_term(ctx);
	printf("knocked %ld times in %d s\n", knocks, seconds);
	return 0;
}
