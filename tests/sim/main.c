/*
 * amends-sim: runs the deterministic simulation (sim.h) for a range of
 * seeds and reports. Each run prints one line ending in a hash over every
 * node's final digests and the run's counters, so two runs of one seed can
 * be compared byte for byte; a failing run prints each violation and the
 * command that replays it. With --jobs, blocks of seeds run in child
 * processes (forked before any store is opened) and their output is
 * printed in seed order, so it is the same as without. With --twice, the
 * whole command runs twice more, each time in a fresh process, and only
 * the equality of the two outputs counts. The last line sums up all runs:
 *
 *   SIM: pass|fail <seeds> seeds, <violations> violations, <entries> entries
 *   SIMREPLAY: pass|fail <seeds> seeds run twice, same output|outputs differ
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <sodium.h>

#include "sim.h"

static const char usage[] =
	"usage: amends-sim [--seed S] [--runs N] [--nodes K] [--ops M] [--lossy]\n"
	"                  [--jobs J] [--twice] [--verbose] [--tmp DIR]\n\n"
	"Runs N simulations, seeds S, S+1, ..., each with K nodes (2 to 5)\n"
	"doing M operations over a faulty simulated network, then checks that\n"
	"they converge and lost nothing. Defaults: --seed 1 --runs 1 --nodes 3\n"
	"--ops 60. --lossy also drops, copies and reorders messages inside\n"
	"connections; --jobs runs J processes at once; --twice runs everything\n"
	"twice in fresh processes and passes when both print the same bytes;\n"
	"--verbose traces every event; stores go in DIR (default /dev/shm when\n"
	"it exists, else $TMPDIR or /tmp).\n";

struct totals {
	uint64_t violations, entries, failed;
};

static bool
parse_u64(const char *text, uint64_t *out)
{
	char *end;
	if (text[0] < '0' || text[0] > '9')
		return false;
	unsigned long long v = strtoull(text, &end, 10);
	if (*end != '\0')
		return false;
	*out = v;
	return true;
}

static const char *
default_tmp(void)
{
	const char *t;
	if (access("/dev/shm", W_OK | X_OK) == 0)
		return "/dev/shm";
	t = getenv("TMPDIR");
	return t != NULL && t[0] != '\0' ? t : "/tmp";
}

static void
print_run(const struct sim_opts *o, const struct sim_stats *st,
	const uint8_t final[static AM_HASH_BYTES], unsigned violations)
{
	char hex[2 * AM_HASH_BYTES + 1];
	am_hex(final, 8, hex);
	printf("seed %llu: %u nodes, %llu ops (%llu refused, %llu idle), "
		"%llu entries in %llu circles, %llu msgs (%llu lost), "
		"%llu crashes, %llu resets, %llu partitions: %s %s\n",
		(unsigned long long)o->seed, o->nodes,
		(unsigned long long)st->ops, (unsigned long long)st->refused,
		(unsigned long long)st->skipped, (unsigned long long)st->entries,
		(unsigned long long)st->circles, (unsigned long long)st->msgs,
		(unsigned long long)(st->lost + st->dropped),
		(unsigned long long)st->crashes, (unsigned long long)st->resets,
		(unsigned long long)st->partitions,
		violations == 0 ? "ok" : "FAIL", hex);
	if (violations > 0)
		printf("replay: tools/sim --seed %llu --runs 1 --nodes %u --ops %u%s "
			"--verbose\n", (unsigned long long)o->seed, o->nodes, o->ops,
			o->lossy ? " --lossy" : "");
	fflush(stdout);
}

/* Runs seeds first .. first + n - 1 in turn, printing a line for each. */
static void
run_range(struct sim_opts o, uint64_t first, uint64_t n, struct totals *t)
{
	for (uint64_t k = 0; k < n; k++) {
		struct sim_stats st;
		uint8_t final[AM_HASH_BYTES];
		o.seed = first + k;
		unsigned v = sim_run(&o, &st, final);
		print_run(&o, &st, final, v);
		t->violations += v;
		t->failed += v > 0;
		t->entries += st.entries;
	}
}

#define PART_TAG "amends-sim-part "

/* Runs the seeds in jobs child processes, each a block of them writing
 * to a file of its own; prints the blocks in order. */
static int
run_jobs(struct sim_opts o, uint64_t runs, uint64_t jobs, struct totals *t)
{
	FILE *out[64];
	pid_t pid[64];
	uint64_t from = o.seed;

	fflush(stdout);
	for (uint64_t j = 0; j < jobs; j++) {
		uint64_t n = runs / jobs + (j < runs % jobs);
		if ((out[j] = tmpfile()) == NULL) {
			perror("amends-sim: tmpfile");
			return -1;
		}
		if ((pid[j] = fork()) < 0) {
			perror("amends-sim: fork");
			return -1;
		}
		if (pid[j] == 0) {
			struct totals mine = { 0, 0, 0 };
			if (dup2(fileno(out[j]), STDOUT_FILENO) < 0)
				_exit(2);
			run_range(o, from, n, &mine);
			printf(PART_TAG "%llu %llu %llu\n",
				(unsigned long long)mine.violations,
				(unsigned long long)mine.entries,
				(unsigned long long)mine.failed);
			fflush(stdout);
			_exit(0);
		}
		from += n;
	}
	for (uint64_t j = 0; j < jobs; j++) {
		char line[4096];
		int status;
		bool counted = false;
		while (waitpid(pid[j], &status, 0) < 0)
			;
		rewind(out[j]);
		while (fgets(line, sizeof line, out[j]) != NULL) {
			unsigned long long v, e, f;
			if (sscanf(line, PART_TAG "%llu %llu %llu", &v, &e, &f) == 3) {
				t->violations += v;
				t->entries += e;
				t->failed += f;
				counted = true;
				continue;
			}
			fputs(line, stdout);
		}
		fclose(out[j]);
		if (!counted || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
			printf("VIOLATION: the process running block %llu of the seeds "
				"died (status %d)\n", (unsigned long long)j, status);
			t->violations++;
			t->failed++;
		}
	}
	return 0;
}

