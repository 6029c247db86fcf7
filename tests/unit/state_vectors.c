/*
 * Checks the code against protocol/state-vectors.txt: for every case, its
 * entries are ingested into a fresh store in the file's order and again
 * in reverse order, retrying those that wait for a predecessor or for
 * their author's admission, as sync does. Each store must hold every
 * `entry` line, refuse every `refused` line for its reason, and give the
 * case's circle digest, state digest (also when refolded from the raw
 * entries) and derived state, byte for byte. Nothing expected is written
 * here: everything comes from the file, which
 * tests/unit/state_vectors_gen.c writes (see the top of the file).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "amends/state.h"
#include "fixture.h"
#include "statevec.h"
#include "test.h"

/* One case as the file states it. */
struct expected {
	struct sv_case c;
	int line;                          /* of its `case` line */
	size_t nentries;                   /* c.raw[0..nentries) are `entry` lines */
	char reason[SV_ENTRIES_MAX][24];   /* of the `refused` lines after them */
	bool has_circle_digest, has_state_digest;
	uint8_t circle_digest[32], state_digest[32];
	struct sv_text derived;
};

static int failures;

static void
fail(const struct expected *x, const char *order, const char *fmt, const char *a,
	const char *b)
{
	fprintf(stderr, "state-vectors.txt:%d: case %s, %s order: ", x->line,
		x->c.name, order);
	fprintf(stderr, fmt, a, b);
	fputc('\n', stderr);
	failures++;
}

static void
expected_free(struct expected *x)
{
	for (size_t i = 0; i < x->c.n; i++)
		free(x->c.raw[i]);
	sv_text_free(&x->derived);
	memset(x, 0, sizeof *x);
}

static void
add_raw(struct expected *x, int line, const char *hex)
{
	uint8_t *raw;
	size_t len;
	if (x->c.n >= SV_ENTRIES_MAX || !sv_unhex_alloc(hex, &raw, &len)) {
		fprintf(stderr, "state-vectors.txt:%d: not an entry in hex\n", line);
		exit(1);
	}
	x->c.raw[x->c.n] = raw;
	x->c.len[x->c.n++] = len;
}

static void
add_key(struct expected *x, int line, const char *rest)
{
	struct sv_person *p = &x->c.people[x->c.npeople];
	struct am_identity *id;
	size_t n = strcspn(rest, " ");
	const char *seed = rest + n + 1;
	if (x->c.npeople >= SV_PEOPLE_MAX || n == 0 || n >= SV_NAME_MAX ||
	    rest[n] != ' ' || !sv_unhex(seed, p->seed, 32) || seed[64] != ' ' ||
	    !sv_unhex(seed + 65, p->id, 32)) {
		fprintf(stderr, "state-vectors.txt:%d: not NAME SEED ID\n", line);
		exit(1);
	}
	memcpy(p->name, rest, n);
	p->name[n] = '\0';
	check_rc(am_identity_from_seed(p->seed, &id), AM_OK);
	if (memcmp(am_identity_public(id), p->id, 32) != 0) {
		fprintf(stderr, "state-vectors.txt:%d: %s's key does not derive from "
			"the seed\n", line, p->name);
		failures++;
	}
	am_identity_destroy(&id);
	x->c.npeople++;
}

static void
add_digest(int line, const char *hex, uint8_t out[32], bool *has)
{
	if (!sv_unhex(hex, out, 32) || hex[64] != '\0') {
		fprintf(stderr, "state-vectors.txt:%d: not a 32-byte digest\n", line);
		exit(1);
	}
	*has = true;
}

