/*
 * faultkit: the small helpers the fault test scripts need that the CLI
 * does not offer, straight through libamends.
 *
 *   faultkit author HOME CIRCLE N [PER_S]
 *       appends N statements as HOME's identity (one transaction each, as
 *       the CLI writes), printing "SEQ HASH" as each is acknowledged, so a
 *       test that kills this process knows what was acked; PER_S paces the
 *       writes. Nudges the node running on HOME as it goes.
 *   faultkit fork HOME CIRCLE X Y
 *       signs two different entries at the next number of HOME's own feed
 *       (stores neither) and writes their bytes to the files X and Y: an
 *       equivocating author.
 *   faultkit ingest HOME FILE...
 *       stores each file's entry in HOME's store as if a peer sent it,
 *       prints what happened, and nudges the node.
 *   faultkit probe ENDPOINT ID [TIMEOUT_MS]
 *       connects to the node ID at ENDPOINT (127.0.0.1 only) as a CurveZMQ
 *       client with a fresh random key, and tries to send it a signed entry.
 *       Prints "refused: why" (exit 0), "accepted" (exit 1) or "no answer"
 *       (exit 2).
 *   faultkit secrets HOME
 *       prints, one a line, the texts HOME's secret key could appear as in
 *       a log (hex, base64 and base32 of the seed, the signing key and the
 *       CurveZMQ secret), for a test to look for.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "amends/home.h"
#include "amends/node.h"
#include "amends/store.h"
#include "amends/wire.h"

#define MAX_ENTRY 65536

static int
fail(const char *what, int rc)
{
	fprintf(stderr, "faultkit: %s: %s\n", what, am_strerror(rc));
	return 1;
}

static int
parse_circle(const char *hex, uint8_t circle[static AM_HASH_BYTES])
{
	size_t n;
	if (sodium_hex2bin(circle, AM_HASH_BYTES, hex, strlen(hex), NULL, &n,
	    NULL) != 0 || n != AM_HASH_BYTES)
		return AM_ERR_ARG;
	return AM_OK;
}

/* Loads HOME's identity and opens its store. */
static int
open_home(const char *home, struct am_identity **id, struct am_store **s)
{
	char *key = am_home_path(home, AM_HOME_KEY);
	char *db = am_home_path(home, AM_HOME_DB);
	int rc = AM_ERR_NOMEM;
	if (key != NULL && db != NULL) {
		rc = id != NULL ? am_identity_load(key, id) : AM_OK;
		if (rc == AM_OK)
			rc = am_store_open(db, s);
	}
	free(key);
	free(db);
	return rc;
}

static void
pause_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000 };
	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

static int64_t
now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int
cmd_author(int argc, char **argv)
{
	struct am_identity *id = NULL;
	struct am_store *s = NULL;
	uint8_t circle[AM_HASH_BYTES];
	long n = argc > 4 ? strtol(argv[4], NULL, 10) : 0;
	long rate = argc > 5 ? strtol(argv[5], NULL, 10) : 0;
	int64_t nudge_at = 0;
	int rc;

	if (argc < 5 || argc > 6 || n < 1 || n > 1000000 || rate < 0 || rate > 100000 ||
	    parse_circle(argv[3], circle) != AM_OK) {
		fprintf(stderr, "usage: faultkit author HOME CIRCLE N [PER_S]\n");
		return 2;
	}
	if ((rc = open_home(argv[2], &id, &s)) != AM_OK)
		return fail(argv[2], rc);
	for (long i = 0; i < n; i++) {
		char text[80], hex[2 * AM_HASH_BYTES + 1];
		uint8_t hash[AM_HASH_BYTES];
		uint64_t seq;
		snprintf(text, sizeof text, "statement %ld of %ld, pid %ld", i + 1, n,
			(long)getpid());
		struct am_body b = { .kind = AM_KIND_STATEMENT, .note = am_str_c(text) };
		rc = am_store_append(s, id, circle, 1800000000000LL + i, &b, hash, &seq);
		if (rc != AM_OK)
			break;
		am_hex(hash, AM_HASH_BYTES, hex);
		/* acknowledged only once it is on disk: the test holds us to it */
		printf("%llu %s\n", (unsigned long long)seq, hex);
		fflush(stdout);
		/* a nudge to a node killed with -9 waits on its stale socket:
		 * only nudge a running node, and a few times a second */
		int64_t t = now_ms();
		if (t >= nudge_at && am_node_running(argv[2])) {
			am_node_nudge(argv[2]);
			nudge_at = t + 100;
		}
		if (rate > 0)
			pause_ms(1000 / rate);
	}
	if (am_node_running(argv[2]))
		am_node_nudge(argv[2]);
	am_store_close(&s);
	am_identity_destroy(&id);
	return rc == AM_OK ? 0 : fail("append", rc);
}

