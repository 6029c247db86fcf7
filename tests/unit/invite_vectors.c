/*
 * The vectors of protocol/invite.md: a code, the throwaway key its secret
 * seeds, and every message of the invite exchange, made from fixed seeds
 * and times so that a second implementation can check its encoding byte
 * for byte (Ed25519 signatures are deterministic).
 *
 *   build/tests/invite-vectors-gen --print > protocol/invite-vectors.txt
 *
 * Without --print, the program makes the vectors again, compares them
 * with protocol/invite-vectors.txt ($AMENDS_SRC), and checks that the
 * replies decode and the preview opens for the joiner it names.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "amends/invite.h"
#include "amends/state.h"
#include "invite_impl.h"
#include "test.h"

#define T0 1800000000000LL            /* 2027-01-15T08:00:00Z */

struct line {
	char name[48];
	char *hex;
};

static struct line lines[64];
static int nlines;

static void
add(const char *name, const uint8_t *b, size_t n)
{
	check(nlines < 64);
	struct line *l = &lines[nlines++];
	snprintf(l->name, sizeof l->name, "%s", name);
	l->hex = malloc(2 * n + 1);
	check(l->hex != NULL);
	sodium_bin2hex(l->hex, 2 * n + 1, b, n);
}

static void
add_text(const char *name, const char *text)
{
	check(nlines < 64);
	struct line *l = &lines[nlines++];
	snprintf(l->name, sizeof l->name, "%s", name);
	l->hex = strdup(text);
	check(l->hex != NULL);
}

static struct am_identity *
identity(uint8_t first)
{
	uint8_t seed[AM_SEED_BYTES];
	struct am_identity *id;
	for (int i = 0; i < AM_SEED_BYTES; i++)
		seed[i] = (uint8_t)(first + i);
	check_rc(am_identity_from_seed(seed, &id), AM_OK);
	return id;
}

static void
entry(const struct am_identity *id, const uint8_t *circle, uint64_t seq,
	const uint8_t *prev, int64_t time, const struct am_body *b,
	uint8_t **raw, size_t *len, struct am_entry *e)
{
	struct am_entry_draft d;
	memset(&d, 0, sizeof d);
	memcpy(d.circle, circle, AM_HASH_BYTES);
	d.seq = seq;
	d.has_prev = prev != NULL;
	if (prev != NULL)
		memcpy(d.prev, prev, AM_HASH_BYTES);
	d.time = time;
	d.body = b;
	check_rc(am_entry_sign(id, &d, raw, len, e), AM_OK);
}

