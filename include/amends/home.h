/*
 * The data directory: where a node keeps its key file and database.
 * $AMENDS_HOME, else $XDG_DATA_HOME/amends, else ~/.local/share/amends.
 */
#ifndef AMENDS_HOME_H
#define AMENDS_HOME_H

#include "amends/error.h"

#define AM_HOME_KEY "id.key"
#define AM_HOME_DB "amends.db"

/* The data directory's path, malloc'd (the caller frees it), or NULL when
 * none of the variables it derives from is set. */
char *am_home_dir(void);

/* dir + "/" + name, malloc'd; NULL on allocation failure. */
char *am_home_path(const char *dir, const char *name);

/* Creates dir and its missing parents; dir itself gets mode 0700. */
AM_NODISCARD int am_home_create(const char *dir);

#endif
