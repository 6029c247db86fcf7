/*
 * What the hostile test peer does without a member's key (hostile.h): it
 * speaks to the node's port before any handshake, as anyone on the network
 * could, and it recomputes a circle's digest from a node's database by the
 * rules of protocol/entry.md, so that a test can check that fork evidence
 * counts in the digest exactly as the specification says, and nothing
 * else does.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>
#include <sqlite3.h>

#include "hostile.h"

#define RAW_WAIT_MS 15000      /* the node closes silent clients after 5 s */

static int64_t
now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ---- raw bytes before the handshake ---- */

struct raw_conn {
	const char *what;
	uint8_t bytes[128];
	size_t len;
	int fd;
	bool closed;
	int64_t closed_ms;
	size_t heard;              /* bytes the node sent us */
};

/* Parses "tcp://A.B.C.D:PORT". */
static bool
parse_endpoint(const char *ep, struct sockaddr_in *sa)
{
	char host[64];
	const char *colon;
	if (strncmp(ep, "tcp://", 6) != 0 || (colon = strrchr(ep, ':')) == NULL ||
	    colon - (ep + 6) <= 0 || (size_t)(colon - (ep + 6)) >= sizeof host)
		return false;
	memcpy(host, ep + 6, (size_t)(colon - (ep + 6)));
	host[colon - (ep + 6)] = '\0';
	long port = strtol(colon + 1, NULL, 10);
	memset(sa, 0, sizeof *sa);
	sa->sin_family = AF_INET;
	sa->sin_port = htons((uint16_t)port);
	return port > 0 && port < 65536 && inet_pton(AF_INET, host, &sa->sin_addr) == 1;
}

/* A ZMTP 3.0 greeting naming mechanism mech. */
static size_t
greeting(uint8_t out[64], const char *mech)
{
	memset(out, 0, 64);
	out[0] = 0xff;
	out[9] = 0x7f;
	out[10] = 3;
	memcpy(out + 12, mech, strlen(mech));
	return 64;
}

static void
raw_setup(struct raw_conn *c, size_t n)
{
	static const char http[] = "GET / HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n";
	for (size_t i = 0; i < n; i++) {
		c[i].fd = -1;
		c[i].closed = false;
		c[i].heard = 0;
	}
	c[0].what = "silence";
	c[0].len = 0;
	c[1].what = "random bytes";
	randombytes_buf(c[1].bytes, 64);
	c[1].bytes[0] = 0xff;     /* looks like a ZMTP signature at first */
	c[1].len = 64;
	c[2].what = "an HTTP request";
	memcpy(c[2].bytes, http, sizeof http - 1);
	c[2].len = sizeof http - 1;
	c[3].what = "a greeting for the NULL mechanism";
	c[3].len = greeting(c[3].bytes, "NULL");
	c[4].what = "a greeting for the PLAIN mechanism";
	c[4].len = greeting(c[4].bytes, "PLAIN");
	/* a CURVE greeting, then a HELLO command of garbage */
	c[5].what = "a CURVE greeting and a garbled HELLO";
	c[5].len = greeting(c[5].bytes, "CURVE");
	c[5].bytes[64] = 0x04;
	c[5].bytes[65] = 60;
	memcpy(c[5].bytes + 66, "\x05HELLO", 6);
	randombytes_buf(c[5].bytes + 72, 54);
	c[5].len = 126;
	c[6].what = "a length header claiming 2^63 bytes";
	memset(c[6].bytes, 0xff, 9);
	c[6].bytes[1] = 0x7f;
	c[6].bytes[9] = 0x00;
	c[6].len = 10;
}

