/*
 * amends export: write the signed entries of one circle, or of all, into
 * a bundle file (protocol/bundle.md) that another node imports. The file
 * is written whole or not at all.
 */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "amends/bundle.h"
#include "cli.h"
#include "resolve.h"

static const char usage[] =
	"usage: amends export [CIRCLE] -o FILE\n\n"
	"Writes every signed entry of CIRCLE (its name or the start of its ID),\n"
	"or of every circle held here, with any fork evidence, into FILE (- for\n"
	"standard output). amends import reads it on another node.\n";

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
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct cli c = { 0 };
	const char *file = NULL;
	uint8_t circle[32], *data = NULL;
	size_t len, nentries, nforks;
	int opt, rc, ret = 1;

	while ((opt = getopt_long(argc, argv, "ho:", opts, NULL)) != -1) {
		switch (opt) {
		case 'o': file = optarg; break;
		case 'h': cli_usage(stdout, usage); return 0;
		default: cli_usage(stderr, usage); return 1;
		}
	}
	if (argc - optind > 1 || file == NULL) {
		cli_usage(stderr, usage);
		return 1;
	}
	if (cli_open(&c, CLI_STORE) != 0)
		goto out;
	if (argc - optind == 1 && cli_resolve_circle(c.store, argv[optind], circle) != 0)
		goto out;
	rc = am_bundle_export(c.store, argc - optind == 1 ? circle : NULL, &data,
		&len, &nentries, &nforks);
	if (rc == AM_ERR_TOO_BIG) {
		ret = cli_error("the record is larger than a bundle may hold; export "
			"one circle at a time");
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
	fprintf(strcmp(file, "-") == 0 ? stderr : stdout,
		"exported %zu entries and %zu fork evidence to %s\n", nentries, nforks,
		file);
	ret = 0;
out:
	free(data);
	cli_close(&c);
	return ret;
}
