/*
 * The member's side of the hostile test peer (hostile.h): a CurveZMQ
 * client with the key of a data directory that joined a circle through a
 * real invite, so that the node's ZAP handler admits it. It sends whatever
 * bytes a case asks for, and reads the node's answers, answering in turn
 * as a quiet honest peer would (DONE to a DIGESTS, its own entries to a
 * WANT, ACK to a PUSH), so that what the node does is its answer to the
 * case and nothing else. Every message from the node is printed as a line.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sodium.h>
#include <zmq.h>

#include "amends/entry.h"
#include "amends/store.h"
#include "amends/sync.h"
#include "hostile.h"

const char *const peer_type_names[AM_SYNC_TYPE_MAX + 1] = {
	"?", "HELLO", "DIGESTS", "HEADS", "DONE", "WANT", "ENTRIES", "PUSH",
	"ACK", "WANT_FORKS", "FORKS", "ERROR",
};

int64_t
peer_now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void
peer_short_hex(const uint8_t *b, char out[9])
{
	char hex[2 * AM_HASH_BYTES + 1];
	am_hex(b, AM_HASH_BYTES, hex);
	memcpy(out, hex, 8);
	out[8] = '\0';
}

int
peer_unexpected(const char *fmt, ...)
{
	va_list ap;
	printf("unexpected: ");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	return 1;
}

bool
peer_hex32(const char *text, uint8_t out[static 32])
{
	size_t n;
	return strlen(text) == 64 && sodium_hex2bin(out, 32, text, 64, NULL, &n,
		NULL) == 0 && n == 32;
}

/* ---- the connection ---- */

static int
setopt(void *sock, int opt, int v)
{
	return zmq_setsockopt(sock, opt, &v, sizeof v);
}

static void
on_monitor(struct hostile *h)
{
	zmq_msg_t m;
	uint16_t event = 0;
	int more;

	zmq_msg_init(&m);
	if (zmq_msg_recv(&m, h->mon, ZMQ_DONTWAIT) < 0) {
		zmq_msg_close(&m);
		return;
	}
	if (zmq_msg_size(&m) == 6)
		memcpy(&event, zmq_msg_data(&m), 2);
	more = zmq_msg_more(&m);
	zmq_msg_close(&m);
	while (more) {
		zmq_msg_init(&m);
		if (zmq_msg_recv(&m, h->mon, 0) < 0)
			more = 0;
		else
			more = zmq_msg_more(&m);
		zmq_msg_close(&m);
	}
	if (event == ZMQ_EVENT_DISCONNECTED && !h->down) {
		h->down = true;
		printf("disconnected by the node\n");
	} else if (event & (ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL |
	    ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL | ZMQ_EVENT_HANDSHAKE_FAILED_AUTH)) {
		h->down = true;
		printf("handshake failed\n");
	} else if (event == ZMQ_EVENT_HANDSHAKE_SUCCEEDED) {
		printf("handshake done\n");
	}
}

/* Connects as a CurveZMQ client with the member's key, pinning the
 * node's key, and waits for the handshake. A dropped connection stays
 * dropped (no reconnecting), so that the case sees it. */
