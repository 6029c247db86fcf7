/*
 * amends circles: the circles this node holds, with their members (joined
 * and pending), this node's own place in each, and each circle's digest so
 * two people can compare their records at a glance.
 */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "amends/state.h"
#include "cli.h"
#include "format.h"

static const char usage[] =
	"usage: amends circles [--json]\n\n"
	"Lists the circles held here: name, ID, your place in it, its digest\n"
	"(equal digests: equal records) and its members (pending ones marked),\n"
	"each with their safety number: read it with them (amends id) before you\n"
	"trust a name. A name you gave someone (amends name) is marked as yours;\n"
	"other names are the ones people signed for themselves.\n";

/* Your own entry in a member list, or NULL. */
static const struct am_member *
find_me(const struct am_member *m, size_t n, const uint8_t *me)
{
	for (size_t i = 0; i < n; i++)
		if (memcmp(m[i].id, me, 32) == 0)
			return &m[i];
	return NULL;
}


/* "joined", "pending", or for one who is neither any more, "left" (their
 * LEAVE), "removed" (a REMOVE that took effect) or "replaced" (a
 * SUCCESSION that took effect: another key holds their place). */
static const char *
member_status(struct am_store *s, const struct am_circle_info *ci,
	const struct am_member *m)
{
	if (m->status == AM_MEMBER_JOINED)
		return "joined";
	if (m->status == AM_MEMBER_PENDING)
		return "pending";
	return m->departure_kind == AM_KIND_REMOVE ? "removed" :
		m->departure_kind == AM_KIND_SUCCESSION ? "replaced" : "left";
}

static bool
zero_id(const uint8_t id[static 32])
{
	static const uint8_t zero[32];
	return memcmp(id, zero, 32) == 0;
}

static const char *
place(struct am_store *s, const struct am_circle_info *ci,
	const struct am_member *m)
{
	if (m == NULL)
		return "none";
	if (m->status == AM_MEMBER_PENDING)
		return m->role == AM_ROLE_WITNESS ? "invited_witness" : "invited";
	if (m->status != AM_MEMBER_JOINED)
		return member_status(s, ci, m);
	return cli_role_name(m->role);
}

static void
json_circle(struct json *j, const struct am_circle_info *ci,
	const struct am_member *m, size_t n, const uint8_t *me,
	const uint8_t digest[32])
{
	json_obj(j);
	json_key(j, "id");
	json_hash(j, ci->id);
	char *now_name = NULL;
	uint8_t from[32];
	bool renamed = am_state_circle_name(j->store, ci->id, &now_name, from) == AM_OK;
	json_kstr(j, "name", renamed ? now_name : ci->name);
	free(now_name);
	json_key(j, "creator");
	json_id(j, ci->creator);
	json_key(j, "created");
	json_time(j, ci->created);
	json_kstr(j, "you", place(j->store, ci, find_me(m, n, me)));
	json_key(j, "digest");
	json_hash(j, digest);
	json_key(j, "members");
	json_arr(j);
	for (size_t i = 0; i < n; i++) {
		json_obj(j);
		json_key(j, "id");
		json_id(j, m[i].id);
		json_kstr(j, "role", cli_role_name(m[i].role));
		json_kstr(j, "status", member_status(j->store, ci, &m[i]));
		json_kbool(j, "creator", m[i].creator);
		if (!m[i].creator) {
			json_key(j, "proposal");
			json_hash(j, m[i].proposal);
			json_key(j, "proposer");
			json_id(j, m[i].proposer);
		}
		char sn[AM_FPR_LONG_TEXT_BYTES];
		am_id_safety_number(m[i].id, sn);
		json_kstr(j, "safety_number", sn);
		if (m[i].departure_kind == AM_KIND_SUCCESSION) {
			json_key(j, "replaced_by");
			json_id(j, m[i].heir);
		}
		if (!zero_id(m[i].succeeds)) {
			json_key(j, "succeeds");
			json_id(j, m[i].succeeds);
		}
		json_end_obj(j);
	}
	json_end_arr(j);
	json_end_obj(j);
}

/*
 * One line per member, with the safety number: a circle's members are
 * whom one decides to trust with its record, and the number is what they
 * read to each other to check it (amends id shows it alone).
 */
