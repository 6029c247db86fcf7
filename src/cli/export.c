/*
 * amends export: write the record of one circle (or of all, or what
 * proves one agreement) into a file that is self-contained and signed: a
 * manifest signed by this node's identity names each feed's newest entry,
 * so that a third party can check with amends verify --file that nothing
 * was altered, removed or cut off (protocol/bundle.md). The file is written
 * whole or not at all, and amends import reads it on another node.
 *
 * The verifying half, cli_verify_file, lives here too: it prints what such
 * a file proves, naming people by short ID and fingerprint, since whoever
 * checks it (a counsellor, a court) has no nicknames for them, and giving
 * the signer's and each member's safety number once, the one to compare
 * by voice before trusting the file.
 */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "agreement.h"
#include "amends/bundle.h"
#include "amends/checkpoint.h"
#include "amends/proof.h"
#include "cli.h"
#include "format.h"
#include "resolve.h"

static const char usage[] =
	"usage: amends export [CIRCLE] [--agreement AGREEMENT] -o FILE\n\n"
	"Writes every signed entry of CIRCLE (its name or the start of its ID),\n"
	"or of every circle held here, with any fork evidence, into FILE (- for\n"
	"standard output), under a manifest signed by this node's identity that\n"
	"names each feed's newest entry. Anyone can check the file with\n"
	"amends verify --file FILE, without a node; amends import reads it.\n\n"
	"  --agreement AGREEMENT  what proves AGREEMENT (the start of its hash):\n"
	"                         its versions, signatures, ends, check-ins and\n"
	"                         statements, and the circle's membership. Each\n"
	"                         person's entries can only be checked in the\n"
	"                         order they were written, so the file also\n"
	"                         carries everything its author wrote before\n"
	"                         each of those (other agreements, their\n"
	"                         check-ins, statements, replaced check-ins);\n"
	"                         the output says how many such entries travel\n";

static int
write_stdout(const uint8_t *data, size_t len)
{
	for (size_t off = 0; off < len;) {
		ssize_t w = write(STDOUT_FILENO, data + off, len - off);
		if (w <= 0)
			return AM_ERR_IO;
		off += (size_t)w;
	}
	return AM_OK;
}

int
cmd_export(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "output", required_argument, NULL, 'o' },
		{ "agreement", required_argument, NULL, 'a' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct cli c = { 0 };
	const char *file = NULL, *agreement = NULL;
	uint8_t circle[32], ag[32], *data = NULL;
	size_t len, nentries, nforks, ncarried = 0;
	int opt, rc, ret = 1;

	while ((opt = getopt_long(argc, argv, "ho:", opts, NULL)) != -1) {
		switch (opt) {
		case 'o': file = optarg; break;
		case 'a': agreement = optarg; break;
		case 'h': cli_usage(stdout, usage); return 0;
		default: cli_usage(stderr, usage); return 1;
		}
	}
	if (argc - optind > 1 || file == NULL) {
		cli_usage(stderr, usage);
		return 1;
	}
	if (cli_open(&c, CLI_STORE | CLI_IDENTITY) != 0)
		goto out;
	bool one = argc - optind == 1;
	if (one && cli_resolve_circle(c.store, argv[optind], circle) != 0)
		goto out;
	if (agreement != NULL && cli_resolve_object(c.store, agreement,
	    AM_OBJ_AGREEMENT, "agreement", ag) != 0)
		goto out;
	rc = am_bundle_export_signed(c.store, c.id, one ? circle : NULL,
		agreement != NULL ? ag : NULL, cli_now_ms(), &data, &len, &nentries,
		&nforks, &ncarried);
	if (rc == AM_ERR_TOO_BIG) {
		ret = cli_error("the record is larger than a bundle may hold; export "
			"one circle at a time");
		goto out;
	}
	if (rc == AM_ERR_ARG) {
		ret = cli_error("agreement %s is not of circle %s", agreement,
			argv[optind]);
		goto out;
	}
	if (rc != AM_OK) {
		ret = cli_fail("exporting", rc);
		goto out;
	}
	if (strcmp(file, "-") == 0)
		rc = write_stdout(data, len);
	else
		rc = am_bundle_save(file, data, len);
	if (rc != AM_OK) {
		ret = cli_error("cannot write %s", file);
		goto out;
	}
	FILE *out = strcmp(file, "-") == 0 ? stderr : stdout;
	fprintf(out, "exported %zu entries and %zu fork evidence to %s\n",
		nentries, nforks, file);
	if (agreement != NULL && ncarried > 0)
		fprintf(out, "%zu of those entries are not about agreement %s: they "
			"were written before entries that are, and travel with them "
			"(each person's entries are checked in the order written); "
			"anyone given the file can read them\n", ncarried, agreement);
	ret = 0;
out:
	free(data);
	cli_close(&c);
	return ret;
}

/* ---- amends verify --file ---- */

/* "Alex (am5kq2ab, k3f9-x2m4)", or "am5kq2ab (k3f9-x2m4)" for someone who
 * signed no name: the short ID with the fingerprint to read aloud. */
