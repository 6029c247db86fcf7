/*
 * A test helper for the multinode suite: appends N statements to a circle
 * as the identity of a data directory, straight through the library, so
 * that a test can write a thousand entries in a second rather than run a
 * thousand commands. Then nudges the node running there, as commands do.
 *
 *   author HOME CIRCLE-HEX N
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "amends/home.h"
#include "amends/node.h"
#include "amends/store.h"

int
main(int argc, char **argv)
{
	struct am_identity *id = NULL;
	struct am_store *s = NULL;
	uint8_t circle[AM_HASH_BYTES];
	size_t bin_len;

	if (argc != 4 || sodium_init() < 0) {
		fprintf(stderr, "usage: author HOME CIRCLE-HEX N\n");
		return 2;
	}
	long n = strtol(argv[3], NULL, 10);
	if (sodium_hex2bin(circle, sizeof circle, argv[2], strlen(argv[2]), NULL,
	    &bin_len, NULL) != 0 || bin_len != sizeof circle || n < 1 || n > 100000) {
		fprintf(stderr, "author: bad circle or count\n");
		return 2;
	}
	char *key = am_home_path(argv[1], AM_HOME_KEY);
	char *db = am_home_path(argv[1], AM_HOME_DB);
	int rc = am_identity_load(key, &id);
	if (rc == AM_OK)
		rc = am_store_open(db, &s);
	for (long i = 0; i < n && rc == AM_OK; i++) {
		char text[64];
		snprintf(text, sizeof text, "statement %ld of %ld", i + 1, n);
		struct am_body b = { .kind = AM_KIND_STATEMENT, .note = am_str_c(text) };
		rc = am_store_append(s, id, circle, 1800000000000LL + i, &b, NULL, NULL);
	}
	am_store_close(&s);
	am_identity_destroy(&id);
	if (rc == AM_OK)
		am_node_nudge(argv[1]);
	free(key);
	free(db);
	if (rc != AM_OK) {
		fprintf(stderr, "author: %s\n", am_strerror(rc));
		return 1;
	}
	return 0;
}