int
raw_main(int argc, char **argv)
{
	enum { KINDS = 7, MAX_SILENT = 900 };
	struct raw_conn *c = NULL;
	struct pollfd *p = NULL;
	struct sockaddr_in sa;
	int64_t start = now_ms(), slowest = 0;
	long silent = argc == 3 ? strtol(argv[2], NULL, 10) : 0;
	int n, open_left = 0, closed = 0, ret = 0;

	if (argc < 2 || argc > 3 || !parse_endpoint(argv[1], &sa) ||
	    silent < 0 || silent > MAX_SILENT) {
		fprintf(stderr, "usage: hostile raw tcp://A.B.C.D:PORT [SILENT]\n");
		return 2;
	}
	n = KINDS + (int)silent;
	if ((c = calloc((size_t)n, sizeof *c)) == NULL ||
	    (p = calloc((size_t)n, sizeof *p)) == NULL) {
		free(c);
		return 2;
	}
	raw_setup(c, KINDS);
	/* and as many more that connect and say nothing, all at once */
	for (int i = KINDS; i < n; i++) {
		c[i].what = "silence";
		c[i].fd = -1;
	}
	for (int i = 0; i < n; i++) {
		c[i].fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (c[i].fd < 0 ||
		    connect(c[i].fd, (struct sockaddr *)&sa, sizeof sa) != 0) {
			printf("connection %d (%s): cannot connect: %s\n", i, c[i].what,
				strerror(errno));
			ret = 1;
			c[i].closed = true;
			continue;
		}
		if (c[i].len > 0 && send(c[i].fd, c[i].bytes, c[i].len,
		    MSG_NOSIGNAL) != (ssize_t)c[i].len)
			printf("connection %d (%s): could not send all\n", i, c[i].what);
		open_left++;
	}
	printf("connected: %d\n", open_left);
	/* the node must close every one of them; read what it says meanwhile */
	while (open_left > 0 && now_ms() - start < RAW_WAIT_MS) {
		for (int i = 0; i < n; i++) {
			p[i].fd = c[i].closed ? -1 : c[i].fd;
			p[i].events = POLLIN;
			p[i].revents = 0;
		}
		if (poll(p, (nfds_t)n, 200) < 0 && errno != EINTR)
			break;
		for (int i = 0; i < n; i++) {
			uint8_t buf[4096];
			if (c[i].closed || !(p[i].revents & (POLLIN | POLLHUP | POLLERR)))
				continue;
			ssize_t got = recv(c[i].fd, buf, sizeof buf, 0);
			if (got > 0) {
				c[i].heard += (size_t)got;
				continue;
			}
			if (got < 0 && (errno == EINTR || errno == EAGAIN))
				continue;
			c[i].closed = true;
			c[i].closed_ms = now_ms() - start;
			open_left--;
		}
	}
	for (int i = 0; i < n; i++) {
		if (c[i].fd < 0)
			continue;
		if (!c[i].closed)
			ret = 1;
		if (c[i].closed) {
			closed++;
			if (c[i].closed_ms > slowest)
				slowest = c[i].closed_ms;
		}
		if (i < KINDS && c[i].closed)
			printf("connection %d (%s): closed by the node after %lld ms "
				"(it sent %zu bytes)\n", i, c[i].what,
				(long long)c[i].closed_ms, c[i].heard);
		else if (!c[i].closed)
			printf("connection %d (%s): still open after %d ms\n", i,
				c[i].what, RAW_WAIT_MS);
		close(c[i].fd);
	}
	printf("%s: %d of %d connections closed by the node, the last after "
		"%lld ms\n", ret == 0 ? "ok" : "unexpected", closed, n,
		(long long)slowest);
	free(p);
	free(c);
	return ret;
}

/* ---- the digest of protocol/entry.md, from the tables ---- */

static void
put_u64(crypto_generichash_state *st, uint64_t v)
{
	uint8_t b[8];
	for (int i = 7; i >= 0; i--) {
		b[i] = (uint8_t)v;
		v >>= 8;
	}
	crypto_generichash_update(st, b, 8);
}

/* Adds the hashes signed at seq of a forked feed, ascending, after their
 * count. */
static int
fork_part(sqlite3 *db, crypto_generichash_state *st, int64_t feed, int64_t seq)
{
	sqlite3_stmt *q;
	uint8_t (*hashes)[32] = NULL;
	size_t n = 0;
	int rc = sqlite3_prepare_v2(db,
		"SELECT hash FROM entries WHERE feed = ?1 AND seq = ?2 UNION "
		"SELECT hash FROM forks WHERE feed = ?1 AND seq = ?2 ORDER BY hash",
		-1, &q, NULL);
	if (rc != SQLITE_OK)
		return rc;
	sqlite3_bind_int64(q, 1, feed);
	sqlite3_bind_int64(q, 2, seq);
	while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
		void *g = realloc(hashes, (n + 1) * sizeof *hashes);
		if (g == NULL) {
			rc = SQLITE_NOMEM;
			break;
		}
		hashes = g;
		if (sqlite3_column_bytes(q, 0) != 32) {
			rc = SQLITE_CORRUPT;
			break;
		}
		memcpy(hashes[n++], sqlite3_column_blob(q, 0), 32);
	}
	sqlite3_finalize(q);
	if (rc == SQLITE_DONE) {
		put_u64(st, n);
		for (size_t i = 0; i < n; i++)
			crypto_generichash_update(st, hashes[i], 32);
		rc = SQLITE_OK;
	}
	free(hashes);
	return rc;
}

