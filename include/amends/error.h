/*
 * Error codes of libamends. Every function that can fail returns AM_OK or one
 * of these; am_strerror() turns a code into a sentence for a person.
 * Codes are appended, never renumbered: they may be logged or stored.
 */
#ifndef AMENDS_ERROR_H
#define AMENDS_ERROR_H

#if defined(__GNUC__)
#define AM_NODISCARD __attribute__((warn_unused_result))
#else
#define AM_NODISCARD
#endif

enum am_error {
	AM_OK = 0,
	AM_ERR_NOMEM = 1,          /* out of memory */
	AM_ERR_IO = 2,             /* a file could not be read or written */
	AM_ERR_ARG = 3,            /* invalid argument from the caller */

	/* decoding (untrusted bytes) */
	AM_ERR_TRUNCATED = 10,     /* input ends inside a value */
	AM_ERR_TOO_BIG = 11,       /* input larger than its limit */
	AM_ERR_TYPE = 12,          /* a value of the wrong msgpack type */
	AM_ERR_TRAILING = 13,      /* bytes after the one top-level value */
	AM_ERR_DEPTH = 14,         /* nesting deeper than allowed */
	AM_ERR_LENGTH = 15,        /* a length header longer than the input */
	AM_ERR_COUNT = 16,         /* wrong number of fields or elements */
	AM_ERR_NONCANON = 17,      /* not the smallest encoding */
	AM_ERR_UTF8 = 18,          /* a string that is not valid UTF-8 or holds NUL */
	AM_ERR_VERSION = 19,       /* unknown format version */
	AM_ERR_KIND = 20,          /* unknown entry kind */
	AM_ERR_FIELD = 21,         /* a field out of its allowed range */

	/* entries and feeds */
	AM_ERR_SIGNATURE = 30,     /* signature does not verify */
	AM_ERR_CHAIN = 31,         /* previous hash does not match the feed */
	AM_ERR_GAP = 32,           /* the previous entry of the feed is missing */
	AM_ERR_FORK = 33,          /* a different entry exists at this number */
	AM_ERR_NOT_FOUND = 34,     /* no such object */
	AM_ERR_AMBIGUOUS = 35,     /* a prefix matches several objects */

	/* identity and data directory */
	AM_ERR_KEY_PERMS = 40,     /* key file readable by group or others */
	AM_ERR_KEY_FORMAT = 41,    /* key file damaged or of unknown format */
	AM_ERR_EXISTS = 42,        /* an identity already exists */
	AM_ERR_NO_IDENTITY = 43,   /* no identity in the data directory */
	AM_ERR_ID_CHECKSUM = 44,   /* an ID text whose checksum does not match */
	AM_ERR_ID_FORMAT = 45,     /* text that is not an ID */
	AM_ERR_KEY_LINK = 46,      /* key file is a symbolic link or not a file */
	AM_ERR_HOME_PERMS = 47,    /* data directory open to group or others */
	AM_ERR_HOME_OWNER = 48,    /* data directory owned by another user */

	/* store */
	AM_ERR_DB = 50,            /* the database reported an error */
	AM_ERR_DB_BUSY = 51,       /* the database stayed locked too long */
	AM_ERR_DB_FULL = 52,       /* the disk is full */
	AM_ERR_DB_SCHEMA = 53,     /* not an amends database, or a newer one */
	AM_ERR_DB_CORRUPT = 54,    /* the database file is damaged */

	/* key backup and restore */
	AM_ERR_PASSPHRASE = 60,    /* wrong passphrase, or the backup was altered */
	AM_ERR_RESTORING = 61,     /* restored identity has not caught up its own feed */
	AM_ERR_WEAK_PASSPHRASE = 62, /* a passphrase below the minimum strength */
	AM_ERR_OWN_FORK = 63,      /* this identity's own feed in the circle forked */
	AM_ERR_OWN_BEHIND = 64,    /* a peer served an entry of our own feed we lack */

	/* schedules */
	AM_ERR_ZONE = 70,          /* unknown time zone, or damaged zone data */
	AM_ERR_PERIOD = 71,        /* not a period of the agreement's schedule */

	/* transport, node and invites */
	AM_ERR_AGAIN = 90,         /* the peer is not reading now; try later */
	AM_ERR_UNREACHABLE = 91,   /* no connection to that peer */
	AM_ERR_NET = 92,           /* the network layer failed (bad or busy address) */
	AM_ERR_LOCKED = 93,        /* another node runs on this data directory */
	AM_ERR_SELFTEST = 94,      /* the server let a stranger's key in */
	AM_ERR_INVITE_CODE = 95,   /* not an invite code, or one with a typo */
	AM_ERR_INVITE_EXPIRED = 96, /* the invite has expired */
	AM_ERR_INVITE_USED = 97,   /* the invite was already used */
	AM_ERR_REFUSED = 98,       /* the peer refused the request */
	AM_ERR_NO_ZMQ = 99,        /* libzmq could not be loaded */

	/* sync protocol */
	AM_ERR_MSG_TYPE = 100,     /* a sync message of unknown type */
	AM_ERR_UNSOLICITED = 101,  /* a sync message that was not asked for */
	AM_ERR_FLOW = 102,         /* the peer exceeded its flow-control window */
	AM_ERR_NOT_SHARED = 103,   /* the circle is not shared with that peer */
	AM_ERR_BATCH = 104,        /* a batch mixes feeds or is not one run */

	/* shared state */
	AM_ERR_NOT_MEMBER = 110,   /* the author is not a member of the circle */
	AM_ERR_RULE = 111,         /* the entry would break a rule of the circle */
	AM_ERR_NO_GENESIS = 112,   /* the circle's first entry is not here yet */

	/* verifiable exports */
	AM_ERR_NO_MANIFEST = 120, /* an export without a signed manifest */
	AM_ERR_MANIFEST = 121,     /* the manifest does not match the file */
	AM_ERR_ORDER = 122,        /* entries out of canonical order */
	AM_ERR_UNNAMED = 123,      /* an entry the manifest does not name */
	AM_ERR_CUT = 124,          /* a feed ends before the entry the manifest names */

	/* invites, continued */
	AM_ERR_INVITE_REVOKED = 130, /* the invite was revoked by its maker */
	/* bounded cost */
	AM_ERR_CAP = 131,          /* past its author's cap (protocol/state.md, "Caps") */
};

/* Returns a sentence (lowercase, no final full stop) describing rc. Never
 * NULL; the string is static. */
const char *am_strerror(int rc);

#endif
