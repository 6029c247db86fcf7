/*
 * amends key backup: the identity, encrypted under a passphrase, in a file
 * to keep somewhere safe. `amends init --restore FILE` brings it back.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "amends/peer.h"
#include "amends/rotate.h"
#include "cli.h"
#include "rotate.h"

static const char usage[] =
	"usage: amends key backup -o FILE [--passphrase-fd N]\n"
	"       amends key rotate [--yes]\n\n"
	"rotate replaces this node's key with a new one in every circle you\n"
	"are in (amends key rotate --help says how).\n\n"
	"backup:\n"
	"Writes this node's identity, encrypted under a passphrase, to FILE,\n"
	"with the addresses of the peers it knows and your names for people:\n"
	"a node restored from it finds them again and, from them, the circles\n"
	"you are in. A later backup carries the peers met since.\n"
	"The passphrase is asked on the terminal, or read from the first line of\n"
	"file descriptor N. It must have at least 12 characters, at least 5 of\n"
	"them different: anyone holding FILE can try passphrases at leisure, so\n"
	"a few unrelated words make a good one. Restore it on a new machine\n"
	"with amends init --restore FILE.\n";

static int
write_file(const char *path, const uint8_t *data, size_t len)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0) {
		if (errno == EEXIST)
			return cli_error("%s already exists; not overwriting it", path);
		return cli_error("cannot create %s: %s", path, strerror(errno));
	}
	ssize_t n = write(fd, data, len);
	int ok = n == (ssize_t)len && fsync(fd) == 0;
	ok = close(fd) == 0 && ok;
	if (!ok) {
		unlink(path);
		return cli_error("cannot write %s", path);
	}
	return 0;
}

int
cmd_key(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "output", required_argument, NULL, 'o' },
		{ "passphrase-fd", required_argument, NULL, 'p' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *out = NULL;
	int fd = -1, opt, ret = 1;
	struct cli c = { 0 };
	char *pass = NULL, *book = NULL;
	uint8_t *backup = NULL;
	size_t booklen = 0, len = 0;

	if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
		cli_usage(argc < 2 ? stderr : stdout, usage);
		return argc < 2;
	}
	if (strcmp(argv[1], "rotate") == 0)
		return cli_key_rotate(argc - 1, argv + 1);
	if (strcmp(argv[1], "backup") != 0) {
		cli_usage(stderr, usage);
		return 1;
	}
	argc--;
	argv++;
	while ((opt = getopt_long(argc, argv, "o:h", opts, NULL)) != -1) {
		switch (opt) {
		case 'o': out = optarg; break;
		case 'p': fd = cli_fd_arg(optarg); if (fd < 0) return 1; break;
		case 'h': cli_usage(stdout, usage); return 0;
		default: cli_usage(stderr, usage); return 1;
		}
	}
	if (out == NULL || optind != argc) {
		cli_usage(stderr, usage);
		return 1;
	}
	if (cli_open(&c, CLI_IDENTITY | CLI_STORE) != 0)
		goto done;
	/* refuse before asking for a passphrase */
	if (access(out, F_OK) == 0) {
		cli_error("%s already exists; not overwriting it", out);
		goto done;
	}
	if ((pass = sodium_malloc(256)) == NULL) {
		cli_fail("key backup", AM_ERR_NOMEM);
		goto done;
	}
	if (cli_passphrase(fd, true, pass, 256) != 0)
		goto done;
	if (am_passphrase_check(pass, strlen(pass)) != AM_OK) {
		cli_error("the passphrase is too weak: use at least %d characters, "
			"at least %d of them different (a few unrelated words)",
			AM_PASSPHRASE_MIN, AM_PASSPHRASE_DISTINCT);
		goto done;
	}
	int rc = am_peer_book_encode(c.store, &book, &booklen);
	if (rc != AM_OK) {
		cli_fail("reading the peers' addresses and names", rc);
		goto done;
	}
	rc = am_identity_backup_book(c.id, pass, strlen(pass), (const uint8_t *)book,
		booklen, &backup, &len);
	if (rc != AM_OK) {
		cli_fail("key backup", rc);
		goto done;
	}
	if (write_file(out, backup, len) != 0)
		goto done;
	printf("identity backed up to %s; keep it and its passphrase apart\n", out);
	/* the key waiting in id.next.key is not in it (the format holds one) */
	struct am_identity *next = NULL;
	if (am_rotate_next(c.home, &next) == AM_OK)
		printf("a rotation is in progress: this backup holds your current "
			"key, not the new one; back up again once the node has "
			"switched to it\n");
	am_identity_destroy(&next);
	ret = 0;
done:
	free(book);
	free(backup);
	sodium_free(pass);
	cli_close(&c);
	return ret;
}