#define WHO_BYTES (4 * AM_MAX_DISPLAY + CLI_SHORT_NAME + AM_FPR_TEXT_BYTES + 8)

/* The store of an intact file while its record is shown: who() then gives
 * each person's name as they signed it in the file. Problems and findings
 * are written before the file is known to be intact, without names. */
static struct am_store *names_from;

/* A person as the file shows them: the name they signed there, if any,
 * and always the start of their ID and their fingerprint, so that a name
 * nobody checked never stands alone. */
static void
who(const uint8_t id[static 32], char out[static WHO_BYTES])
{
	char text[AM_ID_TEXT_BYTES], fp[AM_FPR_TEXT_BYTES];
	am_id_format(id, text);
	am_id_fingerprint(id, fp);
	const char *name = names_from != NULL ?
		cli_shared_name(names_from, id) : NULL;
	if (name != NULL)
		snprintf(out, WHO_BYTES, "%s (%.8s, %s)", cli_shown_c(name), text, fp);
	else
		snprintf(out, WHO_BYTES, "%.8s (%s)", text, fp);
}

struct vout {
	bool json;
	struct json j;
	FILE *lines;                 /* text: the problems and findings, held
	                                until the lead lines are printed */
	struct am_view *view;        /* the snapshot the state is read from */
	size_t unexpected;           /* people --expect did not name */
};

static void
on_problem(void *ctx, const struct am_proof_problem *pr)
{
	struct vout *o = ctx;
	char w[WHO_BYTES], cid[CLI_SHORT_HASH];
	if (pr->subject == AM_PROOF_PERSON)
		o->unexpected++;
	if (o->json) {
		json_obj(&o->j);
		json_kstr(&o->j, "code", am_strerror(pr->code));
		if (pr->subject == AM_PROOF_FEED || pr->subject == AM_PROOF_ENTRY ||
		    (pr->subject == AM_PROOF_FILE && pr->circle[0] | pr->author[0])) {
			json_key(&o->j, "circle");
			json_hash(&o->j, pr->circle);
			json_key(&o->j, "author");
			json_id(&o->j, pr->author);
		}
		if (pr->seq > 0)
			json_kint(&o->j, "seq", (int64_t)pr->seq);
		if (pr->item > 0)
			json_kint(&o->j, "item", (int64_t)pr->item);
		json_kstr(&o->j, "problem", pr->what);
		json_kbool(&o->j, "finding", pr->finding);
		json_kbool(&o->j, "note", pr->note);
		json_end_obj(&o->j);
		return;
	}
	/* the sentence names circles and carries text from the record */
	const char *what = cli_shown_c(pr->what);
	who(pr->author, w);
	cli_short_hash(pr->circle, cid);
	switch (pr->subject) {
	case AM_PROOF_ENTRY:
		fprintf(o->lines, "%s: %s's entry %llu (circle %s): %s\n", pr->finding ?
			"finding" : "problem", w, (unsigned long long)pr->seq, cid,
			what);
		break;
	case AM_PROOF_FEED:
		fprintf(o->lines, "%s: %s's feed (circle %s): %s\n", pr->finding ? "finding" :
			pr->note ? "note" : "problem", w, cid, what);
		break;
	case AM_PROOF_MANIFEST:
		fprintf(o->lines, "problem: manifest: %s\n", what);
		break;
	case AM_PROOF_PERSON:
		fprintf(o->lines, "problem: %s\n", what);
		break;
	default:
		if (pr->circle[0] | pr->author[0])
			fprintf(o->lines, "problem: %s's feed (circle %s): %s\n", w, cid, what);
		else
			fprintf(o->lines, "problem: %s\n", what);
		break;
	}
}

static void
text_signers(const struct am_version *v)
{
	char w[WHO_BYTES];
	int n = 0;
	for (uint32_t i = 0; i < v->nsigs; i++) {
		if (v->sigs[i].position != AM_POS_ACCEPTED)
			continue;
		who(v->sigs[i].id, w);
		printf("%s%s", n++ ? ", " : "", w);
	}
	printf(n ? "\n" : "nobody yet\n");
	/* a decline stays on record with its reason, even after an accept */
	for (uint32_t i = 0; i < v->nsigs; i++) {
		const struct am_signature *g = &v->sigs[i];
		const char *why = g->position == AM_POS_DECLINED ? g->note :
			g->declined_note;
		if (g->position != AM_POS_DECLINED && !g->was_declined)
			continue;
		who(g->id, w);
		printf("    %s %s%s%s\n", w, g->position == AM_POS_DECLINED ?
			"declines" : "accepted after declining", why ? ": " : "",
			why ? cli_shown_c(why) : "");
	}
}

static void
json_declines(struct json *j, const struct am_version *v)
{
	json_key(j, "declines");
	json_arr(j);
	for (uint32_t i = 0; v != NULL && i < v->nsigs; i++) {
		const struct am_signature *g = &v->sigs[i];
		bool standing = g->position == AM_POS_DECLINED;
		if (!standing && !g->was_declined)
			continue;
		json_obj(j);
		json_key(j, "id");
		json_id(j, g->id);
		json_key(j, "entry");
		json_hash(j, standing ? g->entry : g->declined);
		json_kstr(j, "note", standing ? g->note : g->declined_note);
		json_kbool(j, "standing", standing);
		json_end_obj(j);
	}
	json_end_arr(j);
}