int
peer_connect(struct hostile *h, const char *endpoint)
{
	uint8_t pub[AM_CURVE_BYTES], sec[AM_CURVE_BYTES], server[AM_CURVE_BYTES];
	int rc = AM_ERR_NET;

	if (am_id_to_curve(h->server, server) != AM_OK ||
	    am_identity_curve(h->id, pub, sec) != AM_OK)
		return AM_ERR_ARG;
	if ((h->ctx = zmq_ctx_new()) == NULL ||
	    (h->sock = zmq_socket(h->ctx, ZMQ_DEALER)) == NULL)
		goto out;
	if (zmq_setsockopt(h->sock, ZMQ_CURVE_SERVERKEY, server, sizeof server) != 0 ||
	    zmq_setsockopt(h->sock, ZMQ_CURVE_PUBLICKEY, pub, sizeof pub) != 0 ||
	    zmq_setsockopt(h->sock, ZMQ_CURVE_SECRETKEY, sec, sizeof sec) != 0 ||
	    setopt(h->sock, ZMQ_LINGER, 0) != 0 ||
	    setopt(h->sock, ZMQ_RECONNECT_IVL, -1) != 0 ||
	    setopt(h->sock, ZMQ_SNDTIMEO, 1000) != 0 ||
	    zmq_socket_monitor(h->sock, "inproc://hostile-monitor",
		ZMQ_EVENT_HANDSHAKE_SUCCEEDED | ZMQ_EVENT_DISCONNECTED |
		ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL |
		ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL |
		ZMQ_EVENT_HANDSHAKE_FAILED_AUTH) != 0 ||
	    (h->mon = zmq_socket(h->ctx, ZMQ_PAIR)) == NULL ||
	    setopt(h->mon, ZMQ_LINGER, 0) != 0 ||
	    zmq_connect(h->mon, "inproc://hostile-monitor") != 0 ||
	    zmq_connect(h->sock, endpoint) != 0)
		goto out;
	for (int64_t end = peer_now_ms() + WAIT_MS; peer_now_ms() < end && !h->down; ) {
		zmq_msg_t m;
		uint16_t event = 0;
		zmq_pollitem_t it = { h->mon, 0, ZMQ_POLLIN, 0 };
		if (zmq_poll(&it, 1, (long)(end - peer_now_ms())) <= 0)
			continue;
		zmq_msg_init(&m);
		if (zmq_msg_recv(&m, h->mon, 0) >= 0 && zmq_msg_size(&m) == 6)
			memcpy(&event, zmq_msg_data(&m), 2);
		int more = zmq_msg_more(&m);
		zmq_msg_close(&m);
		if (more) {
			zmq_msg_init(&m);
			(void)zmq_msg_recv(&m, h->mon, 0);
			zmq_msg_close(&m);
		}
		if (event == ZMQ_EVENT_HANDSHAKE_SUCCEEDED) {
			rc = AM_OK;
			break;
		}
		if (event != 0 && event != ZMQ_EVENT_DISCONNECTED) {
			printf("handshake failed (event %u)\n", event);
			break;
		}
	}
out:
	sodium_memzero(sec, sizeof sec);
	return rc;
}

void
peer_disconnect(struct hostile *h)
{
	if (h->sock != NULL) {
		zmq_socket_monitor(h->sock, NULL, 0);
		zmq_close(h->sock);
	}
	if (h->mon != NULL)
		zmq_close(h->mon);
	if (h->ctx != NULL)
		zmq_ctx_term(h->ctx);
	h->sock = h->mon = h->ctx = NULL;
}

int
peer_send_bytes(struct hostile *h, const void *data, size_t len, int flags)
{
	if (zmq_send(h->sock, data, len, flags) < 0) {
		printf("could not send %zu bytes: %s\n", len, zmq_strerror(zmq_errno()));
		return AM_ERR_NET;
	}
	return AM_OK;
}

int
peer_send_msg(struct hostile *h, const struct am_sync_msg *m)
{
	uint8_t *buf;
	size_t len;
	int rc = am_sync_msg_encode(m, &buf, &len);
	if (rc != AM_OK)
		return rc;
	rc = peer_send_bytes(h, buf, len, 0);
	free(buf);
	return rc;
}

struct am_sync_msg *
peer_msg_new(uint32_t type, const uint8_t *circle, const uint8_t *author)
{
	struct am_sync_msg *m = calloc(1, sizeof *m);
	if (m == NULL)
		return NULL;
	m->type = type;
	if (circle != NULL)
		memcpy(m->circle, circle, AM_HASH_BYTES);
	if (author != NULL)
		memcpy(m->author, author, AM_ID_BYTES);
	return m;
}

