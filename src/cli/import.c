/*
 * amends import: ingest a bundle file written by amends export. A file out
 * of the order every bundle is in is refused whole, naming the first item
 * out of place as amends verify --file does. Otherwise every entry goes
 * through the checks an entry from a peer goes through; entries whose
 * author's membership comes later in the file are retried after the rest;
 * the same bundle imported twice changes nothing. Prints what was new, what
 * was already here, and what was refused and why.
 */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "amends/bundle.h"
#include "cli.h"
#include "format.h"

static const char usage[] =
	"usage: amends import FILE\n\n"
	"Adds the signed entries of the bundle FILE (from amends export) to the\n"
	"record here, checking each one.\n";

#define SHOWN 20   /* refusals told one by one; the rest are counted */

struct told {
	struct am_store *s;
	size_t n;
};

static void
on_refused(void *ctx, size_t index, const struct am_entry *e, int rc)
{
	struct told *t = ctx;
	if (t->n++ >= SHOWN)
		return;
	if (e == NULL) {
		fprintf(stderr, "amends: refused item %zu of the bundle: %s\n",
			index + 1, am_strerror(rc));
		return;
	}
	char who[CLI_SHORT_NAME], circle[CLI_SHORT_HASH];
	cli_short_id(t->s, e->author, who);
	cli_short_hash(e->circle, circle);
	fprintf(stderr, "amends: refused entry %llu of %s in circle %s: %s\n",
		(unsigned long long)e->seq, who, circle, am_strerror(rc));
}

struct disorder {
	struct am_store *s;
	const char *file;
	size_t n;
};

/* The first item out of order is named, with the sentence amends verify
 * --file gives for it; the others are counted. */
static void
on_disorder(void *ctx, size_t index, const struct am_entry *e, const char *what)
{
	struct disorder *d = ctx;
	if (d->n++ > 0)
		return;
	char who[CLI_SHORT_NAME], circle[CLI_SHORT_HASH];
	cli_short_id(d->s, e->author, who);
	cli_short_hash(e->circle, circle);
	fprintf(stderr, "amends: %s is out of order, so nothing was imported: "
		"item %zu, %s's entry %llu in circle %s: %s\n", d->file, index + 1,
		who, (unsigned long long)e->seq, circle, what);
}

static int
say_disorder(struct am_store *s, const char *file, const struct am_bundle *b)
{
	struct disorder d = { s, file, 0 };
	if (am_bundle_check_order(b, on_disorder, &d) == AM_OK || d.n == 0)
		return cli_error("%s is out of order; nothing was imported", file);
	if (d.n > 1)
		fprintf(stderr, "amends: ... and %zu more items out of order\n",
			d.n - 1);
	return 1;
}

int
cmd_import(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct am_bundle *b = NULL;
	struct am_bundle_counts n;
	struct cli c = { 0 };
	int opt, rc, ret = 1;

	while ((opt = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (opt) {
		case 'h': cli_usage(stdout, usage); return 0;
		default: cli_usage(stderr, usage); return 1;
		}
	}
	if (argc - optind != 1) {
		cli_usage(stderr, usage);
		return 1;
	}
	const char *file = argv[optind];
	rc = am_bundle_load(file, &b);
	switch (rc) {
	case AM_OK:
		break;
	case AM_ERR_IO:
		return cli_error("cannot read %s", file);
	case AM_ERR_TOO_BIG:
		return cli_error("%s is larger than a bundle may be (%u MiB, %u "
			"entries of at most %u bytes)", file, AM_BUNDLE_MAX_BYTES >> 20,
			AM_BUNDLE_MAX_ENTRIES, AM_ENTRY_MAX);
	case AM_ERR_TYPE:
		return cli_error("%s is not an amends bundle", file);
	case AM_ERR_VERSION:
		return cli_error("%s is a bundle of a newer format; update amends to "
			"read it", file);
	default:
		return cli_error("%s is a damaged bundle: %s", file, am_strerror(rc));
	}
	if (cli_open(&c, CLI_STORE) != 0)
		goto out;
	struct told t = { c.store, 0 };
	rc = am_bundle_import(c.store, b, on_refused, &t, &n);
	if (rc == AM_ERR_ORDER) {
		ret = say_disorder(c.store, file, b);
		goto out;
	}
	if (rc != AM_OK) {
		ret = cli_error("importing %s stopped: %s (%zu entries were stored)",
			file, am_strerror(rc), n.added + n.forks);
		goto out;
	}
	if (t.n > SHOWN)
		fprintf(stderr, "amends: ... and %zu more refused\n", t.n - SHOWN);
	printf("%zu new, %zu already here, %zu fork evidence, %zu refused\n",
		n.added, n.duplicates, n.forks, n.refused);
	ret = n.refused > 0 ? 1 : 0;
out:
	am_bundle_destroy(&b);
	cli_close(&c);
	return ret;
}
