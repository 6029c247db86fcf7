/*
 * Tests of identities: the key file refuses loose modes, links and damage;
 * the ID text form round-trips and catches typos.
 */
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "amends/id.h"
#include "fixture.h"
#include "test.h"

static const char *dir;

static void
test_save_load(void)
{
	struct am_identity *a, *b;
	char p[FX_PATH_MAX];
	struct stat st;
	fx_path("id.key", p);
	check_rc(am_identity_generate(&a), AM_OK);
	check_rc(am_identity_save(a, p), AM_OK);
	check(stat(p, &st) == 0 && (st.st_mode & 0777) == 0600);
	check_rc(am_identity_save(a, p), AM_ERR_EXISTS);
	check_rc(am_identity_load(p, &b), AM_OK);
	check(memcmp(am_identity_public(a), am_identity_public(b), AM_ID_BYTES) == 0);

	uint8_t sig[AM_SIG_BYTES];
	am_identity_sign(b, (const uint8_t *)"x", 1, sig);
	check(crypto_sign_verify_detached(sig, (const uint8_t *)"x", 1,
		am_identity_public(a)) == 0);
	am_identity_destroy(&a);
	am_identity_destroy(&b);
	am_identity_destroy(&b);    /* a second destroy does nothing */
	check(b == NULL);
}

static void
test_loose_modes_refused(void)
{
	struct am_identity *id = NULL;
	char p[FX_PATH_MAX];
	fx_path("id.key", p);
	static const mode_t loose[] = { 0640, 0604, 0644, 0660, 0606, 0620 };
	for (size_t i = 0; i < sizeof loose / sizeof loose[0]; i++) {
		check(chmod(p, loose[i]) == 0);
		check_rc(am_identity_load(p, &id), AM_ERR_KEY_PERMS);
		check(id == NULL);
	}
	check(chmod(p, 0600) == 0);
	check_rc(am_identity_load(p, &id), AM_OK);
	am_identity_destroy(&id);
}

static void
test_link_and_damage_refused(void)
{
	struct am_identity *id = NULL;
	char p[FX_PATH_MAX], link[FX_PATH_MAX], bad[FX_PATH_MAX];
	fx_path("id.key", p);
	fx_path("link.key", link);
	fx_path("bad.key", bad);
	check(symlink(p, link) == 0);
	check_rc(am_identity_load(link, &id), AM_ERR_KEY_LINK);
	check_rc(am_identity_load(dir, &id), AM_ERR_KEY_LINK);

	/* every single-byte change of the file is caught */
	uint8_t buf[128];
	int fd = open(p, O_RDONLY);
	ssize_t n = read(fd, buf, sizeof buf);
	close(fd);
	check(n == 72);
	for (ssize_t i = 0; i < n; i++) {
		buf[i] ^= 0x10;
		unlink(bad);
		fd = open(bad, O_WRONLY | O_CREAT, 0600);
		check(write(fd, buf, (size_t)n) == n);
		close(fd);
		check_rc(am_identity_load(bad, &id), AM_ERR_KEY_FORMAT);
		buf[i] ^= 0x10;
	}
	/* truncated */
	unlink(bad);
	fd = open(bad, O_WRONLY | O_CREAT, 0600);
	check(write(fd, buf, 40) == 40);
	close(fd);
	check_rc(am_identity_load(bad, &id), AM_ERR_KEY_FORMAT);
	fx_path("missing.key", bad);
	check_rc(am_identity_load(bad, &id), AM_ERR_NO_IDENTITY);
}