/* Sends a message with no list (HELLO, DONE, WANT, ACK, WANT_FORKS). */
int
peer_send_simple(struct hostile *h, uint32_t type, const uint8_t *circle,
	const uint8_t *author, uint64_t from, uint64_t max)
{
	struct am_sync_msg *m = peer_msg_new(type, circle, author);
	if (m == NULL)
		return AM_ERR_NOMEM;
	m->from = from;
	m->seq = from;
	m->max = max;
	int rc = peer_send_msg(h, m);
	free(m);
	return rc;
}

/* Sends PUSH (or ENTRIES, FORKS) of n raw entries of one feed. */
int
peer_send_entries(struct hostile *h, uint32_t type, const uint8_t *circle,
	const uint8_t *author, uint8_t *const raw[], const size_t len[], uint32_t n)
{
	struct am_sync_msg *m = peer_msg_new(type, circle, author);
	if (m == NULL)
		return AM_ERR_NOMEM;
	for (uint32_t i = 0; i < n; i++) {
		m->raw[i] = raw[i];
		m->len[i] = len[i];
	}
	m->n = n;
	int rc = peer_send_msg(h, m);
	free(m);
	return rc;
}

/* ---- answering the node as a quiet honest peer ---- */


static int
range_add(void *ctx, const uint8_t *raw, size_t len)
{
	struct range *r = ctx;
	if (r->n == AM_SYNC_MAX_ITEMS || r->bytes + len > AM_SYNC_MAX_MSG / 2)
		return AM_ERR_TOO_BIG;     /* enough for one message */
	if ((r->raw[r->n] = malloc(len)) == NULL)
		return AM_ERR_NOMEM;
	memcpy(r->raw[r->n], raw, len);
	r->len[r->n++] = len;
	r->bytes += len;
	return AM_OK;
}

void
peer_range_free(struct range *r)
{
	for (uint32_t i = 0; i < r->n; i++)
		free(r->raw[i]);
	r->n = 0;
	r->bytes = 0;
}

/* Reads entries from..to of a feed from the member's own store. */
int
peer_read_range(struct hostile *h, const uint8_t *circle, const uint8_t *author,
	uint64_t from, uint64_t to, struct range *r)
{
	memset(r, 0, sizeof *r);
	int rc = am_store_range(h->store, circle, author, from, to, range_add, r);
	return rc == AM_ERR_TOO_BIG ? AM_OK : rc;
}

static void
answer(struct hostile *h, const struct am_sync_msg *m)
{
	struct range r;

	switch (m->type) {
	case AM_SYNC_DIGESTS:
		/* "nothing differs here": the node's round ends at once */
		if (m->final)
			(void)peer_send_simple(h, AM_SYNC_DONE, NULL, NULL, 0, 0);
		break;
	case AM_SYNC_WANT:
		if (peer_read_range(h, m->circle, m->author, m->from,
		    m->from + m->max - 1, &r) == AM_OK) {
			(void)peer_send_entries(h, AM_SYNC_ENTRIES, m->circle, m->author,
				r.raw, r.len, r.n);
			peer_range_free(&r);
		}
		break;
	case AM_SYNC_WANT_FORKS:
		(void)peer_send_entries(h, AM_SYNC_FORKS, m->circle, m->author, NULL,
			NULL, 0);
		break;
	case AM_SYNC_PUSH: {
		struct am_entry e;
		if (!h->hold_acks && m->n > 0 && am_entry_decode(m->raw[m->n - 1],
		    m->len[m->n - 1], &e) == AM_OK)
			(void)peer_send_simple(h, AM_SYNC_ACK, m->circle, m->author,
				e.seq, 0);
		break;
	}
	default:
		break;
	}
}

