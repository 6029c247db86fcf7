/*
 * Display names (NAME, kind 16; protocol/state.md, "Names") and the
 * display module that signs them: who counts, which NAME wins, a body
 * that breaks its bounds (stored, ignored with rule "body", and never a
 * reason for a reader or an export to fail), and publishing that never
 * writes the same name twice.
 */
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "amends/bundle.h"
#include "amends/display.h"
#include "amends/state.h"
#include "fixture.h"
#include "test.h"

static struct am_identity *sam, *alex, *kim;

static void
name(struct am_store *s, struct am_identity *id, const uint8_t *circle,
	const char *text, int64_t time, uint8_t *hash)
{
	struct am_body b = { .kind = AM_KIND_NAME, .name = am_str_c(text) };
	fx_act(s, id, circle, &b, time, hash);
}

/* The name of id that counts in circle, or NULL; the caller frees it. */
static char *
name_of(struct am_store *s, const uint8_t *circle, struct am_identity *id)
{
	struct am_name *v;
	size_t n;
	char *out = NULL;
	check_rc(am_state_names(s, circle, &v, &n), AM_OK);
	for (size_t i = 0; i < n; i++) {
		if (i > 0)
			check(memcmp(v[i - 1].id, v[i].id, 32) < 0);
		if (memcmp(v[i].id, am_identity_public(id), 32) == 0)
			out = strdup(v[i].name);
	}
	am_state_names_free(&v, n);
	return out;
}

/*
 * An entry of author's feed whose body is the given msgpack bytes, as a
 * hostile client signs it: the library's encoder would refuse to.
 */
static void
put_raw(struct am_store *s, struct am_identity *id, const uint8_t *circle,
	uint32_t kind, const uint8_t *body, size_t body_len, int64_t time)
{
	static const char domain[] = "amends-entry-v1";
	uint8_t signed_part[512], msg[600], sig[AM_SIG_BYTES], raw[700];
	uint8_t prev[32];
	uint64_t seq = 0;
	size_t n = 0, m = 0;
	check_rc(am_store_head(s, circle, am_identity_public(id), &seq, prev), AM_OK);
	check(seq > 0 && body_len < 200);
	signed_part[n++] = 0x98;                          /* array(8) */
	signed_part[n++] = AM_ENTRY_VERSION;
	signed_part[n++] = 0xc4; signed_part[n++] = 32;
	memcpy(signed_part + n, circle, 32); n += 32;
	signed_part[n++] = 0xc4; signed_part[n++] = 32;
	memcpy(signed_part + n, am_identity_public(id), 32); n += 32;
	check(seq + 1 < 128);
	signed_part[n++] = (uint8_t)(seq + 1);
	signed_part[n++] = 0xc4; signed_part[n++] = 32;
	memcpy(signed_part + n, prev, 32); n += 32;
	signed_part[n++] = 0xcf;                          /* uint64 time */
	for (int i = 7; i >= 0; i--)
		signed_part[n++] = (uint8_t)((uint64_t)time >> (8 * i));
	signed_part[n++] = (uint8_t)kind;
	memcpy(signed_part + n, body, body_len); n += body_len;
	memcpy(msg, domain, sizeof domain - 1);
	m = sizeof domain - 1;
	memcpy(msg + m, signed_part, n);
	am_identity_sign(id, msg, m + n, sig);
	size_t r = 0;
	raw[r++] = 0x92;                                  /* array(2) */
	if (n <= 255) {                                   /* the smallest bin */
		raw[r++] = 0xc4;
	} else {
		raw[r++] = 0xc5;
		raw[r++] = (uint8_t)(n >> 8);
	}
	raw[r++] = (uint8_t)n;
	memcpy(raw + r, signed_part, n); r += n;
	raw[r++] = 0xc4; raw[r++] = AM_SIG_BYTES;
	memcpy(raw + r, sig, AM_SIG_BYTES); r += AM_SIG_BYTES;
	enum am_ingest_result res;
	check_rc(am_store_ingest(s, raw, r, &res), AM_OK);
	check(res == AM_INGEST_NEW);
}

static void
test_who_counts(void)
{
	struct am_store *s = fx_store_open("who.db");
	uint8_t circle[32], k[32], first[32], last[32];
	fx_genesis(s, sam, "us", FX_T0, circle);
	fx_admit(s, circle, sam, alex, FX_T0 + 1000, FX_T0 + 2000);
	name(s, sam, circle, "Sam", FX_T0 + 3000, first);
	name(s, alex, circle, "Alex", FX_T0 + 4000, NULL);
	/* a later NAME by feed wins, whatever time it claims */
	name(s, sam, circle, "Samuel", FX_T0 - 5000, last);
	char *v = name_of(s, circle, sam);
	check(v != NULL && strcmp(v, "Samuel") == 0);
	free(v);
	v = name_of(s, circle, alex);
	check(v != NULL && strcmp(v, "Alex") == 0);
	free(v);
	check(!fx_has_violation(s, circle, first, AM_RULE_NOT_MEMBER));

	/* someone only proposed may not name themselves: ignored */
	struct am_body b = { .kind = AM_KIND_MEMBER, .role = AM_ROLE_MEMBER };
	memcpy(b.target, am_identity_public(kim), 32);
	fx_act(s, sam, circle, &b, FX_T0 + 6000, k);
	char why[160];
	b = (struct am_body){ .kind = AM_KIND_NAME, .name = am_str_c("Kim") };
	check_rc(am_state_check(s, circle, am_identity_public(kim), &b, why,
		sizeof why), AM_ERR_NOT_MEMBER);
	uint8_t kh[32];
	check_rc(am_store_append(s, kim, circle, FX_T0 + 7000, &b, kh, NULL), AM_OK);
	check(name_of(s, circle, kim) == NULL);
	check(fx_has_violation(s, circle, kh, AM_RULE_NOT_MEMBER));

	uint8_t d1[32], d2[32];
	check_rc(am_state_digest(s, circle, d1), AM_OK);
	check_rc(am_state_refold(s, circle, d2), AM_OK);
	check(memcmp(d1, d2, 32) == 0);
	bool same = false;
	check_rc(am_state_replay(s, circle, &same), AM_OK);
	check(same);
	am_store_close(&s);
}