static void
text_checkin(const struct am_checkin *all, size_t n, size_t ix,
	const char *title)
{
	const struct am_checkin *k = &all[ix];
	char when[CLI_TIME_BYTES], w[WHO_BYTES], h[CLI_SHORT_HASH], role[512];
	cli_time_local(k->time, when);
	cli_short_hash(k->hash, h);
	who(k->author, w);
	printf("  %s  %s  %s checked in %s for %s on '%s'%s%s\n", when, h, w,
		cli_status_name(k->status), cli_shown_c(k->period), cli_shown_c(title),
		k->note ? ": " : "", k->note ? cli_shown_c(k->note) : "");
	cli_checkin_role(NULL, all, n, ix, role, sizeof role);
	if (role[0] != '\0')
		printf("      %s\n", role);
	if (k->nanswers == 0) {
		printf("      not confirmed by anyone\n");
		return;
	}
	/* every answer in order: a changed answer shows what it was */
	for (uint32_t i = 0; i < k->nanswers; i++) {
		const struct am_mark *m = &k->answers[i];
		who(m->id, w);
		cli_time_local(m->time, when);
		printf("      %s by %s%s on %s%s%s\n", m->kind == AM_MARK_DISPUTED ?
			"disputed" : "confirmed", w, m->witness ? " (witness)" : "",
			when, m->note ? ": " : "", m->note ? cli_shown_c(m->note) : "");
	}
}

static void
json_checkin(struct json *j, const struct am_checkin *k)
{
	json_obj(j);
	json_key(j, "hash");
	json_hash(j, k->hash);
	json_key(j, "author");
	json_id(j, k->author);
	json_key(j, "time");
	json_time(j, k->time);
	json_kstr(j, "period", k->period);
	json_kstr(j, "status", cli_status_name(k->status));
	json_kstr(j, "note", k->note);
	json_kstr(j, "state", cli_checkin_state(k));
	cli_json_marks(j, k->marks, k->nmarks, k->time);
	cli_json_checkin_history(j, k);
	json_end_obj(j);
}

static void
text_ids(const char *label, const uint8_t ids[][32], uint32_t n)
{
	char w[WHO_BYTES];
	printf("  %s", label);
	for (uint32_t i = 0; i < n; i++) {
		who(ids[i], w);
		printf("%s %s", i ? "," : "", w);
	}
	printf("%s\n", n == 0 ? " every party" : "");
}

/* What was agreed, in the words of each version, and by whom and when:
 * a reader of the file has nothing else to go by. */
static void
text_terms(const struct am_agreement_view *x, const struct am_version *v)
{
	char w[WHO_BYTES], when[CLI_TIME_BYTES], h[CLI_SHORT_HASH], sched[512];
	who(x->a.proposer, w);
	cli_time_local(x->a.proposed, when);
	printf("  proposed by %s on %s\n", w, when);
	if (v != NULL) {
		const struct am_terms *t = &v->body.terms;
		if (t->text.n > 0)
			printf("  text: \"%s\"\n", cli_shown(t->text));
		cli_agreement_schedule_text(t, sched, sizeof sched);
		printf("  schedule: %s\n", sched);
		text_ids("parties:", t->parties, t->nparties);
		text_ids("checks in:", t->by, t->nby);
	}
	if (x->a.has_end) {
		who(x->a.ended_by, w);
		cli_time_local(x->a.end_at, when);
		printf("  %s by %s%s on %s%s%s\n", x->a.status == AM_AGREEMENT_ENDED ?
			"ended" : "ending", w, x->a.end_mutual ?
			" with everyone's consent" : "", when, x->a.end_reason ? ": " : "",
			x->a.end_reason ? cli_shown_c(x->a.end_reason) : "");
	}
	if (x->nversions < 2)
		return;
	printf("  versions:\n");
	for (size_t i = 0; i < x->nversions; i++) {
		const struct am_version *u = &x->versions[i];
		cli_short_hash(u->hash, h);
		who(u->author, w);
		cli_time_local(u->time, when);
		printf("    %u  %s  %s  by %s: %s\n", u->depth + 1, h, when, w,
			cli_words(cli_version_status_name(u->status)));
		printf("       '%s'%s%s%s\n", cli_shown(u->body.terms.title),
			u->body.terms.text.n ? ": \"" : "",
			u->body.terms.text.n ? cli_shown(u->body.terms.text) : "",
			u->body.terms.text.n ? "\"" : "");
	}
}

