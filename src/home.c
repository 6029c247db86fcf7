/*
 * Finding and creating the data directory (include/amends/home.h).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "amends/home.h"

char *
am_home_path(const char *dir, const char *name)
{
	size_t n = strlen(dir) + strlen(name) + 2;
	char *p = malloc(n);
	if (p != NULL)
		snprintf(p, n, "%s/%s", dir, name);
	return p;
}

char *
am_home_dir(void)
{
	const char *v = getenv("AMENDS_HOME");
	if (v != NULL && *v != '\0')
		return strdup(v);
	v = getenv("XDG_DATA_HOME");
	if (v != NULL && *v == '/')
		return am_home_path(v, "amends");
	v = getenv("HOME");
	if (v != NULL && *v != '\0')
		return am_home_path(v, ".local/share/amends");
	return NULL;
}

int
am_home_create(const char *dir)
{
	char *p = strdup(dir);
	if (p == NULL)
		return AM_ERR_NOMEM;
	/* parents first, with the usual mode; the directory itself is private */
	for (char *s = p + 1; *s != '\0'; s++) {
		if (*s != '/')
			continue;
		*s = '\0';
		if (mkdir(p, 0755) != 0 && errno != EEXIST) {
			free(p);
			return AM_ERR_IO;
		}
		*s = '/';
	}
	int rc = mkdir(p, 0700) == 0 || errno == EEXIST ? AM_OK : AM_ERR_IO;
	free(p);
	return rc;
}

int
am_home_check(const char *dir)
{
	struct stat st;
	if (stat(dir, &st) != 0)
		return errno == ENOENT ? AM_OK : AM_ERR_IO;
	if (!S_ISDIR(st.st_mode))
		return AM_ERR_IO;
	if (st.st_uid != geteuid())
		return AM_ERR_HOME_OWNER;
	if ((st.st_mode & 077) != 0)
		return AM_ERR_HOME_PERMS;
	return AM_OK;
}
