/*
 * amends-sim: runs the deterministic simulation (sim.h) for a list of
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
 *
 * (SIMLOSSY with --lossy, SIMSKEW with --skew, SIMHOSTILE with --hostile,
 * or the name given with --name.) With the invariants on (inv.c), a run
 * that breaks only invariants that a later issue fixes passes, and the
 * lines before the summary count the seeds that broke each one. With
 * --regress FILE, it runs each line of FILE (tests/sim/regress.txt) and
 * checks that the seed breaks exactly the invariant the line expects.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <sodium.h>

#include "sim.h"

#define SEEDS_MAX 100000
#define JOBS_MAX 64

static const char usage[] =
	"usage: amends-sim [--seed S] [--runs N] [--seeds S1,S2,...] [--nodes K]\n"
	"                  [--ops M] [--lossy] [--jobs J] [--twice] [--verbose]\n"
	"                  [--hostile] [--no-extremes] [--skew] [--racy]\n"
	"                  [--withdraw] [--leaves] [--removes] [--successions]\n"
	"                  [--invariants] [--regress FILE] [--name NAME]\n"
	"                  [--tmp DIR]\n\n"
	"Runs N simulations, seeds S, S+1, ... (or the seeds listed), each with\n"
	"K nodes (2 to 5) doing M operations over a faulty simulated network,\n"
	"then checks that they converge and lost nothing. Defaults: --seed 1\n"
	"--runs 1 --nodes 3 --ops 60.\n\n"
	"  --lossy     also drop, copy and reorder messages inside connections\n"
	"  --hostile   one member writes what it likes, unchecked, at any time\n"
	"  --skew      a clock per node, off by hours and jumping\n"
	"  --withdraw  people also withdraw their proposals\n"
	"  --leaves    ... and leave circles (implies --withdraw)\n"
	"  --removes   ... and propose removing others and answer removals\n"
	"              (implies --leaves and --invariants)\n"
	"  --successions  ... and rotate keys to new ones and answer successions\n"
	"              (implies --removes)\n"
	"  --racy      now and then a node's person writes while the node is\n"
	"              taking a message (through a second connection)\n"
	"  --no-extremes  the hostile member claims no time near INT64's ends\n"
	"  --invariants  check the trust invariants after every step (implied\n"
	"              by --hostile, --skew, --racy and --removes); breaks\n"
	"              that a later issue fixes are counted, not failed\n"
	"  --regress FILE  run the seeds FILE lists (tests/sim/regress.txt),\n"
	"              each expected to break the invariants its line names\n"
	"  --strict-membership  no effect, kept for old command lines: a joined\n"
	"              member falling back to pending is always a violation\n"
	"  --jobs J    run J processes at once (same output)\n"
	"  --twice     run everything twice in fresh processes; pass when both\n"
	"              print the same bytes\n"
	"  --verbose   trace every event\n"
	"  --name NAME the tag of the summary line (default SIM, SIMLOSSY,\n"
	"              SIMSKEW, SIMHOSTILE, SIMTRUST with --regress)\n"
	"  --tmp DIR   where stores go (default /dev/shm when it exists, else\n"
	"              $TMPDIR or /tmp)\n";

struct totals {
	uint64_t violations, entries, failed;
	uint64_t broke[SIM_NINV];        /* seeds that broke each invariant */
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

