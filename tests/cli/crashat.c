/*
 * A preloaded library (LD_PRELOAD) for tests/cli/private.sh: the process
 * dies by SIGKILL just before its N-th call (N from AMENDS_CRASH_AT) of
 * write, fsync, fdatasync, link, rename or unlink, as if the machine had
 * stopped it there. What it had written before stays in the page cache,
 * as it does when a process is killed. Without AMENDS_CRASH_AT it does
 * nothing.
 */
#include <dlfcn.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/types.h>
#include <unistd.h>

static long calls;

static void
step(void)
{
	static long at = -1;
	if (at < 0) {
		const char *v = getenv("AMENDS_CRASH_AT");
		at = v != NULL ? atol(v) : 0;
	}
	if (at > 0 && ++calls == at)
		raise(SIGKILL);
}

/* the POSIX way to take a function from dlsym (ISO C has none) */
#define REAL(type, name, args) \
	static type (*real) args; \
	if (real == NULL) \
		*(void **)&real = dlsym(RTLD_NEXT, name)

ssize_t
write(int fd, const void *buf, size_t n)
{
	REAL(ssize_t, "write", (int, const void *, size_t));
	step();
	return real(fd, buf, n);
}

int
fsync(int fd)
{
	REAL(int, "fsync", (int));
	step();
	return real(fd);
}

int
fdatasync(int fd)
{
	REAL(int, "fdatasync", (int));
	step();
	return real(fd);
}

int
link(const char *from, const char *to)
{
	REAL(int, "link", (const char *, const char *));
	step();
	return real(from, to);
}

int
rename(const char *from, const char *to)
{
	REAL(int, "rename", (const char *, const char *));
	step();
	return real(from, to);
}

int
unlink(const char *path)
{
	REAL(int, "unlink", (const char *));
	step();
	return real(path);
}
