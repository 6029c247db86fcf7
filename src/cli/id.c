/*
 * amends id: an ID (this node's, or anyone's this node knows), in the
 * text form people copy, with the safety number they read aloud to check
 * it and the short fingerprint that tells known people apart.
 */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "amends/display.h"
#include "amends/entry.h"
#include "amends/rotate.h"
#include "cli.h"
#include "format.h"
#include "resolve.h"

static const char usage[] =
	"usage: amends id [ID] [--json]\n\n"
	"Prints this node's ID (give it to the people you share a circle with),\n"
	"or the ID of someone this node knows (a name, an ID or its start, or a\n"
	"safety number), with:\n\n"
	"  safety number  35 digits in groups of five: read them aloud to each\n"
	"                 other (in person or on a call) to check you have the\n"
	"                 right ID before you trust it\n"
	"  fingerprint    a short tag that tells known people apart; too short\n"
	"                 to check an ID with\n";

/* A nickname has the bounds of a display name: either may be shown
 * where the other would be. */
bool
cli_name_ok(const char *name)
{
	return am_display_ok(name);
}

int
cmd_id(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	bool json = false;
	struct cli c = { 0 };
	int opt;

	while ((opt = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (opt) {
		case 'j': json = true; break;
		case 'h': cli_usage(stdout, usage); return 0;
		default: cli_usage(stderr, usage); return 1;
		}
	}
	if (argc - optind > 1) {
		cli_usage(stderr, usage);
		return 1;
	}
	if (cli_open(&c, CLI_IDENTITY | CLI_STORE) != 0) {
		cli_close(&c);
		return 1;
	}
	uint8_t who[AM_ID_BYTES];
	const uint8_t *pk = am_identity_public(c.id);
	if (optind < argc) {
		if (cli_resolve_id(c.store, argv[optind], who) != 0) {
			cli_close(&c);
			return 1;
		}
		pk = who;
	}
	bool you = memcmp(pk, am_identity_public(c.id), AM_ID_BYTES) == 0;
	char text[AM_ID_TEXT_BYTES], fpr[AM_FPR_TEXT_BYTES];
	char sn[AM_FPR_LONG_TEXT_BYTES];
	am_id_format(pk, text);
	am_id_fingerprint(pk, fpr);
	am_id_safety_number(pk, sn);
	char *name = am_store_name_get(c.store, pk);
	const char *theirs = cli_shared_name(c.store, pk);
	/* a rotation in progress: the key that will replace yours */
	struct am_identity *next = NULL;
	char nexttext[AM_ID_TEXT_BYTES] = "";
	if (you && am_rotate_next(c.home, &next) == AM_OK)
		am_id_format(am_identity_public(next), nexttext);
	am_identity_destroy(&next);
	if (json) {
		char hex[2 * AM_ID_BYTES + 1];
		am_hex(pk, AM_ID_BYTES, hex);
		printf("{\"id\":\"%s\",\"fingerprint\":\"%s\",\"key\":\"%s\",\"name\":",
			text, fpr, hex);
		if (name != NULL)
			cli_json_str(stdout, name);
		else
			fputs("null", stdout);
		printf(",\"safety_number\":\"%s\",\"signed_name\":", sn);
		if (theirs != NULL)
			cli_json_str(stdout, theirs);
		else
			fputs("null", stdout);
		printf(",\"you\":%s", you ? "true" : "false");
		if (nexttext[0] != '\0')
			printf(",\"next\":\"%s\"", nexttext);
		printf("}\n");
	} else {
		if (name != NULL)
			printf("name:          %s%s\n", name, you ? "" : " (your name for them)");
		/* the name they signed in a circle: their claim, shown as such */
		if (theirs != NULL && (name == NULL || strcmp(name, theirs) != 0))
			printf("signed name:   %s\n", cli_shown_c(theirs));
		printf("id:            %s%s\n", text, you ? " (you)" : "");
		printf("safety number: %s\n", sn);
		printf("fingerprint:   %s\n", fpr);
		if (nexttext[0] != '\0')
			printf("new key:       %s (a rotation in progress: amends "
				"status says what it waits for)\n", nexttext);
	}
	free(name);
	cli_close(&c);
	return 0;
}