static void
text_circle(struct am_store *s, const struct am_circle_info *ci,
	const struct am_member *m, size_t n, const uint8_t *me,
	const uint8_t digest[32])
{
	char id[CLI_SHORT_HASH], who[CLI_PERSON_BYTES], dg[65];
	char sn[AM_FPR_LONG_TEXT_BYTES];
	cli_short_hash(ci->id, id);
	am_hex(digest, 32, dg);
	char *now_name = NULL;
	uint8_t from[32];
	if (am_state_circle_name(s, ci->id, &now_name, from) != AM_OK)
		now_name = NULL;
	printf("%-20s %s  you: %-8s digest %.16s\n",
		cli_shown_c(now_name != NULL ? now_name : ci->name), id,
		cli_words(place(s, ci, find_me(m, n, me))), dg);
	free(now_name);
	for (size_t i = 0; i < n; i++) {
		cli_person(s, m[i].id, memcmp(m[i].id, me, 32) == 0, who);
		am_id_safety_number(m[i].id, sn);
		printf("  %s  %s", sn, who);
		bool joined = m[i].status == AM_MEMBER_JOINED;
		char by[96] = "";
		/* a key replaced: by which one, by its fingerprint */
		if (m[i].departure_kind == AM_KIND_SUCCESSION) {
			char f[AM_FPR_TEXT_BYTES];
			am_id_fingerprint(m[i].heir, f);
			snprintf(by, sizeof by, " by %s", f);
		}
		if (m[i].role == AM_ROLE_WITNESS || !joined)
			printf(" (%s%s%s%s)", m[i].role == AM_ROLE_WITNESS ? "witness" : "",
				m[i].role == AM_ROLE_WITNESS && !joined ? ", " : "",
				joined ? "" : member_status(s, ci, &m[i]), by);
		if (!zero_id(m[i].succeeds)) {
			char old[CLI_SHORT_NAME], f[AM_FPR_TEXT_BYTES];
			cli_short_id(s, m[i].succeeds, old);
			am_id_fingerprint(m[i].succeeds, f);
			printf(" (%s %s, %s)", joined ? "succeeds" : "would succeed",
				old, f);
		}
		printf("\n");
	}
}

int
cmd_circles(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct cli c = { 0 };
	struct am_circle_info *circles = NULL;
	size_t ncircles = 0;
	bool json = false;
	struct json j;
	int opt, rc, ret = 1;

	while ((opt = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (opt) {
		case 'j': json = true; break;
		case 'h': cli_usage(stdout, usage); return 0;
		default: cli_usage(stderr, usage); return 1;
		}
	}
	if (optind != argc) {
		cli_usage(stderr, usage);
		return 1;
	}
	if (cli_open(&c, CLI_IDENTITY | CLI_STORE) != 0)
		goto out;
	const uint8_t *me = am_identity_public(c.id);
	if ((rc = am_state_circles(c.store, NULL, &circles, &ncircles)) != AM_OK) {
		ret = cli_fail("listing circles", rc);
		goto out;
	}
	json_init(&j, stdout, c.store);
	if (json) {
		json_obj(&j);
		json_key(&j, "you");
		json_id(&j, me);
		json_key(&j, "circles");
		json_arr(&j);
	} else if (ncircles == 0) {
		printf("no circles yet; create one with amends circle new NAME\n");
	}
	for (size_t i = 0; i < ncircles; i++) {
		struct am_member *m = NULL;
		size_t n = 0;
		uint8_t digest[32];
		if ((rc = am_state_members(c.store, circles[i].id, &m, &n)) != AM_OK ||
		    (rc = am_store_digest(c.store, circles[i].id, digest)) != AM_OK) {
			free(m);
			ret = cli_fail("reading a circle", rc);
			goto out;
		}
		if (json)
			json_circle(&j, &circles[i], m, n, me, digest);
		else
			text_circle(c.store, &circles[i], m, n, me, digest);
		free(m);
	}
	if (json) {
		json_end_arr(&j);
		json_names(&j);
		json_end_obj(&j);
	}
	ret = 0;
out:
	am_state_circles_free(&circles, ncircles);
	cli_close(&c);
	return ret;
}
