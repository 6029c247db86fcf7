/*
 * Helpers shared by the subcommands: opening the data directory with
 * errors a person can act on, the clock, JSON strings.
 */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "amends/home.h"
#include "cli.h"

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
cli_open(struct cli *c, unsigned need)
{
	if (c->home == NULL)
		c->home = am_home_dir();
	if (c->home == NULL)
		return cli_error("no data directory: set AMENDS_HOME or HOME");
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
		char *e;
		long long secs = strtoll(v, &e, 10);
		if (*e == '\0')
			return secs * 1000;
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