static void
print_msg(const struct am_sync_msg *m)
{
	char c[9], a[9];
	peer_short_hex(m->circle, c);
	peer_short_hex(m->author, a);
	switch (m->type) {
	case AM_SYNC_ERROR:
		printf("got ERROR code %llu about %llu: %.*s\n",
			(unsigned long long)m->code, (unsigned long long)m->about,
			(int)m->text.n, m->text.p);
		break;
	case AM_SYNC_ACK:
		printf("got ACK circle %s author %s seq %llu\n", c, a,
			(unsigned long long)m->seq);
		break;
	case AM_SYNC_ENTRIES:
	case AM_SYNC_PUSH:
	case AM_SYNC_FORKS:
		printf("got %s circle %s author %s with %u entries\n",
			peer_type_names[m->type], c, a, m->n);
		break;
	case AM_SYNC_WANT:
		printf("got WANT circle %s author %s from %llu max %llu\n", c, a,
			(unsigned long long)m->from, (unsigned long long)m->max);
		break;
	case AM_SYNC_HEADS:
		printf("got HEADS circle %s with %u feeds\n", c, m->n);
		break;
	default:
		printf("got %s\n", peer_type_names[m->type]);
		break;
	}
}

/*
 * Waits at most timeout_ms for the next message from the node, answering
 * it if it asks something. AM_OK with h->in filled; AM_ERR_NOT_FOUND when
 * nothing came in time; AM_ERR_UNREACHABLE when the connection dropped.
 */
int
peer_next(struct hostile *h, int64_t timeout_ms)
{
	int64_t end = peer_now_ms() + timeout_ms;
	for (;;) {
		zmq_pollitem_t it[2] = {
			{ h->sock, 0, ZMQ_POLLIN, 0 },
			{ h->mon, 0, ZMQ_POLLIN, 0 },
		};
		int64_t left = end - peer_now_ms();
		if (h->down)
			return AM_ERR_UNREACHABLE;
		if (left <= 0)
			return AM_ERR_NOT_FOUND;
		if (zmq_poll(it, 2, (long)left) < 0) {
			if (zmq_errno() == EINTR)
				continue;
			return AM_ERR_NET;
		}
		if (it[1].revents & ZMQ_POLLIN)
			on_monitor(h);
		if (!(it[0].revents & ZMQ_POLLIN))
			continue;
		zmq_msg_t m;
		zmq_msg_init(&m);
		if (zmq_msg_recv(&m, h->sock, ZMQ_DONTWAIT) < 0) {
			zmq_msg_close(&m);
			continue;
		}
		free(h->buf);
		h->buf = malloc(zmq_msg_size(&m) + 1);
		if (h->buf == NULL) {
			zmq_msg_close(&m);
			return AM_ERR_NOMEM;
		}
		memcpy(h->buf, zmq_msg_data(&m), zmq_msg_size(&m));
		size_t len = zmq_msg_size(&m);
		zmq_msg_close(&m);
		if (am_sync_msg_decode(h->buf, len, h->in) != AM_OK) {
			h->undecodable++;
			printf("got %zu bytes that do not decode\n", len);
			continue;
		}
		h->got[h->in->type]++;
		if (h->in->type == AM_SYNC_ERROR && h->in->about == 0)
			h->untyped_errors++;
		if (!h->quiet)
			print_msg(h->in);
		answer(h, h->in);
		return AM_OK;
	}
}

bool
peer_matches(const struct am_sync_msg *m, const struct want *w)
{
	if (m->type != w->type)
		return false;
	if (m->type == AM_SYNC_ERROR)
		return m->code == w->code && (w->any_about || m->about == w->about);
	if (w->circle != NULL && (memcmp(m->circle, w->circle, AM_HASH_BYTES) != 0 ||
	    memcmp(m->author, w->author, AM_ID_BYTES) != 0))
		return false;
	return m->type != AM_SYNC_ACK || w->any_seq || m->seq == w->seq;
}

/* Reads until a message matching w arrives: AM_OK, or why it did not. */
int
peer_await(struct hostile *h, const struct want *w, int64_t timeout_ms)
{
	int64_t end = peer_now_ms() + timeout_ms;
	int rc;
	while ((rc = peer_next(h, end - peer_now_ms())) == AM_OK)
		if (peer_matches(h->in, w))
			return AM_OK;
	return rc;
}