/* The hash of a feed's entry at seq, or 32 zero bytes when there is none. */
static int
hash_at(sqlite3 *db, int64_t feed, int64_t seq, uint8_t out[32])
{
	sqlite3_stmt *q;
	int rc = sqlite3_prepare_v2(db,
		"SELECT hash FROM entries WHERE feed = ?1 AND seq = ?2", -1, &q, NULL);
	if (rc != SQLITE_OK)
		return rc;
	sqlite3_bind_int64(q, 1, feed);
	sqlite3_bind_int64(q, 2, seq);
	memset(out, 0, 32);
	rc = sqlite3_step(q);
	if (rc == SQLITE_ROW && sqlite3_column_bytes(q, 0) == 32)
		memcpy(out, sqlite3_column_blob(q, 0), 32);
	sqlite3_finalize(q);
	return rc == SQLITE_ROW || rc == SQLITE_DONE ? SQLITE_OK : rc;
}

int
digest_main(int argc, char **argv)
{
	static const char tag[] = "amends-digest-v1";
	crypto_generichash_state st;
	uint8_t circle[32], out[32];
	char hex[65];
	size_t n;
	sqlite3 *db = NULL;
	sqlite3_stmt *q = NULL;
	int rc;

	if (argc != 3 || strlen(argv[2]) != 64 || sodium_hex2bin(circle, 32,
	    argv[2], 64, NULL, &n, NULL) != 0 || n != 32) {
		fprintf(stderr, "usage: hostile digest DB CIRCLE-HEX\n");
		return 2;
	}
	if (sqlite3_open_v2(argv[1], &db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK ||
	    sqlite3_busy_timeout(db, 5000) != SQLITE_OK ||
	    sqlite3_exec(db, "BEGIN", NULL, NULL, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(db, "SELECT id, author, head_seq, head_hash, "
		"coalesce(forked_at, 0) FROM feeds WHERE circle = ?1 ORDER BY author",
		-1, &q, NULL) != SQLITE_OK)
		goto fail;
	sqlite3_bind_blob(q, 1, circle, 32, SQLITE_STATIC);
	crypto_generichash_init(&st, NULL, 0, 32);
	crypto_generichash_update(&st, (const uint8_t *)tag, sizeof tag - 1);
	crypto_generichash_update(&st, circle, 32);
	while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
		int64_t feed = sqlite3_column_int64(q, 0);
		int64_t forked = sqlite3_column_int64(q, 4);
		uint8_t h[32];
		if (sqlite3_column_bytes(q, 1) != 32 || sqlite3_column_bytes(q, 3) != 32)
			goto fail;
		crypto_generichash_update(&st, sqlite3_column_blob(q, 1), 32);
		if (forked == 0) {
			put_u64(&st, (uint64_t)sqlite3_column_int64(q, 2));
			crypto_generichash_update(&st, sqlite3_column_blob(q, 3), 32);
			put_u64(&st, 0);
			continue;
		}
		/* frozen at its first fork: the entry before, then every
		 * different hash signed at the forked number */
		put_u64(&st, (uint64_t)(forked - 1));
		if (hash_at(db, feed, forked - 1, h) != SQLITE_OK)
			goto fail;
		crypto_generichash_update(&st, h, 32);
		if (fork_part(db, &st, feed, forked) != SQLITE_OK)
			goto fail;
	}
	if (rc != SQLITE_DONE)
		goto fail;
	crypto_generichash_final(&st, out, 32);
	sodium_bin2hex(hex, sizeof hex, out, 32);
	printf("%s\n", hex);
	sqlite3_finalize(q);
	sqlite3_exec(db, "COMMIT", NULL, NULL, NULL);
	sqlite3_close(db);
	return 0;
fail:
	fprintf(stderr, "hostile: cannot read %s: %s\n", argv[1],
		db != NULL ? sqlite3_errmsg(db) : "out of memory");
	sqlite3_finalize(q);
	sqlite3_close(db);
	return 2;
}
