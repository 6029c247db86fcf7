/*
 * Messages for the error codes of include/amends/error.h. The switch has no
 * default so that the compiler flags a code without a message.
 */
#include "amends/error.h"

static const char *
message(enum am_error rc)
{
	switch (rc) {
	case AM_OK: return "success";
	case AM_ERR_NOMEM: return "out of memory";
	case AM_ERR_IO: return "a file could not be read or written";
	case AM_ERR_ARG: return "invalid argument";
	case AM_ERR_TRUNCATED: return "input is truncated";
	case AM_ERR_TOO_BIG: return "input is larger than its limit";
	case AM_ERR_TYPE: return "a value has the wrong type";
	case AM_ERR_TRAILING: return "unexpected bytes after the end of the value";
	case AM_ERR_DEPTH: return "values are nested too deeply";
	case AM_ERR_LENGTH: return "a length header claims more bytes than the input holds";
	case AM_ERR_COUNT: return "wrong number of fields or elements";
	case AM_ERR_NONCANON: return "value is not in its smallest encoding";
	case AM_ERR_UTF8: return "text is not valid UTF-8 or contains a NUL byte";
	case AM_ERR_VERSION: return "unknown format version";
	case AM_ERR_KIND: return "unknown entry kind";
	case AM_ERR_FIELD: return "a field is out of its allowed range";
	case AM_ERR_SIGNATURE: return "signature does not verify";
	case AM_ERR_CHAIN: return "previous hash does not match the author's feed";
	case AM_ERR_GAP: return "the previous entry of the author's feed is missing";
	case AM_ERR_FORK: return "the author signed a different entry at this number (fork)";
	case AM_ERR_NOT_FOUND: return "not found";
	case AM_ERR_AMBIGUOUS: return "prefix matches more than one object";
	case AM_ERR_KEY_PERMS: return "key file is readable by group or others";
	case AM_ERR_KEY_FORMAT: return "key file is damaged or of an unknown format";
	case AM_ERR_EXISTS: return "an identity already exists here";
	case AM_ERR_NO_IDENTITY: return "no identity here; run amends init first";
	case AM_ERR_ID_CHECKSUM: return "ID checksum does not match; check for a typo";
	case AM_ERR_ID_FORMAT: return "not an amends ID";
	case AM_ERR_KEY_LINK: return "key file is a symbolic link or not a regular file";
	case AM_ERR_HOME_PERMS: return "the data directory can be read or written by others";
	case AM_ERR_HOME_OWNER: return "the data directory belongs to another user";
	case AM_ERR_DB: return "database error";
	case AM_ERR_DB_BUSY: return "database is locked by another process";
	case AM_ERR_DB_FULL: return "disk is full";
	case AM_ERR_DB_SCHEMA: return "not an amends database, or one made by a newer version";
	case AM_ERR_DB_CORRUPT: return "database file is damaged";
	case AM_ERR_PASSPHRASE: return "wrong passphrase, or the backup file was altered";
	case AM_ERR_RESTORING: return "this identity was restored and has not yet fetched "
		"its own latest entries in this circle from a peer; writing now could fork it";
	case AM_ERR_WEAK_PASSPHRASE: return "the passphrase is too weak";
	case AM_ERR_OWN_FORK: return "your feed in this circle has forked: two different "
		"entries of yours carry the same number (another copy of your data "
		"directory, or a restored key, wrote one), so every member ignores "
		"what you write here from that number on; nothing was written";
	case AM_ERR_OWN_BEHIND: return "a peer holds entries of your own feed in this "
		"circle that this node lacks (another copy of your data directory, or "
		"of your key, wrote them); nothing is written here until the node has "
		"fetched them, or the same number would be signed twice";
	case AM_ERR_ZONE: return "unknown time zone, or its zone data is damaged";
	case AM_ERR_PERIOD: return "not a period of the agreement's schedule";
	case AM_ERR_AGAIN: return "the peer is not reading now; try again later";
	case AM_ERR_UNREACHABLE: return "not connected to that peer";
	case AM_ERR_NET: return "the network address is unusable or already in use";
	case AM_ERR_LOCKED: return "another node is already running on this data directory";
	case AM_ERR_SELFTEST: return "the node's self-test found that a stranger's key "
		"was let in; refusing to run unprotected";
	case AM_ERR_INVITE_CODE: return "not an invite code, or it was not copied whole";
	case AM_ERR_INVITE_EXPIRED: return "the invite has expired; ask for a new one";
	case AM_ERR_INVITE_USED: return "the invite was already used; ask for a new one";
	case AM_ERR_INVITE_REVOKED: return "the invite was revoked by the member who made it; ask for a new one";
	case AM_ERR_REFUSED: return "the peer refused the request";
	case AM_ERR_NO_ZMQ: return "the ZeroMQ library (" AM_ZMQ_LIBRARY ") could not be "
		"loaded; install it (on Debian: apt-get install libzmq5)";
	case AM_ERR_MSG_TYPE: return "unknown sync message type";
	case AM_ERR_UNSOLICITED: return "the peer sent something that was not asked for";
	case AM_ERR_FLOW: return "the peer sent more requests than its window allows";
	case AM_ERR_NOT_SHARED: return "that circle is not shared with this peer";
	case AM_ERR_BATCH: return "a batch of entries is not one unbroken run of one feed";
	case AM_ERR_NOT_MEMBER: return "the author is not a member of the circle";
	case AM_ERR_NO_GENESIS: return "this node does not hold the circle's first entry yet";
	case AM_ERR_RULE: return "the entry would break a rule of the circle";
	case AM_ERR_NO_MANIFEST: return "the file has no signed manifest";
	case AM_ERR_MANIFEST: return "the file does not match its signed manifest";
	case AM_ERR_ORDER: return "the entries are not in canonical order";
	case AM_ERR_UNNAMED: return "the manifest does not name this entry";
	case AM_ERR_CUT: return "the feed ends before the entry the manifest names";
	case AM_ERR_CAP: return "the author's feed in this circle has reached its cap (of entries or of bytes)";
	}
	return "unknown error";
}

const char *
am_strerror(int rc)
{
	return message((enum am_error)rc);
}
