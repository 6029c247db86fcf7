/*
 * Tests of invites: codes survive a round trip and refuse typos and
 * truncation; the whole join exchange between an inviter's store and a
 * joiner's store, carried in memory (JOIN, MORE/ENTRIES, ACCEPT); and the
 * refusals: a reused code, an expired one, a forged JOIN, requests out of
 * turn and malformed bytes. Also the usage every node follows.
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "amends/invite.h"
#include "amends/state.h"
#include "amends/store.h"
#include "fixture.h"
#include "test.h"

#define NOW 1800000000000LL            /* ms */
#define HOUR 3600000LL

static struct am_identity *sam, *alex, *lee;

static void
test_code_round_trip(void)
{
	struct am_invite inv, back;
	char *code;

	memset(&inv, 0, sizeof inv);
	inv.witness = true;
	randombytes_buf(inv.circle, sizeof inv.circle);
	memcpy(inv.inviter, am_identity_public(sam), 32);
	randombytes_buf(inv.secret, sizeof inv.secret);
	inv.expires = NOW + 24 * HOUR;
	strcpy(inv.address, "tcp://127.0.0.1:7411");
	check_rc(am_invite_format(&inv, &code), AM_OK);
	check(strncmp(code, "aminvite", 8) == 0);
	check(strlen(code) < AM_INVITE_MAX_CODE);

	check_rc(am_invite_parse(code, &back), AM_OK);
	check(back.witness);
	check(memcmp(back.circle, inv.circle, 32) == 0);
	check(memcmp(back.inviter, inv.inviter, 32) == 0);
	check(memcmp(back.secret, inv.secret, sizeof inv.secret) == 0);
	check(back.expires == inv.expires);
	check(strcmp(back.address, inv.address) == 0);

	/* pasted in capitals, broken over lines */
	size_t n = strlen(code);
	char *messy = malloc(2 * n + 8);
	size_t m = 0;
	messy[m++] = ' ';
	for (size_t i = 0; i < n; i++) {
		messy[m++] = (char)(code[i] >= 'a' && code[i] <= 'z' ?
			code[i] - 'a' + 'A' : code[i]);
		if (i % 40 == 39)
			messy[m++] = '\n';
	}
	messy[m] = '\0';
	check_rc(am_invite_parse(messy, &back), AM_OK);
	check(memcmp(back.secret, inv.secret, sizeof inv.secret) == 0);

	/* every single-character typo and every truncation is refused */
	for (size_t i = 8; i < n; i++) {
		char saved = code[i];
		code[i] = saved == 'x' ? 'y' : 'x';
		check_rc(am_invite_parse(code, &back), AM_ERR_INVITE_CODE);
		code[i] = saved;
	}
	for (size_t cut = 0; cut < n; cut += 7) {
		char saved = code[cut];
		code[cut] = '\0';
		check_rc(am_invite_parse(code, &back), AM_ERR_INVITE_CODE);
		code[cut] = saved;
	}
	check_rc(am_invite_parse("amxyz", &back), AM_ERR_INVITE_CODE);
	check_rc(am_invite_parse("", &back), AM_ERR_INVITE_CODE);

	/* an address that is not one is refused when making a code */
	strcpy(inv.address, "");
	char *bad;
	check(am_invite_format(&inv, &bad) != AM_OK);
	free(messy);
	free(code);
}

/* What both sides see of one exchange. */
struct pair {
	struct am_store *a, *j;      /* inviter's and joiner's stores */
	uint8_t key[AM_CURVE_BYTES]; /* the invite's throwaway key */
	struct am_invite inv;
};

/* Sends msg from the joiner to the inviter; decodes the answer. */
static size_t last_len;      /* of the last answer */

static void
exchange(struct pair *p, uint8_t *msg, size_t len, int64_t now,
	struct am_invite_reply *r, struct am_invite_event *ev, uint8_t **answer)
{
	size_t alen;
	check_rc(am_invite_serve(p->a, sam, p->key, now, msg, len, answer, &alen,
		ev), AM_OK);
	last_len = alen;
	free(msg);
	check(*answer != NULL);
	check_rc(am_invite_reply_parse(*answer, alen, r), AM_OK);
}