/* Reads one line of the case x into it. */
static void
parse_line(struct expected *x, int line, const char *s)
{
	if (strncmp(s, "about ", 6) == 0)
		return;
	if (strncmp(s, "key ", 4) == 0) {
		add_key(x, line, s + 4);
	} else if (strncmp(s, "entry ", 6) == 0) {
		if (x->c.n != x->nentries) {
			fprintf(stderr, "state-vectors.txt:%d: entry after refused\n", line);
			exit(1);
		}
		add_raw(x, line, s + 6);
		x->nentries++;
	} else if (strncmp(s, "refused ", 8) == 0) {
		size_t n = strcspn(s + 8, " ");
		if (n == 0 || n >= sizeof x->reason[0] || s[8 + n] != ' ') {
			fprintf(stderr, "state-vectors.txt:%d: not REASON HEX\n", line);
			exit(1);
		}
		memcpy(x->reason[x->c.n], s + 8, n);
		x->reason[x->c.n][n] = '\0';
		add_raw(x, line, s + 9 + n);
	} else if (strncmp(s, "circle-digest ", 14) == 0) {
		add_digest(line, s + 14, x->circle_digest, &x->has_circle_digest);
	} else if (strncmp(s, "state-digest ", 13) == 0) {
		add_digest(line, s + 13, x->state_digest, &x->has_state_digest);
	} else {
		sv_printf(&x->derived, "%s", s);
	}
}

static void
compare(const struct expected *x, const char *order, const char *what,
	const uint8_t want[32], const uint8_t got[32])
{
	char w[65], g[65];
	if (memcmp(want, got, 32) == 0)
		return;
	sv_hex(want, 32, w);
	sv_hex(got, 32, g);
	char fmt[128];
	snprintf(fmt, sizeof fmt, "%s differs:\n  file: %%s\n  code: %%s", what);
	fail(x, order, fmt, w, g);
}

/*
 * Whether raw is an envelope whose signature is its author's over its
 * signed bytes (protocol/entry.md), read without decoding the rest: a
 * refused line must be refused for its reason, not for damage to the
 * line.
 */
static bool
signed_by_author(const uint8_t *raw, size_t len)
{
	static const char domain[] = "amends-entry-v1";
	size_t at, n;
	if (len < 4 || raw[0] != 0x92)
		return false;
	if (raw[1] == 0xc4) {
		n = raw[2];
		at = 3;
	} else if (raw[1] == 0xc5) {
		n = (size_t)raw[2] << 8 | raw[3];
		at = 4;
	} else {
		return false;
	}
	if (n > len - at || len - at - n != 2 + AM_SIG_BYTES)
		return false;
	const uint8_t *sd = raw + at, *sig = raw + at + n;
	/* array(8) [version, bin32 circle, bin32 author, ...] */
	if (sig[0] != 0xc4 || sig[1] != AM_SIG_BYTES || n < 70 || sd[0] != 0x98 ||
	    sd[2] != 0xc4 || sd[3] != 32 || sd[36] != 0xc4 || sd[37] != 32)
		return false;
	uint8_t *msg = malloc(sizeof domain - 1 + n);
	check(msg != NULL);
	memcpy(msg, domain, sizeof domain - 1);
	memcpy(msg + sizeof domain - 1, sd, n);
	bool ok = crypto_sign_verify_detached(sig + 2, msg, sizeof domain - 1 + n,
		sd + 38) == 0;
	free(msg);
	return ok;
}

/* Ingests the case into a fresh store in one order and checks it all. */
static void
run(const struct expected *x, const char *dir, bool reverse)
{
	const char *order_name = reverse ? "reverse" : "file";
	size_t order[SV_ENTRIES_MAX];
	int rc[SV_ENTRIES_MAX];
	char path[FX_PATH_MAX], rb[16];
	struct am_store *s;
	uint8_t d[32];

	for (size_t i = 0; i < x->nentries; i++)
		order[i] = reverse ? x->nentries - 1 - i : i;
	snprintf(path, sizeof path, "%s/%s-%s.db", dir, x->c.name, order_name);
	check_rc(am_store_open(path, &s), AM_OK);
	sv_ingest(s, &x->c, order, x->nentries, rc);
	for (size_t i = 0; i < x->nentries; i++)
		if (rc[i] != AM_OK) {
			char n[24];
			snprintf(n, sizeof n, "%zu", order[i] + 1);
			fail(x, order_name, "entry %s is refused: %s", n,
				sv_refusal_name(rc[i], rb));
		}
	for (size_t i = x->nentries; i < x->c.n; i++) {
		enum am_ingest_result r;
		const char *got = sv_refusal_name(am_store_ingest(s, x->c.raw[i],
			x->c.len[i], &r), rb);
		if (strcmp(got, x->reason[i]) != 0)
			fail(x, order_name, "a refused entry is %s, not %s", got,
				x->reason[i]);
	}
	check_rc(am_store_digest(s, x->c.circle, d), AM_OK);
	compare(x, order_name, "circle digest", x->circle_digest, d);
	check_rc(am_state_digest(s, x->c.circle, d), AM_OK);
	compare(x, order_name, "state digest", x->state_digest, d);
	check_rc(am_state_refold(s, x->c.circle, d), AM_OK);
	compare(x, order_name, "refolded state digest", x->state_digest, d);

	struct sv_text t = { 0 };
	sv_describe(s, &x->c, &t);
	for (size_t i = 0; i < t.n || i < x->derived.n; i++) {
		const char *want = i < x->derived.n ? x->derived.line[i] : "(nothing)";
		const char *got = i < t.n ? t.line[i] : "(nothing)";
		if (strcmp(want, got) != 0) {
			fail(x, order_name, "derived state differs:\n  file: %s\n  code: %s",
				want, got);
			break;
		}
	}
	sv_text_free(&t);
	am_store_close(&s);
	fx_store_unlink(path);
}

