/*
 * The unit tests' one macro: check(cond) prints where it failed and aborts.
 */
#ifndef AMENDS_TEST_H
#define AMENDS_TEST_H

#include <stdio.h>
#include <stdlib.h>

#define check(cond) do { \
	if (!(cond)) { \
		fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond); \
		abort(); \
	} \
} while (0)

/* check(rc == want) that prints both codes. */
#define check_rc(rc, want) do { \
	int check_rc_ = (rc), check_want_ = (want); \
	if (check_rc_ != check_want_) { \
		fprintf(stderr, "%s:%d: %s returned %d (%s), expected %d (%s)\n", \
			__FILE__, __LINE__, #rc, check_rc_, am_strerror(check_rc_), \
			check_want_, am_strerror(check_want_)); \
		abort(); \
	} \
} while (0)

#endif