static void
join(struct pair *p, struct am_identity *who, int64_t now,
	struct am_invite_reply *r, struct am_invite_event *ev, uint8_t **answer)
{
	uint8_t *msg;
	size_t len;
	check_rc(am_invite_join_msg(&p->inv, who, &msg, &len), AM_OK);
	exchange(p, msg, len, now, r, ev, answer);
}

static void
make_invite(struct pair *p, const uint8_t circle[32], bool witness,
	int64_t expires)
{
	char *code;
	uint8_t sec[AM_CURVE_BYTES];
	check_rc(am_invite_create(p->a, sam, circle, witness, NOW, expires,
		"tcp://127.0.0.1:7411", &code), AM_OK);
	check_rc(am_invite_parse(code, &p->inv), AM_OK);
	check(memcmp(p->inv.circle, circle, 32) == 0);
	check(memcmp(p->inv.inviter, am_identity_public(sam), 32) == 0);
	check(p->inv.witness == witness);
	am_invite_keys(p->inv.secret, p->key, sec);
	free(code);
}

struct keys {
	uint8_t k[8][AM_CURVE_BYTES];
	int n;
};

static int
key_add(void *ctx, const uint8_t key[static AM_CURVE_BYTES])
{
	struct keys *k = ctx;
	check(k->n < 8);
	memcpy(k->k[k->n++], key, AM_CURVE_BYTES);
	return AM_OK;
}

static bool
admitted(struct am_store *s, const uint8_t *key, int64_t now)
{
	struct keys k = { .n = 0 };
	check_rc(am_invite_admitted(s, now, key_add, &k), AM_OK);
	for (int i = 0; i < k.n; i++)
		if (memcmp(k.k[i], key, AM_CURVE_BYTES) == 0)
			return true;
	return false;
}

/* Walks the circle's record into the joiner's store, as `amends join`. */
static unsigned
fetch(struct pair *p, int64_t now)
{
	uint8_t author[32];
	uint64_t from = 0;
	bool start = true;
	unsigned stored = 0;
	for (int guard = 0; guard < 1000; guard++) {
		struct am_invite_reply *r = malloc(sizeof *r);
		struct am_invite_event ev;
		uint8_t *msg, *answer;
		size_t len;
		check_rc(am_invite_more_msg(start ? NULL : author, from, &msg, &len),
			AM_OK);
		exchange(p, msg, len, now, r, &ev, &answer);
		check(r->type == AM_INVITE_MSG_ENTRIES);
		check(ev.outcome == AM_INVITE_SENT);
		check(ev.count == r->nentries);
		for (uint32_t i = 0; i < r->nentries; i++) {
			enum am_ingest_result res;
			/* an entry before the genesis it needs waits for the
			 * next walk, as in `amends join` */
			int rc = am_store_ingest(p->j, r->entries[i], r->entry_len[i],
				&res);
			check(rc == AM_OK || rc == AM_ERR_NO_GENESIS);
			stored += rc == AM_OK && res == AM_INGEST_NEW;
		}
		bool more = r->more;
		memcpy(author, r->next_author, 32);
		from = r->next_from;
		start = false;
		free(answer);
		free(r);
		if (!more)
			return stored;
	}
	check(!"the walk did not end");
	return 0;
}


/* The joiner signs and hands over its answer (the first entry of its
 * feed), as `amends join --accept` or `--decline`. */
static void
answer_it(struct pair *p, struct am_identity *who, const uint8_t proposal[32],
	bool accept, struct am_invite_reply *r, struct am_invite_event *ev)
{
	uint8_t *raw, *msg, *answer;
	size_t rlen, len;

	check_rc(am_invite_answer_entry(who, p->inv.circle, proposal, accept,
		accept ? NULL : "I do not know you", NOW + 2, &raw, &rlen), AM_OK);
	check_rc(am_invite_answer_msg(raw, rlen, &msg, &len), AM_OK);
	free(raw);
	exchange(p, msg, len, NOW + 2, r, ev, &answer);
	free(answer);
}