static void
json_version(struct json *j, const struct am_version *v)
{
	const struct am_terms *t = &v->body.terms;
	json_obj(j);
	json_key(j, "hash");
	json_hash(j, v->hash);
	json_key(j, "author");
	json_id(j, v->author);
	json_key(j, "time");
	json_time(j, v->time);
	json_kint(j, "depth", v->depth);
	json_kstr(j, "status", cli_version_status_name(v->status));
	json_key(j, "title");
	json_strn(j, t->title);
	json_key(j, "text");
	json_strn(j, t->text);
	json_key(j, "parties");
	json_arr(j);
	for (uint32_t i = 0; i < t->nparties; i++)
		json_id(j, t->parties[i]);
	json_end_arr(j);
	json_key(j, "by");
	json_arr(j);
	for (uint32_t i = 0; i < t->nby; i++)
		json_id(j, t->by[i]);
	json_end_arr(j);
	json_key(j, "schedule");
	cli_json_schedule(j, t);
	json_key(j, "tz");
	json_strn(j, t->tz);
	json_end_obj(j);
}

/* The statements of a circle: who said what, when, about which
 * agreement, and who confirmed it. */
static int
show_statements(struct am_store *s, struct vout *o, const uint8_t circle[32],
	const uint8_t *scope)
{
	struct am_statement *st = NULL;
	size_t n = 0;
	char w[WHO_BYTES], when[CLI_TIME_BYTES], h[CLI_SHORT_HASH];
	int rc = am_state_statements(s, circle, scope, &st, &n);
	if (o->json) {
		json_key(&o->j, "statements");
		json_arr(&o->j);
	}
	for (size_t i = 0; rc == AM_OK && i < n; i++) {
		const struct am_statement *t = &st[i];
		if (o->json) {
			json_obj(&o->j);
			json_key(&o->j, "hash");
			json_hash(&o->j, t->hash);
			json_key(&o->j, "author");
			json_id(&o->j, t->author);
			json_key(&o->j, "time");
			json_time(&o->j, t->time);
			json_key(&o->j, "about");
			if (t->has_about)
				json_hash(&o->j, t->about);
			else
				json_null(&o->j);
			json_kstr(&o->j, "text", t->text);
			cli_json_marks(&o->j, t->marks, t->nmarks, t->time);
			json_end_obj(&o->j);
			continue;
		}
		if (i == 0)
			printf("  statements:\n");
		who(t->author, w);
		cli_time_local(t->time, when);
		printf("    %s  %s said", when, w);
		if (t->has_about) {
			cli_short_hash(t->about, h);
			printf(" about agreement %s", h);
		}
		printf(": \"%s\"\n", cli_shown_c(t->text));
		for (uint32_t k = 0; k < t->nmarks; k++) {
			who(t->marks[k].id, w);
			cli_time_local(t->marks[k].time, when);
			printf("        %s by %s on %s%s%s\n",
				t->marks[k].kind == AM_MARK_DISPUTED ? "disputed" : "confirmed",
				w, when, t->marks[k].note ? ": " : "",
				t->marks[k].note ? cli_shown_c(t->marks[k].note) : "");
		}
	}
	if (o->json)
		json_end_arr(&o->j);
	am_state_statements_free(&st, n);
	return cli_unshown("the statements of circle", circle, rc) ? AM_OK : rc;
}

/* One agreement: its status, who signed the terms in force (or the
 * newest), and its check-ins with who confirmed or disputed each. */
static int
show_agreement(struct am_store *s, struct vout *o, const uint8_t id[32],
	int64_t now)
{
	struct am_agreement_view x;
	char h[CLI_SHORT_HASH], vh[CLI_SHORT_HASH];
	int rc = am_view_agreement(o->view, id, now, true, &x);
	if (rc != AM_OK && rc != AM_ERR_ZONE) {
		am_agreement_view_finish(&x);
		return cli_agreement_unshown(id, rc) ? AM_OK : rc;
	}
	const struct am_version *v = x.current != NULL ? x.current : x.newest;
	cli_short_hash(id, h);
	if (o->json) {
		json_obj(&o->j);
		json_key(&o->j, "id");
		json_hash(&o->j, id);
		json_kstr(&o->j, "title", x.a.title);
		json_kstr(&o->j, "status", cli_agreement_status_name(x.a.status));
		json_key(&o->j, "proposer");
		json_id(&o->j, x.a.proposer);
		json_key(&o->j, "proposed");
		json_time(&o->j, x.a.proposed);
		json_key(&o->j, "versions");
		json_arr(&o->j);
		for (size_t i = 0; i < x.nversions; i++)
			json_version(&o->j, &x.versions[i]);
		json_end_arr(&o->j);
		json_key(&o->j, "version");
		if (v != NULL)
			json_hash(&o->j, v->hash);
		else
			json_null(&o->j);
		json_key(&o->j, "signed_by");
		json_arr(&o->j);
		for (uint32_t i = 0; v != NULL && i < v->nsigs; i++)
			if (v->sigs[i].position == AM_POS_ACCEPTED)
				json_id(&o->j, v->sigs[i].id);
		json_end_arr(&o->j);
		json_declines(&o->j, v);
		json_key(&o->j, "checkins");
		json_arr(&o->j);
		for (size_t i = 0; i < x.ncheckins; i++)
			json_checkin(&o->j, &x.checkins[i]);
		json_end_arr(&o->j);
		json_end_obj(&o->j);
	} else {
		printf("agreement '%s' (%s): %s\n", cli_shown_c(x.a.title), h,
			cli_words(cli_agreement_status_name(x.a.status)));
		text_terms(&x, v);
		if (v != NULL) {
			cli_short_hash(v->hash, vh);
			printf("  terms %s signed by ", vh);
			text_signers(v);
		}
		if (x.ncheckins > 0)
			printf("  check-ins:\n");
		for (size_t i = 0; i < x.ncheckins; i++)
			text_checkin(x.checkins, x.ncheckins, i,
				x.a.title ? x.a.title : "");
	}
	am_agreement_view_finish(&x);
	return AM_OK;
}

