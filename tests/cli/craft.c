/*
 * What a member's own client can write that amends' CLI never would: an
 * agreement whose title and terms carry control characters (the CLI
 * refuses them in titles), or any entry at a claimed time the CLI refuses
 * (outside 2000..2199). Appended straight through the library, as the
 * data directory's identity, at the given claimed time; an agreement has
 * the identity as its only party and checker, and no schedule.
 *
 *   craft HOME CIRCLE-HEX TIME-MS TITLE TEXT    an agreement
 *   craft HOME CIRCLE-HEX TIME-MS --say TEXT    a statement
 *
 * Prints the new entry's hash in hex.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "amends/home.h"
#include "amends/store.h"

int
main(int argc, char **argv)
{
	struct am_identity *id = NULL;
	struct am_store *s = NULL;
	uint8_t circle[AM_HASH_BYTES], hash[AM_HASH_BYTES];
	size_t bin_len;
	uint64_t seq;
	int rc = 2;

	if (argc != 6 || sodium_init() < 0 ||
	    sodium_hex2bin(circle, sizeof circle, argv[2], strlen(argv[2]), NULL,
	    &bin_len, NULL) != 0 || bin_len != sizeof circle) {
		fprintf(stderr, "usage: craft HOME CIRCLE-HEX TIME-MS TITLE TEXT\n"
			"       craft HOME CIRCLE-HEX TIME-MS --say TEXT\n");
		return 2;
	}
	char *key = am_home_path(argv[1], AM_HOME_KEY);
	char *db = am_home_path(argv[1], AM_HOME_DB);
	if (key == NULL || db == NULL || am_identity_load(key, &id) != AM_OK ||
	    am_store_open(db, &s) != AM_OK) {
		fprintf(stderr, "craft: cannot open %s\n", argv[1]);
		goto out;
	}
	struct am_body *b = calloc(1, sizeof *b);
	if (b == NULL)
		goto out;
	if (strcmp(argv[4], "--say") == 0) {
		b->kind = AM_KIND_STATEMENT;
		b->note = am_str_c(argv[5]);
		goto write;
	}
	b->kind = AM_KIND_PROPOSE;
	b->terms.title = am_str_c(argv[4]);
	b->terms.text = am_str_c(argv[5]);
	b->terms.nparties = 1;
	memcpy(b->terms.parties[0], am_identity_public(id), AM_ID_BYTES);
	b->terms.tz = am_str_c("UTC");
	b->terms.nby = 1;
	memcpy(b->terms.by[0], am_identity_public(id), AM_ID_BYTES);
write:
	rc = am_store_append(s, id, circle, strtoll(argv[3], NULL, 10), b, hash, &seq);
	free(b);
	if (rc != AM_OK) {
		fprintf(stderr, "craft: %s\n", am_strerror(rc));
		rc = 1;
		goto out;
	}
	char hex[2 * AM_HASH_BYTES + 1];
	printf("%s\n", sodium_bin2hex(hex, sizeof hex, hash, sizeof hash));
	rc = 0;
out:
	am_store_close(&s);
	am_identity_destroy(&id);
	free(key);
	free(db);
	return rc;
}