static void
test_join(void)
{
	struct pair p = { .a = fx_store_open("sam.db"), .j = fx_store_open("alex.db") };
	struct am_invite_reply *r = malloc(sizeof *r);
	struct am_invite_event ev;
	uint8_t circle[32], d1[32], d2[32], *answer;

	fx_genesis(p.a, sam, "us", NOW, circle);
	struct am_body st = { .kind = AM_KIND_STATEMENT,
		.note = am_str_c("we start again") };
	check_rc(am_store_append(p.a, sam, circle, NOW, &st, NULL, NULL), AM_OK);
	make_invite(&p, circle, false, NOW + HOUR);
	check(admitted(p.a, p.key, NOW));

	/* asking for entries before joining is refused */
	uint8_t *msg;
	size_t len;
	check_rc(am_invite_more_msg(NULL, 0, &msg, &len), AM_OK);
	exchange(&p, msg, len, NOW, r, &ev, &answer);
	check(r->type == AM_INVITE_MSG_REFUSED);
	check(ev.outcome == AM_INVITE_REFUSED);
	free(answer);

	/* JOIN: the inviter proposes the joiner and sends a preview */
	struct am_invite_preview *pv = malloc(sizeof *pv);
	join(&p, alex, NOW + 1, r, &ev, &answer);
	check(r->type == AM_INVITE_MSG_PREVIEW);
	check(ev.outcome == AM_INVITE_JOINED);
	check(memcmp(ev.joiner, am_identity_public(alex), 32) == 0);
	check_rc(am_invite_preview_open(answer, last_len, &p.inv,
		am_identity_public(alex), pv), AM_OK);
	check(memcmp(pv->circle, circle, 32) == 0);
	check(strcmp(pv->name, "us") == 0);
	check(pv->role == AM_ROLE_MEMBER);
	check(pv->nmembers == 1);
	check(memcmp(pv->members[0].id, am_identity_public(sam), 32) == 0);
	check(memcmp(pv->proposer, am_identity_public(sam), 32) == 0);
	uint8_t proposal[32];
	memcpy(proposal, pv->proposal, 32);
	/* the preview is for alex only, and any changed byte breaks it */
	check(am_invite_preview_open(answer, last_len, &p.inv,
		am_identity_public(lee), pv) != AM_OK);
	answer[last_len / 2] ^= 1;
	check(am_invite_preview_open(answer, last_len, &p.inv,
		am_identity_public(alex), pv) != AM_OK);
	free(answer);
	check_rc(am_state_may_write(p.a, circle, am_identity_public(alex)), AM_OK);

	/* one who is only proposed gets no entry of the record */
	check_rc(am_invite_more_msg(NULL, 0, &msg, &len), AM_OK);
	exchange(&p, msg, len, NOW + 1, r, &ev, &answer);
	check(r->type == AM_INVITE_MSG_REFUSED);
	check(r->code == AM_ERR_NOT_MEMBER);
	free(answer);

	/* the same joiner again (an interrupted join): the same proposal */
	join(&p, alex, NOW + 2, r, &ev, &answer);
	check(r->type == AM_INVITE_MSG_PREVIEW);
	check_rc(am_invite_preview_open(answer, last_len, &p.inv,
		am_identity_public(alex), pv), AM_OK);
	check(memcmp(pv->proposal, proposal, 32) == 0);
	free(answer);
	free(pv);

	/* the acceptance, then the record */
	answer_it(&p, alex, proposal, true, r, &ev);
	check(r->type == AM_INVITE_MSG_ADMITTED);
	check(ev.outcome == AM_INVITE_ACCEPTED);
	check(r->joined);
	check(r->waiting == 0);
	uint32_t role;
	check_rc(am_state_member_role(p.a, circle, am_identity_public(alex), &role),
		AM_OK);
	check(role == AM_ROLE_MEMBER);

	/* now the record: the joiner's store holds what the inviter's holds
	 * (a second walk for what came before its genesis) */
	check(fetch(&p, NOW + 3) >= 2);
	fetch(&p, NOW + 3);
	check_rc(am_store_digest(p.a, circle, d1), AM_OK);
	check_rc(am_store_digest(p.j, circle, d2), AM_OK);
	check(memcmp(d1, d2, 32) == 0);

	/* someone else with the same code: used */
	join(&p, lee, NOW + 3, r, &ev, &answer);
	check(r->type == AM_INVITE_MSG_REFUSED);
	check(r->code == AM_ERR_INVITE_USED);
	check(ev.outcome == AM_INVITE_REFUSED);
	free(answer);

	/* a used invite stays reachable only for a grace period */
	check(admitted(p.a, p.key, NOW + 10));
	check(!admitted(p.a, p.key, NOW + 1 + AM_INVITE_GRACE_MS + 1));
	join(&p, alex, NOW + 2 + AM_INVITE_GRACE_MS, r, &ev, &answer);
	check(r->type == AM_INVITE_MSG_REFUSED);
	check(r->code == AM_ERR_INVITE_USED);
	free(answer);

	am_store_close(&p.a);
	am_store_close(&p.j);
	free(r);
}