int
peer_await_error(struct hostile *h, uint64_t code, uint64_t about)
{
	struct want w = { .type = AM_SYNC_ERROR, .code = code, .about = about };
	int rc = peer_await(h, &w, WAIT_MS);
	if (rc != AM_OK)
		return peer_unexpected("no ERROR %llu about %llu came (%s)",
			(unsigned long long)code, (unsigned long long)about,
			am_strerror(rc));
	return 0;
}

int
peer_await_ack(struct hostile *h, const uint8_t *circle, const uint8_t *author,
	uint64_t seq)
{
	struct want w = { .type = AM_SYNC_ACK, .circle = circle, .author = author,
		.seq = seq };
	int rc = peer_await(h, &w, WAIT_MS);
	if (rc != AM_OK)
		return peer_unexpected("no ACK at %llu came (%s)",
			(unsigned long long)seq, am_strerror(rc));
	return 0;
}

/* Starts the node's session with us: our HELLO, its HELLO back. The
 * node then also knows which connection is ours. */
int
peer_open_session(struct hostile *h)
{
	struct want w = { .type = AM_SYNC_HELLO };
	if (peer_send_simple(h, AM_SYNC_HELLO, NULL, NULL, 0, 0) != AM_OK)
		return AM_ERR_NET;
	return peer_await(h, &w, WAIT_MS);
}

/*
 * A request the node must answer, sent after a case's messages: since a
 * session handles messages in order, its answer (ENTRIES of our own first
 * entry in circle) shows that everything before was taken, and that the
 * connection still serves.
 */
int
peer_marker(struct hostile *h, const uint8_t *circle, int64_t timeout_ms)
{
	struct want w = { .type = AM_SYNC_ENTRIES, .circle = circle,
		.author = h->self };
	int64_t end = peer_now_ms() + timeout_ms;
	int rc = AM_ERR_NOT_FOUND;

	/* after a flood the node may refuse the request (AM_ERR_FLOW) until
	 * we have read what it queued for us, without an ERROR to say so:
	 * asked again every few seconds while we read */
	while (rc == AM_ERR_NOT_FOUND && peer_now_ms() < end) {
		int64_t left = end - peer_now_ms();
		if (peer_send_simple(h, AM_SYNC_WANT, circle, h->self, 1, 1) != AM_OK)
			return AM_ERR_NET;
		rc = peer_await(h, &w, left < 3000 ? left : 3000);
	}
	return rc;
}

/* ---- entries ---- */

/* Signs a statement of id at seq in circle, linked to prev (NULL for
 * none): a valid entry, unless the case then breaks it. */
int
peer_make_entry(const struct am_identity *id, const uint8_t *circle, uint64_t seq,
	const uint8_t *prev, const char *text, struct made *out)
{
	struct am_body b;
	struct am_entry_draft d = { .seq = seq, .has_prev = prev != NULL,
		.time = TIME_MS + (int64_t)seq, .body = &b };
	memset(&b, 0, sizeof b);
	b.kind = AM_KIND_STATEMENT;
	b.note = am_str_c(text);
	memcpy(d.circle, circle, AM_HASH_BYTES);
	if (prev != NULL)
		memcpy(d.prev, prev, AM_HASH_BYTES);
	return am_entry_sign(id, &d, &out->raw, &out->len, &out->e);
}

int
peer_push_one(struct hostile *h, const uint8_t *circle, const uint8_t *author,
	struct made *m)
{
	return peer_send_entries(h, AM_SYNC_PUSH, circle, author, &m->raw, &m->len, 1);
}

/* The member's head in circle, by its own store. */
int
peer_own_head(struct hostile *h, const uint8_t *circle, uint64_t *seq,
	uint8_t hash[static AM_HASH_BYTES])
{
	int rc = am_store_head(h->store, circle, h->self, seq, hash);
	if (rc == AM_OK && *seq == 0)
		rc = AM_ERR_NOT_FOUND;
	if (rc != AM_OK)
		printf("no entry of ours in that circle: %s\n", am_strerror(rc));
	return rc;
}

