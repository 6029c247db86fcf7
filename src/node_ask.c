/*
 * The node's answers to local commands (AM_NODE_ASK): a command that wants
 * a peer's heads as they are now asks the running node, which asks the
 * peer on its live session and relays the answer, rather than opening a
 * session of its own. The command's side, am_node_ask_heads, is here too.
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "amends/home.h"
#include "amends/node.h"
#include "amends/sync.h"
#include "node_impl.h"

/*
 * A command asks on a local stream socket: one byte 'H' and a peer's ID.
 * The answer is a run of frames, each a 4-byte big-endian length and one
 * sync message: the peer's HEADS as they come, then DONE, or an ERROR
 * with a code and a sentence, after which the node closes the socket.
 */

/* Writes one frame to a command; false when it cannot take it (the
 * socket's send timeout bounds the wait). */
static bool
ask_frame(int fd, const uint8_t *msg, size_t len)
{
	uint8_t head[4] = { (uint8_t)(len >> 24), (uint8_t)(len >> 16),
		(uint8_t)(len >> 8), (uint8_t)len };
	struct iovec iov[2] = { { head, 4 }, { (void *)msg, len } };
	struct msghdr mh = { .msg_iov = iov, .msg_iovlen = 2 };
	size_t left = 4 + len;
	while (left > 0) {
		ssize_t put = sendmsg(fd, &mh, MSG_NOSIGNAL);
		if (put <= 0)
			return false;
		left -= (size_t)put;
		while (mh.msg_iovlen > 0 && (size_t)put >= mh.msg_iov[0].iov_len) {
			put -= (ssize_t)mh.msg_iov[0].iov_len;
			mh.msg_iov++;
			mh.msg_iovlen--;
		}
		if (mh.msg_iovlen > 0) {
			mh.msg_iov[0].iov_base = (uint8_t *)mh.msg_iov[0].iov_base + put;
			mh.msg_iov[0].iov_len -= (size_t)put;
		}
	}
	return true;
}

/* Ends a command's question on fd: DONE when code is AM_OK, else an
 * ERROR saying text; closes fd. */
static void
ask_close(int fd, int code, const char *text)
{
	struct am_sync_msg *m = calloc(1, sizeof *m);
	uint8_t *buf;
	size_t len;
	if (m != NULL) {
		m->type = code == AM_OK ? AM_SYNC_DONE : AM_SYNC_ERROR;
		m->code = (uint64_t)code;
		m->text = am_str_c(text);
		if (am_sync_msg_encode(m, &buf, &len) == AM_OK) {
			(void)ask_frame(fd, buf, len);
			free(buf);
		}
		free(m);
	}
	close(fd);
}

void
node_ask_finish(struct peer *p, int code, const char *text)
{
	if (!p->asking)
		return;
	p->asking = false;
	ask_close(p->asker, code, text);
}

/* Takes the questions waiting on the local socket: each asks a connected
 * peer for its heads on the live session, or is answered at once. */
void
node_ask_accept(struct node *n)
{
	for (int k = 0; n->ask_fd >= 0 && k < 8; k++) {
		uint8_t req[1 + AM_ID_BYTES];
		struct timeval tv = { .tv_sec = 1 };
		int fd = accept4(n->ask_fd, NULL, NULL, SOCK_CLOEXEC);
		if (fd < 0)
			return;
		/* a command writes its question before it wakes us, so this
		 * takes no time; the timeouts bound one that does not */
		struct pollfd pf = { .fd = fd, .events = POLLIN };
		if (setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv) != 0 ||
		    poll(&pf, 1, 500) != 1 ||
		    recv(fd, req, sizeof req, MSG_WAITALL | MSG_DONTWAIT) !=
		    (ssize_t)sizeof req || req[0] != 'H') {
			ask_close(fd, AM_ERR_ARG, "not a question this node knows");
			continue;
		}
		struct peer *p = node_peer_by_id(n, req + 1);
		if (p == NULL) {
			ask_close(fd, AM_ERR_NOT_FOUND, "that ID shares no circle "
				"with this node");
		} else if (p->sync == NULL || !node_reachable(p)) {
			ask_close(fd, AM_ERR_UNREACHABLE, "the peer's node is not "
				"connected to this node now");
		} else if (p->asking) {
			ask_close(fd, AM_ERR_AGAIN, "another command is asking that "
				"peer already");
		} else if (am_sync_ask_heads(p->sync) != AM_OK) {
			ask_close(fd, AM_ERR_NOMEM, "out of memory");
		} else {
			p->asking = true;
			p->asker = fd;
			p->ask_until = node_mono_ms() + AM_NODE_ASK_MS;
			p->idle = false;
		}
	}
}

/* Questions the peer left unanswered too long. */
void
node_ask_expire(struct node *n)
{
	int64_t now = node_mono_ms();
	for (size_t i = 0; i < n->npeers; i++)
		if (n->peers[i].asking && now >= n->peers[i].ask_until)
			node_ask_finish(&n->peers[i], AM_ERR_UNREACHABLE, "the peer's "
				"node did not answer in time");
}

