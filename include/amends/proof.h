/*
 * Proofs: checking a signed export (protocol/bundle.md) with no node and
 * no data directory. Every entry's signature, every hash link and number,
 * the canonical order, the manifest's signature and the heads it names;
 * then the entries that are proven are ingested into a temporary store, so
 * that the real store and state modules apply every membership and
 * agreement rule, and the caller reads the resulting state from there.
 */
#ifndef AMENDS_PROOF_H
#define AMENDS_PROOF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "amends/bundle.h"
#include "amends/entry.h"
#include "amends/store.h"

/* What a problem is about. */
enum am_proof_subject {
	AM_PROOF_FILE = 1,          /* the file as a whole (item says where) */
	AM_PROOF_MANIFEST = 2,
	AM_PROOF_FEED = 3,          /* circle, author */
	AM_PROOF_ENTRY = 4,         /* circle, author, seq */
	AM_PROOF_PERSON = 5,        /* author is someone the reader did not
	                               expect (circle: where they belong) */
};

/* One thing found wrong. */
struct am_proof_problem {
	uint32_t subject;           /* enum am_proof_subject */
	uint8_t circle[AM_HASH_BYTES];
	uint8_t author[AM_ID_BYTES];
	uint64_t seq;
	size_t item;                /* 1-based position in the file; 0: none */
	int code;                   /* AM_ERR_* */
	const char *what;           /* a sentence, names from the record as
	                               they are (escape before showing); valid
	                               during the callback */
	bool note;                  /* neither a problem nor a finding: what
	                               the file lacks with nobody to blame
	                               (not counted in problems) */
	bool finding;               /* against the author, not the file: fork
	                               evidence, or an entry whose signature
	                               fails that the author's next entry
	                               vouches for */
};

/* How far one feed of the file is proven. */
struct am_proof_feed {
	uint8_t circle[AM_HASH_BYTES];
	uint8_t author[AM_ID_BYTES];
	uint64_t proven;            /* entries 1..proven are present, signed,
	                               linked, and stored in the temporary store */
	uint64_t in_file;           /* entries of the feed in the file */
	uint64_t named;             /* the newest entry the manifest names; 0
	                               when it names none (or cannot be trusted) */
	uint64_t head;              /* the feed's head at export, per the manifest */
	bool whole;                 /* proven up to the named entry, which is
	                               the one the manifest names */
};

struct am_proof {
	bool has_manifest;          /* decoded */
	bool manifest_ok;           /* and its signature verifies */
	struct am_bundle_manifest manifest;
	size_t nfeeds;
	struct am_proof_feed *feeds;  /* by circle, then author */
	uint64_t entries;           /* items that decoded, fork evidence included */
	uint64_t authors;           /* distinct authors of those */
	uint64_t problems;          /* findings included */
	uint64_t findings;          /* of those, the ones against an author:
	                               the file itself is intact */
	uint64_t notes;             /* feeds incomplete with nobody to blame */
	struct am_store *store;     /* the temporary store: read state here until
	                               am_proof_finish */
	char *dir;                  /* its directory, removed by am_proof_finish */
};

/*
 * Checks the bundle b (read with am_bundle_read, cut or not) and fills p.
 * With a valid manifest, each joined member's latest checkpoint proven by
 * the file is compared with the feeds it names: a feed that ends before
 * the head named by the exporter's own checkpoint or by its author's is
 * withheld (a finding against the exporter); one that ends before a head
 * only another member's checkpoint names is incomplete (a note).
 * problem (may be NULL) is called for each problem found, in the order:
 * manifest, entries in file order (altered ones, then those out of the
 * order of am_bundle_check_order), feeds, rules. The temporary store is
 * created in a new directory under tmpdir (NULL: $TMPDIR, else /tmp).
 * Returns AM_OK when the check ran, whatever it found (p->problems), or an
 * error when it could not run (no temporary store, out of memory). Call
 * am_proof_finish in either case.
 */
AM_NODISCARD int am_proof_check(const struct am_bundle *b, const char *tmpdir,
	void (*problem)(void *ctx, const struct am_proof_problem *pr), void *ctx,
	struct am_proof *p);

/* Closes the temporary store, removes its files and directory, and frees
 * what p holds. Safe on a zeroed or already finished p. */
void am_proof_finish(struct am_proof *p);

/* One person a file speaks for: the manifest's signer, or a joined
 * member or witness of one of its circles (once per circle). */
struct am_proof_person {
	uint8_t id[AM_ID_BYTES];
	bool in_circle;             /* circle and role are set */
	uint8_t circle[AM_HASH_BYTES];
	const char *circle_name;    /* as its creator named it; valid during
	                               the callback; may be NULL */
	uint32_t role;              /* enum am_role */
	bool signer;                /* signed the manifest */
};

/*
 * Calls person for the signer (when the manifest verifies) and every
 * joined member or witness of every circle of the temporary store, in
 * circle order: the signer first with in_circle false when they belong
 * to no circle of the file, else with signer set on their rows. Stops at
 * the first code person returns other than AM_OK. Call after
 * am_proof_check returned AM_OK.
 */
AM_NODISCARD int am_proof_people(const struct am_proof *p,
	int (*person)(void *ctx, const struct am_proof_person *who), void *ctx);

/* The people a reader knows (amends verify --file --expect): full IDs,
 * and safety numbers in the form am_id_safety_number writes. */
struct am_proof_known {
	size_t nids;
	const uint8_t (*ids)[AM_ID_BYTES];
	size_t nnumbers;
	const char (*numbers)[AM_FPR_LONG_TEXT_BYTES];
};

/*
 * Checks that every person of am_proof_people is among known, by ID or
 * by safety number: a record made up with fresh keys verifies on its own,
 * and only the reader's knowledge of the real people tells it apart. For
 * each one who is not, reports an AM_PROOF_PERSON problem (code
 * AM_ERR_NOT_MEMBER) through problem and counts it in p->problems.
 */
AM_NODISCARD int am_proof_expect(struct am_proof *p,
	const struct am_proof_known *known,
	void (*problem)(void *ctx, const struct am_proof_problem *pr), void *ctx);

#endif