/* The entries of a circle the state ignores, each with its rule and why
 * (protocol/state.md, "Ignored entries": a claimed time out of bounds,
 * a check-in for a period outside the terms, ...): part of what the file
 * proves, and no problem of it. */
static int
show_ignored(struct am_store *s, struct vout *o, const uint8_t circle[32])
{
	struct am_violation *v = NULL;
	size_t n = 0;
	char w[WHO_BYTES];
	int rc = am_state_violations(s, circle, &v, &n);
	if (rc == AM_ERR_NOT_FOUND)
		rc = AM_OK;           /* no genesis here: nothing is derived */
	if (o->json) {
		json_key(&o->j, "ignored");
		json_arr(&o->j);
	}
	for (size_t i = 0; rc == AM_OK && i < n; i++) {
		const char *rule = am_rule_name(v[i].rule);
		if (o->json) {
			json_obj(&o->j);
			json_key(&o->j, "author");
			json_id(&o->j, v[i].author);
			json_kint(&o->j, "seq", (int64_t)v[i].seq);
			json_kint(&o->j, "kind", v[i].kind);
			json_kstr(&o->j, "rule", rule);
			json_kstr(&o->j, "why", v[i].why);
			json_end_obj(&o->j);
			continue;
		}
		who(v[i].author, w);
		if (v[i].rule == AM_RULE_FORKED)
			printf("  ignored: %s's entries from %llu on: %s (%s)\n", w,
				(unsigned long long)v[i].seq, cli_shown_c(v[i].why), rule);
		else
			printf("  ignored: %s's entry %llu: %s (%s)\n", w,
				(unsigned long long)v[i].seq, cli_shown_c(v[i].why), rule);
	}
	if (o->json)
		json_end_arr(&o->j);
	free(v);
	return cli_unshown("the ignored entries of circle", circle, rc) ? AM_OK : rc;
}

static int
show_circle(struct am_store *s, struct vout *o, const struct am_circle_info *ci,
	const uint8_t *scope, int64_t now)
{
	struct am_member *members = NULL;
	struct am_agreement *list = NULL;
	size_t nm = 0, na = 0;
	char cid[CLI_SHORT_HASH], w[WHO_BYTES];
	int rc = am_state_members(s, ci->id, &members, &nm);
	if (rc == AM_OK)
		rc = am_state_agreements(s, ci->id, now, &list, &na);
	if (rc != AM_OK) {
		/* nothing of the circle is written yet: the rest can be */
		if (cli_unshown("circle", ci->id, rc))
			rc = AM_OK;
		goto out;
	}
	cli_short_hash(ci->id, cid);
	if (o->json) {
		json_obj(&o->j);
		json_key(&o->j, "id");
		json_hash(&o->j, ci->id);
		json_kstr(&o->j, "name", ci->name);
		json_key(&o->j, "members");
		json_arr(&o->j);
		for (size_t i = 0; i < nm; i++) {
			json_obj(&o->j);
			json_key(&o->j, "id");
			json_id(&o->j, members[i].id);
			json_kstr(&o->j, "role", cli_role_name(members[i].role));
			json_kstr(&o->j, "status", members[i].status == AM_MEMBER_JOINED ?
				"joined" : "pending");
			json_end_obj(&o->j);
		}
		json_end_arr(&o->j);
		json_key(&o->j, "agreements");
		json_arr(&o->j);
	} else {
		printf("circle '%s' (%s)\n", cli_shown_c(ci->name), cid);
		for (size_t i = 0; i < nm; i++) {
			who(members[i].id, w);
			printf("  %s %s, %s%s\n", members[i].status == AM_MEMBER_JOINED ?
				"member " : "pending", w, cli_role_name(members[i].role),
				members[i].creator ? ", created the circle" : "");
		}
	}
	for (size_t i = 0; rc == AM_OK && i < na; i++)
		if (scope == NULL || memcmp(scope, list[i].id, 32) == 0)
			rc = show_agreement(s, o, list[i].id, now);
	if (o->json)
		json_end_arr(&o->j);
	if (rc == AM_OK)
		rc = show_statements(s, o, ci->id, scope);
	if (rc == AM_OK)
		rc = show_ignored(s, o, ci->id);
	if (o->json)
		json_end_obj(&o->j);
out:
	free(members);
	am_state_agreements_free(&list, na);
	return rc;
}

/*
 * How complete the file shows itself to be, circle by circle: the newest
 * heads that every joined member checkpointed, when the file holds them.
 * A file cut at an earlier point that everyone confirmed shows that
 * earlier time.
 */
