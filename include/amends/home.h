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

/* Creates dir and its missing parents; dir itself gets mode 0700. An
 * existing dir is left as it is (am_home_check says whether it will do). */
AM_NODISCARD int am_home_create(const char *dir);

/* Whether dir is fit to hold a key and a record: AM_OK when it is a
 * directory of this process's user that no one else can read, write or
 * enter (no bit of mode 077), or when it does not exist yet;
 * AM_ERR_HOME_OWNER when another user owns it; AM_ERR_HOME_PERMS when its
 * mode lets others in; AM_ERR_IO when it is not a directory. It
 * changes nothing: the person decides (chmod 700 DIR). */
AM_NODISCARD int am_home_check(const char *dir);

#endif