static int
write_file(const char *path, const uint8_t *data, size_t len)
{
	FILE *f = fopen(path, "wb");
	if (f == NULL)
		return AM_ERR_IO;
	size_t w = fwrite(data, 1, len, f);
	return fclose(f) == 0 && w == len ? AM_OK : AM_ERR_IO;
}

static int
cmd_fork(int argc, char **argv)
{
	struct am_identity *id = NULL;
	struct am_store *s = NULL;
	struct am_entry_draft d = { .time = 1800000000000LL };
	struct am_entry e;
	uint8_t *raw[2] = { NULL, NULL };
	size_t len[2];
	int rc;

	if (argc != 6 || parse_circle(argv[3], d.circle) != AM_OK) {
		fprintf(stderr, "usage: faultkit fork HOME CIRCLE X Y\n");
		return 2;
	}
	if ((rc = open_home(argv[2], &id, &s)) != AM_OK)
		return fail(argv[2], rc);
	if ((rc = am_store_head(s, d.circle, am_identity_public(id), &d.seq,
	    d.prev)) != AM_OK)
		goto out;
	d.has_prev = d.seq > 0;
	d.seq++;
	for (int i = 0; i < 2 && rc == AM_OK; i++) {
		struct am_body b = { .kind = AM_KIND_STATEMENT,
			.note = am_str_c(i == 0 ? "what I told one of you" :
				"what I told the other") };
		d.body = &b;
		rc = am_entry_sign(id, &d, &raw[i], &len[i], &e);
		if (rc == AM_OK)
			rc = write_file(argv[4 + i], raw[i], len[i]);
	}
	if (rc == AM_OK)
		printf("%llu\n", (unsigned long long)d.seq);
out:
	free(raw[0]);
	free(raw[1]);
	am_store_close(&s);
	am_identity_destroy(&id);
	return rc == AM_OK ? 0 : fail("fork", rc);
}

static int
cmd_ingest(int argc, char **argv)
{
	struct am_store *s = NULL;
	int rc, ret = 0;

	if (argc < 4) {
		fprintf(stderr, "usage: faultkit ingest HOME FILE...\n");
		return 2;
	}
	if ((rc = open_home(argv[2], NULL, &s)) != AM_OK)
		return fail(argv[2], rc);
	for (int i = 3; i < argc; i++) {
		static uint8_t buf[MAX_ENTRY + 1];
		enum am_ingest_result res;
		FILE *f = fopen(argv[i], "rb");
		if (f == NULL) {
			ret = fail(argv[i], AM_ERR_IO);
			continue;
		}
		size_t n = fread(buf, 1, sizeof buf, f);
		fclose(f);
		rc = am_store_ingest(s, buf, n, &res);
		if (rc != AM_OK) {
			ret = fail(argv[i], rc);
			continue;
		}
		printf("%s: %s\n", argv[i], res == AM_INGEST_NEW ? "stored" :
			res == AM_INGEST_DUPLICATE ? "duplicate" : "fork evidence");
	}
	am_store_close(&s);
	if (am_node_running(argv[2]))
		am_node_nudge(argv[2]);
	return ret;
}


static int
cmd_probe(int argc, char **argv)
{
	uint8_t id[AM_ID_BYTES], server[AM_CURVE_BYTES];
	uint8_t pub[AM_CURVE_BYTES], sec[AM_CURVE_BYTES];
	struct am_wire *w = NULL;
	struct am_identity *stranger = NULL;
	long timeout = argc > 4 ? strtol(argv[4], NULL, 10) : 10000;
	int link, rc, ret = 2;

	if (argc < 4 || argc > 5 || strncmp(argv[2], "tcp://127.0.0.1:", 16) != 0 ||
	    timeout < 100 || timeout > 120000) {
		fprintf(stderr, "usage: faultkit probe tcp://127.0.0.1:PORT ID "
			"[TIMEOUT_MS]\n");
		return 3;
	}
	if ((rc = am_id_parse(argv[3], id)) != AM_OK ||
	    (rc = am_id_to_curve(id, server)) != AM_OK)
		return fail(argv[3], rc);
	crypto_box_keypair(pub, sec);
	rc = am_wire_new(pub, sec, &w);
	sodium_memzero(sec, sizeof sec);
	if (rc != AM_OK || (rc = am_wire_connect(w, server, argv[2], &link)) != AM_OK)
		return fail("connecting", rc);

	/* an entry of a circle of the stranger's own, ready to be sent */
	uint8_t *raw = NULL;
	size_t len = 0;
	struct am_body g = { .kind = AM_KIND_GENESIS, .name = am_str_c("intrusion") };
	struct am_entry_draft d = { .seq = 1, .time = 1800000000000LL, .body = &g };
	randombytes_buf(g.nonce, sizeof g.nonce);
	if ((rc = am_identity_generate(&stranger)) != AM_OK ||
	    (rc = am_entry_sign(stranger, &d, &raw, &len, NULL)) != AM_OK) {
		am_wire_destroy(&w);
		return fail("signing", rc);
	}
	int sent = am_wire_send(w, link, server, raw, len);
	printf("send before the handshake: %s\n", sent == AM_OK ? "queued" :
		am_strerror(sent));
	for (int64_t end = now_ms() + timeout; now_ms() < end; ) {
		struct am_wire_event ev;
		if (am_wire_poll(w, (int)(end - now_ms()), &ev) != AM_OK)
			break;
		free(ev.data);
		if (ev.kind == AM_WIRE_UP) {
			sent = am_wire_send(w, link, server, raw, len);
			printf("accepted; sent an entry: %s\n", sent == AM_OK ? "yes" :
				am_strerror(sent));
			ret = 1;
			break;
		}
		if (ev.kind == AM_WIRE_HANDSHAKE_FAILED) {
			printf("refused: %s\n", ev.detail);
			ret = 0;
			break;
		}
	}
	if (ret == 2)
		printf("no answer within %ld ms\n", timeout);
	free(raw);
	am_identity_destroy(&stranger);
	am_wire_destroy(&w);
	return ret;
}

