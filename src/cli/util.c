/*
 * Helpers shared by the subcommands: opening the data directory with
 * errors a person can act on, the clock, JSON strings.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "amends/home.h"
#include "cli.h"
#include "format.h"

int
cli_error(const char *fmt, ...)
{
	va_list ap;
	fputs("amends: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return 1;
}

int
cli_fail(const char *what, int rc)
{
	return cli_error("%s: %s", what, am_strerror(rc));
}

static int
open_identity(struct cli *c)
{
	char *path = am_home_path(c->home, AM_HOME_KEY);
	if (path == NULL)
		return cli_fail("loading the key", AM_ERR_NOMEM);
	int rc = am_identity_load(path, &c->id);
	int ret = 0;
	switch (rc) {
	case AM_OK:
		break;
	case AM_ERR_KEY_PERMS:
		ret = cli_error("key file %s is readable by others; "
			"run chmod 600 %s", path, path);
		break;
	case AM_ERR_KEY_LINK:
		ret = cli_error("key file %s is a symbolic link or not a regular "
			"file; refusing to use it", path);
		break;
	case AM_ERR_NO_IDENTITY:
		ret = cli_error("no identity in %s; run amends init first", c->home);
		break;
	default:
		ret = cli_error("key file %s: %s", path, am_strerror(rc));
		break;
	}
	free(path);
	return ret;
}

int
cli_home_check(const char *home)
{
	switch (am_home_check(home)) {
	case AM_OK:
		return 0;
	case AM_ERR_HOME_PERMS:
		return cli_error("data directory %s can be read or entered by "
			"others; run chmod 700 %s", home, home);
	case AM_ERR_HOME_OWNER:
		return cli_error("data directory %s belongs to another user; "
			"use a directory of your own (AMENDS_HOME)", home);
	default:
		return cli_error("data directory %s is not a directory", home);
	}
}

int
cli_open(struct cli *c, unsigned need)
{
	if (c->home == NULL)
		c->home = am_home_dir();
	if (c->home == NULL)
		return cli_error("no data directory: set AMENDS_HOME or HOME");
	if ((need & (CLI_IDENTITY | CLI_STORE)) && cli_home_check(c->home) != 0)
		return 1;
	if ((need & CLI_IDENTITY) && open_identity(c) != 0)
		return 1;
	if (need & CLI_STORE) {
		char *path = am_home_path(c->home, AM_HOME_DB);
		if (path == NULL)
			return cli_fail("opening the database", AM_ERR_NOMEM);
		int rc = am_store_open(path, &c->store);
		if (rc != AM_OK)
			cli_error("database %s: %s", path, am_strerror(rc));
		free(path);
		if (rc != AM_OK)
			return 1;
	}
	return 0;
}

void
cli_close(struct cli *c)
{
	cli_shared_forget();
	am_store_close(&c->store);
	am_identity_destroy(&c->id);
	free(c->home);
	c->home = NULL;
}

int64_t
cli_now_ms(void)
{
	const char *v = getenv("AMENDS_NOW");
	if (v != NULL && *v != '\0') {
		struct tm tm;
		memset(&tm, 0, sizeof tm);
		char *end = strptime(v, "%Y-%m-%dT%H:%M:%SZ", &tm);
		if (end != NULL && *end == '\0')
			return (int64_t)timegm(&tm) * 1000;
		/* any count of seconds, saturated to what ms can hold: tests
		 * use it to stamp entries at the very ends of time */
		char *e;
		long long secs = strtoll(v, &e, 10);
		if (*e == '\0' && e != v) {
			if (secs > INT64_MAX / 1000)
				return INT64_MAX;
			if (secs < INT64_MIN / 1000)
				return INT64_MIN;
			return secs * 1000;
		}
	}
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void
cli_json_str(FILE *f, const char *s)
{
	fputc('"', f);
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		switch (*p) {
		case '"': fputs("\\\"", f); break;
		case '\\': fputs("\\\\", f); break;
		case '\n': fputs("\\n", f); break;
		case '\r': fputs("\\r", f); break;
		case '\t': fputs("\\t", f); break;
		default:
			if (*p < 0x20)
				fprintf(f, "\\u%04x", *p);
			else
				fputc(*p, f);
		}
	}
	fputc('"', f);
}

void
cli_usage(FILE *f, const char *usage)
{
	fputs(usage, f);
}

/* Reads one line from fd into buf without its newline. */
static int
read_line(int fd, char *buf, size_t size)
{
	size_t n = 0;
	while (n + 1 < size) {
		char ch;
		ssize_t r = read(fd, &ch, 1);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0 || ch == '\n')
			break;
		buf[n++] = ch;
	}
	buf[n] = '\0';
	return (int)n;
}

static int
ask(int tty, const char *prompt, char *buf, size_t size)
{
	struct termios old, quiet;
	if (write(tty, prompt, strlen(prompt)) < 0)
		return -1;
	bool echo_off = tcgetattr(tty, &old) == 0;
	if (echo_off) {
		quiet = old;
		quiet.c_lflag &= ~(tcflag_t)ECHO;
		tcsetattr(tty, TCSAFLUSH, &quiet);
	}
	int n = read_line(tty, buf, size);
	if (echo_off)
		tcsetattr(tty, TCSAFLUSH, &old);
	if (write(tty, "\n", 1) < 0)
		return -1;
	return n;
}

int
cli_passphrase(int fd, bool twice, char *buf, size_t size)
{
	if (fd >= 0) {
		if (read_line(fd, buf, size) <= 0)
			return cli_error("no passphrase on file descriptor %d", fd);
		return 0;
	}
	int tty = open("/dev/tty", O_RDWR | O_CLOEXEC);
	if (tty < 0)
		return cli_error("no terminal to ask for the passphrase; "
			"give it with --passphrase-fd N");
	int ret = 0;
	if (ask(tty, "passphrase: ", buf, size) <= 0) {
		ret = cli_error("an empty passphrase protects nothing");
	} else if (twice) {
		char again[256];
		if (ask(tty, "again: ", again, sizeof again) < 0 || strcmp(again, buf) != 0)
			ret = cli_error("the passphrases differ");
		sodium_memzero(again, sizeof again);
	}
	close(tty);
	return ret;
}

int
cli_fd_arg(const char *s)
{
	char *end;
	long v = strtol(s, &end, 10);
	if (*s == '\0' || *end != '\0' || v < 0 || v > 1023) {
		cli_error("'%s' is not a file descriptor number", s);
		return -1;
	}
	return (int)v;
}