/* Checks a case read whole: its shape, then both orders. */
static void
check_case(struct expected *x, const char *dir)
{
	struct am_entry e;
	if (!x->has_circle_digest || !x->has_state_digest || x->nentries == 0 ||
	    x->derived.n == 0) {
		fprintf(stderr, "state-vectors.txt:%d: case %s lacks entries, a "
			"digest or its derived state\n", x->line, x->c.name);
		failures++;
		return;
	}
	/* the case's circle is its entries' (an entry this build cannot
	 * decode is one of the refused) */
	bool found = false;
	for (size_t i = 0; i < x->c.n; i++) {
		if (am_entry_decode(x->c.raw[i], x->c.len[i], &e) != AM_OK) {
			if (i < x->nentries) {
				fprintf(stderr, "state-vectors.txt: case %s: entry %zu does "
					"not decode\n", x->c.name, i + 1);
				failures++;
				return;
			}
			continue;
		}
		if (!found)
			memcpy(x->c.circle, e.circle, 32);
		found = true;
		check(memcmp(x->c.circle, e.circle, 32) == 0);
	}
	for (size_t i = x->nentries; i < x->c.n; i++)
		if (!signed_by_author(x->c.raw[i], x->c.len[i])) {
			fprintf(stderr, "state-vectors.txt: case %s: refused entry %zu "
				"is not signed by its author\n", x->c.name, i + 1);
			failures++;
		}
	run(x, dir, false);
	run(x, dir, true);
}

int
main(void)
{
	check(sodium_init() >= 0);
	const char *src = getenv("AMENDS_SRC");
	check(src != NULL);
	char path[512];
	snprintf(path, sizeof path, "%s/protocol/state-vectors.txt", src);
	FILE *f = fopen(path, "r");
	check(f != NULL);
	const char *dir = fx_dir_make_in_memory("state-vectors");

	struct expected *x = calloc(1, sizeof *x);
	check(x != NULL);
	char *line = NULL;
	size_t cap = 0;
	int lineno = 0, ncases = 0;
	bool in_case = false;
	ssize_t n;
	while ((n = getline(&line, &cap, f)) >= 0) {
		lineno++;
		while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
			line[--n] = '\0';
		if (n == 0 || line[0] == '#')
			continue;
		if (strncmp(line, "case ", 5) == 0) {
			if (in_case)
				check_case(x, dir);
			expected_free(x);
			snprintf(x->c.name, sizeof x->c.name, "%s", line + 5);
			x->line = lineno;
			in_case = true;
			ncases++;
			continue;
		}
		if (!in_case) {
			fprintf(stderr, "state-vectors.txt:%d: a line before any case\n",
				lineno);
			return 1;
		}
		parse_line(x, lineno, line);
	}
	if (in_case)
		check_case(x, dir);
	expected_free(x);
	free(x);
	free(line);
	fclose(f);
	fx_dir_remove();
	check(ncases > 0);
	if (failures > 0) {
		fprintf(stderr, "state-vectors: %d differences in %d cases\n",
			failures, ncases);
		return 1;
	}
	printf("state-vectors: %d cases match, in both orders\n", ncases);
	return 0;
}
