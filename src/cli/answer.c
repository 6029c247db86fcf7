/*
 * The four answers to something another person wrote, one entry each:
 *
 *   amends accept   signs a version of an agreement, a member proposal or an
 *                   end (ACCEPT). A version is in force once every party has
 *                   accepted it; a member joins once they and every member
 *                   have; an end accepted by every party applies at once.
 *   amends decline  refuses one of the same (DECLINE, with an optional
 *                   reason). A decline of a version stands until the same
 *                   person accepts; a first answer to a member proposal by
 *                   the one proposed, or by a member it needs, is final, so
 *                   such a decline refuses the newcomer for good. No
 *                   decline takes back an acceptance (leaving an agreement
 *                   in force is amends end).
 *   amends confirm  says another person's check-in is what happened, or that
 *                   their statement was received and accepted (CONFIRM). A
 *                   check-in confirmed by every other party is mutually
 *                   verified; a witness's confirmation is shown beside.
 *                   Confirming replaces one's own earlier dispute.
 *   amends dispute  says a check-in is not what happened (DISPUTE, always
 *                   with a note saying why). It stands until the same person
 *                   confirms the check-in.
 *   amends withdraw takes back one's own proposal: a member proposal or a
 *                   version (a DECLINE by its author, protocol/state.md).
 *                   Completion wins: once everyone it needs has accepted,
 *                   it stands. An END is final and cannot be withdrawn.
 *
 * They differ only in the kind written, what they may answer and the note
 * they take, so one body serves all five, driven by a table row.
 */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "amends/rotate.h"
#include "amends/state.h"
#include "agreement.h"
#include "cli.h"
#include "resolve.h"
#include "rotate.h"
#include "write.h"

struct answer {
	const char *usage;
	enum am_kind kind;
	unsigned objects;        /* AM_OBJ_* it may answer */
	const char *objects_text;
	const char *note_option; /* "note", "reason", or NULL for none */
	bool note_required;
	const char *verb;        /* "accept", for "looking up what to accept" */
	const char *done;        /* "accepted", printed before the description */
	bool own;                /* only what the writer wrote (withdraw) */
};

/* After accepting a version or an end: say whether the agreement is now in
 * force, or has ended. */
static void
tell_outcome(struct am_store *s, const struct am_object_info *info,
	const uint8_t target[32])
{
	struct am_agreement a;
	if (info->kind != AM_KIND_PROPOSE && info->kind != AM_KIND_AMEND &&
	    info->kind != AM_KIND_END)
		return;
	if (am_state_agreement(s, info->agreement, cli_now_ms(), &a) != AM_OK)
		return;
	if (info->kind == AM_KIND_END && a.status == AM_AGREEMENT_ENDED)
		printf("'%s' has ended\n", cli_shown_c(a.title));
	else if (info->kind != AM_KIND_END && a.status == AM_AGREEMENT_IN_FORCE &&
	    a.has_current && memcmp(a.current, target, 32) == 0)
		printf("'%s' is in force\n", cli_shown_c(a.title));
	am_state_agreement_finish(&a);
}

/* After accepting a removal: say whether it took effect, and what that
 * means for the one removed. */
static void
tell_removed(struct am_store *s, const struct am_object_info *info,
	const uint8_t target[32])
{
	uint8_t who[32];
	bool done;
	char name[CLI_SHORT_NAME];
	if (!cli_removal_target(s, info->circle, target, who, &done) || !done)
		return;
	cli_short_id(s, who, name);
	printf("%s is removed from the circle: what they write there no longer "
		"counts and no node sends them the record; what they already hold "
		"stays with them\n", name);
}

/* When the SUCCESSION hash names this node's pending new key as its
 * heir, sets nc to sign with that key (nc->id is left NULL otherwise). */
