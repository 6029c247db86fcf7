/*
 * Key rotation (include/amends/rotate.h): the new key kept beside the
 * current one while successions gather their acceptances, where the old
 * key stands in each circle, and the switch of key files once it is
 * replaced everywhere. Nothing here signs an entry: the commands write
 * the successions and answers, each checked by the state first.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "amends/home.h"
#include "amends/rotate.h"
#include "amends/state.h"

int
am_rotate_next(const char *home, struct am_identity **out)
{
	char *path = am_home_path(home, AM_ROTATE_NEXT);
	if (path == NULL)
		return AM_ERR_NOMEM;
	int rc = access(path, F_OK) != 0 && errno == ENOENT ? AM_ERR_NOT_FOUND :
		am_identity_load(path, out);
	free(path);
	return rc;
}

int
am_rotate_begin(const char *home, struct am_identity **out, bool *made)
{
	struct am_identity *id = NULL;
	*made = false;
	int rc = am_rotate_next(home, out);
	if (rc != AM_ERR_NOT_FOUND)
		return rc;
	char *path = am_home_path(home, AM_ROTATE_NEXT);
	if (path == NULL)
		return AM_ERR_NOMEM;
	if ((rc = am_identity_generate(&id)) != AM_OK)
		goto out;
	rc = am_identity_save(id, path);
	/* another command made one meanwhile: that one is the rotation's */
	if (rc == AM_ERR_EXISTS) {
		am_identity_destroy(&id);
		rc = am_identity_load(path, out);
		goto out;
	}
	if (rc != AM_OK)
		goto out;
	*out = id;
	id = NULL;
	*made = true;
out:
	am_identity_destroy(&id);
	free(path);
	return rc;
}

int
am_rotate_progress(struct am_store *s, const uint8_t old[static AM_ID_BYTES],
	const uint8_t next[static AM_ID_BYTES], struct am_rotate_progress *out)
{
	struct am_circle_info *c = NULL;
	size_t nc = 0;
	memset(out, 0, sizeof *out);
	int rc = am_state_circles(s, NULL, &c, &nc);
	if (rc != AM_OK)
		return rc;
	for (size_t i = 0; i < nc && rc == AM_OK; i++) {
		struct am_member *m = NULL;
		size_t nm = 0;
		if ((rc = am_state_members(s, c[i].id, &m, &nm)) != AM_OK)
			break;
		for (size_t j = 0; j < nm; j++) {
			if (memcmp(m[j].id, old, AM_ID_BYTES) != 0)
				continue;
			if (m[j].status == AM_MEMBER_JOINED) {
				out->circles++;
				out->open++;
			} else if (m[j].status == AM_MEMBER_DEPARTED) {
				out->circles++;
				if (m[j].departure_kind == AM_KIND_SUCCESSION &&
				    memcmp(m[j].heir, next, AM_ID_BYTES) == 0)
					out->done++;
				else
					out->gone++;
			}
		}
		free(m);
	}
	am_state_circles_free(&c, nc);
	return rc;
}

static int
sync_dir(const char *home)
{
	int fd = open(home, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return AM_ERR_IO;
	int rc = fsync(fd) == 0 ? AM_OK : AM_ERR_IO;
	close(fd);
	return rc;
}

int
am_rotate_switch(const char *home, const uint8_t old[static AM_ID_BYTES])
{
	char name[sizeof AM_ROTATE_OLD_PREFIX + 2 * AM_ID_BYTES + sizeof ".key"];
	char hex[2 * AM_ID_BYTES + 1];
	char *key = am_home_path(home, AM_HOME_KEY);
	char *next = am_home_path(home, AM_ROTATE_NEXT);
	char *kept = NULL;
	struct am_identity *id = NULL;
	int rc = AM_ERR_NOMEM;

	sodium_bin2hex(hex, sizeof hex, old, AM_ID_BYTES);
	snprintf(name, sizeof name, "%s%s.key", AM_ROTATE_OLD_PREFIX, hex);
	if (key == NULL || next == NULL || (kept = am_home_path(home, name)) == NULL)
		goto out;
	/* both keys must load before anything moves: a damaged new key
	 * never replaces a good one */
	if ((rc = am_identity_load(next, &id)) != AM_OK)
		goto out;
	am_identity_destroy(&id);
	if ((rc = am_identity_load(key, &id)) != AM_OK)
		goto out;
	bool current = memcmp(am_identity_public(id), old, AM_ID_BYTES) == 0;
	am_identity_destroy(&id);
	if (!current) {
		rc = AM_ERR_ARG;
		goto out;
	}
	/* the old key first gets its second name; a copy left by an
	 * interrupted switch is the same file's, or refused */
	if (link(key, kept) != 0) {
		if (errno != EEXIST) {
			rc = AM_ERR_IO;
			goto out;
		}
		if ((rc = am_identity_load(kept, &id)) != AM_OK)
			goto out;
		current = memcmp(am_identity_public(id), old, AM_ID_BYTES) == 0;
		am_identity_destroy(&id);
		if (!current) {
			rc = AM_ERR_EXISTS;
			goto out;
		}
	}
	if (sync_dir(home) != AM_OK || rename(next, key) != 0) {
		rc = AM_ERR_IO;
		goto out;
	}
	rc = sync_dir(home);
out:
	am_identity_destroy(&id);
	free(key);
	free(next);
	free(kept);
	return rc;
}
