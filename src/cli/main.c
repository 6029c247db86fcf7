/*
 * The amends command: one table of subcommands, alphabetical, each in its
 * own file under src/cli/. `amends --help` prints the table, so the help
 * cannot drift from what exists.
 */
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>

#include <sodium.h>

#include "cli.h"

struct command {
	const char *name;
	int (*fn)(int argc, char **argv);
	const char *help;
};

static const struct command commands[] = {
#define ROW(name, help) { #name, cmd_##name, help },
	CMDS(ROW)
#undef ROW
};

static void
usage(FILE *f)
{
	fprintf(f, "usage: amends COMMAND [OPTIONS]\n\n"
		"amends keeps a shared, signed record of the agreements people\n"
		"make with each other, and of keeping them.\n\ncommands:\n");
	for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
		fprintf(f, "  %-10s %s\n", commands[i].name, commands[i].help);
	fprintf(f, "\nrun amends COMMAND --help for a command's options\n");
}

int
main(int argc, char **argv)
{
	/* a core dump would carry the secret key */
	struct rlimit none = { 0, 0 };
	setrlimit(RLIMIT_CORE, &none);
	/* nor may another process of the user read its memory (ptrace,
	 * /proc/PID/mem), which a core limit alone does not stop */
	prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
	if (sodium_init() < 0)
		return cli_error("libsodium could not be initialised");
	if (argc < 2) {
		usage(stderr);
		return 1;
	}
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
	    strcmp(argv[1], "help") == 0) {
		usage(stdout);
		return 0;
	}
	if (strcmp(argv[1], "--version") == 0) {
		printf("amends 0.1.0\n");
		return 0;
	}
	for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++) {
		if (strcmp(argv[1], commands[i].name) != 0)
			continue;
		int rc = commands[i].fn(argc - 1, argv + 1);
		/* a running node pushes what the command wrote, at once */
		if (rc == 0 && commands[i].fn != cmd_node)
			cli_nudge();
		return rc;
	}
	cli_error("'%s' is not an amends command; see amends --help", argv[1]);
	return 1;
}
