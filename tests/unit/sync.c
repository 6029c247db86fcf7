/*
 * Tests of the sync protocol: the message vectors of protocol/sync-vectors.txt
 * byte for byte, batched ingest, and two stores with two sessions wired
 * together in memory (a bounded loop moving each session's next message into
 * the other): catch-up from empty, entries that wait for their author's
 * membership, up-to-date nodes that exchange only HELLO, incremental
 * catch-up, live push, a stranger who gets nothing, a restored node, fork
 * evidence, a link that loses messages, malformed messages each refused
 * with its own error, randomly mutated messages, and "same record" known
 * only from the peer's word (never before the peer has pulled), with the
 * peer's heads asked on the live session.
 *
 * Run with --print to write the vectors (only when the wire format changes,
 * and then protocol/sync.md changes too).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "amends/checkpoint.h"
#include "amends/state.h"
#include "amends/store.h"
#include "amends/sync.h"
#include "fixture.h"
#include "test.h"

/* entries claim times the state reads (2000 to 2199): 2023-11-14 on */
#define T0 INT64_C(1700000000000)

static struct am_identity *sam, *alex, *dana, *eve;

static const uint8_t *
pk(const struct am_identity *id)
{
	return am_identity_public(id);
}

/* A circle created by creator in s, with a MEMBER proposal by the creator
 * for each of the others (role per entry of roles, or members). */
static void
circle_new(struct am_store *s, struct am_identity *creator,
	struct am_identity **others, const uint32_t *roles, int n,
	uint8_t circle[32])
{
	fx_genesis(s, creator, "us", T0 + 1000, circle);
	for (int i = 0; i < n; i++) {
		struct am_body m = { .kind = AM_KIND_MEMBER,
			.role = roles ? roles[i] : AM_ROLE_MEMBER };
		memcpy(m.target, pk(others[i]), 32);
		check_rc(am_store_append(s, creator, circle, T0 + 1000, &m, NULL, NULL),
			AM_OK);
	}
}

static void
say(struct am_store *s, struct am_identity *id, const uint8_t circle[32],
	int n)
{
	for (int i = 0; i < n; i++) {
		char text[64];
		snprintf(text, sizeof text, "statement %d", i);
		struct am_body b = { .kind = AM_KIND_STATEMENT, .note = am_str_c(text) };
		check_rc(am_store_append(s, id, circle, T0 + 2000 + i, &b, NULL, NULL),
			AM_OK);
	}
}

static uint64_t
head_of(struct am_store *s, const uint8_t circle[32], const uint8_t *author)
{
	uint64_t seq;
	uint8_t h[32];
	check_rc(am_store_head(s, circle, author, &seq, h), AM_OK);
	return seq;
}

static bool
same_digest(struct am_store *a, struct am_store *b, const uint8_t circle[32])
{
	uint8_t da[32], db[32];
	check_rc(am_store_digest(a, circle, da), AM_OK);
	check_rc(am_store_digest(b, circle, db), AM_OK);
	return memcmp(da, db, 32) == 0;
}

/* ---- two sessions wired together ---- */

struct link {
	struct am_sync *a, *b;          /* a runs on sa, b on sb */
	uint64_t bytes;
	uint64_t types[AM_SYNC_TYPE_MAX + 1];
	uint64_t msgs;
	struct am_sync_msg *scratch;
	/* a hostile a: its HEADS show lie_author's feed at lie_seq, and its
	 * HELLO summaries never equal anyone's (no "same" to lean on) */
	const uint8_t *lie_author;
	uint64_t lie_seq;
};

static void
link_open(struct link *l, struct am_store *sa, struct am_identity *ida,
	struct am_store *sb, struct am_identity *idb)
{
	memset(l, 0, sizeof *l);
	l->a = am_sync_new(sa, pk(ida), pk(idb));
	l->b = am_sync_new(sb, pk(idb), pk(ida));
	check(l->a != NULL && l->b != NULL);
	l->scratch = malloc(sizeof *l->scratch);
	check(l->scratch != NULL);
}

static void
link_close(struct link *l)
{
	am_sync_destroy(&l->a);
	am_sync_destroy(&l->b);
	check(l->a == NULL);
	free(l->scratch);
}

static void
count_clear(struct link *l)
{
	l->bytes = 0;
	l->msgs = 0;
	memset(l->types, 0, sizeof l->types);
}

/* Moves one message from one session to the other; true when there was
 * one. Like the node, it tells a session whose store changed. */
static bool
move(struct link *l, struct am_sync *from, struct am_sync *to)
{
	struct am_sync_stats before, after;
	uint8_t *msg;
	size_t len;

	check_rc(am_sync_next_out(from, &msg, &len), AM_OK);
	if (msg == NULL)
		return false;
	check(len <= AM_SYNC_MAX_MSG);
	check_rc(am_sync_msg_decode(msg, len, l->scratch), AM_OK);
	if (from == l->a && l->lie_author != NULL) {
		struct am_sync_msg *m = l->scratch;
		bool lied = false;
		for (uint32_t i = 0; m->type == AM_SYNC_HEADS && i < m->n; i++)
			if (memcmp(m->heads[i].author, l->lie_author, 32) == 0) {
				m->heads[i].seq = l->lie_seq;
				lied = true;
			}
		if (m->type == AM_SYNC_HELLO) {
			m->summary[0] ^= 0x5a;
			lied = true;
		}
		if (lied) {
			free(msg);
			check_rc(am_sync_msg_encode(m, &msg, &len), AM_OK);
		}
	}
	l->types[l->scratch->type]++;
	l->bytes += len;
	l->msgs++;
	am_sync_stats(to, &before);
	check_rc(am_sync_receive(to, msg, len), AM_OK);
	am_sync_stats(to, &after);
	if (after.entries_in != before.entries_in)
		check_rc(am_sync_local_changed(to), AM_OK);
	free(msg);
	return true;
}

/* Runs both sessions until neither has anything to send; bounded. */
static void
pump(struct link *l)
{
	for (int i = 0; i < 200000; i++) {
		bool moved = move(l, l->a, l->b);
		moved |= move(l, l->b, l->a);
		if (!moved)
			return;
	}
	check(!"the sessions did not settle");
}

static void
link_sync(struct link *l)
{
	check_rc(am_sync_start(l->a), AM_OK);
	check_rc(am_sync_start(l->b), AM_OK);
	pump(l);
	check(am_sync_idle(l->a));
	check(am_sync_idle(l->b));
}

static void
drain_events(struct am_sync *s, int *refused, int *denied)
{
	struct am_sync_event ev;
	while (am_sync_next_event(s, &ev)) {
		if (refused && ev.kind == AM_SYNC_EV_REFUSED)
			(*refused)++;
		if (denied && ev.kind == AM_SYNC_EV_DENIED)
			(*denied)++;
	}
}

/* ---- catch-up ---- */

static void
test_catch_up(void)
{
	struct am_store *a = fx_store_open("catch-a.db"), *b = fx_store_open("catch-b.db");
	struct am_identity *members[] = { alex, dana };
	const uint32_t roles[] = { AM_ROLE_MEMBER, AM_ROLE_WITNESS };
	uint8_t c[4][32];
	struct link l;

	/* Sam's node holds three circles with Alex, one of them with Dana as
	 * a witness, whose entries it also holds, and one without Alex */
	circle_new(a, sam, members, NULL, 1, c[0]);
	say(a, sam, c[0], 300);
	circle_new(a, sam, members, roles, 2, c[1]);
	say(a, sam, c[1], 5);
	say(a, dana, c[1], 7);
	circle_new(a, sam, members, NULL, 1, c[2]);
	say(a, sam, c[2], 1);
	struct am_identity *just_dana[] = { dana };
	circle_new(a, sam, just_dana, NULL, 1, c[3]);
	say(a, sam, c[3], 3);

	/* Alex's node starts with its answers only (the invite exchange) */
	for (int i = 0; i < 3; i++)
		fx_invite(a, c[i], b, alex);
	link_open(&l, a, sam, b, alex);
	link_sync(&l);
	for (int i = 0; i < 3; i++)
		check(same_digest(a, b, c[i]));
	check(head_of(b, c[0], pk(sam)) == 302);
	check(head_of(b, c[1], pk(dana)) == 7);
	/* the circle Alex is not in never reached it */
	check(head_of(b, c[3], pk(sam)) == 0);
	struct am_sync_stats st;
	am_sync_stats(l.b, &st);
	check(st.entries_in == 302 + 8 + 7 + 3);
	check(st.faults == 0);
	am_sync_stats(l.a, &st);
	check(st.faults == 0 && st.entries_out == 302 + 8 + 7 + 3);

	/* the state Alex's node derives is Sam's */
	for (int i = 0; i < 3; i++) {
		uint8_t sa[32], sb[32];
		check_rc(am_state_digest(a, c[i], sa), AM_OK);
		check_rc(am_state_digest(b, c[i], sb), AM_OK);
		check(memcmp(sa, sb, 32) == 0);
	}

	/* incremental: both sides write, then compare again */
	say(a, sam, c[0], 260);
	say(b, alex, c[2], 4);
	count_clear(&l);
	check_rc(am_sync_recheck(l.a), AM_OK);
	check_rc(am_sync_recheck(l.b), AM_OK);
	pump(&l);
	check(am_sync_idle(l.a) && am_sync_idle(l.b));
	for (int i = 0; i < 3; i++)
		check(same_digest(a, b, c[i]));
	check(head_of(a, c[2], pk(alex)) == 5);
	/* cost grows with what is missing: 260 entries take two batches */
	check(l.types[AM_SYNC_ENTRIES] >= 2 && l.types[AM_SYNC_ENTRIES] <= 4);
	check(l.types[AM_SYNC_HEADS] <= 4);
	link_close(&l);
	am_store_close(&a);
	am_store_close(&b);
}