static void
complete_as_of(const struct am_proof *p, struct vout *o)
{
	struct am_circle_info *all = NULL;
	size_t n = 0;
	char cid[CLI_SHORT_HASH], when[CLI_TIME_BYTES], w[WHO_BYTES];
	if (o->json) {
		json_key(&o->j, "complete");
		json_arr(&o->j);
	}
	if (am_state_circles(p->store, NULL, &all, &n) != AM_OK)
		n = 0;
	for (size_t i = 0; i < n; i++) {
		struct am_checkpoint_same same;
		bool held = am_checkpoint_same(p->store, all[i].id, &same) == AM_OK &&
			same.same;
		for (uint32_t h = 0; held && h < same.nheads; h++) {
			uint64_t seq = 0;
			uint8_t hash[32];
			held = am_store_head(p->store, all[i].id, same.heads[h].author,
				&seq, hash) == AM_OK && seq >= same.heads[h].seq;
		}
		struct am_member *m = NULL;
		size_t nm = 0;
		if (am_state_members(p->store, all[i].id, &m, &nm) != AM_OK)
			nm = 0;
		cli_short_hash(all[i].id, cid);
		if (o->json) {
			json_obj(&o->j);
			json_key(&o->j, "circle");
			json_hash(&o->j, all[i].id);
			json_key(&o->j, "as_of");
			if (held)
				json_time(&o->j, same.time);
			else
				json_null(&o->j);
			json_key(&o->j, "confirmed_by");
			json_arr(&o->j);
			for (size_t k = 0; held && k < nm; k++)
				if (m[k].status == AM_MEMBER_JOINED)
					json_id(&o->j, m[k].id);
			json_end_arr(&o->j);
			json_end_obj(&o->j);
		} else if (held) {
			cli_time_local(same.time, when);
			printf("circle '%s' (%s): complete as of %s, confirmed by",
				cli_shown_c(all[i].name), cid, when);
			for (size_t k = 0, c = 0; k < nm; k++) {
				if (m[k].status != AM_MEMBER_JOINED)
					continue;
				who(m[k].id, w);
				printf("%s %s", c++ ? "," : "", w);
			}
			printf("\n");
		} else {
			printf("circle '%s' (%s): no checkpoint of every member shows "
				"that the file is complete\n", cli_shown_c(all[i].name), cid);
		}
		free(m);
	}
	am_state_circles_free(&all, n);
	if (o->json)
		json_end_arr(&o->j);
}

static void
text_header(const struct am_proof *p)
{
	char w[WHO_BYTES], when[CLI_TIME_BYTES], h[CLI_SHORT_HASH];
	if (!p->manifest_ok)
		return;
	who(p->manifest.exporter, w);
	cli_time_local(p->manifest.time, when);
	printf("exported by %s at %s", w, when);
	if (p->manifest.has_scope) {
		cli_short_hash(p->manifest.scope, h);
		printf(", only what proves agreement %s", h);
	}
	printf("\n");
	struct am_circle_info *mine = NULL;
	size_t n = 0;
	if (am_state_circles(p->store, p->manifest.exporter, &mine, &n) != AM_OK)
		return;
	for (size_t i = 0; i < n; i++) {
		if (mine[i].status != AM_MEMBER_JOINED)
			continue;
		cli_short_hash(mine[i].id, h);
		printf("signed by %s, %s of circle '%s' (%s)\n", w,
			cli_role_name(mine[i].role), cli_shown_c(mine[i].name), h);
	}
	am_state_circles_free(&mine, n);
}

/* What each feed proves, when something fell short. */
static void
text_extent(const struct am_proof *p)
{
	char w[WHO_BYTES];
	printf("what the file proves:\n");
	for (size_t i = 0; i < p->nfeeds; i++) {
		const struct am_proof_feed *f = &p->feeds[i];
		who(f->author, w);
		if (f->named > 0)
			printf("  %s's feed: proven up to entry %llu of %llu named by "
				"the manifest\n", w, (unsigned long long)f->proven,
				(unsigned long long)f->named);
		else
			printf("  %s's feed: proven up to entry %llu, not named by a "
				"trusted manifest\n", w, (unsigned long long)f->proven);
	}
}

static int
show_state(struct am_proof *p, struct vout *o)
{
	struct am_circle_info *circles = NULL;
	size_t n = 0;
	const uint8_t *scope = p->manifest.has_scope ? p->manifest.scope : NULL;
	int rc = am_view_open(p->store, &o->view);
	if (rc != AM_OK)
		return rc;
	rc = am_state_circles(p->store, NULL, &circles, &n);
	if (o->json) {
		json_key(&o->j, "circles");
		json_arr(&o->j);
	}
	for (size_t i = 0; rc == AM_OK && i < n; i++)
		rc = show_circle(p->store, o, &circles[i], scope, cli_now_ms());
	if (o->json)
		json_end_arr(&o->j);
	am_state_circles_free(&circles, n);
	am_view_close(&o->view);
	return rc;
}