/* Reads a whole file; NULL when out of memory. */
static char *
slurp(FILE *f, size_t *len)
{
	size_t cap = 4096, n = 0, got;
	char *buf = malloc(cap);
	rewind(f);
	while (buf != NULL && (got = fread(buf + n, 1, cap - n, f)) > 0) {
		n += got;
		if (n == cap) {
			char *p = realloc(buf, cap *= 2);
			if (p == NULL)
				free(buf);
			buf = p;
		}
	}
	*len = n;
	return buf;
}

/* Runs this program again, twice, with the same arguments but --twice,
 * each time in a fresh process (its own address space layout), and
 * compares what the two print. */
static int
run_twice(int argc, char **argv, uint64_t runs)
{
	char **args = calloc((size_t)argc + 1, sizeof *args);
	char *text[2] = { NULL, NULL };
	size_t len[2] = { 0, 0 };
	int n = 0;

	if (args == NULL)
		return 1;
	for (int k = 0; k < argc; k++)
		if (strcmp(argv[k], "--twice") != 0)
			args[n++] = argv[k];
	fflush(stdout);
	for (int k = 0; k < 2; k++) {
		FILE *out = tmpfile();
		pid_t pid;
		int status;
		if (out == NULL || (pid = fork()) < 0) {
			perror("amends-sim");
			return 1;
		}
		if (pid == 0) {
			if (dup2(fileno(out), STDOUT_FILENO) >= 0)
				execv("/proc/self/exe", args);
			_exit(127);
		}
		while (waitpid(pid, &status, 0) < 0)
			;
		text[k] = slurp(out, &len[k]);
		fclose(out);
		if (text[k] == NULL || !WIFEXITED(status) || WEXITSTATUS(status) > 1) {
			printf("SIMREPLAY: fail %llu seeds: run %d did not finish "
				"(status %d)\n", (unsigned long long)runs, k + 1, status);
			return 1;
		}
	}
	bool equal = len[0] == len[1] && memcmp(text[0], text[1], len[0]) == 0;
	/* the runs' own lines, but not their summary: this test's figure is
	 * the comparison */
	for (char *line = text[0]; line < text[0] + len[0]; ) {
		char *end = memchr(line, '\n', (size_t)(text[0] + len[0] - line));
		size_t l = end != NULL ? (size_t)(end - line) + 1 :
			(size_t)(text[0] + len[0] - line);
		if (strncmp(line, "SIM: ", 5) != 0)
			fwrite(line, 1, l, stdout);
		line += l;
	}
	printf("SIMREPLAY: %s %llu seeds run twice, %s\n", equal ? "pass" : "fail",
		(unsigned long long)runs, equal ? "same output" : "outputs differ");
	free(text[0]);
	free(text[1]);
	free(args);
	return equal ? 0 : 1;
}

int
main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "seed", required_argument, NULL, 's' },
		{ "runs", required_argument, NULL, 'r' },
		{ "nodes", required_argument, NULL, 'n' },
		{ "ops", required_argument, NULL, 'o' },
		{ "lossy", no_argument, NULL, 'l' },
		{ "jobs", required_argument, NULL, 'j' },
		{ "twice", no_argument, NULL, 'T' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "tmp", required_argument, NULL, 't' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct sim_opts o = { .seed = 1, .nodes = 3, .ops = 60 };
	uint64_t runs = 1, jobs = 1, v;
	bool twice = false;
	int opt;

	o.tmp = default_tmp();
	while ((opt = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (opt) {
		case 's':
			if (!parse_u64(optarg, &o.seed))
				goto bad;
			break;
		case 'r':
			if (!parse_u64(optarg, &runs) || runs == 0)
				goto bad;
			break;
		case 'n':
			if (!parse_u64(optarg, &v) || v < 2 || v > SIM_MAX_NODES)
				goto bad;
			o.nodes = (unsigned)v;
			break;
		case 'o':
			if (!parse_u64(optarg, &v) || v > 1000000)
				goto bad;
			o.ops = (unsigned)v;
			break;
		case 'j':
			if (!parse_u64(optarg, &jobs) || jobs == 0 || jobs > 64)
				goto bad;
			break;
		case 'l': o.lossy = true; break;
		case 'T': twice = true; break;
		case 'v': o.verbose = true; break;
		case 't': o.tmp = optarg; break;
		case 'h':
			fputs(usage, stdout);
			return 0;
		default:
			fputs(usage, stderr);
			return 1;
		}
	}
	if (optind != argc)
		goto bad;
	if (twice)
		return run_twice(argc, argv, runs);
	if (sodium_init() < 0) {
		fprintf(stderr, "amends-sim: libsodium failed to start\n");
		return 1;
	}
	struct totals t = { 0, 0, 0 };
	if (jobs > runs)
		jobs = runs;
	if (jobs <= 1)
		run_range(o, o.seed, runs, &t);
	else if (run_jobs(o, runs, jobs, &t) != 0)
		return 1;
	printf("SIM: %s %llu seeds, %llu violations, %llu entries\n",
		t.failed == 0 ? "pass" : "fail", (unsigned long long)runs,
		(unsigned long long)t.violations, (unsigned long long)t.entries);
	return t.failed == 0 ? 0 : 1;
bad:
	fputs(usage, stderr);
	return 1;
}
