/*
 * Checks the code against protocol/entry-vectors.txt byte for byte: keys
 * from a fixed seed, ID text forms, entries, their hashes and signatures.
 * Run with --print to write the vectors (only when the format changes, and
 * then protocol/entry.md changes too).
 */
#include <string.h>

#include <sodium.h>

#include "amends/entry.h"
#include "test.h"

static char lines[64][1100];
static int nlines;

static void
add(const char *name, const uint8_t *data, size_t n)
{
	char hex[2 * 512 + 1];
	check(n <= 512 && nlines < 64);
	am_hex(data, n, hex);
	check(strlen(name) < 40);
	snprintf(lines[nlines++], sizeof lines[0], "%.40s: %s", name, hex);
}

static void
add_text(const char *name, const char *text)
{
	check(nlines < 64);
	snprintf(lines[nlines++], sizeof lines[0], "%.40s: %.200s", name, text);
}

static void
entry(const char *name, struct am_identity *id, const uint8_t circle[32],
	uint64_t seq, const uint8_t *prev, const struct am_body *b, uint8_t hash[32])
{
	struct am_entry_draft d = { .seq = seq, .has_prev = prev != NULL,
		.time = 1764000000000 + (int64_t)seq * 1000, .body = b };
	struct am_entry e;
	uint8_t *raw;
	size_t len;
	char key[64];
	memcpy(d.circle, circle, 32);
	if (prev)
		memcpy(d.prev, prev, 32);
	check_rc(am_entry_sign(id, &d, &raw, &len, &e), AM_OK);
	check_rc(am_entry_verify(&e), AM_OK);
	snprintf(key, sizeof key, "%s.bytes", name);
	add(key, raw, len);
	snprintf(key, sizeof key, "%s.signed", name);
	add(key, e.signed_bytes, e.signed_len);
	snprintf(key, sizeof key, "%s.sig", name);
	add(key, e.sig, AM_SIG_BYTES);
	snprintf(key, sizeof key, "%s.hash", name);
	add(key, e.hash, AM_HASH_BYTES);
	memcpy(hash, e.hash, 32);
	free(raw);
}

static void
generate(void)
{
	uint8_t seed[32], circle[32], h1[32], h2[32], h3[32];
	char text[AM_ID_TEXT_BYTES], fpr[AM_FPR_TEXT_BYTES];
	struct am_identity *sam;
	for (int i = 0; i < 32; i++)
		seed[i] = (uint8_t)i;
	add("seed", seed, 32);
	check_rc(am_identity_from_seed(seed, &sam), AM_OK);
	const uint8_t *pk = am_identity_public(sam);
	add("public", pk, 32);
	am_id_format(pk, text);
	add_text("id.text", text);
	am_id_fingerprint(pk, fpr);
	add_text("id.fingerprint", fpr);
	char safety[AM_FPR_LONG_TEXT_BYTES];
	am_id_safety_number(pk, safety);
	add_text("id.safety-number", safety);
	uint8_t cpub[32], csec[32];
	check_rc(am_identity_curve(sam, cpub, csec), AM_OK);
	add("curve.public", cpub, 32);

	struct am_body g = { .kind = AM_KIND_GENESIS, .name = am_str_c("Sam & Alex") };
	memset(g.nonce, 0x42, 32);
	am_circle_id(pk, g.nonce, circle);
	add("circle", circle, 32);
	entry("genesis", sam, circle, 1, NULL, &g, h1);

	struct am_body s = { .kind = AM_KIND_STATEMENT,
		.note = am_str_c("I am sorry I went quiet.") };
	entry("statement", sam, circle, 2, h1, &s, h2);

	struct am_body c = { .kind = AM_KIND_CHECKIN, .period = am_str_c("2026-11-25"),
		.status = AM_KEPT, .note = am_str_c("home by 20:40") };
	memset(c.target, 0x17, 32);
	entry("checkin", sam, circle, 3, h2, &c, h3);
	am_identity_destroy(&sam);
}

int
main(int argc, char **argv)
{
	check(sodium_init() >= 0);
	generate();
	if (argc > 1 && strcmp(argv[1], "--print") == 0) {
		for (int i = 0; i < nlines; i++)
			printf("%s\n", lines[i]);
		return 0;
	}
	const char *src = getenv("AMENDS_SRC");
	check(src != NULL);
	char path[512];
	snprintf(path, sizeof path, "%s/protocol/entry-vectors.txt", src);
	FILE *f = fopen(path, "r");
	check(f != NULL);
	char line[1200];
	int n = 0;
	while (fgets(line, sizeof line, f)) {
		if (line[0] == '#' || line[0] == '\n')
			continue;
		line[strcspn(line, "\n")] = '\0';
		check(n < nlines);
		if (strcmp(line, lines[n]) != 0) {
			fprintf(stderr, "vector differs:\n file: %s\n code: %s\n", line, lines[n]);
			return 1;
		}
		n++;
	}
	fclose(f);
	check(n == nlines);
	printf("vectors: %d lines match\n", n);
	return 0;
}