static void
make(void)
{
	struct am_identity *sam = identity(0x00), *alex = identity(0x20);
	const uint8_t *s = am_identity_public(sam), *a = am_identity_public(alex);
	uint8_t circle[AM_HASH_BYTES], *graw, *praw, *araw, *draw, *msg;
	size_t glen, plen, alen, dlen, len;
	struct am_entry g, p;
	struct am_body b;
	struct am_invite inv;
	char *code;

	uint8_t seed[AM_SEED_BYTES];
	for (int i = 0; i < AM_SEED_BYTES; i++)
		seed[i] = (uint8_t)i;
	add("inviter.seed", seed, sizeof seed);
	add("inviter.id", s, AM_ID_BYTES);
	for (int i = 0; i < AM_SEED_BYTES; i++)
		seed[i] = (uint8_t)(0x20 + i);
	add("joiner.seed", seed, sizeof seed);
	add("joiner.id", a, AM_ID_BYTES);

	/* the circle: sam's genesis, and sam's proposal of alex */
	memset(&b, 0, sizeof b);
	b.kind = AM_KIND_GENESIS;
	b.name = am_str_c("us");
	memset(b.nonce, 0x42, sizeof b.nonce);
	am_circle_id(s, b.nonce, circle);
	entry(sam, circle, 1, NULL, T0, &b, &graw, &glen, &g);
	add("circle", circle, AM_HASH_BYTES);
	add("genesis", graw, glen);
	memset(&b, 0, sizeof b);
	b.kind = AM_KIND_MEMBER;
	memcpy(b.target, a, AM_ID_BYTES);
	b.role = AM_ROLE_MEMBER;
	entry(sam, circle, 2, g.hash, T0 + 60000, &b, &praw, &plen, &p);
	add("proposal", praw, plen);
	add("proposal.hash", p.hash, AM_HASH_BYTES);

	/* the code */
	memset(&inv, 0, sizeof inv);
	inv.witness = false;
	memcpy(inv.circle, circle, AM_HASH_BYTES);
	memcpy(inv.inviter, s, AM_ID_BYTES);
	for (int i = 0; i < AM_INVITE_SECRET_BYTES; i++)
		inv.secret[i] = (uint8_t)(0xa0 + i);
	inv.expires = T0 + 86400000;
	snprintf(inv.address, sizeof inv.address, "tcp://127.0.0.1:7411");
	add("code.secret", inv.secret, AM_INVITE_SECRET_BYTES);
	check_rc(am_invite_format(&inv, &code), AM_OK);
	{
		const char *body = code + strlen("aminvite");
		size_t n = strlen(body) * 5 / 8;
		uint8_t *bytes = malloc(n);
		check(bytes != NULL);
		check_rc(am_base32_decode(body, n, bytes), AM_OK);
		add("code.bytes", bytes, n);
		free(bytes);
	}
	add_text("code", code);
	free(code);
	uint8_t pub[AM_CURVE_BYTES], sec[AM_CURVE_BYTES];
	am_invite_keys(inv.secret, pub, sec);
	add("invite.public", pub, sizeof pub);
	add("invite.secret", sec, sizeof sec);
	uint8_t curve[AM_CURVE_BYTES];
	check_rc(am_id_to_curve(s, curve), AM_OK);
	add("inviter.curve", curve, sizeof curve);

	/* JOIN */
	check_rc(am_invite_join_msg(&inv, alex, &msg, &len), AM_OK);
	add("join", msg, len);
	free(msg);

	/* PREVIEW: sam and alex's names as sam's node has them */
	struct am_invite_member m[1];
	memset(m, 0, sizeof m);
	memcpy(m[0].id, s, AM_ID_BYTES);
	m[0].has_name = true;
	snprintf(m[0].name, sizeof m[0].name, "Sam");
	struct invite_preview_fields f = {
		.circle = circle, .name = "us", .name_len = 2,
		.role = AM_ROLE_MEMBER, .joiner = a,
		.genesis = graw, .genesis_len = glen,
		.proposal = praw, .proposal_len = plen,
		.members = m, .nmembers = 1, .made = T0 + 61000,
	};
	struct am_mp_writer w;
	am_mp_writer_init(&w);
	check_rc(invite_preview_write(sam, &f, &w), AM_OK);
	check(!w.failed);
	add("preview", (const uint8_t *)w.buf.data, w.buf.size);
	struct am_invite_preview *pv = malloc(sizeof *pv);
	check(pv != NULL);
	check_rc(am_invite_preview_open((const uint8_t *)w.buf.data, w.buf.size,
		&inv, a, pv), AM_OK);
	check(memcmp(pv->proposal, p.hash, AM_HASH_BYTES) == 0);
	check(pv->nmembers == 1 && strcmp(pv->members[0].name, "Sam") == 0);
	check(am_invite_preview_open((const uint8_t *)w.buf.data, w.buf.size,
		&inv, s, pv) != AM_OK);
	free(pv);
	am_mp_writer_finish(&w);

	/* ANSWER: alex's ACCEPT, and (another time) a DECLINE with a reason */
	check_rc(am_invite_answer_entry(alex, circle, p.hash, true, NULL,
		T0 + 120000, &araw, &alen), AM_OK);
	add("accept", araw, alen);
	check_rc(am_invite_answer_msg(araw, alen, &msg, &len), AM_OK);
	add("answer.accept", msg, len);
	free(msg);
	check_rc(am_invite_answer_entry(alex, circle, p.hash, false,
		"I do not know you", T0 + 120000, &draw, &dlen), AM_OK);
	add("decline", draw, dlen);
	check_rc(am_invite_answer_msg(draw, dlen, &msg, &len), AM_OK);
	add("answer.decline", msg, len);
	free(msg);

	/* ADMITTED, MORE, ENTRIES, REFUSED */
	am_mp_writer_init(&w);
	am_mp_write_array(&w, 4);
	am_mp_write_uint(&w, 1);
	am_mp_write_uint(&w, AM_INVITE_MSG_ADMITTED);
	am_mp_write_bool(&w, false);
	am_mp_write_uint(&w, 1);
	add("admitted.waiting", (const uint8_t *)w.buf.data, w.buf.size);
	am_mp_writer_finish(&w);
	check_rc(am_invite_more_msg(NULL, 0, &msg, &len), AM_OK);
	add("more.start", msg, len);
	free(msg);
	check_rc(am_invite_more_msg(s, 2, &msg, &len), AM_OK);
	add("more.next", msg, len);
	free(msg);
	am_mp_writer_init(&w);
	am_mp_write_array(&w, 5);
	am_mp_write_uint(&w, 1);
	am_mp_write_uint(&w, AM_INVITE_MSG_ENTRIES);
	am_mp_write_array(&w, 2);
	am_mp_write_bin(&w, graw, glen);
	am_mp_write_bin(&w, praw, plen);
	am_mp_write_nil(&w);
	am_mp_write_uint(&w, 0);
	add("entries", (const uint8_t *)w.buf.data, w.buf.size);
	am_mp_writer_finish(&w);
	am_mp_writer_init(&w);
	am_mp_write_array(&w, 4);
	am_mp_write_uint(&w, 1);
	am_mp_write_uint(&w, AM_INVITE_MSG_REFUSED);
	am_mp_write_uint(&w, AM_ERR_INVITE_USED);
	am_mp_write_cstr(&w, "the invite was already used");
	add("refused", (const uint8_t *)w.buf.data, w.buf.size);
	am_mp_writer_finish(&w);

	free(graw);
	free(praw);
	free(araw);
	free(draw);
	am_identity_destroy(&sam);
	am_identity_destroy(&alex);
}