/* A comma-separated list of seeds. */
static bool
parse_seeds(const char *text, uint64_t *seeds, size_t *n)
{
	char buf[4096];
	if (strlen(text) >= sizeof buf)
		return false;
	strcpy(buf, text);
	*n = 0;
	for (char *save, *p = strtok_r(buf, ",", &save); p != NULL;
	    p = strtok_r(NULL, ",", &save)) {
		if (*n == SEEDS_MAX || !parse_u64(p, &seeds[*n]))
			return false;
		(*n)++;
	}
	return *n > 0;
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

/* The options that change a run, as a command line would give them. */
static const char *
flags(const struct sim_opts *o)
{
	static char buf[160];
	snprintf(buf, sizeof buf, "%s%s%s%s%s%s%s%s%s%s",
		o->withdraw && !o->leaves ? " --withdraw" : "",
		o->leaves && !o->removes ? " --leaves" : "",
		o->removes && !o->successions ? " --removes" : "",
		o->successions ? " --successions" : "",
		o->lossy ? " --lossy" : "",
		o->hostile ? " --hostile" : "",
		o->hostile && o->no_extremes ? " --no-extremes" : "",
		o->skew ? " --skew" : "", o->racy ? " --racy" : "",
		o->invariants && !o->hostile && !o->skew && !o->racy &&
		!o->removes ?
		" --invariants" : "");
	return buf;
}

/* " breaks in-force,end-time" for the invariants in broken. */
static const char *
broken_text(uint32_t broken)
{
	static char buf[256];
	size_t n = 0;
	buf[0] = '\0';
	for (int k = 0; k < SIM_NINV; k++)
		if ((broken >> k) & 1u)
			n += (size_t)snprintf(buf + n, sizeof buf - n, "%s%s",
				n == 0 ? " breaks " : ",", sim_inv_name(k));
	return buf;
}

/* ", 3 racy writes, 41 pushes checked" with --racy. */
static const char *
racy_text(const struct sim_opts *o, const struct sim_stats *st)
{
	static char buf[200];
	size_t n = 0;
	buf[0] = '\0';
	if (o->racy)
		n += (size_t)snprintf(buf, sizeof buf, ", %llu racy writes, "
			"%llu pushes checked", (unsigned long long)st->racy_writes,
			(unsigned long long)st->pushes_owed);
	/* --successions: written honestly, forged, heirs that took effect */
	if (o->successions)
		snprintf(buf + n, sizeof buf - n, ", %llu successions, "
			"%llu forged, %llu took effect (%llu forged), "
			"%llu stolen-key writes", (unsigned long long)st->successions,
			(unsigned long long)st->forged,
			(unsigned long long)st->succeeded,
			(unsigned long long)st->forged_effect,
			(unsigned long long)st->stolen);
	return buf;
}

static void
print_run(const struct sim_opts *o, const struct sim_stats *st,
	const uint8_t final[static AM_HASH_BYTES], unsigned violations,
	uint32_t broken)
{
	char hex[2 * AM_HASH_BYTES + 1];
	am_hex(final, 8, hex);
	printf("seed %llu: %u nodes, %llu ops (%llu refused, %llu idle), "
		"%llu entries in %llu circles, %llu msgs (%llu lost), "
		"%llu crashes, %llu+%llu resets, %llu partitions%s:%s %s %s\n",
		(unsigned long long)o->seed, o->nodes,
		(unsigned long long)st->ops, (unsigned long long)st->refused,
		(unsigned long long)st->skipped, (unsigned long long)st->entries,
		(unsigned long long)st->circles, (unsigned long long)st->msgs,
		(unsigned long long)(st->lost + st->dropped),
		(unsigned long long)st->crashes, (unsigned long long)st->resets,
		(unsigned long long)st->half_resets,
		(unsigned long long)st->partitions, racy_text(o, st),
		broken_text(broken),
		violations == 0 ? "ok" : "FAIL", hex);
	if (violations > 0)
		printf("replay: tools/sim --seed %llu --runs 1 --nodes %u --ops %u%s "
			"--verbose\n", (unsigned long long)o->seed, o->nodes, o->ops,
			flags(o));
	fflush(stdout);
}

/* Runs the n seeds in turn, printing a line for each. */
static void
run_list(struct sim_opts o, const uint64_t *seeds, size_t n, struct totals *t)
{
	for (size_t k = 0; k < n; k++) {
		struct sim_stats st;
		uint8_t final[AM_HASH_BYTES];
		uint32_t broken;
		o.seed = seeds[k];
		unsigned v = sim_run(&o, &st, final, &broken);
		print_run(&o, &st, final, v, broken);
		t->violations += v;
		t->failed += v > 0;
		t->entries += st.entries;
		for (int x = 0; x < SIM_NINV; x++)
			t->broke[x] += (broken >> x) & 1u;
	}
}

#define PART_TAG "amends-sim-part "

/* Runs the seeds in jobs child processes, each a block of them writing
 * to a file of its own; prints the blocks in order. */
static int
run_jobs(struct sim_opts o, const uint64_t *seeds, size_t n, size_t jobs,
	struct totals *t)
{
	FILE *out[JOBS_MAX];
	pid_t pid[JOBS_MAX];
	size_t from = 0;

	fflush(stdout);
	for (size_t j = 0; j < jobs; j++) {
		size_t count = n / jobs + (j < n % jobs);
		if ((out[j] = tmpfile()) == NULL) {
			perror("amends-sim: tmpfile");
			return -1;
		}
		if ((pid[j] = fork()) < 0) {
			perror("amends-sim: fork");
			return -1;
		}
		if (pid[j] == 0) {
			struct totals mine = { 0 };
			if (dup2(fileno(out[j]), STDOUT_FILENO) < 0)
				_exit(2);
			run_list(o, seeds + from, count, &mine);
			printf(PART_TAG "%llu %llu %llu",
				(unsigned long long)mine.violations,
				(unsigned long long)mine.entries,
				(unsigned long long)mine.failed);
			for (int x = 0; x < SIM_NINV; x++)
				printf(" %llu", (unsigned long long)mine.broke[x]);
			printf("\n");
			fflush(stdout);
			_exit(0);
		}
		from += count;
	}
	for (size_t j = 0; j < jobs; j++) {
		char line[4096];
		int status;
		bool counted = false;
		while (waitpid(pid[j], &status, 0) < 0)
			;
		rewind(out[j]);
		while (fgets(line, sizeof line, out[j]) != NULL) {
			unsigned long long v, e, f;
			int used;
			if (sscanf(line, PART_TAG "%llu %llu %llu%n", &v, &e, &f,
			    &used) == 3) {
				const char *p = line + used;
				t->violations += v;
				t->entries += e;
				t->failed += f;
				for (int x = 0; x < SIM_NINV; x++) {
					unsigned long long b = 0;
					int w = 0;
					if (sscanf(p, " %llu%n", &b, &w) == 1)
						p += w;
					t->broke[x] += b;
				}
				counted = true;
				continue;
			}
			fputs(line, stdout);
		}
		fclose(out[j]);
		if (!counted || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
			printf("VIOLATION: the process running block %zu of the seeds "
				"died (status %d)\n", j, status);
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
run_twice(int argc, char **argv, size_t nseeds)
{
	char **args = calloc((size_t)argc + 1, sizeof *args);
	char *text[2] = { NULL, NULL };
	size_t len[2] = { 0, 0 };
	int n = 0, ret = 1;

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
			goto out;
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
			printf("SIMREPLAY: fail %zu seeds: run %d did not finish "
				"(status %d)\n", nseeds, k + 1, status);
			goto out;
		}
	}
	bool equal = len[0] == len[1] && memcmp(text[0], text[1], len[0]) == 0;
	/* the runs' own lines, but not their summary: this test's figure is
	 * the comparison */
	for (char *line = text[0]; line < text[0] + len[0]; ) {
		char *end = memchr(line, '\n', (size_t)(text[0] + len[0] - line));
		size_t l = end != NULL ? (size_t)(end - line) + 1 :
			(size_t)(text[0] + len[0] - line);
		if (strncmp(line, "SIM", 3) != 0 || strchr(line, ':') == NULL ||
		    strstr(line, " seeds, ") == NULL)
			fwrite(line, 1, l, stdout);
		line += l;
	}
	printf("SIMREPLAY: %s %zu seeds run twice, %s\n", equal ? "pass" : "fail",
		nseeds, equal ? "same output" : "outputs differ");
	ret = equal ? 0 : 1;
out:
	free(text[0]);
	free(text[1]);
	free(args);
	return ret;
}

/* The invariants a regression line expects ("none", or names joined by
 * commas) into *mask; -2 when text is not that. */
static int
parse_expect(const char *text, uint32_t *mask)
{
	char buf[256];
	*mask = 0;
	if (strcmp(text, "none") == 0)
		return -1;
	if (strlen(text) >= sizeof buf)
		return -2;
	strcpy(buf, text);
	for (char *save, *p = strtok_r(buf, ",", &save); p != NULL;
	    p = strtok_r(NULL, ",", &save)) {
		int k = sim_inv_parse(p);
		if (k < 0)
			return -2;
		*mask |= 1u << k;
	}
	return *mask != 0 ? 0 : -2;
}

/*
 * Runs the regression seeds of the trust invariants: each line of path is
 * "EXPECT OPTION..." (# starts a comment), EXPECT the names of the
 * invariants, joined by commas, that the seed must break, and no other,
 * or "none", when it must break nothing; the options are --seed, --nodes,
 * --ops, --hostile, --skew, --lossy, --racy, --withdraw, --leaves,
 * --removes, --successions. The invariants are always on. Prints one line per seed and
 * the summary; returns the exit status.
 */
static int
run_regress(const char *path, struct sim_opts base, const char *name)
{
	FILE *f = fopen(path, "r");
	char line[512];
	unsigned lineno = 0, seeds = 0, failed = 0;

	if (f == NULL) {
		fprintf(stderr, "amends-sim: cannot read %s\n", path);
		return 1;
	}
	while (fgets(line, sizeof line, f) != NULL) {
		char *save, *tok, *hash = strchr(line, '#');
		struct sim_opts o = base;
		int expect = -2;
		uint32_t want = 0;
		bool bad = false;
		uint64_t v;

		lineno++;
		if (hash != NULL)
			*hash = '\0';
		o.invariants = true;
		o.no_extremes = false;
		o.seed = 1;
		for (tok = strtok_r(line, " \t\n", &save); tok != NULL && !bad;
		    tok = strtok_r(NULL, " \t\n", &save)) {
			if (expect == -2) {
				expect = parse_expect(tok, &want);
				bad = expect == -2;
			} else if (strcmp(tok, "--hostile") == 0) {
				o.hostile = true;
			} else if (strcmp(tok, "--skew") == 0) {
				o.skew = true;
			} else if (strcmp(tok, "--no-extremes") == 0) {
				o.no_extremes = true;
			} else if (strcmp(tok, "--lossy") == 0) {
				o.lossy = true;
			} else if (strcmp(tok, "--racy") == 0) {
				o.racy = true;
			} else if (strcmp(tok, "--leaves") == 0) {
				o.leaves = o.withdraw = true;
			} else if (strcmp(tok, "--removes") == 0) {
				o.removes = o.leaves = o.withdraw = true;
			} else if (strcmp(tok, "--successions") == 0) {
				o.successions = o.removes = o.leaves = o.withdraw = true;
			} else if (strcmp(tok, "--withdraw") == 0) {
				o.withdraw = true;
			} else if (strcmp(tok, "--seed") == 0 || strcmp(tok, "--nodes") == 0 ||
			    strcmp(tok, "--ops") == 0) {
				char *arg = strtok_r(NULL, " \t\n", &save);
				bad = arg == NULL || !parse_u64(arg, &v);
				if (bad)
					break;
				if (tok[2] == 's')
					o.seed = v;
				else if (tok[2] == 'n')
					o.nodes = v >= 2 && v <= SIM_MAX_NODES ? (unsigned)v : 0;
				else
					o.ops = v <= 1000000 ? (unsigned)v : 0;
				bad = o.nodes == 0 || (tok[2] == 'o' && v > 1000000);
			} else {
				bad = true;
			}
		}
		if (expect == -2 && !bad)
			continue;           /* a blank line or a comment */
		if (bad) {
			printf("VIOLATION: %s:%u: not a regression line\n", path, lineno);
			failed++;
			continue;
		}
		if (base.no_extremes && o.hostile && !o.no_extremes) {
			/* the sanitizers' build: such a seed stops at the overflow */
			printf("%s:%u: seed %llu skipped: it needs times near INT64's "
				"ends\n", path, lineno, (unsigned long long)o.seed);
			continue;
		}
		struct sim_stats st;
		uint8_t final[AM_HASH_BYTES];
		uint32_t broken;
		unsigned viol = sim_run(&o, &st, final, &broken);
		seeds++;
		print_run(&o, &st, final, viol, broken);
		if (viol == 0 && broken == want)
			continue;
		failed++;
		for (int k = 0; k < SIM_NINV; k++) {
			if (!((want >> k) & 1u) || ((broken >> k) & 1u))
				continue;
			printf("VIOLATION: %s:%u: seed %llu no longer breaks %s. "
				"If issue %u has landed, write 'none' for it in %s and "
				"set the issue of %s to 0 in tests/sim/inv.c\n", path,
				lineno, (unsigned long long)o.seed, sim_inv_name(k),
				sim_inv_issue(k), path, sim_inv_name(k));
		}
		if (broken & ~want)
			printf("VIOLATION: %s:%u: seed %llu%s, more than it "
				"should\n", path, lineno, (unsigned long long)o.seed,
				broken_text(broken & ~want));
	}
	fclose(f);
	printf("%s: %s %u seeds, %u failed\n", name, failed == 0 ? "pass" : "fail",
		seeds, failed);
	return failed == 0 ? 0 : 1;
}

int
main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "seed", required_argument, NULL, 's' },
		{ "runs", required_argument, NULL, 'r' },
		{ "seeds", required_argument, NULL, 'S' },
		{ "nodes", required_argument, NULL, 'n' },
		{ "ops", required_argument, NULL, 'o' },
		{ "lossy", no_argument, NULL, 'l' },
		{ "strict-membership", no_argument, NULL, 'M' },
		{ "hostile", no_argument, NULL, 'H' },
		{ "skew", no_argument, NULL, 'K' },
		{ "racy", no_argument, NULL, 'Y' },
		{ "leaves", no_argument, NULL, 'L' },
		{ "removes", no_argument, NULL, 'E' },
		{ "successions", no_argument, NULL, 'U' },
		{ "withdraw", no_argument, NULL, 'W' },
		{ "invariants", no_argument, NULL, 'I' },
		{ "no-extremes", no_argument, NULL, 'X' },
		{ "regress", required_argument, NULL, 'R' },
		{ "jobs", required_argument, NULL, 'j' },
		{ "twice", no_argument, NULL, 'T' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "name", required_argument, NULL, 'N' },
		{ "tmp", required_argument, NULL, 't' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct sim_opts o = { .seed = 1, .nodes = 3, .ops = 60 };
	uint64_t runs = 1, jobs = 1, v, *seeds = NULL;
	size_t nseeds = 0;
	const char *name = NULL, *list = NULL, *regress = NULL;
	bool twice = false;
	int opt, ret = 1;

	o.tmp = default_tmp();
	while ((opt = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (opt) {
		case 's':
			if (!parse_u64(optarg, &o.seed))
				goto bad;
			break;
		case 'r':
			if (!parse_u64(optarg, &runs) || runs == 0 || runs > SEEDS_MAX)
				goto bad;
			break;
		case 'S': list = optarg; break;
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
		case 'l': o.lossy = true; break;
		case 'M': break;
		case 'H': o.hostile = true; break;
		case 'K': o.skew = true; break;
		case 'Y': o.racy = true; break;
		case 'L': o.leaves = o.withdraw = true; break;
		case 'E': o.removes = o.leaves = o.withdraw = true; break;
		case 'U':
			o.successions = o.removes = o.leaves = o.withdraw = true;
			break;
		case 'W': o.withdraw = true; break;
		case 'I': o.invariants = true; break;
		case 'X': o.no_extremes = true; break;
		case 'R': regress = optarg; break;
		case 'j':
			if (!parse_u64(optarg, &jobs) || jobs == 0 || jobs > JOBS_MAX)
				goto bad;
			break;
		case 'T': twice = true; break;
		case 'v': o.verbose = true; break;
		case 'N': name = optarg; break;
		case 't': o.tmp = optarg; break;
		case 'h':
			fputs(usage, stdout);
			return 0;
		default:
			goto bad;
		}
	}
	if (optind != argc)
		goto bad;
	/* the removal invariant reads the entries the run wrote (inv.c) */
	o.invariants = o.invariants || o.hostile || o.skew || o.racy ||
		o.removes;
	if ((seeds = calloc(SEEDS_MAX, sizeof *seeds)) == NULL) {
		fprintf(stderr, "amends-sim: out of memory\n");
		return 1;
	}
	if (list != NULL) {
		if (!parse_seeds(list, seeds, &nseeds))
			goto bad;
	} else {
		for (uint64_t k = 0; k < runs; k++)
			seeds[nseeds++] = o.seed + k;
	}
	if (twice) {
		ret = run_twice(argc, argv, nseeds);
		goto out;
	}
	if (sodium_init() < 0) {
		fprintf(stderr, "amends-sim: libsodium failed to start\n");
		goto out;
	}
	if (regress != NULL) {
		ret = run_regress(regress, o, name != NULL ? name : "SIMTRUST");
		goto out;
	}
	struct totals t = { 0 };
	if (jobs > nseeds)
		jobs = nseeds;
	if (jobs <= 1)
		run_list(o, seeds, nseeds, &t);
	else if (run_jobs(o, seeds, nseeds, (size_t)jobs, &t) != 0)
		goto out;
	if (name == NULL)
		name = o.hostile ? "SIMHOSTILE" : o.skew ? "SIMSKEW" :
			o.racy ? "SIMRACY" : o.lossy ? "SIMLOSSY" : "SIM";
	for (int x = 0; x < SIM_NINV && o.invariants; x++) {
		if (t.broke[x] == 0)
			continue;
		if (sim_inv_issue(x) != 0)
			printf("known break %s: %llu of %zu seeds (expected until "
				"issue %u)\n", sim_inv_name(x),
				(unsigned long long)t.broke[x], nseeds, sim_inv_issue(x));
		else
			printf("break %s: %llu of %zu seeds\n", sim_inv_name(x),
				(unsigned long long)t.broke[x], nseeds);
	}
	printf("%s: %s %zu seeds, %llu violations, %llu entries\n", name,
		t.failed == 0 ? "pass" : "fail", nseeds,
		(unsigned long long)t.violations, (unsigned long long)t.entries);
	ret = t.failed == 0 ? 0 : 1;
out:
	free(seeds);
	return ret;
bad:
	fputs(usage, stderr);
	free(seeds);
	return 1;
}
