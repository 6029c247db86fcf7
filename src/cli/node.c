/*
 * amends node: run this data directory's node in the foreground, logging
 * one line per event to stderr, until SIGINT or SIGTERM. Also the nudge
 * every command sends after it ran, so that a running node pushes what the
 * command wrote at once.
 */
#include <getopt.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "amends/home.h"
#include "amends/node.h"
#include "amends/peer.h"
#include "cli.h"

static const char usage[] =
	"usage: amends node [--listen tcp://HOST:PORT] [--compare-every SECONDS]\n\n"
	"Runs the node of this data directory in the foreground: it connects to\n"
	"the other members' nodes, keeps the record in step with theirs, answers\n"
	"invites, and pushes what local commands write as soon as they write it.\n"
	"It logs one line per event to stderr; stop it with Ctrl-C or SIGTERM.\n"
	"Only one node may run on a data directory.\n\n"
	"  --listen ENDPOINT  where to accept connections (default: the `listen`\n"
	"                     setting, else " AM_NODE_LISTEN ")\n"
	"  --compare-every SECONDS\n"
	"                     how often to compare the record with each connected\n"
	"                     member's once more, while nothing else happens\n"
	"                     (default 60; at most 604800, a week): what a lost\n"
	"                     connection dropped is found within this time. New\n"
	"                     entries are pushed at once whatever it is\n";

static volatile sig_atomic_t stop;

static void
on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static void
log_line(void *ctx, const char *line)
{
	char when[32];
	struct timespec ts;
	struct tm tm;
	(void)ctx;
	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", &tm);
	fprintf(stderr, "%s %s\n", when, line);
	fflush(stderr);
}

int
cmd_node(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "listen", required_argument, NULL, 'l' },
		{ "compare-every", required_argument, NULL, 'c' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *listen = NULL;
	unsigned compare = 0;
	struct cli c = { 0 };
	char *end;
	long v;
	int opt;

	while ((opt = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (opt) {
		case 'l': listen = optarg; break;
		case 'c':
			v = strtol(optarg, &end, 10);
			if (end == optarg || *end != '\0' || v < 1 ||
			    v > AM_NODE_COMPARE_MAX_S)
				return cli_error("--compare-every '%s' is not a number of "
					"seconds from 1 to %d", optarg, AM_NODE_COMPARE_MAX_S);
			compare = (unsigned)v;
			break;
		case 'h': cli_usage(stdout, usage); return 0;
		default: cli_usage(stderr, usage); return 1;
		}
	}
	if (optind != argc) {
		cli_usage(stderr, usage);
		return 1;
	}
	if (listen != NULL && (strncmp(listen, "tcp://", 6) != 0 ||
	    strlen(listen) >= AM_PEER_MAX_ADDRESS))
		return cli_error("--listen takes tcp://HOST:PORT, such as "
			"tcp://0.0.0.0:7411");
	/* refuse early, with the usual sentences, what the node cannot use */
	if (cli_open(&c, CLI_IDENTITY | CLI_STORE) != 0) {
		cli_close(&c);
		return 1;
	}
	char *home = c.home;
	c.home = NULL;
	cli_close(&c);
	/* what the node makes (its lock, its local sockets, the database's
	 * -wal and -shm) is the user's alone */
	umask(077);
	if (am_node_running(home)) {
		cli_error("another node is already running on %s", home);
		free(home);
		return 1;
	}

	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	/* no SA_RESTART: the node's wait must end at once on a signal */
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);

	struct am_node_config cfg = {
		.home = home,
		.listen = listen,
		.compare_s = compare,
		.log = log_line,
		.stop = &stop,
	};
	int rc = am_node_run(&cfg);
	free(home);
	/* the node logged what failed */
	return rc == AM_OK ? 0 : 1;
}

void
cli_nudge(void)
{
	char *home = am_home_dir();
	if (home == NULL)
		return;
	am_node_nudge(home);
	free(home);
}