/* Entries of a feed arriving before the member proposal that admits their
 * author are refused for now, and a later round takes them. */
static void
test_membership_order(void)
{
	struct am_store *a = fx_store_open("order-a.db"), *b = fx_store_open("order-b.db");
	struct am_store *c = fx_store_open("order-c.db");
	struct am_identity *members[] = { alex, dana };
	uint8_t circle[32];
	struct link l;

	circle_new(a, sam, members, NULL, 2, circle);
	fx_invite(a, circle, b, alex);
	fx_invite(a, circle, c, dana);
	say(a, dana, circle, 3);
	say(a, alex, circle, 2);
	link_open(&l, a, sam, b, alex);
	link_sync(&l);
	check(same_digest(a, b, circle));
	link_close(&l);

	/* Dana's node, empty, syncs with Alex's */
	link_open(&l, b, alex, c, dana);
	link_sync(&l);
	check(same_digest(b, c, circle));
	check(head_of(c, circle, pk(alex)) == 4);   /* two accepts, two statements */
	link_close(&l);
	am_store_close(&a);
	am_store_close(&b);
	am_store_close(&c);
}

static void
test_up_to_date(void)
{
	struct am_store *a = fx_store_open("hundred-a.db"), *b = fx_store_open("hundred-b.db");
	struct am_identity *members[] = { alex };
	uint8_t circles[100][32];
	struct link l;

	for (int i = 0; i < 100; i++) {
		circle_new(a, sam, members, NULL, 1, circles[i]);
		fx_invite(a, circles[i], b, alex);
		say(a, sam, circles[i], 2);
	}
	link_open(&l, a, sam, b, alex);
	link_sync(&l);
	for (int i = 0; i < 100; i++)
		check(same_digest(a, b, circles[i]));
	link_close(&l);

	/* a new session between up-to-date nodes: two HELLOs, each answered
	 * by a HELLO that asks for nothing, and nothing else */
	link_open(&l, a, sam, b, alex);
	link_sync(&l);
	check(l.msgs == 4 && l.types[AM_SYNC_HELLO] == 4);
	check(l.bytes < 4096);
	struct am_sync_stats sa, sb;
	am_sync_stats(l.a, &sa);
	am_sync_stats(l.b, &sb);
	check(sa.bytes_out + sb.bytes_out == l.bytes);
	check(sa.bytes_in == sb.bytes_out);
	printf("sync: up-to-date nodes sharing 100 circles exchanged %llu bytes\n",
		(unsigned long long)l.bytes);

	/* live push: one new entry goes as one PUSH, answered by one ACK */
	count_clear(&l);
	say(a, sam, circles[42], 1);
	check_rc(am_sync_local_changed(l.a), AM_OK);
	pump(&l);
	check(head_of(b, circles[42], pk(sam)) == 5);
	check(l.msgs == 2 && l.types[AM_SYNC_PUSH] == 1 && l.types[AM_SYNC_ACK] == 1);
	/* and back, from Alex's side */
	count_clear(&l);
	say(b, alex, circles[7], 3);
	check_rc(am_sync_local_changed(l.b), AM_OK);
	pump(&l);
	check(head_of(a, circles[7], pk(alex)) == 4);   /* its accept, three */
	check(l.types[AM_SYNC_PUSH] == 1 && l.types[AM_SYNC_WANT] == 0);
	check(same_digest(a, b, circles[7]));
	/* a long run goes in several PUSHes within the window, none pulled */
	count_clear(&l);
	say(a, sam, circles[3], 600);
	check_rc(am_sync_local_changed(l.a), AM_OK);
	pump(&l);
	check(head_of(b, circles[3], pk(sam)) == 604);
	check(l.types[AM_SYNC_PUSH] == 3 && l.types[AM_SYNC_ACK] == 3);
	check(l.types[AM_SYNC_WANT] == 0);
	check(am_sync_idle(l.a) && am_sync_idle(l.b));
	/* a change named by its circle is pushed the same way */
	count_clear(&l);
	say(a, sam, circles[9], 2);
	check_rc(am_sync_circle_changed(l.a, circles[8]), AM_OK);
	pump(&l);
	check(l.msgs == 0);
	check_rc(am_sync_circle_changed(l.a, circles[9]), AM_OK);
	pump(&l);
	check(l.types[AM_SYNC_PUSH] == 1 && same_digest(a, b, circles[9]));
	/* nothing changed: nothing sent */
	count_clear(&l);
	check_rc(am_sync_local_changed(l.a), AM_OK);
	check_rc(am_sync_local_changed(l.b), AM_OK);
	pump(&l);
	check(l.msgs == 0);
	link_close(&l);
	am_store_close(&a);
	am_store_close(&b);
}

/* Messages lost with a connection: a seeded share of them vanish, then
 * each side starts over (am_sync_recheck, as the node does on reconnect);
 * one clean exchange after that converges, with no message refused. */
static uint64_t rng = 0x9e3779b97f4a7c15u;

