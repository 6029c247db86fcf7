/*
 * Writing entries from the command line. The state module's rule set is
 * asked first (am_state_check), so that what the CLI refuses and what the
 * state would ignore are one and the same; a refused entry is never signed.
 */
#include <string.h>

#include "amends/entry.h"
#include "amends/state.h"
#include "write.h"

int
cli_write(struct cli *c, const uint8_t circle_in[static 32],
	const struct am_body *body, uint8_t *hash)
{
	const uint8_t *me = am_identity_public(c->id);
	uint8_t circle[32];
	char why[256] = "";
	int rc;

	if (body->kind == AM_KIND_GENESIS)
		am_circle_id(me, body->nonce, circle);
	else
		memcpy(circle, circle_in, 32);
	int64_t now = cli_now_ms();
	rc = am_state_check(c->store, circle, me, body, why, sizeof why);
	if (rc == AM_OK)
		rc = am_state_check_time(now, why, sizeof why);
	if (rc != AM_OK) {
		if (why[0] != '\0')
			return cli_error("%s", why);
		return cli_fail("checking the entry", rc);
	}
	rc = am_store_append(c->store, c->id, circle, now, body, hash, NULL);
	if (rc == AM_ERR_FIELD)
		return cli_error("the entry would hold a value out of range; "
			"nothing was written");
	if (rc != AM_OK)
		return cli_fail("writing the entry", rc);
	return 0;
}