static void
test_text_form(void)
{
	uint8_t pk[AM_ID_BYTES], back[AM_ID_BYTES];
	char text[AM_ID_TEXT_BYTES], fpr[AM_FPR_TEXT_BYTES];
	for (int round = 0; round < 200; round++) {
		/* fixed keys, so that the typo check is deterministic */
		crypto_generichash(pk, sizeof pk, (const uint8_t *)&round,
			sizeof round, NULL, 0);
		am_id_format(pk, text);
		check(strlen(text) == 58 && text[0] == 'a' && text[1] == 'm');
		check_rc(am_id_parse(text, back), AM_OK);
		check(memcmp(pk, back, sizeof pk) == 0);
		/* upper case is the same ID */
		char upper[AM_ID_TEXT_BYTES];
		for (int i = 0; i < 59; i++)
			upper[i] = (char)(text[i] >= 'a' && text[i] <= 'z' ?
				text[i] - 32 : text[i]);
		check_rc(am_id_parse(upper, back), AM_OK);
		check(memcmp(pk, back, sizeof pk) == 0);
		/* any one changed character is caught */
		for (int i = 2; i < 58; i++) {
			char typo[AM_ID_TEXT_BYTES];
			memcpy(typo, text, sizeof typo);
			typo[i] = text[i] == 'x' ? 'y' : 'x';
			int rc = am_id_parse(typo, back);
			check(rc == AM_ERR_ID_CHECKSUM || rc == AM_ERR_ID_FORMAT);
		}
	}
	check_rc(am_id_parse("hello", back), AM_ERR_ID_FORMAT);
	check_rc(am_id_parse("", back), AM_ERR_ID_FORMAT);
	am_id_fingerprint(pk, fpr);
	check(strlen(fpr) == 9 && fpr[4] == '-');

	/* the safety number: 7 groups of 5 digits, and its text round-trips
	 * however a person types it */
	char sn[AM_FPR_LONG_TEXT_BYTES], again[AM_FPR_LONG_TEXT_BYTES];
	am_id_safety_number(pk, sn);
	check(strlen(sn) == 41);
	for (int i = 0; i < 41; i++)
		check(i % 6 == 5 ? sn[i] == ' ' : sn[i] >= '0' && sn[i] <= '9');
	check_rc(am_safety_number_parse(sn, again), AM_OK);
	check(strcmp(sn, again) == 0);
	char typed[64] = { 0 };
	size_t t = 0;
	for (int i = 0; i < 41; i++)
		if (sn[i] != ' ') {
			typed[t++] = sn[i];
			if (t % 3 == 0)
				typed[t++] = '-';
		}
	check_rc(am_safety_number_parse(typed, again), AM_OK);
	check(strcmp(sn, again) == 0);
	check_rc(am_safety_number_parse("12345 67890", again), AM_ERR_ID_FORMAT);
	check_rc(am_safety_number_parse("", again), AM_ERR_ID_FORMAT);
	char longer[64];
	snprintf(longer, sizeof longer, "%s 1", sn);
	check_rc(am_safety_number_parse(longer, again), AM_ERR_ID_FORMAT);
	snprintf(longer, sizeof longer, "%.40sx", sn);
	check_rc(am_safety_number_parse(longer, again), AM_ERR_ID_FORMAT);
	/* another key, another number */
	uint8_t other[AM_ID_BYTES];
	memcpy(other, pk, sizeof other);
	other[0] ^= 1;
	am_id_safety_number(other, again);
	check(strcmp(sn, again) != 0);
}

static void
test_backup(void)
{
	struct am_identity *a, *b = NULL;
	uint8_t buf[AM_BACKUP_BYTES];
	check_rc(am_identity_generate(&a), AM_OK);
	check_rc(am_identity_backup(a, "correct horse", 13, buf), AM_OK);
	check_rc(am_identity_restore(buf, sizeof buf, "correct horse", 13, &b), AM_OK);
	check(memcmp(am_identity_public(a), am_identity_public(b), AM_ID_BYTES) == 0);
	am_identity_destroy(&b);
	/* the sealed key pair is not readable in the file */
	for (size_t i = 0; i + 8 <= sizeof buf; i++)
		check(memcmp(buf + i, am_identity_public(a), 8) != 0);
	check_rc(am_identity_restore(buf, sizeof buf, "wrong horse", 11, &b),
		AM_ERR_PASSPHRASE);
	check(b == NULL);
	/* altered anywhere in the sealed part: refused as such */
	for (size_t i = 17; i < sizeof buf; i += 29) {
		buf[i] ^= 1;
		check_rc(am_identity_restore(buf, sizeof buf, "correct horse", 13, &b),
			AM_ERR_PASSPHRASE);
		buf[i] ^= 1;
	}
	/* a header asking for absurd work, a truncated file, another format */
	uint8_t evil[AM_BACKUP_BYTES];
	memcpy(evil, buf, sizeof evil);
	evil[13] = 0xff;
	check_rc(am_identity_restore(evil, sizeof evil, "x", 1, &b), AM_ERR_KEY_FORMAT);
	check_rc(am_identity_restore(buf, sizeof buf - 1, "x", 1, &b), AM_ERR_KEY_FORMAT);
	memcpy(evil, buf, sizeof evil);
	evil[0] = 'X';
	check_rc(am_identity_restore(evil, sizeof evil, "x", 1, &b), AM_ERR_KEY_FORMAT);
	am_identity_destroy(&a);
}

int
main(void)
{
	check(sodium_init() >= 0);
	dir = fx_dir_make("id");
	test_save_load();
	test_loose_modes_refused();
	test_link_and_damage_refused();
	test_text_form();
	test_backup();
	fx_dir_remove();
	printf("id: ok\n");
	return 0;
}