static void
test_refusals(void)
{
	struct pair p = { .a = fx_store_open("sam2.db"), .j = fx_store_open("lee2.db") };
	struct am_invite_reply *r = malloc(sizeof *r);
	struct am_invite_event ev;
	uint8_t circle[32], *answer, *msg;
	size_t len;

	fx_genesis(p.a, sam, "us", NOW, circle);

	/* expired */
	make_invite(&p, circle, true, NOW + HOUR);
	check(!admitted(p.a, p.key, NOW + HOUR));
	join(&p, lee, NOW + HOUR, r, &ev, &answer);
	check(r->type == AM_INVITE_MSG_REFUSED);
	check(r->code == AM_ERR_INVITE_EXPIRED);
	free(answer);
	check(am_state_may_write(p.a, circle, am_identity_public(lee)) != AM_OK);

	/* a JOIN signed by another key than the one it names */
	make_invite(&p, circle, true, NOW + HOUR);
	check_rc(am_invite_join_msg(&p.inv, lee, &msg, &len), AM_OK);
	msg[len - 1] ^= 1;
	exchange(&p, msg, len, NOW, r, &ev, &answer);
	check(r->type == AM_INVITE_MSG_REFUSED);
	check(r->code == AM_ERR_SIGNATURE);
	free(answer);
	check(am_state_may_write(p.a, circle, am_identity_public(lee)) != AM_OK);

	/* the inviter itself */
	join(&p, sam, NOW, r, &ev, &answer);
	check(r->type == AM_INVITE_MSG_REFUSED);
	free(answer);

	/* an unknown key */
	uint8_t saved[AM_CURVE_BYTES];
	memcpy(saved, p.key, sizeof saved);
	randombytes_buf(p.key, sizeof p.key);
	join(&p, lee, NOW, r, &ev, &answer);
	check(r->type == AM_INVITE_MSG_REFUSED);
	check(r->code == AM_ERR_NOT_FOUND);
	free(answer);
	memcpy(p.key, saved, sizeof saved);

	/* malformed bytes: each refused with an answer, nothing written */
	static const uint8_t bad[][8] = {
		{ 0xdd, 0xff, 0xff, 0xff, 0xff },          /* array32 of 4 G */
		{ 0x93, 0x02, 0x01, 0xc0 },                /* version 2 */
		{ 0x92, 0x01, 0x07 },                      /* unknown type */
		{ 0x94, 0x01, 0x01, 0xc0, 0xc0 },          /* JOIN of nils */
		{ 0xca, 0, 0, 0, 0 },                      /* a float */
		{ 0x91, 0x01, 0x00 },                      /* trailing byte */
	};
	static const size_t bad_len[] = { 5, 4, 3, 5, 5, 3 };
	for (size_t i = 0; i < sizeof bad_len / sizeof bad_len[0]; i++) {
		size_t alen;
		check_rc(am_invite_serve(p.a, sam, p.key, NOW, bad[i], bad_len[i],
			&answer, &alen, &ev), AM_OK);
		check(ev.outcome == AM_INVITE_REFUSED);
		check_rc(am_invite_reply_parse(answer, alen, r), AM_OK);
		check(r->type == AM_INVITE_MSG_REFUSED);
		free(answer);
	}
	/* the invite is still good after all that */
	struct am_invite_preview *pv = malloc(sizeof *pv);
	join(&p, lee, NOW, r, &ev, &answer);
	check(r->type == AM_INVITE_MSG_PREVIEW);
	check_rc(am_invite_preview_open(answer, last_len, &p.inv,
		am_identity_public(lee), pv), AM_OK);
	check(pv->role == AM_ROLE_WITNESS);
	free(answer);

	/* lee declines: stored, and the record stays closed to lee */
	answer_it(&p, lee, pv->proposal, false, r, &ev);
	check(r->type == AM_INVITE_MSG_ADMITTED);
	check(ev.outcome == AM_INVITE_DECLINED);
	check(!r->joined);
	check_rc(am_invite_more_msg(NULL, 0, &msg, &len), AM_OK);
	exchange(&p, msg, len, NOW + 3, r, &ev, &answer);
	check(r->type == AM_INVITE_MSG_REFUSED);
	free(answer);
	/* an answer that is not lee's, to another proposal, is refused */
	uint8_t other[32] = { 1 };
	answer_it(&p, lee, other, true, r, &ev);
	check(r->type == AM_INVITE_MSG_REFUSED);
	free(pv);

	/* an inviter who has left the circle since making the invite */
	uint8_t gone[32];
	fx_genesis(p.a, sam, "before", NOW, gone);
	make_invite(&p, gone, false, NOW + HOUR);
	struct am_body leave = { .kind = AM_KIND_LEAVE };
	fx_act(p.a, sam, gone, &leave, NOW + 1, NULL);
	join(&p, lee, NOW + 2, r, &ev, &answer);
	check(r->type == AM_INVITE_MSG_REFUSED && r->code == AM_ERR_REFUSED);
	check(strstr(r->text, "no longer in the circle") != NULL);
	free(answer);
	check(am_state_may_write(p.a, gone, am_identity_public(lee)) != AM_OK);

	/* expiry and addresses are checked when making an invite */
	char *code;
	check_rc(am_invite_create(p.a, sam, circle, false, NOW, NOW,
		"tcp://127.0.0.1:1", &code), AM_ERR_ARG);
	check_rc(am_invite_create(p.a, sam, circle, false, NOW,
		NOW + AM_INVITE_MAX_EXPIRY + 1, "tcp://127.0.0.1:1", &code), AM_ERR_ARG);
	check_rc(am_invite_create(p.a, sam, circle, false, NOW, NOW + HOUR,
		"udp://127.0.0.1:1", &code), AM_ERR_ARG);
	check_rc(am_invite_create(p.a, sam, circle, false, NOW, NOW + HOUR,
		"tcp://127.0.0.1:0", &code), AM_ERR_ARG);
	am_store_close(&p.a);
	am_store_close(&p.j);
	free(r);
}


