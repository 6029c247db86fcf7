/*
 * A hostile peer for the tests in tests/hostile: a real member of a circle
 * (the key file of a data directory that joined through a real invite, so
 * the node's ZAP handler admits it) that connects to a running node as a
 * CurveZMQ client and misbehaves in one chosen way: forged or altered
 * entries, broken chains, gaps, forks, strangers' entries, requests for
 * circles it is not in, malformed or oversize frames, floods.
 *
 *   hostile HOME ENDPOINT SERVER-ID CASE [ARG...]
 *   hostile raw ENDPOINT
 *   hostile digest DB CIRCLE-HEX
 *
 * HOME is the member's data directory (its node must not be running),
 * ENDPOINT the node's address and SERVER-ID the node's ID, from which its
 * CurveZMQ key derives. Between its misdeeds the peer answers the node as
 * a quiet honest peer would (DONE to a DIGESTS, its own entries to a WANT,
 * ACK to a PUSH), so that what the node does is its answer to the case.
 * Every message from the node is printed as one line; the last line says
 * whether the node answered as the protocol says it must ("ok: ...") or
 * not ("unexpected: ..."), and the exit status is 0 or 1 (2: misuse). What
 * the node logged and stored is the calling script's to check.
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
#include "amends/home.h"
#include "amends/store.h"
#include "amends/sync.h"
#include "amends/wire.h"
#include "hostile.h"

#define WAIT_MS 10000          /* the handshake, and each awaited answer */
#define FLOOD_MS 90000         /* a whole flood: sending, then reading */
#define TIME_MS 1800000000000LL /* claimed time of the entries written here */