static void
print_forms(const uint8_t *data, size_t n)
{
	char hex[2 * 64 + 1], b64[sodium_base64_ENCODED_LEN(64,
		sodium_base64_VARIANT_ORIGINAL)], b32[64 * 8 / 5 + 2];
	static const int variants[] = { sodium_base64_VARIANT_ORIGINAL,
		sodium_base64_VARIANT_ORIGINAL_NO_PADDING, sodium_base64_VARIANT_URLSAFE,
		sodium_base64_VARIANT_URLSAFE_NO_PADDING };
	sodium_bin2hex(hex, sizeof hex, data, n);
	printf("%s\n", hex);
	for (size_t i = 0; i < sizeof variants / sizeof variants[0]; i++) {
		sodium_bin2base64(b64, sizeof b64, data, n, variants[i]);
		printf("%s\n", b64);
	}
	am_base32_encode(data, n, b32);
	printf("%s\n", b32);
}

static int
cmd_secrets(int argc, char **argv)
{
	uint8_t file[8 + AM_SEED_BYTES + AM_ID_BYTES], pub[AM_CURVE_BYTES];
	uint8_t sec[AM_CURVE_BYTES];
	struct am_identity *id = NULL;
	if (argc != 3) {
		fprintf(stderr, "usage: faultkit secrets HOME\n");
		return 2;
	}
	char *key = am_home_path(argv[2], AM_HOME_KEY);
	int fd = key != NULL ? open(key, O_RDONLY | O_CLOEXEC) : -1;
	ssize_t got = fd >= 0 ? read(fd, file, sizeof file) : -1;
	if (fd >= 0)
		close(fd);
	int rc = key != NULL ? am_identity_load(key, &id) : AM_ERR_NOMEM;
	free(key);
	if (got != (ssize_t)sizeof file || rc != AM_OK)
		return fail("key file", rc != AM_OK ? rc : AM_ERR_KEY_FORMAT);
	/* the seed, and the signing key (seed then public key) */
	print_forms(file + 8, AM_SEED_BYTES);
	print_forms(file + 8, AM_SEED_BYTES + AM_ID_BYTES);
	if ((rc = am_identity_curve(id, pub, sec)) != AM_OK)
		return fail("curve", rc);
	print_forms(sec, sizeof sec);
	sodium_memzero(sec, sizeof sec);
	sodium_memzero(file, sizeof file);
	am_identity_destroy(&id);
	return 0;
}

int
main(int argc, char **argv)
{
	if (sodium_init() < 0)
		return 2;
	const char *cmd = argc > 1 ? argv[1] : "";
	if (strcmp(cmd, "author") == 0)
		return cmd_author(argc, argv);
	if (strcmp(cmd, "fork") == 0)
		return cmd_fork(argc, argv);
	if (strcmp(cmd, "ingest") == 0)
		return cmd_ingest(argc, argv);
	if (strcmp(cmd, "probe") == 0)
		return cmd_probe(argc, argv);
	if (strcmp(cmd, "secrets") == 0)
		return cmd_secrets(argc, argv);
	fprintf(stderr, "usage: faultkit author|fork|ingest|probe|secrets ...\n"
		"(see the comment at the top of tests/fault/kit.c)\n");
	return 2;
}