static void
json_header(struct vout *o, const struct am_proof *p)
{
	json_key(&o->j, "manifest");
	if (!p->manifest_ok) {
		json_null(&o->j);
		return;
	}
	json_obj(&o->j);
	json_key(&o->j, "exporter");
	json_id(&o->j, p->manifest.exporter);
	json_key(&o->j, "time");
	json_time(&o->j, p->manifest.time);
	json_key(&o->j, "agreement");
	if (p->manifest.has_scope)
		json_hash(&o->j, p->manifest.scope);
	else
		json_null(&o->j);
	/* the exporter's role in each circle of the file it belongs to */
	json_key(&o->j, "signer");
	json_arr(&o->j);
	struct am_circle_info *mine = NULL;
	size_t n = 0;
	if (am_state_circles(p->store, p->manifest.exporter, &mine, &n) != AM_OK)
		n = 0;
	for (size_t i = 0; i < n; i++) {
		if (mine[i].status != AM_MEMBER_JOINED)
			continue;
		json_obj(&o->j);
		json_key(&o->j, "circle");
		json_hash(&o->j, mine[i].id);
		json_kstr(&o->j, "role", cli_role_name(mine[i].role));
		json_end_obj(&o->j);
	}
	am_state_circles_free(&mine, n);
	json_end_arr(&o->j);
	json_end_obj(&o->j);
}

static void
json_feeds(struct vout *o, const struct am_proof *p)
{
	json_key(&o->j, "feeds");
	json_arr(&o->j);
	for (size_t i = 0; i < p->nfeeds; i++) {
		const struct am_proof_feed *f = &p->feeds[i];
		json_obj(&o->j);
		json_key(&o->j, "circle");
		json_hash(&o->j, f->circle);
		json_key(&o->j, "author");
		json_id(&o->j, f->author);
		json_kint(&o->j, "proven", (int64_t)f->proven);
		json_kint(&o->j, "named", (int64_t)f->named);
		json_kint(&o->j, "head", (int64_t)f->head);
		json_end_obj(&o->j);
	}
	json_end_arr(&o->j);
}

/* The --expect arguments, read into IDs and safety numbers. */
struct known {
	struct am_proof_known k;
	uint8_t (*ids)[32];
	char (*numbers)[AM_FPR_LONG_TEXT_BYTES];
};

static int
known_read(struct known *kn, char **expect, size_t nexpect)
{
	size_t max = 0;
	for (size_t i = 0; i < nexpect; i++)
		for (const char *c = expect[i]; ; c++) {
			if (*c == ',' || *c == '\0')
				max++;
			if (*c == '\0')
				break;
		}
	kn->ids = calloc(max ? max : 1, sizeof *kn->ids);
	kn->numbers = calloc(max ? max : 1, sizeof *kn->numbers);
	if (kn->ids == NULL || kn->numbers == NULL)
		return cli_fail("verify", AM_ERR_NOMEM);
	for (size_t i = 0; i < nexpect; i++) {
		char *copy = strdup(expect[i]), *save = NULL;
		if (copy == NULL)
			return cli_fail("verify", AM_ERR_NOMEM);
		for (char *t = strtok_r(copy, ",", &save); t != NULL;
		    t = strtok_r(NULL, ",", &save)) {
			while (*t == ' ')
				t++;
			if (am_id_parse(t, kn->ids[kn->k.nids]) == AM_OK)
				kn->k.nids++;
			else if (am_safety_number_parse(t,
			    kn->numbers[kn->k.nnumbers]) == AM_OK)
				kn->k.nnumbers++;
			else {
				cli_error("'%s' is neither an ID nor a safety number",
					cli_shown_c(t));
				free(copy);
				return 1;
			}
		}
		free(copy);
	}
	kn->k.ids = (const uint8_t (*)[32])kn->ids;
	kn->k.numbers = (const char (*)[AM_FPR_LONG_TEXT_BYTES])kn->numbers;
	return 0;
}

/* The signer and members of the file, once each, with their safety
 * numbers: what a reader compares by voice when no --expect was given. */
struct listed {
	struct vout *o;
	uint8_t (*seen)[32];
	size_t n;
};

static int
list_person(void *ctx, const struct am_proof_person *w)
{
	struct listed *l = ctx;
	char who_[WHO_BYTES], sn[AM_FPR_LONG_TEXT_BYTES];
	for (size_t i = 0; i < l->n; i++)
		if (memcmp(l->seen[i], w->id, 32) == 0)
			return AM_OK;
	uint8_t (*more)[32] = realloc(l->seen, (l->n + 1) * sizeof *more);
	if (more == NULL)
		return AM_ERR_NOMEM;
	l->seen = more;
	memcpy(l->seen[l->n++], w->id, 32);
	am_id_safety_number(w->id, sn);
	if (l->o->json) {
		json_obj(&l->o->j);
		json_key(&l->o->j, "id");
		json_id(&l->o->j, w->id);
		json_kstr(&l->o->j, "safety_number", sn);
		json_kbool(&l->o->j, "signer", w->signer);
		json_end_obj(&l->o->j);
	} else {
		who(w->id, who_);
		printf("  %s: %s\n", who_, sn);
	}
	return AM_OK;
}

