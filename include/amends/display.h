/*
 * Display names: the name this node's person gives themselves, kept in the
 * store and signed into each circle they are a joined member of as a NAME
 * entry (protocol/state.md, "Names"), so that the others see it on their
 * own nodes. A local nickname (am_store_name_set) is another thing: this
 * node's own word for someone, never written into an entry.
 */
#ifndef AMENDS_DISPLAY_H
#define AMENDS_DISPLAY_H

#include <stdbool.h>
#include <stdint.h>

#include "amends/error.h"
#include "amends/id.h"
#include "amends/store.h"

/* The store setting that holds it. */
#define AM_DISPLAY_SETTING "display_name"

/* True when name may be signed as a display name: 1 to AM_MAX_DISPLAY
 * bytes of UTF-8 without control characters (C0 or DEL). */
bool am_display_ok(const char *name);

/* The display name set on this node, malloc'd, or NULL when none is. */
char *am_display_get(struct am_store *s);

/* Sets the display name (NULL: none; NAMEs already signed stay). It is
 * written into circles by am_display_publish(). AM_ERR_ARG when name is
 * not am_display_ok(). */
AM_NODISCARD int am_display_set(struct am_store *s, const char *name);

/*
 * Signs id's display name, as set on this node, into circle (or, circle
 * NULL, every circle id is a joined member of) where the name of id that
 * counts is another one or none; now is the claimed time (ms). *written
 * (may be NULL) gets how many NAMEs were written. Writes nothing when no
 * name is set. A circle the state would not count the NAME in, or where
 * the store may not write yet (a restored identity, a forked feed), is
 * skipped, not an error.
 */
AM_NODISCARD int am_display_publish(struct am_store *s,
	const struct am_identity *id, const uint8_t *circle, int64_t now,
	unsigned *written);

#endif