struct hostile {
	struct am_identity *id;
	struct am_store *store;
	const uint8_t *self;
	uint8_t server[AM_ID_BYTES];  /* the node's ID */
	void *ctx, *sock, *mon;
	bool down;                    /* the connection was dropped */
	bool quiet;                   /* count messages instead of printing */
	struct am_sync_msg *in;       /* the last message from the node */
	uint8_t *buf;                 /* its bytes: in points into them */
	unsigned long got[AM_SYNC_TYPE_MAX + 1];
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

static const char *const type_names[AM_SYNC_TYPE_MAX + 1] = {
	"?", "HELLO", "DIGESTS", "HEADS", "DONE", "WANT", "ENTRIES", "PUSH",
	"ACK", "WANT_FORKS", "FORKS", "ERROR",
};

static int64_t
mono_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void
short_hex(const uint8_t *b, char out[9])
{
	char hex[2 * AM_HASH_BYTES + 1];
	am_hex(b, AM_HASH_BYTES, hex);
	memcpy(out, hex, 8);
	out[8] = '\0';
}

static int
unexpected(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static int
unexpected(const char *fmt, ...)
{
	va_list ap;
	printf("unexpected: ");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	return 1;
}

static bool
hex32(const char *text, uint8_t out[static 32])
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
static int
connect_node(struct hostile *h, const char *endpoint)
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
	for (int64_t end = mono_ms() + WAIT_MS; mono_ms() < end && !h->down; ) {
		zmq_msg_t m;
		uint16_t event = 0;
		zmq_pollitem_t it = { h->mon, 0, ZMQ_POLLIN, 0 };
		if (zmq_poll(&it, 1, (long)(end - mono_ms())) <= 0)
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

static void
disconnect_node(struct hostile *h)
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

static int
send_bytes(struct hostile *h, const void *data, size_t len, int flags)
{
	if (zmq_send(h->sock, data, len, flags) < 0) {
		printf("could not send %zu bytes: %s\n", len, zmq_strerror(zmq_errno()));
		return AM_ERR_NET;
	}
	return AM_OK;
}

static int
send_msg(struct hostile *h, const struct am_sync_msg *m)
{
	uint8_t *buf;
	size_t len;
	int rc = am_sync_msg_encode(m, &buf, &len);
	if (rc != AM_OK)
		return rc;
	rc = send_bytes(h, buf, len, 0);
	free(buf);
	return rc;
}

static struct am_sync_msg *
msg_new(uint32_t type, const uint8_t *circle, const uint8_t *author)
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
static int
send_simple(struct hostile *h, uint32_t type, const uint8_t *circle,
	const uint8_t *author, uint64_t from, uint64_t max)
{
	struct am_sync_msg *m = msg_new(type, circle, author);
	if (m == NULL)
		return AM_ERR_NOMEM;
	m->from = from;
	m->seq = from;
	m->max = max;
	int rc = send_msg(h, m);
	free(m);
	return rc;
}

/* Sends PUSH (or ENTRIES, FORKS) of n raw entries of one feed. */
static int
send_entries(struct hostile *h, uint32_t type, const uint8_t *circle,
	const uint8_t *author, uint8_t *const raw[], const size_t len[], uint32_t n)
{
	struct am_sync_msg *m = msg_new(type, circle, author);
	if (m == NULL)
		return AM_ERR_NOMEM;
	for (uint32_t i = 0; i < n; i++) {
		m->raw[i] = raw[i];
		m->len[i] = len[i];
	}
	m->n = n;
	int rc = send_msg(h, m);
	free(m);
	return rc;
}

/* ---- answering the node as a quiet honest peer ---- */

struct range {
	uint8_t *raw[AM_SYNC_MAX_ITEMS];
	size_t len[AM_SYNC_MAX_ITEMS];
	uint32_t n;
	size_t bytes;
};

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

static void
range_free(struct range *r)
{
	for (uint32_t i = 0; i < r->n; i++)
		free(r->raw[i]);
	r->n = 0;
	r->bytes = 0;
}

/* Reads entries from..to of a feed from the member's own store. */
static int
read_range(struct hostile *h, const uint8_t *circle, const uint8_t *author,
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
			(void)send_simple(h, AM_SYNC_DONE, NULL, NULL, 0, 0);
		break;
	case AM_SYNC_WANT:
		if (read_range(h, m->circle, m->author, m->from,
		    m->from + m->max - 1, &r) == AM_OK) {
			(void)send_entries(h, AM_SYNC_ENTRIES, m->circle, m->author,
				r.raw, r.len, r.n);
			range_free(&r);
		}
		break;
	case AM_SYNC_WANT_FORKS:
		(void)send_entries(h, AM_SYNC_FORKS, m->circle, m->author, NULL,
			NULL, 0);
		break;
	case AM_SYNC_PUSH: {
		struct am_entry e;
		if (m->n > 0 && am_entry_decode(m->raw[m->n - 1],
		    m->len[m->n - 1], &e) == AM_OK)
			(void)send_simple(h, AM_SYNC_ACK, m->circle, m->author,
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
	short_hex(m->circle, c);
	short_hex(m->author, a);
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
			type_names[m->type], c, a, m->n);
		break;
	case AM_SYNC_WANT:
		printf("got WANT circle %s author %s from %llu max %llu\n", c, a,
			(unsigned long long)m->from, (unsigned long long)m->max);
		break;
	case AM_SYNC_HEADS:
		printf("got HEADS circle %s with %u feeds\n", c, m->n);
		break;
	default:
		printf("got %s\n", type_names[m->type]);
		break;
	}
}

/*
 * Waits at most timeout_ms for the next message from the node, answering
 * it if it asks something. AM_OK with h->in filled; AM_ERR_NOT_FOUND when
 * nothing came in time; AM_ERR_UNREACHABLE when the connection dropped.
 */
static int
next_msg(struct hostile *h, int64_t timeout_ms)
{
	int64_t end = mono_ms() + timeout_ms;
	for (;;) {
		zmq_pollitem_t it[2] = {
			{ h->sock, 0, ZMQ_POLLIN, 0 },
			{ h->mon, 0, ZMQ_POLLIN, 0 },
		};
		int64_t left = end - mono_ms();
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
		if (!h->quiet)
			print_msg(h->in);
		answer(h, h->in);
		return AM_OK;
	}
}

static bool
matches(const struct am_sync_msg *m, const struct want *w)
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
static int
await(struct hostile *h, const struct want *w, int64_t timeout_ms)
{
	int64_t end = mono_ms() + timeout_ms;
	int rc;
	while ((rc = next_msg(h, end - mono_ms())) == AM_OK)
		if (matches(h->in, w))
			return AM_OK;
	return rc;
}

static int
await_error(struct hostile *h, uint64_t code, uint64_t about)
{
	struct want w = { .type = AM_SYNC_ERROR, .code = code, .about = about };
	int rc = await(h, &w, WAIT_MS);
	if (rc != AM_OK)
		return unexpected("no ERROR %llu about %llu came (%s)",
			(unsigned long long)code, (unsigned long long)about,
			am_strerror(rc));
	return 0;
}

static int
await_ack(struct hostile *h, const uint8_t *circle, const uint8_t *author,
	uint64_t seq)
{
	struct want w = { .type = AM_SYNC_ACK, .circle = circle, .author = author,
		.seq = seq };
	int rc = await(h, &w, WAIT_MS);
	if (rc != AM_OK)
		return unexpected("no ACK at %llu came (%s)",
			(unsigned long long)seq, am_strerror(rc));
	return 0;
}

/* Starts the node's session with us: our HELLO, its HELLO back. The
 * node then also knows which connection is ours. */
static int
open_session(struct hostile *h)
{
	struct want w = { .type = AM_SYNC_HELLO };
	if (send_simple(h, AM_SYNC_HELLO, NULL, NULL, 0, 0) != AM_OK)
		return AM_ERR_NET;
	return await(h, &w, WAIT_MS);
}

/*
 * A request the node must answer, sent after a case's messages: since a
 * session handles messages in order, its answer (ENTRIES of our own first
 * entry in circle) shows that everything before was taken, and that the
 * connection still serves.
 */
static int
marker(struct hostile *h, const uint8_t *circle, int64_t timeout_ms)
{
	struct want w = { .type = AM_SYNC_ENTRIES, .circle = circle,
		.author = h->self };
	if (send_simple(h, AM_SYNC_WANT, circle, h->self, 1, 1) != AM_OK)
		return AM_ERR_NET;
	return await(h, &w, timeout_ms);
}

/* ---- entries ---- */

struct made {
	uint8_t *raw;
	size_t len;
	struct am_entry e;
};

/* Signs a statement of id at seq in circle, linked to prev (NULL for
 * none): a valid entry, unless the case then breaks it. */
static int
make_entry(const struct am_identity *id, const uint8_t *circle, uint64_t seq,
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

static int
push_one(struct hostile *h, const uint8_t *circle, const uint8_t *author,
	struct made *m)
{
	return send_entries(h, AM_SYNC_PUSH, circle, author, &m->raw, &m->len, 1);
}

/* The member's head in circle, by its own store. */
static int
own_head(struct hostile *h, const uint8_t *circle, uint64_t *seq,
	uint8_t hash[static AM_HASH_BYTES])
{
	int rc = am_store_head(h->store, circle, h->self, seq, hash);
	if (rc == AM_OK && *seq == 0)
		rc = AM_ERR_NOT_FOUND;
	if (rc != AM_OK)
		printf("no entry of ours in that circle: %s\n", am_strerror(rc));
	return rc;
}

/* ---- the cases ---- */

/* good CIRCLE: a valid new entry, which the node must take (the control
 * that shows this peer's pushes reach the node at all). */
static int
case_good(struct hostile *h, const uint8_t *circle)
{
	struct am_body b;
	struct range r;
	uint64_t seq;
	uint8_t hash[AM_HASH_BYTES];
	int rc;

	memset(&b, 0, sizeof b);
	b.kind = AM_KIND_STATEMENT;
	b.note = am_str_c("an honest statement from the hostile peer");
	if (am_store_append(h->store, h->id, circle, TIME_MS, &b, hash, &seq) != AM_OK ||
	    read_range(h, circle, h->self, seq, seq, &r) != AM_OK || r.n != 1)
		return unexpected("could not write our own entry");
	rc = send_entries(h, AM_SYNC_PUSH, circle, h->self, r.raw, r.len, 1);
	range_free(&r);
	if (rc != AM_OK || await_ack(h, circle, h->self, seq) != 0)
		return 1;
	printf("ok: entry %llu taken\n", (unsigned long long)seq);
	return 0;
}

enum breakage { FORGED_SIG, ALTERED_BODY, BROKEN_CHAIN, GAP, FORGED_IN_RUN };

/* The next entry of our feed, broken one way; the node must keep our head
 * where it was (refusals inside a PUSH are the node's events, and its
 * ACK says what it holds). */
static int
case_broken(struct hostile *h, const uint8_t *circle, enum breakage how)
{
	static const char text[] = "hostile statement: aaaa";
	uint8_t hash[AM_HASH_BYTES], other[AM_HASH_BYTES];
	struct made m = { 0 }, skipped = { 0 };
	uint64_t seq;
	int rc = 1, sent;

	if (own_head(h, circle, &seq, hash) != AM_OK)
		return 1;
	switch (how) {
	case FORGED_SIG:
		if (make_entry(h->id, circle, seq + 1, hash, text, &m) != AM_OK)
			goto out;
		m.raw[m.len - 1] ^= 0x01;       /* the signature is the last bin */
		break;
	case ALTERED_BODY: {
		if (make_entry(h->id, circle, seq + 1, hash, text, &m) != AM_OK)
			goto out;
		uint8_t *p = memmem(m.raw, m.len, "aaaa", 4);
		if (p == NULL)
			goto out;
		p[3] = 'b';                     /* still a valid string */
		break;
	}
	case BROKEN_CHAIN:
		randombytes_buf(other, sizeof other);
		if (make_entry(h->id, circle, seq + 1, other, text, &m) != AM_OK)
			goto out;
		break;
	case GAP:
		/* seq + 2, linked to a seq + 1 the node never sees */
		if (make_entry(h->id, circle, seq + 1, hash, text, &skipped) != AM_OK ||
		    make_entry(h->id, circle, seq + 2, skipped.e.hash, text, &m) != AM_OK)
			goto out;
		break;
	case FORGED_IN_RUN:
		/* seq + 1 with a broken signature, then seq + 2, validly signed
		 * and linked to the broken entry's hash: the run's newest
		 * signature is good, its first is not */
		if (make_entry(h->id, circle, seq + 1, hash, text, &skipped) != AM_OK)
			goto out;
		skipped.raw[skipped.len - 1] ^= 0x01;
		am_hash(skipped.raw, skipped.len, other);
		if (make_entry(h->id, circle, seq + 2, other, text, &m) != AM_OK)
			goto out;
		break;
	}
	if (how == FORGED_IN_RUN) {
		uint8_t *raw[2] = { skipped.raw, m.raw };
		size_t len[2] = { skipped.len, m.len };
		sent = send_entries(h, AM_SYNC_PUSH, circle, h->self, raw, len, 2);
	} else {
		sent = push_one(h, circle, h->self, &m);
	}
	if (sent != AM_OK || await_ack(h, circle, h->self, seq) != 0)
		goto out;
	printf("ok: our feed stays at %llu\n", (unsigned long long)seq);
	rc = 0;
out:
	free(m.raw);
	free(skipped.raw);
	return rc;
}

/* non-member CIRCLE: a valid entry signed by a key that is no member. */
static int
case_non_member(struct hostile *h, const uint8_t *circle)
{
	struct am_identity *x = NULL;
	struct made m = { 0 };
	int rc = 1;

	if (am_identity_generate(&x) != AM_OK ||
	    make_entry(x, circle, 1, NULL, "a stranger speaks", &m) != AM_OK)
		goto out;
	if (push_one(h, circle, am_identity_public(x), &m) != AM_OK ||
	    await_ack(h, circle, am_identity_public(x), 0) != 0)
		goto out;
	printf("ok: the stranger's feed stays empty\n");
	rc = 0;
out:
	free(m.raw);
	am_identity_destroy(&x);
	return rc;
}

/* replay CIRCLE: entries the node holds already (our newest, and the
 * circle creator's whole feed as one run): taken as no-ops, ACKed at the
 * heads the node already had. */
static int
case_replay(struct hostile *h, const uint8_t *circle)
{
	struct range r;
	uint64_t seq;
	uint8_t hash[AM_HASH_BYTES];

	if (own_head(h, circle, &seq, hash) != AM_OK ||
	    read_range(h, circle, h->self, seq, seq, &r) != AM_OK || r.n != 1)
		return unexpected("could not read our own entry");
	int rc = send_entries(h, AM_SYNC_PUSH, circle, h->self, r.raw, r.len, 1);
	range_free(&r);
	if (rc != AM_OK || await_ack(h, circle, h->self, seq) != 0)
		return 1;
	if (read_range(h, circle, h->server, 1, UINT64_MAX >> 1, &r) != AM_OK ||
	    r.n == 0)
		return unexpected("could not read the node's feed from our store");
	uint32_t n = r.n;
	rc = send_entries(h, AM_SYNC_PUSH, circle, h->server, r.raw, r.len, n);
	range_free(&r);
	struct want w = { .type = AM_SYNC_ACK, .circle = circle,
		.author = h->server, .any_seq = true };
	if (rc != AM_OK || (rc = await(h, &w, WAIT_MS)) != AM_OK)
		return unexpected("no ACK for the replayed run (%s)", am_strerror(rc));
	if (h->in->seq < n)
		return unexpected("the node reports %llu entries of its own feed, "
			"fewer than the %u replayed", (unsigned long long)h->in->seq, n);
	printf("ok: replayed our entry %llu and %u of the node's own; heads "
		"unchanged\n", (unsigned long long)seq, n);
	return 0;
}

/* fork CIRCLE: a second, validly signed entry at our newest number. The
 * node must keep it as fork evidence, not as our feed's entry. */
static int
case_fork(struct hostile *h, const uint8_t *circle)
{
	uint8_t hash[AM_HASH_BYTES], prev[AM_HASH_BYTES];
	char hex[2 * AM_HASH_BYTES + 1], text[64];
	struct made m = { 0 };
	struct range r;
	uint64_t seq;
	int rc = 1;

	if (own_head(h, circle, &seq, hash) != AM_OK)
		return 1;
	if (seq > 1) {
		if (read_range(h, circle, h->self, seq - 1, seq - 1, &r) != AM_OK ||
		    r.n != 1)
			return unexpected("could not read our entry %llu",
				(unsigned long long)(seq - 1));
		am_hash(r.raw[0], r.len[0], prev);
		range_free(&r);
	}
	/* a new text each time, so that each run's fork is new evidence */
	snprintf(text, sizeof text, "a second entry at a number already used "
		"(%08x)", (unsigned)randombytes_random());
	if (make_entry(h->id, circle, seq, seq > 1 ? prev : NULL, text,
	    &m) != AM_OK)
		goto out;
	am_hex(m.e.hash, AM_HASH_BYTES, hex);
	printf("fork entry %s at %llu\n", hex, (unsigned long long)seq);
	if (push_one(h, circle, h->self, &m) != AM_OK ||
	    await_ack(h, circle, h->self, seq) != 0)
		goto out;
	printf("ok: our feed stays at %llu\n", (unsigned long long)seq);
	rc = 0;
out:
	free(m.raw);
	return rc;
}

/* foreign-entry CIRCLE: our own valid entry in a circle we are not in. */
static int
case_foreign_entry(struct hostile *h, const uint8_t *circle)
{
	struct made m = { 0 };
	int rc = 1;
	if (make_entry(h->id, circle, 1, NULL, "let me in", &m) != AM_OK)
		goto out;
	if (push_one(h, circle, h->self, &m) != AM_OK ||
	    await_error(h, AM_ERR_NOT_SHARED, AM_SYNC_PUSH) != 0)
		goto out;
	printf("ok: refused as not shared\n");
	rc = 0;
out:
	free(m.raw);
	return rc;
}

/* foreign-genesis: a stranger's new circle, which the node is not in,
 * pushed as if it were ours to share. */
static int
case_foreign_genesis(struct hostile *h)
{
	struct am_identity *x = NULL;
	struct am_body b;
	struct am_entry_draft d = { .seq = 1, .time = TIME_MS, .body = &b };
	struct made m = { 0 };
	char c[2 * AM_HASH_BYTES + 1];
	int rc = 1;

	memset(&b, 0, sizeof b);
	b.kind = AM_KIND_GENESIS;
	b.name = am_str_c("not your circle");
	randombytes_buf(b.nonce, sizeof b.nonce);
	if (am_identity_generate(&x) != AM_OK)
		goto out;
	am_circle_id(am_identity_public(x), b.nonce, d.circle);
	if (am_entry_sign(x, &d, &m.raw, &m.len, &m.e) != AM_OK)
		goto out;
	am_hex(d.circle, AM_HASH_BYTES, c);
	printf("stranger's circle %s\n", c);
	if (push_one(h, d.circle, am_identity_public(x), &m) != AM_OK)
		goto out;
	struct want w = { .type = AM_SYNC_ACK, .circle = d.circle,
		.author = am_identity_public(x), .any_seq = true };
	struct want e = { .type = AM_SYNC_ERROR, .code = AM_ERR_NOT_SHARED,
		.about = AM_SYNC_PUSH };
	int64_t end = mono_ms() + WAIT_MS;
	while (next_msg(h, end - mono_ms()) == AM_OK) {
		if (matches(h->in, &e)) {
			printf("ok: refused as not shared\n");
			rc = 0;
			break;
		}
		if (matches(h->in, &w)) {
			if (h->in->seq == 0) {
				printf("ok: nothing of it kept\n");
				rc = 0;
			} else {
				unexpected("the node stored a circle it is not in "
					"(ACK at %llu)", (unsigned long long)h->in->seq);
			}
			break;
		}
	}
out:
	free(m.raw);
	am_identity_destroy(&x);
	return rc;
}

/* foreign-request CIRCLE AUTHOR-ID: asks for a circle we are not in, by
 * WANT, WANT_FORKS and DIGESTS; then a marker request of our own circle.
 * No entry of the foreign circle may come back. */
static int
case_foreign_request(struct hostile *h, const uint8_t *circle,
	const uint8_t *author, const uint8_t *ours)
{
	struct am_sync_msg *m = msg_new(AM_SYNC_DIGESTS, NULL, NULL);
	int rc;
	if (m == NULL)
		return 1;
	m->final = true;
	m->n = 1;
	memcpy(m->digests[0].circle, circle, AM_HASH_BYTES);
	rc = send_simple(h, AM_SYNC_WANT, circle, author, 1, AM_SYNC_MAX_ITEMS);
	if (rc == AM_OK)
		rc = send_simple(h, AM_SYNC_WANT_FORKS, circle, author, 0, 0);
	if (rc == AM_OK)
		rc = send_msg(h, m);
	free(m);
	if (rc != AM_OK || await_error(h, AM_ERR_NOT_SHARED, AM_SYNC_WANT) != 0 ||
	    await_error(h, AM_ERR_NOT_SHARED, AM_SYNC_WANT_FORKS) != 0 ||
	    await_error(h, AM_ERR_NOT_SHARED, AM_SYNC_DIGESTS) != 0)
		return 1;
	/* anything leaked would come before the marker's answer */
	struct want w = { .type = AM_SYNC_ENTRIES, .circle = ours, .author = h->self };
	if (send_simple(h, AM_SYNC_WANT, ours, h->self, 1, 1) != AM_OK)
		return 1;
	int64_t end = mono_ms() + WAIT_MS;
	while ((rc = next_msg(h, end - mono_ms())) == AM_OK) {
		if ((h->in->type == AM_SYNC_ENTRIES || h->in->type == AM_SYNC_FORKS ||
		    h->in->type == AM_SYNC_PUSH || h->in->type == AM_SYNC_HEADS) &&
		    memcmp(h->in->circle, circle, AM_HASH_BYTES) == 0)
			return unexpected("the node sent %s of the foreign circle",
				type_names[h->in->type]);
		if (matches(h->in, &w))
			break;
	}
	if (rc != AM_OK)
		return unexpected("the marker request was not answered (%s)",
			am_strerror(rc));
	printf("ok: three refusals, nothing of the circle sent\n");
	return 0;
}

/* oversize: one frame over ZMQ_MAXMSGSIZE; the node's transport must
 * drop the connection. */
static int
case_oversize(struct hostile *h)
{
	size_t len = AM_WIRE_MAX_FRAME + 1;
	uint8_t *big = malloc(len);
	int rc;
	if (big == NULL)
		return 1;
	memset(big, 0xc0, len);
	rc = send_bytes(h, big, len, 0);
	free(big);
	if (rc != AM_OK)
		return 1;
	while ((rc = next_msg(h, WAIT_MS)) == AM_OK)
		;
	if (rc != AM_ERR_UNREACHABLE)
		return unexpected("the connection was not dropped (%s)",
			am_strerror(rc));
	printf("ok: connection dropped after a frame of %zu bytes\n", len);
	return 0;
}

/* over-data CIRCLE: a frame within ZMQ_MAXMSGSIZE but over the 1 MiB of
 * a message, then a message of two frames: both dropped by the transport
 * before the session sees them; the connection still serves. */
static int
case_over_data(struct hostile *h, const uint8_t *ours)
{
	size_t len = AM_WIRE_MAX_DATA + 1;
	uint8_t *big = malloc(len);
	uint8_t hello[] = { 0x94, 0x01, 0x01, 0xc4, 0x20 };
	int rc;
	if (big == NULL)
		return 1;
	memset(big, 0xc0, len);
	rc = send_bytes(h, big, len, 0);
	free(big);
	if (rc != AM_OK || send_bytes(h, hello, sizeof hello, ZMQ_SNDMORE) != AM_OK ||
	    send_bytes(h, hello, sizeof hello, 0) != AM_OK)
		return 1;
	if ((rc = marker(h, ours, WAIT_MS)) != AM_OK)
		return unexpected("the connection stopped serving (%s)",
			am_strerror(rc));
	if (h->got[AM_SYNC_ERROR] > 0)
		return unexpected("a dropped frame reached the session");
	printf("ok: both dropped; the connection still serves\n");
	return 0;
}

/* truncated CIRCLE: a PUSH of a valid entry cut short (outside, then
 * inside the entry, then a message of no bytes at all). */
static int
case_truncated(struct hostile *h, const uint8_t *circle)
{
	uint8_t hash[AM_HASH_BYTES], *buf = NULL;
	struct made m = { 0 };
	struct am_sync_msg *msg = NULL;
	uint64_t seq;
	size_t len;
	int rc = 1;

	if (own_head(h, circle, &seq, hash) != AM_OK ||
	    make_entry(h->id, circle, seq + 1, hash, "cut short", &m) != AM_OK ||
	    (msg = msg_new(AM_SYNC_PUSH, circle, h->self)) == NULL)
		goto out;
	msg->n = 1;
	msg->raw[0] = m.raw;
	msg->len[0] = m.len;
	if (am_sync_msg_encode(msg, &buf, &len) != AM_OK)
		goto out;
	/* the whole message, cut after the circle: two fields are missing */
	if (send_bytes(h, buf, 3 + 2 + AM_HASH_BYTES, 0) != AM_OK ||
	    await_error(h, AM_ERR_TRUNCATED, 0) != 0)
		goto out;
	/* a well-formed message whose entry is cut: the entry's own decoder */
	msg->len[0] = m.len - 20;
	free(buf);
	if (am_sync_msg_encode(msg, &buf, &len) != AM_OK ||
	    send_bytes(h, buf, len, 0) != AM_OK)
		goto out;
	struct want w = { .type = AM_SYNC_ERROR, .code = AM_ERR_TRUNCATED,
		.any_about = true };
	struct want w2 = { .type = AM_SYNC_ERROR, .code = AM_ERR_LENGTH,
		.any_about = true };
	int64_t end = mono_ms() + WAIT_MS;
	bool got = false;
	while (!got && next_msg(h, end - mono_ms()) == AM_OK)
		got = matches(h->in, &w) || matches(h->in, &w2);
	if (!got) {
		unexpected("the cut entry was not refused");
		goto out;
	}
	if (send_bytes(h, "", 0, 0) != AM_OK ||
	    await_error(h, AM_ERR_TRUNCATED, 0) != 0)
		goto out;
	printf("ok: three refusals\n");
	rc = 0;
out:
	free(buf);
	free(msg);
	free(m.raw);
	return rc;
}

/* huge-length CIRCLE: length headers claiming 4 GiB: an array32 of
 * entries, a bin32 entry, a top-level str32. */
static int
case_huge_length(struct hostile *h, const uint8_t *circle)
{
	uint8_t msg[96];
	size_t n = 0;

	/* [1, 7, circle, author, array32(0xffffffff) ...] */
	msg[n++] = 0x95;
	msg[n++] = 0x01;
	msg[n++] = AM_SYNC_PUSH;
	msg[n++] = 0xc4;
	msg[n++] = 0x20;
	memcpy(msg + n, circle, 32);
	n += 32;
	msg[n++] = 0xc4;
	msg[n++] = 0x20;
	memcpy(msg + n, h->self, 32);
	n += 32;
	size_t list = n;
	msg[n++] = 0xdd;
	memset(msg + n, 0xff, 4);
	n += 4;
	memset(msg + n, 0xc0, 8);
	n += 8;
	if (send_bytes(h, msg, n, 0) != AM_OK ||
	    await_error(h, AM_ERR_LENGTH, 0) != 0)
		return 1;
	/* [..., [bin32(0xffffffff) ...]] */
	n = list;
	msg[n++] = 0x91;
	msg[n++] = 0xc6;
	memset(msg + n, 0xff, 4);
	n += 4;
	memset(msg + n, 0x00, 16);
	n += 16;
	if (send_bytes(h, msg, n, 0) != AM_OK ||
	    await_error(h, AM_ERR_LENGTH, 0) != 0)
		return 1;
	static const uint8_t str32[] = { 0xdb, 0xff, 0xff, 0xff, 0xff, 'a', 'b' };
	if (send_bytes(h, str32, sizeof str32, 0) != AM_OK ||
	    await_error(h, AM_ERR_LENGTH, 0) != 0)
		return 1;
	printf("ok: three refusals\n");
	return 0;
}

/* deep: arrays nested 10,000 deep. */
static int
case_deep(struct hostile *h)
{
	enum { DEPTH = 10000 };
	uint8_t *msg = malloc(DEPTH + 1);
	int rc;
	if (msg == NULL)
		return 1;
	memset(msg, 0x91, DEPTH);
	msg[DEPTH] = 0xc0;
	rc = send_bytes(h, msg, DEPTH + 1, 0);
	free(msg);
	if (rc != AM_OK || await_error(h, AM_ERR_DEPTH, 0) != 0)
		return 1;
	printf("ok: refused as too deep\n");
	return 0;
}

/* unknown-type: types 12 and 99 of version 1, and a version 2. */
static int
case_unknown_type(struct hostile *h)
{
	static const uint8_t t12[] = { 0x92, 0x01, 0x0c };
	static const uint8_t t99[] = { 0x93, 0x01, 0x63, 0xc0 };
	static const uint8_t v2[] = { 0x92, 0x02, 0x01 };
	if (send_bytes(h, t12, sizeof t12, 0) != AM_OK ||
	    await_error(h, AM_ERR_MSG_TYPE, 0) != 0 ||
	    send_bytes(h, t99, sizeof t99, 0) != AM_OK ||
	    await_error(h, AM_ERR_MSG_TYPE, 0) != 0 ||
	    send_bytes(h, v2, sizeof v2, 0) != AM_OK ||
	    await_error(h, AM_ERR_VERSION, 0) != 0)
		return 1;
	printf("ok: three refusals\n");
	return 0;
}

/*
 * flood CIRCLE N: N small messages as fast as the node takes them, without
 * reading its answers meanwhile (HELLOs with a wrong summary, unsolicited
 * ACKs, unknown types, empty frames, in turn), then the marker request,
 * read through whatever the node queued for us. Prints how many were sent
 * and how long it took.
 */
static int
case_flood(struct hostile *h, const uint8_t *circle, long count)
{
	uint8_t hello[38] = { 0x94, 0x01, 0x01, 0xc4, 0x20 };
	uint8_t ack[72] = { 0x95, 0x01, 0x08, 0xc4, 0x20 };
	static const uint8_t t12[] = { 0x92, 0x01, 0x0c };
	int64_t start = mono_ms(), end = start + FLOOD_MS;
	long sent = 0;
	int rc;

	/* [1, ACK, circle, our ID, 5] */
	memcpy(ack + 5, circle, 32);
	ack[37] = 0xc4;
	ack[38] = 0x20;
	memcpy(ack + 39, h->self, 32);
	ack[71] = 0x05;
	h->quiet = true;
	while (sent < count && mono_ms() < end && !h->down) {
		const void *p;
		size_t n;
		switch (sent % 4) {
		case 0:
			randombytes_buf(hello + 5, 32);
			hello[37] = 0x01;
			p = hello;
			n = sizeof hello;
			break;
		case 1: p = ack; n = sizeof ack; break;
		case 2: p = t12; n = sizeof t12; break;
		default: p = ""; n = 0; break;
		}
		if (zmq_send(h->sock, p, n, 0) < 0) {
			if (zmq_errno() == EAGAIN || zmq_errno() == EINTR)
				continue;      /* the node is busy: try again */
			return unexpected("send failed: %s", zmq_strerror(zmq_errno()));
		}
		if (++sent == 1000)
			printf("flooding\n");
	}
	int64_t sent_ms = mono_ms() - start;
	printf("sent %ld messages in %lld ms\n", sent, (long long)sent_ms);
	if (sent < count)
		return unexpected("only %ld of %ld messages went out", sent, count);
	rc = marker(h, circle, end - mono_ms());
	printf("answers read: %lu ERROR, %lu HELLO, %lu DIGESTS\n",
		h->got[AM_SYNC_ERROR], h->got[AM_SYNC_HELLO], h->got[AM_SYNC_DIGESTS]);
	if (rc != AM_OK)
		return unexpected("the marker request was not answered (%s)",
			am_strerror(rc));
	printf("ok: %ld messages taken in %lld ms\n", sent,
		(long long)(mono_ms() - start));
	return 0;
}

/* ---- main ---- */

static const char usage[] =
	"usage: hostile HOME ENDPOINT SERVER-ID CASE [ARG...]\n"
	"       hostile raw ENDPOINT\n"
	"       hostile digest DB CIRCLE-HEX\n"
	"cases: good C, forged-sig C, forged-in-run C, altered-body C,\n"
	"       broken-chain C, gap C,\n"
	"       non-member C, replay C, fork C, foreign-entry C, foreign-genesis,\n"
	"       foreign-request C AUTHOR-ID OUR-C, oversize, over-data C,\n"
	"       truncated C, huge-length C, deep, unknown-type, flood C N\n"
	"(C: a circle's ID in hex)\n";

static int
run_case(struct hostile *h, int argc, char **argv)
{
	const char *name = argv[0];
	uint8_t c[AM_HASH_BYTES], a[AM_ID_BYTES], o[AM_HASH_BYTES];
	bool has_c = argc > 1 && hex32(argv[1], c);

	if (strcmp(name, "good") == 0 && has_c)
		return case_good(h, c);
	if (strcmp(name, "forged-sig") == 0 && has_c)
		return case_broken(h, c, FORGED_SIG);
	if (strcmp(name, "altered-body") == 0 && has_c)
		return case_broken(h, c, ALTERED_BODY);
	if (strcmp(name, "broken-chain") == 0 && has_c)
		return case_broken(h, c, BROKEN_CHAIN);
	if (strcmp(name, "gap") == 0 && has_c)
		return case_broken(h, c, GAP);
	if (strcmp(name, "forged-in-run") == 0 && has_c)
		return case_broken(h, c, FORGED_IN_RUN);
	if (strcmp(name, "non-member") == 0 && has_c)
		return case_non_member(h, c);
	if (strcmp(name, "replay") == 0 && has_c)
		return case_replay(h, c);
	if (strcmp(name, "fork") == 0 && has_c)
		return case_fork(h, c);
	if (strcmp(name, "foreign-entry") == 0 && has_c)
		return case_foreign_entry(h, c);
	if (strcmp(name, "foreign-genesis") == 0)
		return case_foreign_genesis(h);
	if (strcmp(name, "foreign-request") == 0 && has_c && argc > 3 &&
	    am_id_parse(argv[2], a) == AM_OK && hex32(argv[3], o))
		return case_foreign_request(h, c, a, o);
	if (strcmp(name, "oversize") == 0)
		return case_oversize(h);
	if (strcmp(name, "over-data") == 0 && has_c)
		return case_over_data(h, c);
	if (strcmp(name, "truncated") == 0 && has_c)
		return case_truncated(h, c);
	if (strcmp(name, "huge-length") == 0 && has_c)
		return case_huge_length(h, c);
	if (strcmp(name, "deep") == 0)
		return case_deep(h);
	if (strcmp(name, "unknown-type") == 0)
		return case_unknown_type(h);
	if (strcmp(name, "flood") == 0 && has_c && argc > 2) {
		long n = strtol(argv[2], NULL, 10);
		if (n >= 1 && n <= 1000000)
			return case_flood(h, c, n);
	}
	fprintf(stderr, "%s", usage);
	return 2;
}

int
main(int argc, char **argv)
{
	struct hostile h = { 0 };
	char *key = NULL, *db = NULL;
	int ret = 2;

	setvbuf(stdout, NULL, _IOLBF, 0);
	if (sodium_init() < 0)
		return 2;
	if (argc >= 2 && strcmp(argv[1], "raw") == 0)
		return raw_main(argc - 1, argv + 1);
	if (argc >= 2 && strcmp(argv[1], "digest") == 0)
		return digest_main(argc - 1, argv + 1);
	if (argc < 5 || am_id_parse(argv[3], h.server) != AM_OK) {
		fprintf(stderr, "%s", usage);
		return 2;
	}
	if ((key = am_home_path(argv[1], AM_HOME_KEY)) == NULL ||
	    (db = am_home_path(argv[1], AM_HOME_DB)) == NULL ||
	    am_identity_load(key, &h.id) != AM_OK ||
	    am_store_open(db, &h.store) != AM_OK ||
	    (h.in = malloc(sizeof *h.in)) == NULL) {
		fprintf(stderr, "hostile: cannot open the member's data directory %s\n",
			argv[1]);
		goto out;
	}
	h.self = am_identity_public(h.id);
	ret = 1;
	if (connect_node(&h, argv[2]) != AM_OK) {
		unexpected("no handshake with the node at %s", argv[2]);
		goto out;
	}
	if (open_session(&h) != AM_OK) {
		unexpected("the node did not start a session");
		goto out;
	}
	ret = run_case(&h, argc - 4, argv + 4);
out:
	disconnect_node(&h);
	free(h.buf);
	free(h.in);
	am_store_close(&h.store);
	am_identity_destroy(&h.id);
	free(key);
	free(db);
	return ret;
}
