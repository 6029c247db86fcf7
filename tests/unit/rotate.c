/*
 * Tests of the rotation's key files (include/amends/rotate.h): the new
 * key is made once and kept beside the current one, and the switch
 * never loses a key, whatever step it was interrupted at.
 */
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "amends/home.h"
#include "amends/rotate.h"
#include "test.h"

static char dir[] = "/tmp/amends-rotate-XXXXXX";

static char *
path(const char *name)
{
	char *p = am_home_path(dir, name);
	check(p != NULL);
	return p;
}

static void
kept_name(const uint8_t id[static 32], char *out, size_t size)
{
	char hex[65];
	sodium_bin2hex(hex, sizeof hex, id, 32);
	snprintf(out, size, "%s%s.key", AM_ROTATE_OLD_PREFIX, hex);
}

/* The key file of name in dir holds id. */
static void
check_key(const char *name, const uint8_t id[static 32])
{
	struct am_identity *k = NULL;
	char *p = path(name);
	check_rc(am_identity_load(p, &k), AM_OK);
	check(memcmp(am_identity_public(k), id, 32) == 0);
	am_identity_destroy(&k);
	free(p);
}

static void
test_begin_once(struct am_identity *cur)
{
	struct am_identity *a = NULL, *b = NULL;
	bool made;
	struct stat st;
	check_rc(am_rotate_next(dir, &a), AM_ERR_NOT_FOUND);
	check_rc(am_rotate_begin(dir, &a, &made), AM_OK);
	check(made);
	check(memcmp(am_identity_public(a), am_identity_public(cur), 32) != 0);
	char *p = path(AM_ROTATE_NEXT);
	check(stat(p, &st) == 0 && (st.st_mode & 0777) == 0600);
	free(p);
	/* again: the same key, never a third */
	check_rc(am_rotate_begin(dir, &b, &made), AM_OK);
	check(!made);
	check(memcmp(am_identity_public(a), am_identity_public(b), 32) == 0);
	am_identity_destroy(&a);
	am_identity_destroy(&b);
}

static void
test_switch(struct am_identity *cur)
{
	struct am_identity *next = NULL;
	uint8_t old[32], other[32] = { 1 };
	char kept[128];
	check_rc(am_rotate_next(dir, &next), AM_OK);
	memcpy(old, am_identity_public(cur), 32);
	kept_name(old, kept, sizeof kept);

	/* not the current key: nothing moves */
	check_rc(am_rotate_switch(dir, other), AM_ERR_ARG);
	check_key(AM_HOME_KEY, old);

	/* interrupted after the old key got its second name */
	char *key = path(AM_HOME_KEY), *k2 = path(kept);
	check(link(key, k2) == 0);
	check_rc(am_rotate_switch(dir, old), AM_OK);
	check_key(AM_HOME_KEY, am_identity_public(next));
	check_key(kept, old);
	char *np = path(AM_ROTATE_NEXT);
	check(access(np, F_OK) != 0);
	struct am_identity *none = NULL;
	check_rc(am_rotate_next(dir, &none), AM_ERR_NOT_FOUND);
	/* done: a second switch from the old key is refused */
	check(am_rotate_switch(dir, old) != AM_OK);
	check_key(AM_HOME_KEY, am_identity_public(next));
	free(key);
	free(k2);
	free(np);
	am_identity_destroy(&next);
}

static void
test_damaged_next(void)
{
	struct am_identity *cur = NULL;
	char *key = path(AM_HOME_KEY), *np = path(AM_ROTATE_NEXT);
	check_rc(am_identity_load(key, &cur), AM_OK);
	int fd = open(np, O_WRONLY | O_CREAT | O_EXCL, 0600);
	check(fd >= 0);
	check(write(fd, "not a key", 9) == 9);
	close(fd);
	/* a damaged new key never replaces a good one */
	check(am_rotate_switch(dir, am_identity_public(cur)) != AM_OK);
	check_key(AM_HOME_KEY, am_identity_public(cur));
	unlink(np);
	free(key);
	free(np);
	am_identity_destroy(&cur);
}

int
main(void)
{
	struct am_identity *cur = NULL;
	check(sodium_init() >= 0);
	check(mkdtemp(dir) != NULL);
	char *key = path(AM_HOME_KEY);
	check_rc(am_identity_generate(&cur), AM_OK);
	check_rc(am_identity_save(cur, key), AM_OK);
	test_begin_once(cur);
	test_switch(cur);
	test_damaged_next();
	am_identity_destroy(&cur);
	free(key);
	/* leave nothing behind */
	char cmd[64];
	snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
	check(system(cmd) == 0);
	return 0;
}
