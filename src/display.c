/*
 * A person's display name: one store setting, and the NAME entries that
 * carry it to the other members. Publishing compares with the name the
 * state counts for the person in each circle, so it is idempotent: run
 * when a circle is created, joined or synced, it writes only where the
 * circle does not show the name set here yet.
 */
#include <stdlib.h>
#include <string.h>

#include "amends/display.h"
#include "amends/state.h"
#include "mp.h"

bool
am_display_ok(const char *name)
{
	size_t n = name != NULL ? strlen(name) : 0;
	if (n == 0 || n > AM_MAX_DISPLAY || !am_mp_utf8_ok(name, n))
		return false;
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)name[i] < 0x20 || name[i] == 0x7f)
			return false;
	return true;
}

char *
am_display_get(struct am_store *s)
{
	char *name = am_store_setting_get(s, AM_DISPLAY_SETTING);
	/* a value that is not one (edited by hand) is no name */
	if (name != NULL && !am_display_ok(name)) {
		free(name);
		return NULL;
	}
	return name;
}

int
am_display_set(struct am_store *s, const char *name)
{
	if (name != NULL && !am_display_ok(name))
		return AM_ERR_ARG;
	return am_store_setting_set(s, AM_DISPLAY_SETTING, name);
}

/* Is name the name of self that counts in circle? */
static int
shown(struct am_store *s, const uint8_t *circle, const uint8_t *self,
	const char *name, bool *same)
{
	struct am_name *v;
	size_t n;
	int rc = am_state_names(s, circle, &v, &n);
	*same = false;
	if (rc != AM_OK)
		return rc;
	for (size_t i = 0; i < n; i++)
		if (memcmp(v[i].id, self, AM_ID_BYTES) == 0)
			*same = strcmp(v[i].name, name) == 0;
	am_state_names_free(&v, n);
	return AM_OK;
}

static int
publish_one(struct am_store *s, const struct am_identity *id,
	const uint8_t *circle, const char *name, int64_t now, unsigned *written)
{
	const uint8_t *self = am_identity_public(id);
	struct am_body *b;
	bool same;
	int rc;

	if (am_state_member_role(s, circle, self, NULL) != AM_OK)
		return AM_OK;           /* not joined (yet): it would not count */
	if ((rc = shown(s, circle, self, name, &same)) != AM_OK || same)
		return rc;
	if ((b = calloc(1, sizeof *b)) == NULL)
		return AM_ERR_NOMEM;
	b->kind = AM_KIND_NAME;
	b->name = am_str_c(name);
	rc = am_state_check(s, circle, self, b, NULL, 0);
	if (rc == AM_OK)
		rc = am_store_append(s, id, circle, now, b, NULL, NULL);
	free(b);
	if (rc == AM_OK)
		(*written)++;
	/* not this circle's turn: a restored identity before its feed is
	 * back, a peer holding entries of our own feed we lack, a feed
	 * forked, a rule against it */
	if (rc == AM_ERR_RESTORING || rc == AM_ERR_OWN_BEHIND ||
	    rc == AM_ERR_OWN_FORK || rc == AM_ERR_NOT_MEMBER || rc == AM_ERR_RULE)
		rc = AM_OK;
	return rc;
}

int
am_display_publish(struct am_store *s, const struct am_identity *id,
	const uint8_t *circle, int64_t now, unsigned *written)
{
	struct am_circle_info *list = NULL;
	size_t n = 0;
	unsigned count = 0;
	int rc = AM_OK;

	if (written != NULL)
		*written = 0;
	char *name = am_display_get(s);
	if (name == NULL || !am_state_time_ok(now))
		goto out;
	if (circle != NULL) {
		rc = publish_one(s, id, circle, name, now, &count);
		goto out;
	}
	if ((rc = am_state_circles(s, am_identity_public(id), &list, &n)) != AM_OK)
		goto out;
	for (size_t i = 0; i < n && rc == AM_OK; i++)
		if (list[i].status == AM_MEMBER_JOINED)
			rc = publish_one(s, id, list[i].id, name, now, &count);
	am_state_circles_free(&list, n);
out:
	free(name);
	if (written != NULL)
		*written = count;
	return rc;
}