static int
next_signs(struct cli *c, struct cli *nc, const uint8_t hash[static 32])
{
	uint8_t old[32], heir[32];
	struct am_identity *next = NULL;
	int rc = am_rotate_next(c->home, &next);
	if (rc == AM_ERR_NOT_FOUND)
		return AM_OK;
	if (rc != AM_OK)
		return rc;
	if (cli_succession_keys(c->store, hash, old, heir) &&
	    memcmp(heir, am_identity_public(next), 32) == 0) {
		nc->home = c->home;
		nc->store = c->store;
		nc->id = next;
		return AM_OK;
	}
	am_identity_destroy(&next);
	return AM_OK;
}

static int
answer(int argc, char **argv, const struct answer *w)
{
	/* the note option first, left out when the answer takes none */
	const struct option opts[] = {
		{ w->note_option, required_argument, NULL, 'n' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const struct option *o = w->note_option != NULL ? opts : opts + 1;
	struct am_body b = { .kind = w->kind };
	struct am_object_info info;
	struct cli c = { 0 }, nc = { 0 };
	const char *note = NULL;
	char option[32];
	int opt, rc, ret = 1;

	while ((opt = getopt_long(argc, argv, "h", o, NULL)) != -1) {
		switch (opt) {
		case 'n': note = optarg; break;
		case 'h': cli_usage(stdout, w->usage); return 0;
		default: cli_usage(stderr, w->usage); return 1;
		}
	}
	if (argc - optind != 1) {
		cli_usage(stderr, w->usage);
		return 1;
	}
	if (w->note_option != NULL) {
		snprintf(option, sizeof option, "--%s", w->note_option);
		if (note == NULL && w->note_required)
			return cli_error("a %s says why: give %s", w->verb, option);
		if (note != NULL && cli_text_ok(option, note, AM_MAX_TEXT) != 0)
			return 1;
	}
	if (cli_open(&c, CLI_IDENTITY | CLI_STORE) != 0)
		goto out;
	if (cli_resolve_object(c.store, argv[optind], w->objects, w->objects_text,
	    b.target) != 0)
		goto out;
	if ((rc = am_state_lookup(c.store, b.target, &info)) != AM_OK) {
		char doing[64];
		snprintf(doing, sizeof doing, "looking up what to %s", w->verb);
		ret = cli_fail(doing, rc);
		goto out;
	}
	if (w->own && memcmp(info.author, am_identity_public(c.id),
	    AM_ID_BYTES) != 0) {
		ret = cli_error("you can withdraw only what you proposed; to "
			"refuse another's proposal, amends decline it");
		goto out;
	}
	b.note = am_str_c(note);
	char what[300];
	cli_describe(c.store, b.target, what, sizeof what);
	/* a succession to this node's new key (a rotation in progress) is
	 * answered by that key: it is the one asked */
	struct cli *signer = &c;
	if (info.kind == AM_KIND_SUCCESSION && !w->own &&
	    (rc = next_signs(&c, &nc, b.target)) != AM_OK) {
		ret = cli_fail("reading the new key", rc);
		goto out;
	}
	if (nc.id != NULL)
		signer = &nc;
	if (cli_write(signer, info.circle, &b, NULL) != 0)
		goto out;
	printf("%s %s\n", w->done, what);
	if (w->kind == AM_KIND_ACCEPT)
		tell_outcome(c.store, &info, b.target);
	if (w->kind == AM_KIND_ACCEPT && info.kind == AM_KIND_REMOVE)
		tell_removed(c.store, &info, b.target);
	if (w->kind == AM_KIND_ACCEPT && info.kind == AM_KIND_SUCCESSION)
		cli_tell_succeeded(c.store, info.circle, b.target);
	/* accepting one's own admission may complete it: once joined, one's
	 * name goes into the circle (nothing is written before, or twice) */
	if (w->kind == AM_KIND_ACCEPT && info.kind == AM_KIND_MEMBER)
		(void)cli_publish_name(&c, info.circle, NULL);
	ret = 0;
out:
	am_identity_destroy(&nc.id);
	cli_close(&c);
	return ret;
}

int
cmd_accept(int argc, char **argv)
{
	static const struct answer w = {
		.usage = "usage: amends accept ID\n\n"
			"Accepts (signs) what ID names, by the start of its hash: a version of\n"
			"an agreement, a proposal to add or remove a member, a new key in a\n"
			"member's place (a succession), or an end of an agreement. A\n"
			"succession to this node's own new key (amends key rotate) is signed\n"
			"by that new key.\n"
			"amends status lists what awaits your signature.\n",
		.kind = AM_KIND_ACCEPT,
		.objects = AM_OBJ_VERSION | AM_OBJ_MEMBER | AM_OBJ_REMOVE |
			AM_OBJ_SUCCESSION | AM_OBJ_END,
		.objects_text = "version, member proposal, removal, new key or end",
		.verb = "accept",
		.done = "accepted",
	};
	return answer(argc, argv, &w);
}

int
cmd_decline(int argc, char **argv)
{
	static const struct answer w = {
		.usage = "usage: amends decline ID [--reason TEXT]\n\n"
			"Declines what ID names, by the start of its hash: a version of an\n"
			"agreement, a proposal to add or remove a member, a new key in a\n"
			"member's place (a succession), or an end of an agreement.\n\n"
			"  --reason TEXT   why, for the others to read\n",
		.kind = AM_KIND_DECLINE,
		.objects = AM_OBJ_VERSION | AM_OBJ_MEMBER | AM_OBJ_REMOVE |
			AM_OBJ_SUCCESSION | AM_OBJ_END,
		.objects_text = "version, member proposal, removal, new key or end",
		.note_option = "reason",
		.verb = "decline",
		.done = "declined",
	};
	return answer(argc, argv, &w);
}

int
cmd_confirm(int argc, char **argv)
{
	static const struct answer w = {
		.usage = "usage: amends confirm ID [--note TEXT]\n\n"
			"Confirms the check-in or statement ID (the start of its hash).\n\n"
			"  --note TEXT   anything to add\n",
		.kind = AM_KIND_CONFIRM,
		.objects = AM_OBJ_CHECKIN | AM_OBJ_STATEMENT,
		.objects_text = "check-in or statement",
		.note_option = "note",
		.verb = "confirm",
		.done = "confirmed",
	};
	return answer(argc, argv, &w);
}

int
cmd_dispute(int argc, char **argv)
{
	static const struct answer w = {
		.usage = "usage: amends dispute CHECKIN --note TEXT\n\n"
			"Disputes the check-in CHECKIN (the start of its hash), saying why.\n",
		.kind = AM_KIND_DISPUTE,
		.objects = AM_OBJ_CHECKIN,
		.objects_text = "check-in",
		.note_option = "note",
		.note_required = true,
		.verb = "dispute",
		.done = "disputed",
	};
	return answer(argc, argv, &w);
}

int
cmd_withdraw(int argc, char **argv)
{
	static const struct answer w = {
		.usage = "usage: amends withdraw ID [--reason TEXT]\n\n"
			"Withdraws your own proposal ID (the start of its hash): a proposal to\n"
			"add or remove a member, a new key in a member's place (a\n"
			"succession), or a version of an agreement. Once everyone it needs\n"
			"has accepted it, it stands: withdrawing cannot undo that. An end is\n"
			"final: to undo one, propose the agreement again.\n\n"
			"  --reason TEXT   why, for the others to read\n",
		.kind = AM_KIND_DECLINE,
		.objects = AM_OBJ_VERSION | AM_OBJ_MEMBER | AM_OBJ_REMOVE |
			AM_OBJ_SUCCESSION,
		.objects_text = "version, member proposal, removal or new key",
		.note_option = "reason",
		.verb = "withdraw",
		.done = "withdrew",
		.own = true,
	};
	return answer(argc, argv, &w);
}