/* A NAME of 65 bytes, and one that is not a string: stored (the decoder
 * leaves kinds after 1..12 to the state), ignored with rule body, and
 * every reader and the export go on. */
static void
test_broken_body(void)
{
	struct am_store *s = fx_store_open("broken.db");
	uint8_t circle[32], ag[32];
	fx_genesis(s, sam, "us", FX_T0, circle);
	fx_admit(s, circle, sam, alex, FX_T0 + 1000, FX_T0 + 2000);
	struct am_body b = fx_evening_checkin("Evening", am_identity_public(sam),
		am_identity_public(alex));
	fx_act(s, sam, circle, &b, FX_T0 + 3000, ag);
	uint8_t body[70] = { 0x91, 0xd9, 65 };
	memset(body + 3, 'x', 65);
	put_raw(s, alex, circle, AM_KIND_NAME, body, 68, FX_T0 + 4000);
	static const uint8_t not_str[] = { 0x91, 0x07 };
	put_raw(s, sam, circle, AM_KIND_NAME, not_str, sizeof not_str, FX_T0 + 5000);
	b = fx_body(AM_KIND_ACCEPT, ag);
	fx_act(s, alex, circle, &b, FX_T0 + 6000, NULL);

	struct am_violation *v;
	size_t n, body_rule = 0;
	check_rc(am_state_violations(s, circle, &v, &n), AM_OK);
	for (size_t i = 0; i < n; i++)
		body_rule += v[i].rule == AM_RULE_BODY && v[i].kind == AM_KIND_NAME;
	free(v);
	check(body_rule == 2);
	check(strcmp(am_rule_name(AM_RULE_BODY), "body") == 0);
	check(name_of(s, circle, alex) == NULL);

	uint8_t d1[32], d2[32];
	check_rc(am_state_digest(s, circle, d1), AM_OK);
	check_rc(am_state_refold(s, circle, d2), AM_OK);
	check(memcmp(d1, d2, 32) == 0);
	bool same = false;
	check_rc(am_state_replay(s, circle, &same), AM_OK);
	check(same);

	/* the agreement's export carries the broken entries that precede
	 * what bears on it, and does not fail on them */
	uint8_t *data = NULL;
	size_t len, nentries, nforks, ncarried;
	check_rc(am_bundle_export_signed(s, sam, NULL, ag, FX_T0 + 9000, &data,
		&len, &nentries, &nforks, &ncarried), AM_OK);
	free(data);
	check_rc(am_bundle_export_signed(s, sam, circle, NULL, FX_T0 + 9000, &data,
		&len, &nentries, &nforks, &ncarried), AM_OK);
	free(data);
	am_store_close(&s);
}

static void
test_publish(void)
{
	struct am_store *s = fx_store_open("publish.db");
	uint8_t circle[32];
	unsigned written = 9;
	fx_genesis(s, sam, "us", FX_T0, circle);
	/* nothing set: nothing written */
	check_rc(am_display_publish(s, sam, NULL, FX_T0 + 1000, &written), AM_OK);
	check(written == 0);
	check_rc(am_display_set(s, ""), AM_ERR_ARG);
	check_rc(am_display_set(s, "a\nb"), AM_ERR_ARG);
	char long_name[66];
	memset(long_name, 'x', 65);
	long_name[65] = '\0';
	check_rc(am_display_set(s, long_name), AM_ERR_ARG);
	check_rc(am_display_set(s, "Sam"), AM_OK);
	check_rc(am_display_publish(s, sam, NULL, FX_T0 + 1000, &written), AM_OK);
	check(written == 1);
	check_rc(am_display_publish(s, sam, circle, FX_T0 + 2000, &written), AM_OK);
	check(written == 0);
	char *v = name_of(s, circle, sam);
	check(v != NULL && strcmp(v, "Sam") == 0);
	free(v);
	/* a clock outside the state's bounds writes nothing */
	check_rc(am_display_set(s, "Samuel"), AM_OK);
	check_rc(am_display_publish(s, sam, NULL, INT64_C(100), &written), AM_OK);
	check(written == 0);
	check_rc(am_display_publish(s, sam, NULL, FX_T0 + 3000, &written), AM_OK);
	check(written == 1);
	v = name_of(s, circle, sam);
	check(v != NULL && strcmp(v, "Samuel") == 0);
	free(v);
	am_store_close(&s);
}

int
main(void)
{
	check(sodium_init() >= 0);
	fx_dir_make("names");
	sam = fx_identity_seeded(1);
	alex = fx_identity_seeded(2);
	kim = fx_identity_seeded(3);
	test_who_counts();
	test_broken_body();
	test_publish();
	am_identity_destroy(&sam);
	am_identity_destroy(&alex);
	am_identity_destroy(&kim);
	fx_dir_remove();
	return 0;
}
