/*
 * What the subcommands of the amends binary share: the command table's
 * entries, opening the data directory, printing errors and JSON.
 */
#ifndef AMENDS_CLI_H
#define AMENDS_CLI_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "amends/error.h"
#include "amends/id.h"
#include "amends/store.h"

#define CMDS(X) \
	X(accept, "sign a version, a member proposal or an end") \
	X(amend, "propose a new version of an agreement") \
	X(checkin, "report on a period of an agreement: kept, partial, missed") \
	X(circle, "create a circle, or propose a member or witness") \
	X(circles, "list circles, their members and digests") \
	X(confirm, "confirm a check-in or a statement") \
	X(decline, "decline a version, a member proposal or an end") \
	X(dispute, "dispute a check-in, saying why") \
	X(end, "end an agreement") \
	X(export, "write signed entries into a bundle file") \
	X(id, "show an ID and its safety number") \
	X(import, "add the entries of a bundle file") \
	X(init, "create an identity and a data directory") \
	X(invite, "make a one-time code that lets someone join a circle") \
	X(join, "join a circle with an invite code") \
	X(key, "back up this node's key, or replace it with a new one") \
	X(list, "list agreements, their status and adherence") \
	X(log, "list check-ins and statements, confirmed or not") \
	X(name, "give someone a nickname here, or yourself a name (--self)") \
	X(node, "run the node: keep the record in step with the others") \
	X(peer, "set or clear the address of another member's node") \
	X(peers, "list the other nodes this one knows") \
	X(propose, "propose an agreement to a circle") \
	X(resume, "write again in a circle a restored node waits in, by hand") \
	X(say, "write a statement into a circle") \
	X(show, "show an agreement: versions, signatures, check-ins, adherence") \
	X(status, "what awaits you, what is due, and each circle's digest") \
	X(verify, "check every signature, link and rule of the record") \
	X(withdraw, "take back your own proposal before it completes")

#define DECLARE(name, help) int cmd_##name(int argc, char **argv);
CMDS(DECLARE)
#undef DECLARE

/* What a command needs opened. */
enum { CLI_IDENTITY = 1, CLI_STORE = 2 };

struct cli {
	char *home;                    /* data directory */
	struct am_identity *id;
	struct am_store *store;
};

/* Opens what need asks for in c, which starts zeroed ({ 0 }) or with home
 * already set. Prints a sentence and returns 1 on failure (after which
 * cli_close is still safe). */
int cli_open(struct cli *c, unsigned need);

/* Prints why the data directory home is not private to the user (with
 * the chmod to run) and returns 1, or returns 0 when it is (or does not
 * exist yet). */
int cli_home_check(const char *home);
void cli_close(struct cli *c);

/* Prints "amends: " + the formatted message to stderr; returns 1. */
int cli_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Prints "amends: WHAT: " + am_strerror(rc); returns 1. */
int cli_fail(const char *what, int rc);

/* The time to act at, in ms: $AMENDS_NOW (seconds since the epoch, or
 * an ISO date-time) when set, for tests; else the clock. */
int64_t cli_now_ms(void);

/* Prints s as a JSON string (with quotes). */
void cli_json_str(FILE *f, const char *s);

/* Reads a passphrase into buf: the first line of fd when fd >= 0, else
 * asked on the terminal without echo (twice when twice is set). Prints a
 * sentence and returns 1 on failure. */
int cli_passphrase(int fd, bool twice, char *buf, size_t size);

/* Parses a file descriptor number; prints a sentence and returns -1 when
 * s is not one. */
int cli_fd_arg(const char *s);

/* True when name is fit to be a nickname: 1 to 64 bytes, no control
 * characters. */
bool cli_name_ok(const char *name);

/* Wakes the node running on this data directory, if any, to push what a
 * command wrote (src/cli/node.c). Best effort. */
void cli_nudge(void);

/* Parses "--help" handling shared by all commands: prints usage to stdout. */
void cli_usage(FILE *f, const char *usage);

/* The exit status of amends verify: 1 when this copy has problems, 3 when
 * it is intact but holds findings against an author, else 0. */
#define CLI_EXIT_FINDINGS 3
int cli_verify_status(uint64_t problems, uint64_t findings);

/* Prints the last line of amends verify: "FAILED: 2 problems" (and the
 * findings), or "intact: 0 problems, 1 finding against an author", or
 * "verified: 0 problems". */
void cli_verdict(uint64_t problems, uint64_t findings);

/* amends verify --file: checks the export at path with no data directory
 * and prints what it proves (src/cli/export.c); expect holds nexpect
 * arguments of --expect, each an ID or a safety number, or several
 * separated by commas. Returns the exit status. */
int cli_verify_file(const char *path, bool json, char **expect,
	size_t nexpect);

#endif