struct feed_copy {
	struct am_store *to;
};

static int
ingest_into(void *ctx, const uint8_t *raw, size_t len)
{
	struct feed_copy *c = ctx;
	enum am_ingest_result res;
	return am_store_ingest(c->to, raw, len, &res);
}

static int
same_bytes(void *ctx, const uint8_t *raw, size_t len)
{
	const uint8_t **want = ctx;
	size_t n;
	memcpy(&n, want[1], sizeof n);
	return n == len && memcmp(raw, want[0], len) == 0 ? AM_OK : AM_ERR_FIELD;
}

/* The joiner's answer is its feed's entry 1, signed before it holds the
 * circle and kept aside: when it writes there before its own entry came
 * back, the kept answer becomes entry 1 and the new one entry 2, so 1 is
 * never signed twice (protocol/invite.md, "The joiner's own answer"). */
static void
test_kept_answer(void)
{
	struct pair p = { .a = fx_store_open("sam3.db"), .j = fx_store_open("alex3.db") };
	struct am_invite_reply *r = malloc(sizeof *r);
	struct am_invite_preview *pv = malloc(sizeof *pv);
	struct am_invite_event ev;
	uint8_t circle[32], *answer, *raw, *msg, hash[32];
	size_t rlen, len;
	uint64_t seq;

	fx_genesis(p.a, sam, "us", NOW, circle);
	make_invite(&p, circle, false, NOW + HOUR);
	join(&p, alex, NOW + 1, r, &ev, &answer);
	check_rc(am_invite_preview_open(answer, last_len, &p.inv,
		am_identity_public(alex), pv), AM_OK);
	free(answer);
	check_rc(am_invite_answer_entry(alex, circle, pv->proposal, true, NULL,
		NOW + 2, &raw, &rlen), AM_OK);
	char key[sizeof AM_SETTING_ANSWER + 64], *hex = malloc(2 * rlen + 1);
	am_store_answer_key(circle, key);
	sodium_bin2hex(hex, 2 * rlen + 1, raw, rlen);
	check_rc(am_store_setting_set(p.j, key, hex), AM_OK);
	free(hex);
	check_rc(am_invite_answer_msg(raw, rlen, &msg, &len), AM_OK);
	exchange(&p, msg, len, NOW + 2, r, &ev, &answer);
	check(r->type == AM_INVITE_MSG_ADMITTED && r->joined);
	free(answer);

	/* the joiner holds the inviter's feed, not yet its own answer */
	struct feed_copy c = { .to = p.j };
	check_rc(am_store_range(p.a, circle, am_identity_public(sam), 1, 100,
		ingest_into, &c), AM_OK);
	check_rc(am_store_head(p.j, circle, am_identity_public(alex), &seq, hash),
		AM_OK);
	check(seq == 0);
	struct am_body st = { .kind = AM_KIND_STATEMENT, .note = am_str_c("hello") };
	check_rc(am_store_append(p.j, alex, circle, NOW + 3, &st, NULL, &seq), AM_OK);
	check(seq == 2);
	const uint8_t *want[2] = { raw, (const uint8_t *)&rlen };
	check_rc(am_store_range(p.j, circle, am_identity_public(alex), 1, 1,
		same_bytes, want), AM_OK);
	/* the inviter's copy of entry 1 is the same entry: no fork */
	check_rc(am_store_range(p.a, circle, am_identity_public(alex), 1, 1,
		same_bytes, want), AM_OK);
	free(raw);
	free(pv);
	free(r);
	am_store_close(&p.a);
	am_store_close(&p.j);
}

static void
test_addresses(void)
{
	check(am_peer_address_ok("tcp://127.0.0.1:7411"));
	check(am_peer_address_ok("tcp://node.example.org:1"));
	check(am_peer_address_ok("tcp://[::1]:65535"));
	check(!am_peer_address_ok("tcp://127.0.0.1"));
	check(!am_peer_address_ok("tcp://:7411"));
	check(!am_peer_address_ok("tcp://127.0.0.1:65536"));
	check(!am_peer_address_ok("tcp://a b:1"));
	check(!am_peer_address_ok("ipc:///tmp/x"));
	check(!am_peer_address_ok("tcp://[]:1"));
}

int
main(void)
{
	check(sodium_init() >= 0);
	fx_dir_make("invite");
	check_rc(am_identity_generate(&sam), AM_OK);
	check_rc(am_identity_generate(&alex), AM_OK);
	check_rc(am_identity_generate(&lee), AM_OK);
	test_code_round_trip();
	test_addresses();
	test_join();
	test_refusals();
	test_kept_answer();
	am_identity_destroy(&sam);
	am_identity_destroy(&alex);
	am_identity_destroy(&lee);
	fx_dir_remove();
	return 0;
}
