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

/*
 * Nothing here waits: the node takes a connection only as far as the
 * bytes already there allow, keeps what it has not sent yet, and goes on
 * at its next turn (each nudge and each tick). A connection that says
 * nothing, or does not read what it asked for, costs a slot until its
 * deadline, never the loop's time.
 */
#define ASK_READ_MS 2000          /* to send the question */
#define ASK_DRAIN_MS 5000         /* to read the last of the answer */
#define ASK_OUT_MAX (4u << 20)    /* answer bytes kept for one command */

/* Sends what c holds without waiting; false when the command is gone. */
static bool
ask_flush(struct ask_conn *c)
{
	while (c->sent < c->nout) {
		ssize_t put = send(c->fd, c->out + c->sent, c->nout - c->sent,
			MSG_DONTWAIT | MSG_NOSIGNAL);
		if (put < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return true;
		if (put <= 0)
			return false;
		c->sent += (size_t)put;
	}
	c->sent = c->nout = 0;
	return true;
}

/* Frees c's slot; a peer that was asked for it sees the generation move
 * on (asker_live) and stops relaying. */
static void
ask_drop(struct ask_conn *c)
{
	unsigned gen = c->gen + 1;
	close(c->fd);
	free(c->out);
	memset(c, 0, sizeof *c);
	c->fd = -1;
	c->gen = gen;
}

/* Whether a command still waits on p's answer. */
static bool
asker_live(const struct peer *p)
{
	return p->asking && p->asker != NULL && p->asker->state == ASK_WAITING &&
		p->asker->gen == p->asker_gen;
}

/* Queues one frame for the command: a 4-byte big-endian length and the
 * message; false (and c dropped) when it cannot take more. */
static bool
ask_frame(struct ask_conn *c, const uint8_t *msg, size_t len)
{
	if (len > ASK_OUT_MAX - 4 || c->nout > ASK_OUT_MAX - 4 - len) {
		ask_drop(c);
		return false;
	}
	if (c->nout + 4 + len > c->cap) {
		size_t cap = c->nout + 4 + len;
		uint8_t *out = realloc(c->out, cap);
		if (out == NULL) {
			ask_drop(c);
			return false;
		}
		c->out = out;
		c->cap = cap;
	}
	uint8_t *p = c->out + c->nout;
	p[0] = (uint8_t)(len >> 24);
	p[1] = (uint8_t)(len >> 16);
	p[2] = (uint8_t)(len >> 8);
	p[3] = (uint8_t)len;
	memcpy(p + 4, msg, len);
	c->nout += 4 + len;
	if (!ask_flush(c)) {
		ask_drop(c);
		return false;
	}
	return true;
}

/* Answers with DONE (code AM_OK) or an ERROR saying text, then closes
 * once the command has read it (or its drain deadline passes). */
static void
ask_close(struct ask_conn *c, int code, const char *text)
{
	struct am_sync_msg *m = calloc(1, sizeof *m);
	uint8_t *buf;
	size_t len;
	if (m != NULL) {
		m->type = code == AM_OK ? AM_SYNC_DONE : AM_SYNC_ERROR;
		m->code = (uint64_t)code;
		m->text = am_str_c(text);
		if (am_sync_msg_encode(m, &buf, &len) == AM_OK) {
			bool ok = ask_frame(c, buf, len);
			free(buf);
			if (!ok) {
				free(m);
				return;     /* dropped */
			}
		}
		free(m);
	}
	c->state = ASK_CLOSING;
	c->until = node_mono_ms() + ASK_DRAIN_MS;
	if (c->nout == 0)
		ask_drop(c);
}

void
node_ask_finish(struct peer *p, int code, const char *text)
{
	if (asker_live(p))
		ask_close(p->asker, code, text);
	p->asking = false;
	p->asker = NULL;
}

/* The question c has read whole: ask the peer, or answer at once. */
static void
ask_question(struct node *n, struct ask_conn *c)
{
	if (c->req[0] != 'H') {
		ask_close(c, AM_ERR_ARG, "not a question this node knows");
		return;
	}
	struct peer *p = node_peer_by_id(n, c->req + 1);
	if (p == NULL) {
		ask_close(c, AM_ERR_NOT_FOUND, "that ID shares no circle "
			"with this node");
	} else if (p->sync == NULL || !node_reachable(p)) {
		ask_close(c, AM_ERR_UNREACHABLE, "the peer's node is not "
			"connected to this node now");
	} else if (asker_live(p)) {
		ask_close(c, AM_ERR_AGAIN, "another command is asking that "
			"peer already");
	} else if (am_sync_ask_heads(p->sync) != AM_OK) {
		ask_close(c, AM_ERR_NOMEM, "out of memory");
	} else {
		c->state = ASK_WAITING;
		p->asking = true;
		p->asker = c;
		p->asker_gen = c->gen;
		p->ask_until = node_mono_ms() + AM_NODE_ASK_MS;
		p->idle = false;
	}
}

/* Takes what the local socket and its connections have for us now: new
 * connections into free slots, the bytes of their questions, the rest of
 * the answers; and lets go of those past their deadlines. */
void
node_ask_accept(struct node *n)
{
	int64_t now = node_mono_ms();
	for (size_t i = 0; i < ASK_CONNS; i++) {
		struct ask_conn *c = &n->ask[i];
		if (c->state == ASK_FREE) {
			if (n->ask_fd < 0)
				continue;
			int fd = accept4(n->ask_fd, NULL, NULL,
				SOCK_CLOEXEC | SOCK_NONBLOCK);
			if (fd < 0)
				continue;
			memset(c, 0, sizeof *c);
			c->fd = fd;
			c->state = ASK_READING;
			c->until = now + ASK_READ_MS;
		}
		if (c->state == ASK_READING) {
			ssize_t got = recv(c->fd, c->req + c->got,
				sizeof c->req - c->got, MSG_DONTWAIT);
			if (got > 0)
				c->got += (size_t)got;
			if (c->got == sizeof c->req)
				ask_question(n, c);
			else if (got == 0 || (got < 0 && errno != EAGAIN &&
			    errno != EWOULDBLOCK))
				ask_drop(c);
			else if (now >= c->until)
				ask_close(c, AM_ERR_ARG, "no question in time");
		} else if (c->state != ASK_FREE && c->nout > 0 && !ask_flush(c)) {
			ask_drop(c);
		} else if (c->state == ASK_CLOSING &&
		    (c->nout == 0 || now >= c->until)) {
			ask_drop(c);
		}
	}
}

/* Questions the peer left unanswered too long. */
void
node_ask_expire(struct node *n)
{
	int64_t now = node_mono_ms();
	for (size_t i = 0; i < n->npeers; i++) {
		struct peer *p = &n->peers[i];
		if (p->asking && !asker_live(p))
			p->asking = false;      /* the command went away */
		else if (p->asking && now >= p->ask_until)
			node_ask_finish(p, AM_ERR_UNREACHABLE, "the peer's "
				"node did not answer in time");
	}
}

/* A message from p while a command waits for its heads: HEADS go on to
 * the command as they are. */
void
node_ask_relay(struct peer *p, const uint8_t *data, size_t len)
{
	struct am_sync_msg *m;
	if (!asker_live(p)) {
		p->asking = false;
		return;
	}
	if ((m = malloc(sizeof *m)) == NULL)
		return;
	if (am_sync_msg_decode(data, len, m) == AM_OK && m->type == AM_SYNC_HEADS)
		(void)ask_frame(p->asker, data, len);   /* drops it on failure */
	free(m);
}

void
node_ask_close_all(struct node *n)
{
	for (size_t i = 0; i < ASK_CONNS; i++)
		if (n->ask[i].state != ASK_FREE)
			ask_drop(&n->ask[i]);
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
