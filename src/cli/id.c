/*
 * amends id: this node's ID, in the text form people copy, and the short
 * fingerprint they read aloud to check it.
 */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "amends/entry.h"
#include "cli.h"

static const char usage[] =
	"usage: amends id [--json]\n\n"
	"Prints this node's ID (give it to the people you share a circle with)\n"
	"and its fingerprint (read it aloud to check you have the right ID).\n";

bool
cli_name_ok(const char *name)
{
	size_t n = strlen(name);
	if (n == 0 || n > 64)
		return false;
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)name[i] < 0x20 || name[i] == 0x7f)
			return false;
	return true;
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
	if (optind != argc) {
		cli_usage(stderr, usage);
		return 1;
	}
	if (cli_open(&c, CLI_IDENTITY | CLI_STORE) != 0) {
		cli_close(&c);
		return 1;
	}
	const uint8_t *pk = am_identity_public(c.id);
	char text[AM_ID_TEXT_BYTES], fpr[AM_FPR_TEXT_BYTES];
	am_id_format(pk, text);
	am_id_fingerprint(pk, fpr);
	char *name = am_store_name_get(c.store, pk);
	if (json) {
		char hex[2 * AM_ID_BYTES + 1];
		am_hex(pk, AM_ID_BYTES, hex);
		printf("{\"id\":\"%s\",\"fingerprint\":\"%s\",\"key\":\"%s\",\"name\":",
			text, fpr, hex);
		if (name != NULL)
			cli_json_str(stdout, name);
		else
			fputs("null", stdout);
		printf("}\n");
	} else {
		if (name != NULL)
			printf("name:        %s\n", name);
		printf("id:          %s\n", text);
		printf("fingerprint: %s\n", fpr);
	}
	free(name);
	cli_close(&c);
	return 0;
}