/* Every reply vector decodes as the joiner reads it. */
static void
decode_replies(void)
{
	struct am_invite_reply *r = malloc(sizeof *r);
	check(r != NULL);
	for (int i = 0; i < nlines; i++) {
		const char *n = lines[i].name;
		if (strcmp(n, "preview") && strcmp(n, "admitted.waiting") &&
		    strcmp(n, "entries") && strcmp(n, "refused"))
			continue;
		size_t hl = strlen(lines[i].hex), len;
		uint8_t *b = malloc(hl / 2 + 1);
		check(b != NULL);
		check(sodium_hex2bin(b, hl / 2 + 1, lines[i].hex, hl, NULL, &len,
			NULL) == 0);
		check_rc(am_invite_reply_parse(b, len, r), AM_OK);
		free(b);
	}
	free(r);
}

int
main(int argc, char **argv)
{
	check(sodium_init() >= 0);
	make();
	decode_replies();
	if (argc > 1 && strcmp(argv[1], "--print") == 0) {
		printf("# Test vectors for protocol/invite.md. Each line: name: hex\n"
			"# (code: the text). Written by build/tests/invite-vectors-gen\n"
			"# --print; checked byte for byte by the unit test "
			"invite-vectors.\n");
		for (int i = 0; i < nlines; i++)
			printf("%s: %s\n", lines[i].name, lines[i].hex);
		return 0;
	}
	const char *src = getenv("AMENDS_SRC");
	char path[4096], buf[1 << 16];
	snprintf(path, sizeof path, "%s/protocol/invite-vectors.txt",
		src != NULL ? src : ".");
	FILE *fp = fopen(path, "r");
	if (fp == NULL) {
		fprintf(stderr, "cannot open %s\n", path);
		return 1;
	}
	int seen = 0, bad = 0;
	while (fgets(buf, sizeof buf, fp) != NULL) {
		if (buf[0] == '#' || buf[0] == '\n')
			continue;
		buf[strcspn(buf, "\n")] = '\0';
		char *colon = strstr(buf, ": ");
		if (colon == NULL) {
			bad++;
			continue;
		}
		*colon = '\0';
		int found = 0;
		for (int i = 0; i < nlines; i++) {
			if (strcmp(lines[i].name, buf) != 0)
				continue;
			found = 1;
			if (strcmp(lines[i].hex, colon + 2) != 0) {
				fprintf(stderr, "invite-vectors.txt: %s differs\n", buf);
				bad++;
			}
		}
		if (!found) {
			fprintf(stderr, "invite-vectors.txt: unknown line %s\n", buf);
			bad++;
		}
		seen++;
	}
	fclose(fp);
	if (seen != nlines) {
		fprintf(stderr, "invite-vectors.txt has %d lines, the code makes %d\n",
			seen, nlines);
		bad++;
	}
	if (bad != 0)
		return 1;
	printf("invite-vectors: %d vectors match\n", seen);
	return 0;
}