/* Without --expect, says plainly what the file cannot show by itself;
 * expected: --expect was given and named every person. */
static int
show_people(const struct am_proof *p, struct vout *o, bool expected)
{
	struct listed l = { .o = o };
	if (o->json) {
		json_kbool(&o->j, "expected", expected);
		json_key(&o->j, "people");
		json_arr(&o->j);
	} else if (expected) {
		printf("the signer and every member are people you expect\n");
		return AM_OK;
	} else {
		printf("anyone can make a file like this one with keys of their "
			"own: it is the record of the people it names only if these "
			"safety numbers are the ones they read to you (compare them by "
			"voice, or pass their IDs or safety numbers with --expect):\n");
	}
	int rc = am_proof_people(p, list_person, &l);
	if (o->json)
		json_end_arr(&o->j);
	free(l.seen);
	return rc;
}

int
cli_verify_file(const char *path, bool json, char **expect, size_t nexpect)
{
	struct am_bundle *b = NULL;
	struct am_proof p = { 0 };
	struct vout o = { .json = json };
	struct known kn = { 0 };
	char *lines = NULL;
	size_t nlines = 0;
	int ret = 1;

	if (nexpect > 0 && known_read(&kn, expect, nexpect) != 0)
		goto out;
	int rc = am_bundle_open(path, AM_BUNDLE_ALLOW_CUT, &b);
	switch (rc) {
	case AM_OK:
		break;
	case AM_ERR_IO:
		cli_error("cannot read %s", path);
		goto out;
	case AM_ERR_TYPE:
		cli_error("%s is not an amends export", path);
		goto out;
	case AM_ERR_VERSION:
		cli_error("%s is an export of a newer format; update amends "
			"to check it", path);
		goto out;
	default:
		cli_error("%s is damaged before its first entry (%s): it "
			"proves nothing", path, am_strerror(rc));
		goto out;
	}
	if (json) {
		json_init(&o.j, stdout, NULL);
		json_obj(&o.j);
		json_key(&o.j, "problems");
		json_arr(&o.j);
	}
	o.lines = json ? stdout : open_memstream(&lines, &nlines);
	if (o.lines == NULL) {
		ret = cli_fail("verifying", AM_ERR_NOMEM);
		goto out;
	}
	rc = am_proof_check(b, NULL, on_problem, &o, &p);
	if (rc == AM_OK && nexpect > 0)
		rc = am_proof_expect(&p, &kn.k, on_problem, &o);
	if (!json) {
		fclose(o.lines);
		o.lines = NULL;
	}
	if (json)
		json_end_arr(&o.j);
	if (rc != AM_OK) {
		if (json)
			json_end_obj(&o.j);
		ret = cli_fail("verifying", rc);
		goto out;
	}
	/* what is wrong with the file, as opposed to findings against an
	 * author it proves */
	uint64_t damage = p.problems - p.findings;
	if (json) {
		json_header(&o, &p);
		complete_as_of(&p, &o);
		if ((rc = show_people(&p, &o, nexpect > 0 && o.unexpected == 0)) != AM_OK) {
			json_end_obj(&o.j);
			ret = cli_fail("reading the members", rc);
			goto out;
		}
		json_feeds(&o, &p);
		if (damage == 0 && (rc = show_state(&p, &o)) != AM_OK) {
			json_end_obj(&o.j);
			ret = cli_fail("reading the state", rc);
			goto out;
		}
		json_kint(&o.j, "findings", (int64_t)p.findings);
		json_kint(&o.j, "entries", (int64_t)p.entries);
		json_kint(&o.j, "authors", (int64_t)p.authors);
		json_kbool(&o.j, "ok", damage == 0);
		json_end_obj(&o.j);
	} else if (damage > 0) {
		fputs(lines ? lines : "", stdout);
		text_extent(&p);
		cli_verdict(damage, p.findings);
	} else {
		names_from = p.store;
		complete_as_of(&p, &o);
		fputs(lines ? lines : "", stdout);
		text_header(&p);
		if ((rc = show_people(&p, &o, nexpect > 0 && o.unexpected == 0)) != AM_OK) {
			ret = cli_fail("reading the members", rc);
			goto out;
		}
		if ((rc = show_state(&p, &o)) != AM_OK) {
			ret = cli_fail("reading the state", rc);
			goto out;
		}
		printf("%s: %llu entr%s, %llu author%s, 0 problems",
			p.findings > 0 ? "intact" : "verified",
			(unsigned long long)p.entries, p.entries == 1 ? "y" : "ies",
			(unsigned long long)p.authors, p.authors == 1 ? "" : "s");
		if (p.findings > 0)
			printf(", %llu finding%s against %s",
				(unsigned long long)p.findings, p.findings == 1 ? "" : "s",
				p.findings == 1 ? "an author" : "authors");
		printf("\n");
	}
	ret = cli_verify_status(damage, p.findings);
out:
	names_from = NULL;
	am_proof_finish(&p);
	am_bundle_destroy(&b);
	free(kn.ids);
	free(kn.numbers);
	free(lines);
	return ret;
}
