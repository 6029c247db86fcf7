/*
 * What several unit tests set up the same way: a temporary directory and
 * the stores in it, identities, a circle's first entries, and small
 * readers of what a store holds. Every helper check()s what it calls, so
 * a test reads as the steps it takes.
 */
#ifndef AMENDS_TEST_FIXTURE_H
#define AMENDS_TEST_FIXTURE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "amends/store.h"

#define FX_PATH_MAX 256
#define FX_ENTRIES_MAX 600

/* Makes /tmp/amends-test-<name>-XXXXXX; the path is valid until fx_dir_remove(). */
const char *fx_dir_make(const char *name);

/* As fx_dir_make(), in /dev/shm when it is writable (tests opening many stores). */
const char *fx_dir_make_in_memory(const char *name);

/* Removes the temporary directory and everything in it. */
void fx_dir_remove(void);

/* Writes the path of name in the temporary directory to out. */
void fx_path(const char *name, char out[static FX_PATH_MAX]);

/* Opens (creating it if need be) the store called name in the temporary directory. */
struct am_store *fx_store_open(const char *name);

/* Opens a store under a name not used before (s0.db, s1.db, ...); path gets its path. */
struct am_store *fx_store_new(char path[static FX_PATH_MAX]);

/* Removes a closed store's files; returns unlink()'s result for the database itself. */
int fx_store_unlink(const char *path);

/* The identity whose seed is 32 bytes of fill: the same on every run. */
struct am_identity *fx_identity_seeded(uint8_t fill);

/* Appends id's GENESIS called name, with a random nonce, at time; circle gets its ID. */
void fx_genesis(struct am_store *s, struct am_identity *id, const char *name,
	int64_t time, uint8_t circle[32]);

/* Appends by's proposal of who as a member at proposed, and who's ACCEPT at accepted. */
void fx_admit(struct am_store *s, const uint8_t circle[32], struct am_identity *by,
	struct am_identity *who, int64_t proposed, int64_t accepted);

/*
 * The invite exchange, as a test plays it (protocol/invite.md): who's node
 * (store to) is told of each member proposal of who that from holds in
 * circle (a proposed_to row), writes who's ACCEPT of it in its own store,
 * which holds nothing else of the circle, and hands that back to from.
 */
void fx_invite(struct am_store *from, const uint8_t circle[32],
	struct am_store *to, struct am_identity *who);

/* Appends b at time once am_state_check() agrees, as the CLI does; hash gets its hash. */
void fx_act(struct am_store *s, struct am_identity *id, const uint8_t *circle,
	const struct am_body *b, int64_t time, uint8_t *hash);

/* A proposal of a daily check-in at 21:00, Paris time, by checker, between checker and other. */
struct am_body fx_evening_checkin(const char *title, const uint8_t *checker,
	const uint8_t *other);

/* A body of kind with target copied in when it is not NULL. */
struct am_body fx_body(uint32_t kind, const uint8_t *target);

/* Whether the state reports the entry hash as breaking rule. */
bool fx_has_violation(struct am_store *s, const uint8_t *circle,
	const uint8_t *hash, uint32_t rule);

/* Raw entries in the order fx_entries_add() received them. */
struct fx_entries {
	uint8_t *raw[FX_ENTRIES_MAX];
	size_t len[FX_ENTRIES_MAX];
	size_t n;
};

/* An am_store_range() callback keeping a copy of each entry in ctx, a struct fx_entries. */
int fx_entries_add(void *ctx, const uint8_t *raw, size_t len);

/* Frees the copies and empties the list. */
void fx_entries_free(struct fx_entries *g);

/* A number below n from the xorshift64* generator at *state: the same on every machine. */
uint32_t fx_rnd(uint64_t *state, uint32_t n);

#endif