static uint64_t
next_random(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

static void
pump_lossy(struct link *l)
{
	for (int i = 0; i < 200000; i++) {
		bool moved = false;
		for (int way = 0; way < 2; way++) {
			struct am_sync *from = way ? l->b : l->a, *to = way ? l->a : l->b;
			uint8_t *msg;
			size_t len;
			check_rc(am_sync_next_out(from, &msg, &len), AM_OK);
			if (msg == NULL)
				continue;
			moved = true;
			if (next_random() % 6 != 0) {
				/* refusals are allowed here: answers cross the losses */
				int rc = am_sync_receive(to, msg, len);
				check(rc != AM_ERR_DB && rc != AM_ERR_NOMEM);
				check_rc(am_sync_local_changed(to), AM_OK);
			}
			free(msg);
		}
		if (!moved)
			return;
	}
	check(!"the sessions did not settle");
}

static void
test_lost_messages(void)
{
	struct am_store *a = fx_store_open("lossy-a.db"), *b = fx_store_open("lossy-b.db");
	struct am_identity *members[] = { alex, dana };
	uint8_t c1[32], c2[32];
	struct link l;

	circle_new(a, sam, members, NULL, 2, c1);
	say(a, sam, c1, 700);
	say(a, dana, c1, 40);
	struct am_identity *just_sam[] = { sam };
	circle_new(b, alex, just_sam, NULL, 1, c2);
	say(b, alex, c2, 300);
	fx_invite(a, c1, b, alex);
	fx_invite(b, c2, a, sam);
	link_open(&l, a, sam, b, alex);
	check_rc(am_sync_start(l.a), AM_OK);
	check_rc(am_sync_start(l.b), AM_OK);
	pump_lossy(&l);
	for (int i = 0; i < 5; i++) {
		check_rc(am_sync_recheck(l.a), AM_OK);
		check_rc(am_sync_recheck(l.b), AM_OK);
		pump_lossy(&l);
	}
	check_rc(am_sync_recheck(l.a), AM_OK);
	check_rc(am_sync_recheck(l.b), AM_OK);
	pump(&l);
	check(am_sync_idle(l.a) && am_sync_idle(l.b));
	check(same_digest(a, b, c1) && same_digest(a, b, c2));
	check(head_of(b, c1, pk(sam)) == 703 && head_of(a, c2, pk(alex)) == 302);
	link_close(&l);
	am_store_close(&a);
	am_store_close(&b);
}

/* Mutated messages (flipped bits, cut ends, bytes inserted) from a real
 * exchange never crash a session nor change a store that already holds
 * every entry they carry; each is taken or refused with a code. */
struct capture {
	uint8_t *msg[64];
	size_t len[64];
	int n;
};

static void
capture_link(struct link *l, struct capture *c)
{
	for (int i = 0; i < 100000; i++) {
		bool moved = false;
		for (int way = 0; way < 2; way++) {
			struct am_sync *from = way ? l->b : l->a, *to = way ? l->a : l->b;
			uint8_t *msg;
			size_t len;
			check_rc(am_sync_next_out(from, &msg, &len), AM_OK);
			if (msg == NULL)
				continue;
			moved = true;
			check_rc(am_sync_receive(to, msg, len), AM_OK);
			if (c->n < 64) {
				c->msg[c->n] = msg;
				c->len[c->n++] = len;
			} else {
				free(msg);
			}
		}
		if (!moved)
			return;
	}
	check(!"the sessions did not settle");
}

static void
test_mutations(void)
{
	struct am_store *a = fx_store_open("mut-a.db"), *b = fx_store_open("mut-b.db");
	struct am_identity *members[] = { alex, dana };
	uint8_t circle[32], before[32], after[32];
	struct capture cap = { .n = 0 };
	struct link l;

	circle_new(a, sam, members, NULL, 2, circle);
	say(a, sam, circle, 40);
	say(a, dana, circle, 3);
	fx_invite(a, circle, b, alex);
	link_open(&l, a, sam, b, alex);
	check_rc(am_sync_start(l.a), AM_OK);
	check_rc(am_sync_start(l.b), AM_OK);
	capture_link(&l, &cap);
	check(same_digest(a, b, circle) && cap.n >= 8);
	link_close(&l);
	check_rc(am_store_digest(a, circle, before), AM_OK);

	struct am_sync *s = am_sync_new(a, pk(sam), pk(alex));
	uint8_t *buf = malloc(AM_SYNC_MAX_MSG);
	check(s != NULL && buf != NULL);
	for (int i = 0; i < 20000; i++) {
		int k = (int)(next_random() % (uint64_t)cap.n);
		size_t len = cap.len[k];
		memcpy(buf, cap.msg[k], len);
		switch (next_random() % 4) {
		case 0:
			for (int f = 0; f < 1 + (int)(next_random() % 4); f++)
				buf[next_random() % len] ^= (uint8_t)(1u << (next_random() % 8));
			break;
		case 1:
			len = next_random() % len;
			break;
		case 2:
			if (len < AM_SYNC_MAX_MSG) {
				size_t at = next_random() % len;
				memmove(buf + at + 1, buf + at, len - at);
				buf[at] = (uint8_t)next_random();
				len++;
			}
			break;
		default:
			buf[next_random() % len] = (uint8_t)next_random();
			break;
		}
		int rc = am_sync_receive(s, buf, len);
		check(rc == AM_OK || (rc >= AM_ERR_TRUNCATED && rc <= AM_ERR_FIELD) ||
			(rc >= AM_ERR_MSG_TYPE && rc <= AM_ERR_BATCH) ||
			rc == AM_ERR_SIGNATURE || rc == AM_ERR_NOT_MEMBER);
		/* drain what it answers, as a transport would */
		for (int j = 0; j < 64; j++) {
			uint8_t *out;
			size_t olen;
			check_rc(am_sync_next_out(s, &out, &olen), AM_OK);
			if (out == NULL)
				break;
			free(out);
		}
		struct am_sync_event ev;
		while (am_sync_next_event(s, &ev))
			;
		if (i % 5000 == 4999)
			check_rc(am_sync_recheck(s), AM_OK);
	}
	check_rc(am_store_digest(a, circle, after), AM_OK);
	check(memcmp(before, after, 32) == 0);
	check_rc(am_store_check(a), AM_OK);
	am_sync_destroy(&s);
	for (int i = 0; i < cap.n; i++)
		free(cap.msg[i]);
	free(buf);
	am_store_close(&a);
	am_store_close(&b);
}

/* A node whose identity was restored from a key backup starts empty and
 * may not write into a circle until it holds its own latest entries there:
 * a sync that shows it nothing newer lifts that guard. */
static void
test_restored(void)
{
	struct am_store *a = fx_store_open("restore-a.db"), *b = fx_store_open("restore-b.db");
	struct am_identity *members[] = { alex };
	uint8_t circle[32];
	struct link l;

	circle_new(a, sam, members, NULL, 1, circle);
	fx_invite(a, circle, b, alex);
	link_open(&l, a, sam, b, alex);
	link_sync(&l);
	say(b, alex, circle, 4);
	check_rc(am_sync_local_changed(l.b), AM_OK);
	pump(&l);
	check(head_of(a, circle, pk(alex)) == 5);
	link_close(&l);

	struct am_store *r = fx_store_open("restore-r.db");
	check_rc(am_store_setting_set(r, AM_SETTING_RESTORED, "1"), AM_OK);
	struct am_body body = { .kind = AM_KIND_STATEMENT, .note = am_str_c("hi") };
	check_rc(am_store_append(r, alex, circle, T0 + 1, &body, NULL, NULL),
		AM_ERR_RESTORING);
	link_open(&l, a, sam, r, alex);
	link_sync(&l);
	check(head_of(r, circle, pk(alex)) == 5);
	uint64_t seq;
	check_rc(am_store_append(r, alex, circle, T0 + 1, &body, NULL, &seq), AM_OK);
	check(seq == 6);
	link_close(&l);
	am_store_close(&a);
	am_store_close(&b);
	am_store_close(&r);
}

/* A restored node and a hostile peer whose HEADS claim our feed at 2^62:
 * the claim is no evidence, so it neither lifts the guard nor blocks us.
 * Once the peer has served what it holds of our feed and nothing signed
 * names more, we write the next number (issue 22). */
static void
test_restored_longer_claim(void)
{
	struct am_store *a = fx_store_open("claim-a.db"), *b = fx_store_open("claim-b.db");
	struct am_identity *members[] = { alex };
	uint8_t circle[32];
	struct link l;

	circle_new(a, sam, members, NULL, 1, circle);
	fx_invite(a, circle, b, alex);
	link_open(&l, a, sam, b, alex);
	link_sync(&l);
	say(b, alex, circle, 4);
	check_rc(am_sync_local_changed(l.b), AM_OK);
	pump(&l);
	check(head_of(a, circle, pk(alex)) == 5);
	link_close(&l);

	struct am_store *r = fx_store_open("claim-r.db");
	check_rc(am_store_setting_set(r, AM_SETTING_RESTORED, "1"), AM_OK);
	link_open(&l, a, sam, r, alex);
	l.lie_author = pk(alex);
	l.lie_seq = UINT64_C(1) << 62;
	link_sync(&l);
	check(head_of(r, circle, pk(alex)) == 5);
	struct am_body body = { .kind = AM_KIND_STATEMENT, .note = am_str_c("hi") };
	uint64_t seq = 0;
	check_rc(am_store_append(r, alex, circle, T0 + 1, &body, NULL, &seq), AM_OK);
	check(seq == 6);
	link_close(&l);
	am_store_close(&a);
	am_store_close(&b);
	am_store_close(&r);
}

/* A restored node and a peer whose HEADS claim our feed shorter than it
 * holds: a live checkpoint (signed) names more, so the guard stays until
 * we hold it, and we fetch it; we never number over entries of ours. */
static void
test_restored_shorter_claim(void)
{
	struct am_store *a = fx_store_open("short-a.db"), *b = fx_store_open("short-b.db");
	struct am_identity *members[] = { alex };
	struct am_head heads[AM_MAX_HEADS];
	uint32_t nheads;
	uint8_t circle[32];
	struct link l;

	circle_new(a, sam, members, NULL, 1, circle);
	fx_invite(a, circle, b, alex);
	link_open(&l, a, sam, b, alex);
	link_sync(&l);
	say(b, alex, circle, 9);
	check_rc(am_sync_local_changed(l.b), AM_OK);
	pump(&l);
	check(head_of(a, circle, pk(alex)) == 10);
	link_close(&l);
	/* sam checkpoints what he holds: alex's feed at 10 */
	struct am_body *cp = calloc(1, sizeof *cp);
	check(cp != NULL);
	check_rc(am_checkpoint_heads(a, circle, heads, &nheads), AM_OK);
	cp->kind = AM_KIND_CHECKPOINT;
	cp->nheads = nheads;
	memcpy(cp->heads, heads, nheads * sizeof heads[0]);
	check_rc(am_store_append(a, sam, circle, T0 + 3000, cp, NULL, NULL), AM_OK);
	free(cp);

	struct am_store *r = fx_store_open("short-r.db");
	check_rc(am_store_setting_set(r, AM_SETTING_RESTORED, "1"), AM_OK);
	link_open(&l, a, sam, r, alex);
	l.lie_author = pk(alex);
	l.lie_seq = 4;
	link_sync(&l);
	/* the checkpoint named 10: all of it fetched before any write */
	check(head_of(r, circle, pk(alex)) == 10);
	struct am_body body = { .kind = AM_KIND_STATEMENT, .note = am_str_c("hi") };
	uint64_t seq = 0;
	check_rc(am_store_append(r, alex, circle, T0 + 1, &body, NULL, &seq), AM_OK);
	check(seq == 11);
	link_close(&l);
	am_store_close(&a);
	am_store_close(&b);
	am_store_close(&r);
}

/* Runs a restored session of r with the node of peer (store s), and
 * tells whether r's side reported a refuted claim by claimer at seq. */
static bool
sync_refutes(struct am_store *s, struct am_identity *peer, struct am_store *r,
	struct am_identity *self, const uint8_t *claimer, uint64_t seq)
{
	struct am_sync_event ev;
	struct link l;
	bool refuted = false;
	link_open(&l, s, peer, r, self);
	link_sync(&l);
	while (am_sync_next_event(l.b, &ev))
		refuted |= ev.kind == AM_SYNC_EV_CLAIM_REFUTED &&
			memcmp(ev.author, claimer, 32) == 0 && ev.seq == seq;
	link_close(&l);
	return refuted;
}

struct refutations {
	size_t n;
	uint64_t shown;
	uint8_t author[32];
};

static int
count_refutation(void *ctx, const struct am_checkpoint_refutation *r)
{
	struct refutations *c = ctx;
	c->n++;
	c->shown = r->shown;
	memcpy(c->author, r->author, 32);
	return AM_OK;
}

/* A hostile member (sam) signs a checkpoint naming alex's feed at
 * 1,000,000 with a made-up hash. Restored, alex takes it as a claim: the
 * guard stays while only dana's node (not the claim's author) has been
 * heard, and while sam's node shows alex's feed at the claim without
 * serving it (withholding refutes nothing). Once sam's own node has
 * answered, showing alex's feed as it is and serving what it has, the
 * claim is refuted, recorded and reported, and alex writes the next
 * number: a signed false statement blocks nobody for good (issue 22). */
static void
test_restored_hostile_checkpoint(void)
{
	struct am_store *a = fx_store_open("hcp-a.db"), *b = fx_store_open("hcp-b.db");
	struct am_store *d = fx_store_open("hcp-d.db");
	struct am_identity *members[] = { alex, dana };
	struct am_head heads[AM_MAX_HEADS];
	uint32_t nheads;
	uint8_t circle[32];
	struct link l;

	circle_new(a, sam, members, NULL, 2, circle);
	fx_invite(a, circle, b, alex);
	fx_invite(a, circle, d, dana);
	link_open(&l, a, sam, b, alex);
	link_sync(&l);
	say(b, alex, circle, 4);
	check_rc(am_sync_local_changed(l.b), AM_OK);
	pump(&l);
	link_close(&l);
	uint64_t five = head_of(a, circle, pk(alex));
	check(five >= 5 && head_of(b, circle, pk(alex)) == five);
	/* sam's lie: alex's feed at 1,000,000, a hash of nothing */
	struct am_body *cp = calloc(1, sizeof *cp);
	check(cp != NULL);
	check_rc(am_checkpoint_heads(a, circle, heads, &nheads), AM_OK);
	cp->kind = AM_KIND_CHECKPOINT;
	cp->nheads = nheads;
	memcpy(cp->heads, heads, nheads * sizeof heads[0]);
	bool named = false;
	for (uint32_t i = 0; i < nheads; i++)
		if (memcmp(cp->heads[i].author, pk(alex), 32) == 0) {
			cp->heads[i].seq = 1000000;
			randombytes_buf(cp->heads[i].hash, 32);
			named = true;
		}
	check(named);
	check_rc(am_store_append(a, sam, circle, T0 + 3000, cp, NULL, NULL), AM_OK);
	free(cp);
	link_open(&l, a, sam, d, dana);
	link_sync(&l);
	link_close(&l);
	check(same_digest(a, d, circle));

	struct am_store *r = fx_store_open("hcp-r.db");
	check_rc(am_store_setting_set(r, AM_SETTING_RESTORED, "1"), AM_OK);
	struct am_body body = { .kind = AM_KIND_STATEMENT, .note = am_str_c("hi") };
	uint64_t seq = 0, refuted = 0;
	/* dana's node serves everything, sam's checkpoint with it: the claim
	 * is sam's, and only sam's node can refute it */
	check(!sync_refutes(d, dana, r, alex, pk(sam), 1000000));
	check(head_of(r, circle, pk(alex)) == five);
	check_rc(am_store_append(r, alex, circle, T0 + 1, &body, NULL, &seq),
		AM_ERR_RESTORING);
	check_rc(am_checkpoint_refuted(r, circle, pk(sam), &refuted), AM_OK);
	check(refuted == 0);
	/* sam's node shows alex's feed at the claim, yet serves no more:
	 * withholding is no refutation, and the guard stays */
	struct am_sync_event ev;
	bool said = false;
	link_open(&l, a, sam, r, alex);
	l.lie_author = pk(alex);
	l.lie_seq = 1000000;
	link_sync(&l);
	while (am_sync_next_event(l.b, &ev))
		said |= ev.kind == AM_SYNC_EV_CLAIM_REFUTED;
	link_close(&l);
	check(!said);
	check_rc(am_store_append(r, alex, circle, T0 + 1, &body, NULL, &seq),
		AM_ERR_RESTORING);
	/* sam's node answers: alex's feed at 5, nothing more to serve */
	check(sync_refutes(a, sam, r, alex, pk(sam), 1000000));
	check_rc(am_checkpoint_refuted(r, circle, pk(sam), &refuted), AM_OK);
	check(refuted == 1000000);
	struct refutations rs = { 0 };
	check_rc(am_checkpoint_refutations(r, NULL, count_refutation, &rs), AM_OK);
	check(rs.n == 1 && rs.shown == five &&
		memcmp(rs.author, pk(sam), 32) == 0);
	check_rc(am_store_append(r, alex, circle, T0 + 1, &body, NULL, &seq), AM_OK);
	check(seq == five + 1);
	am_store_close(&a);
	am_store_close(&b);
	am_store_close(&d);
	am_store_close(&r);
}

struct raw_copy {
	uint8_t buf[AM_ENTRY_MAX];
	size_t len;
};

static int
raw_copy(void *ctx, const uint8_t *raw, size_t len)
{
	struct raw_copy *c = ctx;
	check(len <= sizeof c->buf);
	memcpy(c->buf, raw, len);
	c->len = len;
	return AM_OK;
}

/* A stale copy of alex's store (it holds alex's feed to 3 while alex went
 * on to 6 elsewhere) is pushed alex's entry 6: signed by alex, beyond its
 * head. It writes nothing there (AM_ERR_OWN_BEHIND), says why (event
 * OWN_BEHIND), fetches, and then continues at 7: no fork (issue 22). */
static void
test_stale_own_entry(void)
{
	struct am_store *a = fx_store_open("stale-a.db"), *b = fx_store_open("stale-b.db");
	struct am_store *st = fx_store_open("stale-copy.db");
	struct am_identity *members[] = { alex };
	uint8_t circle[32];
	struct link l;

	circle_new(a, sam, members, NULL, 1, circle);
	fx_invite(a, circle, b, alex);
	link_open(&l, a, sam, b, alex);
	link_sync(&l);
	say(b, alex, circle, 2);
	check_rc(am_sync_local_changed(l.b), AM_OK);
	pump(&l);
	link_close(&l);
	check(head_of(a, circle, pk(alex)) == 3);
	/* the copy: fetched as a restored node would (then caught up there,
	 * it writes as any node) */
	check_rc(am_store_setting_set(st, AM_SETTING_RESTORED, "1"), AM_OK);
	link_open(&l, a, sam, st, alex);
	link_sync(&l);
	link_close(&l);
	check(head_of(st, circle, pk(alex)) == 3);
	/* the real alex goes on writing, and sam holds it */
	link_open(&l, a, sam, b, alex);
	link_sync(&l);
	say(b, alex, circle, 3);
	check_rc(am_sync_local_changed(l.b), AM_OK);
	pump(&l);
	link_close(&l);
	check(head_of(a, circle, pk(alex)) == 6);

	struct raw_copy *six = malloc(sizeof *six);
	struct am_sync_msg *m = calloc(1, sizeof *m);
	check(six != NULL && m != NULL);
	check_rc(am_store_range(a, circle, pk(alex), 6, 6, raw_copy, six), AM_OK);
	m->type = AM_SYNC_PUSH;
	memcpy(m->circle, circle, 32);
	memcpy(m->author, pk(alex), 32);
	m->n = 1;
	m->raw[0] = six->buf;
	m->len[0] = six->len;
	uint8_t *buf;
	size_t len;
	check_rc(am_sync_msg_encode(m, &buf, &len), AM_OK);
	/* a session of its own: its ACK answers a push the test made */
	struct am_sync *probe = am_sync_new(st, pk(alex), pk(sam));
	check(probe != NULL);
	check_rc(am_sync_receive(probe, buf, len), AM_OK);
	free(buf);
	struct am_body body = { .kind = AM_KIND_STATEMENT, .note = am_str_c("hi") };
	uint64_t seq = 0;
	check_rc(am_store_append(st, alex, circle, T0 + 1, &body, NULL, &seq),
		AM_ERR_OWN_BEHIND);
	check_rc(am_store_own_guard(st, circle, pk(alex)), AM_ERR_OWN_BEHIND);
	/* the guard is alex's feed's alone: another key of this store (the
	 * new key of a rotation, include/amends/rotate.h) is not held back */
	check_rc(am_store_own_guard(st, circle, pk(sam)), AM_OK);
	check(am_store_own_seen_get(st, circle, pk(sam)) == 0);
	check(am_store_own_seen_get(st, circle, pk(alex)) == 6);
	struct am_sync_event ev;
	bool told = false;
	while (am_sync_next_event(probe, &ev))
		told |= ev.kind == AM_SYNC_EV_OWN_BEHIND && ev.seq == 6;
	check(told);
	am_sync_destroy(&probe);
	link_open(&l, a, sam, st, alex);
	link_sync(&l);
	check(head_of(st, circle, pk(alex)) == 6);
	check_rc(am_store_own_guard(st, circle, pk(alex)), AM_OK);
	check_rc(am_store_append(st, alex, circle, T0 + 1, &body, NULL, &seq), AM_OK);
	check(seq == 7);
	link_close(&l);
	free(six);
	free(m);
	am_store_close(&a);
	am_store_close(&b);
	am_store_close(&st);
}

/* ---- strangers and bad messages ---- */

/* Feeds one message to s; checks what it returns and that the reply is an
 * ERROR with that code. Returns the type the ERROR is about. */
static uint64_t
refused_about(struct am_sync *s, const uint8_t *msg, size_t len, int want)
{
	struct am_sync_msg *m = malloc(sizeof *m);
	uint8_t *out;
	size_t olen;

	check(m != NULL);
	check_rc(am_sync_receive(s, msg, len), want);
	check_rc(am_sync_next_out(s, &out, &olen), AM_OK);
	check(out != NULL);
	check_rc(am_sync_msg_decode(out, olen, m), AM_OK);
	check(m->type == AM_SYNC_ERROR);
	check_rc((int)m->code, want);
	uint64_t about = m->about;
	free(out);
	free(m);
	return about;
}

static void
refused(struct am_sync *s, const uint8_t *msg, size_t len, int want)
{
	(void)refused_about(s, msg, len, want);
}

static void
encode_and_refuse(struct am_sync *s, const struct am_sync_msg *m, int want)
{
	uint8_t *buf;
	size_t len;
	check_rc(am_sync_msg_encode(m, &buf, &len), AM_OK);
	refused(s, buf, len, want);
	free(buf);
}

static int
count_circle(void *ctx, const uint8_t circle[static AM_HASH_BYTES])
{
	(void)circle;
	(*(uint64_t *)ctx)++;
	return AM_OK;
}

static void
test_stranger(void)
{
	struct am_store *a = fx_store_open("eve-a.db"), *e = fx_store_open("eve-e.db");
	struct am_identity *members[] = { alex };
	uint8_t circle[32];
	struct link l;
	int denied = 0;

	circle_new(a, sam, members, NULL, 1, circle);
	say(a, sam, circle, 10);
	link_open(&l, a, sam, e, eve);
	link_sync(&l);
	check(head_of(e, circle, pk(sam)) == 0);
	struct am_sync_stats st;
	am_sync_stats(l.a, &st);
	check(st.entries_out == 0);

	/* asking outright is refused with an error reply */
	struct am_sync_msg *m = calloc(1, sizeof *m);
	check(m != NULL);
	m->type = AM_SYNC_WANT;
	memcpy(m->circle, circle, 32);
	memcpy(m->author, pk(sam), 32);
	m->from = 1;
	m->max = 10;
	encode_and_refuse(l.a, m, AM_ERR_NOT_SHARED);
	m->type = AM_SYNC_WANT_FORKS;
	encode_and_refuse(l.a, m, AM_ERR_NOT_SHARED);
	m->type = AM_SYNC_DIGESTS;
	m->final = false;
	m->n = 1;
	memcpy(m->digests[0].circle, circle, 32);
	{
		/* taken (other circles in it may be fine), the one named refused */
		uint8_t *buf, *out;
		size_t len, olen;
		check_rc(am_sync_msg_encode(m, &buf, &len), AM_OK);
		check_rc(am_sync_receive(l.a, buf, len), AM_OK);
		check_rc(am_sync_next_out(l.a, &out, &olen), AM_OK);
		check(out != NULL);
		check_rc(am_sync_msg_decode(out, olen, m), AM_OK);
		check(m->type == AM_SYNC_ERROR && m->code == AM_ERR_NOT_SHARED &&
			m->about == AM_SYNC_DIGESTS);
		free(buf);
		free(out);
	}
	/* offering entries of the circle is refused too */
	m->type = AM_SYNC_HEADS;
	m->n = 1;
	memcpy(m->heads[0].author, pk(sam), 32);
	m->heads[0].seq = 20;
	m->heads[0].has_forks = false;
	encode_and_refuse(l.a, m, AM_ERR_NOT_SHARED);
	drain_events(l.a, NULL, &denied);
	check(denied == 4);
	pump(&l);
	check(head_of(e, circle, pk(sam)) == 0);
	am_sync_stats(l.a, &st);
	check(st.entries_out == 0);
	free(m);
	link_close(&l);
	am_store_close(&a);
	am_store_close(&e);
}

/* The door (protocol/sync.md, "Who holds a circle"): Alex, a member of
 * one of Sam's circles, pushes the GENESIS and entries of a circle of his
 * own. Sam's node is not in it: refused as not shared, nothing stored.
 * Once Sam's node records that Sam is proposed to it, the same push is
 * taken. */
static void
test_door(void)
{
	struct am_store *a = fx_store_open("door-a.db"), *x = fx_store_open("door-x.db");
	struct am_identity *members[] = { alex };
	struct fx_entries g = { .n = 0 };
	uint8_t mine[32], circle[32], before[32], after[32];
	struct am_sync_msg *m = calloc(1, sizeof *m);
	uint8_t *buf;
	size_t len;

	check(m != NULL);
	circle_new(a, sam, members, NULL, 1, circle);
	fx_invite(a, circle, x, alex);
	fx_genesis(x, alex, "mine", 1000, mine);
	say(x, alex, mine, 5);
	check_rc(am_store_range(x, mine, pk(alex), 1, 6, fx_entries_add, &g), AM_OK);
	check(g.n == 6);
	m->type = AM_SYNC_PUSH;
	memcpy(m->circle, mine, 32);
	memcpy(m->author, pk(alex), 32);
	m->n = (uint32_t)g.n;
	for (size_t i = 0; i < g.n; i++) {
		m->raw[i] = g.raw[i];
		m->len[i] = g.len[i];
	}
	check_rc(am_sync_msg_encode(m, &buf, &len), AM_OK);

	struct am_sync *s = am_sync_new(a, pk(sam), pk(alex));
	check(s != NULL);
	check_rc(am_store_digest(a, circle, before), AM_OK);
	check(refused_about(s, buf, len, AM_ERR_NOT_SHARED) == AM_SYNC_PUSH);
	check(head_of(a, mine, pk(alex)) == 0);
	/* so are its HEADS, before any request goes out */
	struct am_sync_msg *h = calloc(1, sizeof *h);
	check(h != NULL);
	h->type = AM_SYNC_HEADS;
	memcpy(h->circle, mine, 32);
	h->n = 1;
	memcpy(h->heads[0].author, pk(alex), 32);
	h->heads[0].seq = 6;
	am_hash(g.raw[5], g.len[5], h->heads[0].hash);
	uint8_t *hbuf;
	size_t hlen;
	check_rc(am_sync_msg_encode(h, &hbuf, &hlen), AM_OK);
	check(refused_about(s, hbuf, hlen, AM_ERR_NOT_SHARED) == AM_SYNC_HEADS);
	uint8_t *out;
	size_t olen;
	check_rc(am_sync_next_out(s, &out, &olen), AM_OK);
	check(out == NULL);             /* no WANT */
	check_rc(am_store_digest(a, circle, after), AM_OK);
	check(memcmp(before, after, 32) == 0);
	uint64_t circles = 0;
	check_rc(am_store_circles(a, count_circle, &circles), AM_OK);
	check(circles == 1);

	/* proposed to it: taken */
	check_rc(am_store_proposed_add(a, mine, pk(alex), (const uint8_t *)"p", 1),
		AM_OK);
	check_rc(am_sync_receive(s, buf, len), AM_OK);
	check(head_of(a, mine, pk(alex)) == 6);
	/* Sam is not joined there: the record stays until Sam is */
	uint8_t who[32];
	check_rc(am_store_proposed_get(a, mine, who, NULL, NULL), AM_OK);

	am_sync_destroy(&s);
	free(hbuf);
	free(h);
	free(buf);
	free(m);
	fx_entries_free(&g);
	am_store_close(&a);
	am_store_close(&x);
}

/* The door holds for one proposed whose proposal was withdrawn (it may
 * still complete): Alex proposes Sam in a circle of his own, and
 * withdraws it; Sam's node, which holds those entries (and no record of
 * the invite exchange), still takes what Alex pushes next. */
static void
test_door_withdrawn(void)
{
	struct am_store *a = fx_store_open("doorw-a.db"), *x = fx_store_open("doorw-x.db");
	struct fx_entries g = { .n = 0 };
	uint8_t mine[32], p[32];
	struct am_sync_msg *m = calloc(1, sizeof *m);
	uint8_t *buf;
	size_t len;
	enum am_ingest_result r;

	check(m != NULL);
	fx_genesis(x, alex, "mine", FX_T0, mine);
	struct am_body b = fx_body(AM_KIND_MEMBER, pk(sam));
	check_rc(am_store_append(x, alex, mine, FX_T0 + 1000, &b, p, NULL), AM_OK);
	b = fx_body(AM_KIND_DECLINE, p);
	check_rc(am_store_append(x, alex, mine, FX_T0 + 2000, &b, NULL, NULL), AM_OK);
	say(x, alex, mine, 1);
	check_rc(am_store_range(x, mine, pk(alex), 1, 4, fx_entries_add, &g), AM_OK);
	check(g.n == 4);
	for (size_t i = 0; i < 3; i++)
		check_rc(am_store_ingest(a, g.raw[i], g.len[i], &r), AM_OK);
	m->type = AM_SYNC_PUSH;
	memcpy(m->circle, mine, 32);
	memcpy(m->author, pk(alex), 32);
	m->n = 1;
	m->raw[0] = g.raw[3];
	m->len[0] = g.len[3];
	check_rc(am_sync_msg_encode(m, &buf, &len), AM_OK);
	bool named = false;
	check_rc(am_state_named(a, mine, pk(sam), &named), AM_OK);
	check(named);
	struct am_sync *s = am_sync_new(a, pk(sam), pk(alex));
	check(s != NULL);
	check_rc(am_sync_receive(s, buf, len), AM_OK);
	check(head_of(a, mine, pk(alex)) == 4);
	am_sync_destroy(&s);
	free(buf);
	free(m);
	fx_entries_free(&g);
	am_store_close(&a);
	am_store_close(&x);
}

static void
test_malformed(void)
{
	struct am_store *a = fx_store_open("bad-a.db");
	uint8_t digest_before[32], digest_after[32], circle[32];
	struct am_identity *members[] = { alex };
	struct am_sync *s;

	circle_new(a, sam, members, NULL, 1, circle);
	struct am_store *x = fx_store_open("bad-x.db");
	fx_invite(a, circle, x, alex);
	am_store_close(&x);
	check_rc(am_store_digest(a, circle, digest_before), AM_OK);
	s = am_sync_new(a, pk(sam), pk(alex));
	check(s != NULL);

	/* a valid WANT to cut up */
	struct am_sync_msg *m = calloc(1, sizeof *m);
	uint8_t *want;
	size_t wlen;
	check(m != NULL);
	m->type = AM_SYNC_WANT;
	memcpy(m->circle, circle, 32);
	memcpy(m->author, pk(sam), 32);
	m->from = 1;
	m->max = 4;
	check_rc(am_sync_msg_encode(m, &want, &wlen), AM_OK);

	/* truncated */
	refused(s, want, wlen - 2, AM_ERR_TRUNCATED);
	/* wrong types: the version as a string */
	uint8_t wrong[] = { 0x92, 0xa1, '1', 0x04 };
	refused(s, wrong, sizeof wrong, AM_ERR_TYPE);
	/* a field of the wrong type: from as a boolean */
	uint8_t *bad = malloc(wlen + 8);
	check(bad != NULL);
	memcpy(bad, want, wlen);
	bad[wlen - 2] = 0xc2;   /* from = 1 becomes false */
	refused(s, bad, wlen, AM_ERR_TYPE);
	/* a 4 GiB length header */
	uint8_t huge[] = { 0x95, 0x01, 0x06, 0xc6, 0xff, 0xff, 0xff, 0xff, 0x00 };
	refused(s, huge, sizeof huge, AM_ERR_LENGTH);
	/* 10,000 nested arrays */
	uint8_t *deep = malloc(10001);
	check(deep != NULL);
	memset(deep, 0x91, 10000);
	deep[10000] = 0xc0;
	refused(s, deep, 10001, AM_ERR_DEPTH);
	/* an unknown type and an unknown version */
	uint8_t type[] = { 0x92, 0x01, 0x63 };
	refused(s, type, sizeof type, AM_ERR_MSG_TYPE);
	uint8_t version[] = { 0x92, 0x02, 0x01 };
	refused(s, version, sizeof version, AM_ERR_VERSION);
	/* an oversize batch: 257 entries */
	size_t blen = 0;
	uint8_t *batch = malloc(200 + 257 * 3);
	check(batch != NULL);
	batch[blen++] = 0x95;
	batch[blen++] = 0x01;
	batch[blen++] = 0x07;
	batch[blen++] = 0xc4;
	batch[blen++] = 32;
	memcpy(batch + blen, circle, 32);
	blen += 32;
	batch[blen++] = 0xc4;
	batch[blen++] = 32;
	memcpy(batch + blen, pk(sam), 32);
	blen += 32;
	batch[blen++] = 0xdc;           /* array16 of 257 */
	batch[blen++] = 0x01;
	batch[blen++] = 0x01;
	for (int i = 0; i < 257; i++) {
		batch[blen++] = 0xc4;
		batch[blen++] = 1;
		batch[blen++] = 0;
	}
	refused(s, batch, blen, AM_ERR_TOO_BIG);
	/* a message over 1 MiB */
	uint8_t *big = calloc(1, AM_SYNC_MAX_MSG + 1);
	check(big != NULL);
	refused(s, big, AM_SYNC_MAX_MSG + 1, AM_ERR_TOO_BIG);
	/* trailing bytes, a map, a float */
	memcpy(bad, want, wlen);
	bad[wlen] = 0xc0;
	refused(s, bad, wlen + 1, AM_ERR_TRAILING);
	uint8_t map[] = { 0x81, 0x01, 0x02 };
	refused(s, map, sizeof map, AM_ERR_TYPE);
	/* a non-canonical integer */
	uint8_t noncanon[] = { 0x92, 0xcc, 0x01, 0x04 };
	refused(s, noncanon, sizeof noncanon, AM_ERR_NONCANON);
	/* a field count that does not fit the type: refused before the type
	 * is taken, so the ERROR is about no type */
	uint8_t count[] = { 0x93, 0x01, 0x04, 0xc0 };
	check(refused_about(s, count, sizeof count, AM_ERR_COUNT) == 0);
	/* a list item of HEADS with three elements, and a bin32 of 31 bytes
	 * (the WANT's author cut by one): about their types */
	uint8_t item[] = { 0x94, 0x01, 0x03, 0xc4, 0x20, [37] = 0x91, 0x93,
		0xc0, 0xc0, 0xc0 };
	check(refused_about(s, item, sizeof item, AM_ERR_COUNT) == AM_SYNC_HEADS);
	size_t author = 3 + 34 + 2;     /* after the header and the circle */
	memcpy(bad, want, wlen);
	bad[author - 1] = 31;
	memmove(bad + author + 31, bad + author + 32, wlen - author - 32);
	check(refused_about(s, bad, wlen - 1, AM_ERR_FIELD) == AM_SYNC_WANT);
	/* a HELLO that compares, with the kind written out (it is left out,
	 * so that a message has one encoding), and one of an unknown kind */
	uint8_t hello[40] = { 0x95, 0x01, 0x01, 0xc4, 0x20 };
	hello[37] = 0x01;
	hello[38] = 0x00;
	refused(s, hello, 39, AM_ERR_NONCANON);
	hello[38] = 0x03;
	refused(s, hello, 39, AM_ERR_FIELD);
	hello[0] = 0x96;
	hello[39] = 0x01;
	refused(s, hello, 40, AM_ERR_COUNT);
	/* out of turn: a DONE nobody asked for, ENTRIES nobody asked for */
	uint8_t done[] = { 0x92, 0x01, 0x04 };
	refused(s, done, sizeof done, AM_ERR_UNSOLICITED);
	m->type = AM_SYNC_ENTRIES;
	m->n = 0;
	encode_and_refuse(s, m, AM_ERR_UNSOLICITED);
	/* a WANT window overrun */
	for (int i = 0; i < AM_SYNC_WANT_WINDOW; i++)
		check_rc(am_sync_receive(s, want, wlen), AM_OK);
	check_rc(am_sync_receive(s, want, wlen), AM_ERR_FLOW);
	/* the window's answers come out one by one, then the ERROR */
	int entries = 0, errors = 0;
	for (;;) {
		uint8_t *out;
		size_t olen;
		check_rc(am_sync_next_out(s, &out, &olen), AM_OK);
		if (out == NULL)
			break;
		check_rc(am_sync_msg_decode(out, olen, m), AM_OK);
		entries += m->type == AM_SYNC_ENTRIES;
		errors += m->type == AM_SYNC_ERROR;
		if (m->type == AM_SYNC_ERROR)
			check(m->code == AM_ERR_FLOW);
		free(out);
	}
	check(entries == AM_SYNC_WANT_WINDOW && errors == 1);
	/* an ERROR from the peer is logged, never answered */
	uint8_t err[] = { 0x95, 0x01, 0x0b, 0x03, 0x00, 0xa2, 'n', 'o' };
	check_rc(am_sync_receive(s, err, sizeof err), AM_OK);
	uint8_t *out;
	size_t olen;
	check_rc(am_sync_next_out(s, &out, &olen), AM_OK);
	check(out == NULL);

	struct am_sync_stats st;
	am_sync_stats(s, &st);
	check(st.faults == 21 && st.errors_in == 1 && st.entries_in == 0);
	check_rc(am_store_digest(a, circle, digest_after), AM_OK);
	check(memcmp(digest_before, digest_after, 32) == 0);
	free(want);
	free(bad);
	free(deep);
	free(batch);
	free(big);
	free(m);
	am_sync_destroy(&s);
	am_store_close(&a);
}

/* ---- batched ingest ---- */

static void
test_batch(void)
{
	struct am_store *a = fx_store_open("batch-a.db");
	struct am_identity *members[] = { alex };
	enum am_ingest_result r[64];
	uint8_t circle[32];
	struct fx_entries g = { .n = 0 };
	size_t done;

	circle_new(a, sam, members, NULL, 1, circle);
	say(a, sam, circle, 30);
	check_rc(am_store_range(a, circle, pk(sam), 1, 100, fx_entries_add, &g), AM_OK);
	check(g.n == 32);

	/* a valid run in two overlapping batches */
	struct am_store *b = fx_store_open("batch-b.db");
	check_rc(am_store_ingest_batch(b, (const uint8_t *const *)g.raw, g.len,
		20, r, &done), AM_OK);
	check(done == 20 && r[0] == AM_INGEST_NEW && r[19] == AM_INGEST_NEW);
	check_rc(am_store_ingest_batch(b, (const uint8_t *const *)g.raw + 15,
		g.len + 15, 17, r, &done), AM_OK);
	check(done == 17 && r[0] == AM_INGEST_DUPLICATE && r[4] == AM_INGEST_DUPLICATE &&
		r[5] == AM_INGEST_NEW);
	check(same_digest(a, b, circle));
	am_store_close(&b);

	/* a bad signature in the middle: the good prefix is kept */
	struct am_store *c = fx_store_open("batch-c.db");
	g.raw[10][g.len[10] - 1] ^= 1;
	check_rc(am_store_ingest_batch(c, (const uint8_t *const *)g.raw, g.len,
		20, r, &done), AM_ERR_SIGNATURE);
	check(done == 10);
	check(head_of(c, circle, pk(sam)) == 10);
	g.raw[10][g.len[10] - 1] ^= 1;

	/* a bad signature at the newest entry of a linked run */
	g.raw[19][g.len[19] - 1] ^= 1;
	check_rc(am_store_ingest_batch(c, (const uint8_t *const *)g.raw + 10,
		g.len + 10, 10, r, &done), AM_ERR_SIGNATURE);
	check(done == 9);
	check(head_of(c, circle, pk(sam)) == 19);
	g.raw[19][g.len[19] - 1] ^= 1;

	/* a run that skips a number, and one that mixes feeds */
	const uint8_t *skip[] = { g.raw[19], g.raw[21] };
	const size_t skip_len[] = { g.len[19], g.len[21] };
	check_rc(am_store_ingest_batch(c, skip, skip_len, 2, r, &done), AM_ERR_BATCH);
	check(done == 1 && head_of(c, circle, pk(sam)) == 20);
	struct fx_entries other = { .n = 0 };
	uint8_t circle2[32];
	circle_new(a, sam, members, NULL, 1, circle2);
	check_rc(am_store_range(a, circle2, pk(sam), 1, 1, fx_entries_add, &other), AM_OK);
	const uint8_t *mixed[] = { g.raw[20], other.raw[0] };
	const size_t mixed_len[] = { g.len[20], other.len[0] };
	check_rc(am_store_ingest_batch(c, mixed, mixed_len, 2, r, &done), AM_ERR_BATCH);
	check(done == 1 && head_of(c, circle, pk(sam)) == 21);
	/* a run that starts past the head */
	check_rc(am_store_ingest_batch(c, (const uint8_t *const *)g.raw + 25,
		g.len + 25, 3, r, &done), AM_ERR_GAP);
	check(done == 0 && head_of(c, circle, pk(sam)) == 21);
	/* garbage is refused before anything is stored */
	uint8_t junk[] = { 0x92, 0xc4, 0x00 };
	const uint8_t *jraw[] = { junk };
	const size_t jlen[] = { sizeof junk };
	check(am_store_ingest_batch(c, jraw, jlen, 1, r, &done) != AM_OK);
	check(done == 0);
	check_rc(am_store_check(c), AM_OK);
	fx_entries_free(&other);
	fx_entries_free(&g);
	am_store_close(&c);
	am_store_close(&a);
}

/* Two nodes that each hold a different entry 3 of Dana's feed both end up
 * holding the other as fork evidence. */
static void
test_fork_evidence(void)
{
	struct am_store *a = fx_store_open("fork-a.db"), *b = fx_store_open("fork-b.db");
	struct am_identity *members[] = { alex, dana };
	uint8_t circle[32];
	struct link l;

	circle_new(a, sam, members, NULL, 2, circle);
	say(a, dana, circle, 2);
	fx_invite(a, circle, b, alex);
	link_open(&l, a, sam, b, alex);
	link_sync(&l);
	link_close(&l);
	/* Dana signs two different entries 3 */
	say(a, dana, circle, 1);
	struct am_body x = { .kind = AM_KIND_STATEMENT, .note = am_str_c("other") };
	check_rc(am_store_append(b, dana, circle, T0 + 5, &x, NULL, NULL), AM_OK);
	check(!same_digest(a, b, circle));
	link_open(&l, a, sam, b, alex);
	link_sync(&l);
	int na = 0, nb = 0;
	struct am_sync_event ev;
	while (am_sync_next_event(l.a, &ev))
		na += ev.kind == AM_SYNC_EV_FORK;
	while (am_sync_next_event(l.b, &ev))
		nb += ev.kind == AM_SYNC_EV_FORK;
	check(na >= 1 && nb >= 1);
	check(head_of(a, circle, pk(dana)) == 3 && head_of(b, circle, pk(dana)) == 3);
	/* each holds the other's entry 3 as evidence: the same entries */
	struct fx_entries fa = { .n = 0 }, fb = { .n = 0 };
	check_rc(am_store_forks(a, circle, fx_entries_add, &fa), AM_OK);
	check_rc(am_store_forks(b, circle, fx_entries_add, &fb), AM_OK);
	check(fa.n == 1 && fb.n == 1);
	uint8_t ha[32], hb[32], main_a[32], main_b[32];
	uint64_t seq;
	check_rc(am_store_head(a, circle, pk(dana), &seq, main_a), AM_OK);
	check_rc(am_store_head(b, circle, pk(dana), &seq, main_b), AM_OK);
	am_hash(fa.raw[0], fa.len[0], ha);
	am_hash(fb.raw[0], fb.len[0], hb);
	check(memcmp(ha, main_b, 32) == 0 && memcmp(hb, main_a, 32) == 0);
	fx_entries_free(&fa);
	fx_entries_free(&fb);
	link_close(&l);
	am_store_close(&a);
	am_store_close(&b);
}

/* ---- vectors ---- */

/*
 * Each message is built from the fields protocol/sync.md gives for it, then
 * checked three ways: the encoder's bytes decode to those fields; the
 * bytes of sync-vectors.txt decode to those fields too, and encode back to
 * themselves; and (test_vectors) the file holds, line for line, what the
 * encoder wrote.
 */
static char lines[32][2400];
static int nlines;
static char file[32][2400];     /* sync-vectors.txt, comments left out */
static int nfile;

static void
load_vectors(void)
{
	const char *src = getenv("AMENDS_SRC");
	char path[512], line[2400];

	check(src != NULL);
	snprintf(path, sizeof path, "%s/protocol/sync-vectors.txt", src);
	FILE *f = fopen(path, "r");
	check(f != NULL);
	while (fgets(line, sizeof line, f)) {
		if (line[0] == '#' || line[0] == '\n')
			continue;
		line[strcspn(line, "\n")] = '\0';
		check(nfile < 32);
		snprintf(file[nfile++], sizeof file[0], "%s", line);
	}
	fclose(f);
}

/* The hex of the file's line called name, or NULL. */
static const char *
file_hex(const char *name)
{
	size_t n = strlen(name);
	for (int i = 0; i < nfile; i++)
		if (strncmp(file[i], name, n) == 0 && strncmp(file[i] + n, ": ", 2) == 0)
			return file[i] + n + 2;
	return NULL;
}

static bool
same_bytes(const uint8_t *a, size_t alen, const uint8_t *b, size_t blen)
{
	return alen == blen && memcmp(a, b, alen) == 0;
}

/* True when b carries the fields a has for its type. */
static bool
same_fields(const struct am_sync_msg *a, const struct am_sync_msg *b)
{
	bool same = a->type == b->type && a->n == b->n;
	switch (same ? a->type : 0) {
	case AM_SYNC_HELLO:
		return memcmp(a->summary, b->summary, 32) == 0 &&
			a->ncircles == b->ncircles && a->hello == b->hello;
	case AM_SYNC_DIGESTS:
		same = a->final == b->final;
		for (uint32_t i = 0; i < a->n; i++)
			same &= memcmp(&a->digests[i], &b->digests[i],
				sizeof a->digests[i]) == 0;
		return same;
	case AM_SYNC_HEADS:
		same = memcmp(a->circle, b->circle, 32) == 0;
		for (uint32_t i = 0; i < a->n; i++) {
			const struct am_sync_head *x = &a->heads[i], *y = &b->heads[i];
			same &= memcmp(x->author, y->author, 32) == 0 &&
				x->seq == y->seq && memcmp(x->hash, y->hash, 32) == 0 &&
				x->has_forks == y->has_forks &&
				(!x->has_forks || memcmp(x->forks, y->forks, 32) == 0);
		}
		return same;
	case AM_SYNC_DONE:
		return true;
	case AM_SYNC_WANT:
		return memcmp(a->circle, b->circle, 32) == 0 &&
			memcmp(a->author, b->author, 32) == 0 &&
			a->from == b->from && a->max == b->max;
	case AM_SYNC_ENTRIES:
	case AM_SYNC_PUSH:
	case AM_SYNC_FORKS:
		same = memcmp(a->circle, b->circle, 32) == 0 &&
			memcmp(a->author, b->author, 32) == 0;
		for (uint32_t i = 0; i < a->n; i++)
			same &= same_bytes(a->raw[i], a->len[i], b->raw[i], b->len[i]);
		return same;
	case AM_SYNC_ACK:
		return memcmp(a->circle, b->circle, 32) == 0 &&
			memcmp(a->author, b->author, 32) == 0 && a->seq == b->seq;
	case AM_SYNC_WANT_FORKS:
		return memcmp(a->circle, b->circle, 32) == 0 &&
			memcmp(a->author, b->author, 32) == 0;
	case AM_SYNC_ERROR:
		return a->code == b->code && a->about == b->about &&
			same_bytes((const uint8_t *)a->text.p, a->text.n,
			(const uint8_t *)b->text.p, b->text.n);
	default:
		return false;
	}
}

/* The vector file's bytes for name decode to m's fields, and those fields
 * encode to the same bytes. */
static void
check_file_msg(const char *name, const struct am_sync_msg *m)
{
	const char *hex = file_hex(name);
	uint8_t bytes[1100], *again;
	size_t len, alen;
	struct am_sync_msg *back = malloc(sizeof *back);

	if (hex == NULL) {
		fprintf(stderr, "sync-vectors.txt has no line %s\n", name);
		abort();
	}
	check(back != NULL);
	check(sodium_hex2bin(bytes, sizeof bytes, hex, strlen(hex), NULL, &len,
		NULL) == 0);
	check_rc(am_sync_msg_decode(bytes, len, back), AM_OK);
	if (!same_fields(m, back)) {
		fprintf(stderr, "vector %s does not decode to its fields\n", name);
		abort();
	}
	check_rc(am_sync_msg_encode(back, &again, &alen), AM_OK);
	check(same_bytes(again, alen, bytes, len));
	free(again);
	free(back);
}

static void
add_msg(const char *name, const struct am_sync_msg *m)
{
	char hex[2 * 1100 + 1];
	uint8_t *buf;
	size_t len;
	struct am_sync_msg *back = malloc(sizeof *back);
	check(back != NULL && nlines < 32);
	check_rc(am_sync_msg_encode(m, &buf, &len), AM_OK);
	check(len <= 1100);
	/* what is written decodes to itself */
	check_rc(am_sync_msg_decode(buf, len, back), AM_OK);
	check(same_fields(m, back));
	if (nfile > 0)
		check_file_msg(name, m);
	am_hex(buf, len, hex);
	snprintf(lines[nlines++], sizeof lines[0], "%.40s: %s", name, hex);
	free(buf);
	free(back);
}

static void
add_hex(const char *name, const uint8_t *data, size_t n)
{
	char hex[2 * 64 + 1];
	check(n <= 64 && nlines < 32);
	am_hex(data, n, hex);
	snprintf(lines[nlines++], sizeof lines[0], "%.40s: %s", name, hex);
}

static void
generate(void)
{
	struct am_sync_msg *m = calloc(1, sizeof *m);
	uint8_t seed[32], circle[32];
	struct am_identity *id;
	check(m != NULL);

	for (int i = 0; i < 32; i++)
		seed[i] = (uint8_t)i;
	check_rc(am_identity_from_seed(seed, &id), AM_OK);
	add_hex("seed", seed, 32);
	add_hex("public", pk(id), 32);

	/* the genesis entry of protocol/entry-vectors.txt */
	struct am_body g = { .kind = AM_KIND_GENESIS, .name = am_str_c("Sam & Alex") };
	memset(g.nonce, 0x42, 32);
	am_circle_id(pk(id), g.nonce, circle);
	add_hex("circle", circle, 32);
	struct am_entry_draft d = { .seq = 1, .time = 1764000001000, .body = &g };
	memcpy(d.circle, circle, 32);
	uint8_t *raw;
	size_t rlen;
	struct am_entry e;
	check_rc(am_entry_sign(id, &d, &raw, &rlen, &e), AM_OK);
	add_hex("entry.hash", e.hash, 32);

	m->type = AM_SYNC_HELLO;
	memset(m->summary, 0x5a, 32);
	m->ncircles = 3;
	add_msg("hello", m);
	m->hello = AM_SYNC_HELLO_TELL;
	add_msg("hello_tell", m);
	m->hello = AM_SYNC_HELLO_ANSWER;
	add_msg("hello_answer", m);

	memset(m, 0, sizeof *m);
	m->type = AM_SYNC_DIGESTS;
	m->final = true;
	m->n = 1;
	memcpy(m->digests[0].circle, circle, 32);
	memset(m->digests[0].digest, 0xd1, 32);
	add_msg("digests", m);

	memset(m, 0, sizeof *m);
	m->type = AM_SYNC_HEADS;
	memcpy(m->circle, circle, 32);
	m->n = 2;
	memcpy(m->heads[0].author, pk(id), 32);
	m->heads[0].seq = 1;
	memcpy(m->heads[0].hash, e.hash, 32);
	memset(m->heads[1].author, 0xa1, 32);
	m->heads[1].seq = 300;
	memset(m->heads[1].hash, 0xb2, 32);
	m->heads[1].has_forks = true;
	memset(m->heads[1].forks, 0xf0, 32);
	add_msg("heads", m);

	memset(m, 0, sizeof *m);
	m->type = AM_SYNC_DONE;
	add_msg("done", m);

	memset(m, 0, sizeof *m);
	m->type = AM_SYNC_WANT;
	memcpy(m->circle, circle, 32);
	memcpy(m->author, pk(id), 32);
	m->from = 1;
	m->max = 256;
	add_msg("want", m);

	m->type = AM_SYNC_ENTRIES;
	m->n = 1;
	m->raw[0] = raw;
	m->len[0] = rlen;
	add_msg("entries", m);
	m->type = AM_SYNC_PUSH;
	add_msg("push", m);

	m->type = AM_SYNC_ACK;
	m->n = 0;
	m->seq = 1;
	add_msg("ack", m);
	m->type = AM_SYNC_WANT_FORKS;
	add_msg("want_forks", m);
	m->type = AM_SYNC_FORKS;
	m->n = 1;               /* raw[0] is still the GENESIS entry */
	add_msg("forks", m);

	memset(m, 0, sizeof *m);
	m->type = AM_SYNC_ERROR;
	m->code = AM_ERR_NOT_SHARED;
	m->about = AM_SYNC_WANT;
	m->text = am_str_c("circle c1935cc4 is not shared with you");
	add_msg("error", m);

	free(raw);
	free(m);
	am_identity_destroy(&id);
}

/* Takes the events of s: how many SAME events name circle, each checked
 * to carry the digest st holds now; *answered counts ANSWERED events. */
static int
same_events(struct am_sync *s, struct am_store *st, const uint8_t circle[32],
	int *answered)
{
	struct am_sync_event ev;
	int n = 0;
	while (am_sync_next_event(s, &ev)) {
		if (ev.kind == AM_SYNC_EV_ANSWERED && answered != NULL) {
			check_rc(ev.rc, AM_OK);
			(*answered)++;
		}
		if (ev.kind != AM_SYNC_EV_SAME)
			continue;
		uint8_t d[32];
		check_rc(am_store_digest(st, ev.circle, d), AM_OK);
		check(memcmp(d, ev.digest, 32) == 0);
		n += memcmp(ev.circle, circle, 32) == 0;
	}
	return n;
}

/* Like move(), but a message of type hold from `from` is kept back in
 * *held (once) instead of being delivered. */
static bool
move_holding(struct link *l, struct am_sync *from, struct am_sync *to,
	uint32_t hold, uint8_t **held, size_t *hlen)
{
	uint8_t *msg;
	size_t len;

	if (*held != NULL)
		return false;        /* the session waits for the held answer */
	check_rc(am_sync_next_out(from, &msg, &len), AM_OK);
	if (msg == NULL)
		return false;
	check_rc(am_sync_msg_decode(msg, len, l->scratch), AM_OK);
	if (l->scratch->type == hold) {
		*held = msg;
		*hlen = len;
		return true;
	}
	check_rc(am_sync_receive(to, msg, len), AM_OK);
	free(msg);
	return true;
}

/*
 * "Same record" is the peer's word, never our side's idleness alone. Sam
 * holds a circle Alex has not pulled yet: Sam's own round ends at once
 * (Alex holds nothing Sam lacks), and Sam's session goes idle, but no SAME
 * comes while Alex's first WANT is held back; once Alex has pulled, its
 * HELLO says so and both sides report SAME with the digest they hold.
 * Then a push: SAME only once the receiver tells (am_sync_tell), one HELLO
 * and its answer. Last, am_sync_ask_heads on the live session.
 */
static void
test_same_said(void)
{
	struct am_store *a = fx_store_open("said-a.db"), *b = fx_store_open("said-b.db");
	struct am_identity *members[] = { alex };
	uint8_t circle[32], *held = NULL;
	size_t hlen = 0;
	int answered = 0;
	struct link l;

	circle_new(a, sam, members, NULL, 1, circle);
	say(a, sam, circle, 5);
	fx_invite(a, circle, b, alex);
	link_open(&l, a, sam, b, alex);
	check_rc(am_sync_start(l.a), AM_OK);
	check_rc(am_sync_start(l.b), AM_OK);
	for (int i = 0; i < 1000; i++) {
		bool moved = move(&l, l.a, l.b);
		moved |= move_holding(&l, l.b, l.a, AM_SYNC_WANT, &held, &hlen);
		if (!moved)
			break;
	}
	check(held != NULL);
	check(head_of(b, circle, pk(sam)) == 0);
	check(am_sync_idle(l.a));        /* Sam's side is done ... */
	check(same_events(l.a, a, circle, NULL) == 0);   /* ... Alex's is not */
	check(same_events(l.b, b, circle, NULL) == 0);

	check_rc(am_sync_receive(l.a, held, hlen), AM_OK);
	free(held);
	pump(&l);
	check(same_digest(a, b, circle));
	check(same_events(l.a, a, circle, NULL) == 1);
	check(same_events(l.b, b, circle, NULL) == 1);
	check(am_sync_idle(l.a) && am_sync_idle(l.b));

	/* a push: stored at Alex's, but said only when Alex tells */
	say(a, sam, circle, 1);
	check_rc(am_sync_local_changed(l.a), AM_OK);
	pump(&l);
	check(same_digest(a, b, circle));
	check(same_events(l.a, a, circle, NULL) == 0);
	count_clear(&l);
	check_rc(am_sync_tell(l.b), AM_OK);
	pump(&l);
	/* Sam's answer told Sam's record too: Sam has nothing more to tell */
	check_rc(am_sync_tell(l.a), AM_OK);
	pump(&l);
	check(l.msgs == 2 && l.types[AM_SYNC_HELLO] == 2);
	check(same_events(l.a, a, circle, NULL) == 1);
	check(same_events(l.b, b, circle, NULL) == 1);
	/* nothing changed since: nothing to tell */
	count_clear(&l);
	check_rc(am_sync_tell(l.a), AM_OK);
	check_rc(am_sync_tell(l.b), AM_OK);
	pump(&l);
	check(l.msgs == 0);

	/* a recheck that finds both equal is answered: both idle again */
	check_rc(am_sync_recheck(l.a), AM_OK);
	pump(&l);
	check(am_sync_idle(l.a) && am_sync_idle(l.b));
	check(same_events(l.a, a, circle, NULL) == 1);
	check(same_events(l.b, b, circle, NULL) == 1);

	/* the peer's heads, asked on the live session: one HEADS, one DONE */
	count_clear(&l);
	check_rc(am_sync_ask_heads(l.a), AM_OK);
	check_rc(am_sync_ask_heads(l.a), AM_ERR_AGAIN);
	pump(&l);
	check(l.types[AM_SYNC_HEADS] == 1 && l.types[AM_SYNC_DONE] == 1);
	check(same_events(l.a, a, circle, &answered) == 0);
	check(answered == 1);
	/* asked while a round is open: the first DONE is the round's, the
	 * next ours, and neither is taken as unsolicited */
	say(a, sam, circle, 2);
	check_rc(am_sync_recheck(l.a), AM_OK);
	check(move(&l, l.a, l.b));       /* Sam's HELLO: Alex opens a round */
	check_rc(am_sync_ask_heads(l.b), AM_OK);
	check(move(&l, l.b, l.a));       /* Alex's DIGESTS, then the question */
	check(move(&l, l.b, l.a));
	check_rc(am_sync_recheck(l.b), AM_OK);   /* the round is abandoned */
	pump(&l);
	check(same_digest(a, b, circle));
	answered = 0;
	(void)same_events(l.b, b, circle, &answered);
	check(answered == 1);
	check(am_sync_idle(l.a) && am_sync_idle(l.b));
	link_close(&l);
	am_store_close(&a);
	am_store_close(&b);
}

static void
test_vectors(void)
{
	for (int i = 0; i < nlines || i < nfile; i++) {
		if (i >= nlines || i >= nfile || strcmp(file[i], lines[i]) != 0) {
			fprintf(stderr, "vector differs:\n file: %s\n code: %s\n",
				i < nfile ? file[i] : "(none)", i < nlines ? lines[i] : "(none)");
			abort();
		}
	}
	printf("sync: %d vector lines match\n", nlines);
}

int
main(int argc, char **argv)
{
	check(sodium_init() >= 0);
	bool print = argc > 1 && strcmp(argv[1], "--print") == 0;
	if (!print)
		load_vectors();
	generate();
	if (print) {
		printf("# Test vectors for protocol/sync.md. Each line: name: hex.\n"
			"# Checked byte for byte by tests/unit/sync.c.\n");
		for (int i = 0; i < nlines; i++)
			printf("%s\n", lines[i]);
		return 0;
	}
	test_vectors();
	fx_dir_make("sync");
	sam = fx_identity_seeded(1);
	alex = fx_identity_seeded(2);
	dana = fx_identity_seeded(3);
	eve = fx_identity_seeded(4);
	test_batch();
	test_malformed();
	test_catch_up();
	test_membership_order();
	test_up_to_date();
	test_stranger();
	test_door();
	test_door_withdrawn();
	test_restored();
	test_restored_longer_claim();
	test_restored_shorter_claim();
	test_restored_hostile_checkpoint();
	test_stale_own_entry();
	test_lost_messages();
	test_mutations();
	test_fork_evidence();
	test_same_said();
	am_identity_destroy(&sam);
	am_identity_destroy(&alex);
	am_identity_destroy(&dana);
	am_identity_destroy(&eve);
	fx_dir_remove();
	printf("sync: all tests passed\n");
	return 0;
}
