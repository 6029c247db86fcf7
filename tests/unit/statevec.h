/*
 * What the writer and the checker of protocol/state-vectors.txt share: a
 * case (its people and entries), ingesting a case's entries into a store
 * as sync does (retrying those that wait for a predecessor or a member
 * proposal), and the derived state of a circle written as the plain text
 * lines the file holds. Both programs go through these functions, so the
 * file and the check of it cannot drift apart.
 */
#ifndef AMENDS_TEST_STATEVEC_H
#define AMENDS_TEST_STATEVEC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "amends/store.h"

#define SV_PEOPLE_MAX 16
#define SV_ENTRIES_MAX 320
#define SV_NAME_MAX 16

struct sv_person {
	char name[SV_NAME_MAX];
	uint8_t seed[32];
	uint8_t id[32];
};

/* One case: who takes part, and every entry written (stored or refused). */
struct sv_case {
	char name[64];
	struct sv_person people[SV_PEOPLE_MAX];
	size_t npeople;
	uint8_t circle[32];
	uint8_t *raw[SV_ENTRIES_MAX];
	size_t len[SV_ENTRIES_MAX];
	size_t n;
};

/* Lines of text, each malloc'd. */
struct sv_text {
	char **line;
	size_t n, cap;
};

/* Appends one formatted line (no newline) to t. */
void sv_printf(struct sv_text *t, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void sv_text_free(struct sv_text *t);

/* Lower-case hex of n bytes into out (2n + 1 bytes). */
void sv_hex(const uint8_t *p, size_t n, char *out);

/* Decodes exactly n bytes of hex (either case) from text, which must end
 * there (NUL or space); false otherwise. */
bool sv_unhex(const char *text, uint8_t *out, size_t n);

/* As sv_unhex for a hex string of any even length: *out is malloc'd. */
bool sv_unhex_alloc(const char *text, uint8_t **out, size_t *n);

/*
 * Ingests the entries of c whose index is listed in order[0..n) into s:
 * each in turn, then again, pass after pass, each one refused because its
 * predecessor is missing (AM_ERR_GAP) or because its author may not write
 * yet (AM_ERR_NOT_MEMBER), until a pass stores nothing more. rc[i] gets
 * the last result for order[i]: AM_OK once stored. Any other refusal is
 * final at once.
 */
void sv_ingest(struct am_store *s, const struct sv_case *c, const size_t *order,
	size_t n, int *rc);

/* A short name of a refusal, as the file writes it ("not-member"). */
const char *sv_refusal_name(int rc, char buf[static 16]);

/* The name protocol/state.md gives a rule of enum am_rule ("not-party"). */
const char *sv_rule_name(uint32_t rule, char buf[static 16]);

/*
 * Appends to out the derived state of c's circle in s, as the lines
 * protocol/state-vectors.txt describes: members, agreements with their
 * versions, positions, end and standing check-ins, statements, ignored
 * entries. People are written by their names in c, entries as name/seq.
 */
void sv_describe(struct am_store *s, const struct sv_case *c, struct sv_text *out);

#endif