/* A message from p while a command waits for its heads: HEADS go on to
 * the command as they are. */
void
node_ask_relay(struct peer *p, const uint8_t *data, size_t len)
{
	struct am_sync_msg *m;
	if (!p->asking || (m = malloc(sizeof *m)) == NULL)
		return;
	if (am_sync_msg_decode(data, len, m) == AM_OK && m->type == AM_SYNC_HEADS &&
	    !ask_frame(p->asker, data, len)) {
		p->asking = false;
		close(p->asker);
	}
	free(m);
}

void
node_ask_listen(struct node *n, const char *home)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	char *path = am_home_path(home, AM_NODE_ASK);
	n->ask_fd = -1;
	if (path == NULL || strlen(path) >= sizeof sun.sun_path)
		goto fail;
	memcpy(sun.sun_path, path, strlen(path) + 1);
	unlink(path);       /* a stale socket of a node that died */
	n->ask_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (n->ask_fd < 0 || bind(n->ask_fd, (struct sockaddr *)&sun, sizeof sun) != 0 ||
	    listen(n->ask_fd, 8) != 0)
		goto fail;
	n->ask_path = path;
	return;
fail:
	if (n->ask_fd >= 0)
		close(n->ask_fd);
	n->ask_fd = -1;
	free(path);
	node_log(n, "no local socket for questions (path too long?): verify --with "
		"cannot ask through this node");
}

/* Reads exactly len bytes from fd by the deadline (node_mono_ms). */
static int
read_by(int fd, uint8_t *buf, size_t len, int64_t until)
{
	while (len > 0) {
		struct pollfd pf = { .fd = fd, .events = POLLIN };
		int64_t left = until - node_mono_ms();
		if (left <= 0 || poll(&pf, 1, (int)left) != 1)
			return AM_ERR_UNREACHABLE;
		ssize_t got = recv(fd, buf, len, 0);
		if (got <= 0)
			return AM_ERR_UNREACHABLE;
		buf += got;
		len -= (size_t)got;
	}
	return AM_OK;
}

int
am_node_ask_heads(const char *home, const uint8_t peer[static AM_ID_BYTES],
	int timeout_ms, int (*fn)(void *ctx, const struct am_sync_msg *m),
	void *ctx, char why[static 201])
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	struct am_sync_msg *m = malloc(sizeof *m);
	uint8_t req[1 + AM_ID_BYTES] = { 'H' }, *buf = NULL;
	char *path = am_home_path(home, AM_NODE_ASK);
	int64_t until = node_mono_ms() + timeout_ms;
	int fd = -1, rc = AM_ERR_NOMEM;

	snprintf(why, 201, "out of memory");
	if (m == NULL || path == NULL)
		goto out;
	rc = AM_ERR_UNREACHABLE;
	snprintf(why, 201, "the node does not answer on its local socket");
	if (strlen(path) >= sizeof sun.sun_path)
		goto out;
	memcpy(sun.sun_path, path, strlen(path) + 1);
	memcpy(req + 1, peer, AM_ID_BYTES);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sun, sizeof sun) != 0 ||
	    send(fd, req, sizeof req, MSG_NOSIGNAL) != (ssize_t)sizeof req)
		goto out;
	am_node_nudge(home);
	for (;;) {
		uint8_t head[4];
		if (read_by(fd, head, 4, until) != AM_OK) {
			snprintf(why, 201, "the node gave no answer in time");
			goto out;
		}
		size_t len = (size_t)head[0] << 24 | (size_t)head[1] << 16 |
			(size_t)head[2] << 8 | head[3];
		if (len > AM_SYNC_MAX_MSG || (buf = malloc(len > 0 ? len : 1)) == NULL ||
		    read_by(fd, buf, len, until) != AM_OK ||
		    am_sync_msg_decode(buf, len, m) != AM_OK) {
			snprintf(why, 201, "the node's answer is damaged");
			goto out;
		}
		if (m->type == AM_SYNC_DONE) {
			rc = AM_OK;
			goto out;
		}
		if (m->type == AM_SYNC_ERROR) {
			size_t k = 0;
			/* printable ASCII only, as any text from outside */
			for (size_t i = 0; i < m->text.n && k < 200; i++) {
				char ch = m->text.p[i];
				why[k++] = ch >= 0x20 && ch < 0x7f ? ch : '?';
			}
			why[k] = '\0';
			rc = m->code > 0 && m->code < INT32_MAX ? (int)m->code :
				AM_ERR_REFUSED;
			goto out;
		}
		if (m->type == AM_SYNC_HEADS && (rc = fn(ctx, m)) != AM_OK) {
			snprintf(why, 201, "%s", am_strerror(rc));
			goto out;
		}
		free(buf);
		buf = NULL;
	}
out:
	if (fd >= 0)
		close(fd);
	free(buf);
	free(path);
	free(m);
	return rc;
}
