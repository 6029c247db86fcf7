/*
 * faultproxy: a TCP relay on 127.0.0.1 that sits between two nodes and
 * breaks the link between them on command, for the fault tests (RELIABILITY
 * .md, "Fault harness on one machine"; this machine has no netem).
 *
 *   faultproxy --listen PORT --to PORT --control PATH [--seed N]
 *              [--port-file PATH]
 *   faultproxy ctl PATH COMMAND [ARG...]
 *
 * The relay accepts on 127.0.0.1:PORT (0 picks a free port, written to
 * --port-file and to stdout) and opens one connection to 127.0.0.1:--to for
 * each connection it accepts. Only loopback addresses are ever used.
 *
 * The control channel is a local socket at PATH: one line in, one line
 * out ("ok ..." or "error ..."). `faultproxy ctl` is its client. Commands:
 *
 *   pass                   forward everything at once
 *   delay MS JITTER        hold each chunk MS +- JITTER ms (order is kept)
 *   throttle BYTES_PER_S   at most this many bytes a second each way
 *   blackhole              forward nothing and read nothing, keep every
 *                          socket open: a partition, after which TCP
 *                          delivers what was held, as it would
 *   reset                  reset every connection, now and on arrival
 *   flap MIN_MS MAX_MS     forward, but reset every connection after a
 *                          random interval between MIN_MS and MAX_MS
 *   corrupt PER_MILLE      flip one random bit in that many chunks of
 *                          a thousand
 *   kill                   reset every connection once; the mode stays
 *   garble                 send the client of every connection, after what
 *                          is queued for it, the header of a ZMTP frame
 *                          longer than any node takes: bytes it cannot
 *                          parse, once; the mode stays
 *   flip                   flip the lowest bit of the last byte of the next
 *                          chunk sent to a client (in a CurveZMQ frame, its
 *                          authenticator), once; the mode stays
 *   stats                  mode, connections and bytes forwarded
 *
 * A delay and a throttle stay set until `pass`: `throttle` keeps the delay
 * set before it, `delay` keeps the throttle, and the other modes keep
 * both (a corrupting link may also be slow).
 * The proxy logs one line per event to stderr and stops on SIGTERM.
 */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>

#define MAX_CONNS 64
#define CHUNK_MAX 65536                /* bytes read at once */
#define QUEUE_MAX (4 * 1024 * 1024)    /* bytes held per direction */
#define LINE_MAX_ 256                  /* bytes of one control line */

enum mode {
	MODE_PASS,
	MODE_DELAY,
	MODE_THROTTLE,
	MODE_BLACKHOLE,
	MODE_RESET,
	MODE_FLAP,
	MODE_CORRUPT,
};

static const char *const mode_names[] = {
	[MODE_PASS] = "pass",
	[MODE_DELAY] = "delay",
	[MODE_THROTTLE] = "throttle",
	[MODE_BLACKHOLE] = "blackhole",
	[MODE_RESET] = "reset",
	[MODE_FLAP] = "flap",
	[MODE_CORRUPT] = "corrupt",
};

struct chunk {
	struct chunk *next;
	int64_t due;                 /* ms on the monotonic clock */
	size_t len, off;
	uint8_t data[];
};

/* One direction of a connection: bytes read from one socket, queued, and
 * written to the other. */
struct flow {
	struct chunk *head, *tail;
	size_t queued;
	int64_t last_due;            /* keeps delayed chunks in order */
	double tokens;               /* throttle: bytes that may go now */
	int64_t refill_at;
	bool eof;                    /* the source closed its side */
	bool shut;                   /* the end was passed on */
};

struct conn {
	int fd[2];                   /* 0: the client, 1: the target */
	bool connecting;             /* fd[1]'s connect has not finished */
	struct flow flow[2];         /* 0: client to target, 1: target to client */
};

struct proxy {
	int listen_fd, control_fd;
	uint16_t target_port;
	const char *control_path;
	enum mode mode;
	int delay_ms, jitter_ms;
	long rate;                   /* bytes a second each way, 0: no limit */
	int flap_min, flap_max;
	int64_t flap_at;
	int corrupt_per_mille;
	bool flip_next;              /* `flip` waits for a chunk to a client */
	uint64_t rng;
	struct conn conns[MAX_CONNS];
	size_t nconns;
	/* figures for `stats` */
	uint64_t accepted, resets, corrupted, bytes[2];
};

static volatile sig_atomic_t stopping;

static void
on_signal(int sig)
{
	(void)sig;
	stopping = 1;
}

static int64_t
now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void
logf_(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static void
logf_(const char *fmt, ...)
{
	va_list ap;
	fprintf(stderr, "faultproxy: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

/* xorshift64*: seeded, so a test run can be repeated */
static uint64_t
rng_next(struct proxy *p)
{
	p->rng ^= p->rng >> 12;
	p->rng ^= p->rng << 25;
	p->rng ^= p->rng >> 27;
	return p->rng * 2685821657736338717ULL;
}

/* A number in [lo, hi]. */
static int64_t
rng_between(struct proxy *p, int64_t lo, int64_t hi)
{
	if (hi <= lo)
		return lo;
	return lo + (int64_t)(rng_next(p) % (uint64_t)(hi - lo + 1));
}

static int
set_nonblocking(int fd)
{
	int fl = fcntl(fd, F_GETFL);
	return fl < 0 ? -1 : fcntl(fd, F_SETFL, fl | O_NONBLOCK);
}

static struct sockaddr_in
loopback(uint16_t port)
{
	struct sockaddr_in a;
	memset(&a, 0, sizeof a);
	a.sin_family = AF_INET;
	a.sin_port = htons(port);
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	return a;
}

/* ---- connections ---- */

static void
flow_clear(struct flow *f)
{
	while (f->head != NULL) {
		struct chunk *c = f->head;
		f->head = c->next;
		free(c);
	}
	memset(f, 0, sizeof *f);
}

/* Closes both sockets of c; with hard, as a reset (RST), not an orderly end. */
static void
conn_close(struct proxy *p, size_t i, bool hard)
{
	struct conn *c = &p->conns[i];
	for (int k = 0; k < 2; k++) {
		if (c->fd[k] < 0)
			continue;
		if (hard) {
			struct linger lg = { .l_onoff = 1, .l_linger = 0 };
			setsockopt(c->fd[k], SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
		}
		close(c->fd[k]);
	}
	flow_clear(&c->flow[0]);
	flow_clear(&c->flow[1]);
	p->conns[i] = p->conns[--p->nconns];
}

static void
reset_all(struct proxy *p, const char *why)
{
	size_t n = p->nconns;
	while (p->nconns > 0)
		conn_close(p, p->nconns - 1, true);
	p->resets += n;
	if (n > 0)
		logf_("reset %zu connection%s (%s)", n, n == 1 ? "" : "s", why);
}

static void
on_accept(struct proxy *p)
{
	int fd = accept(p->listen_fd, NULL, NULL);
	if (fd < 0)
		return;
	p->accepted++;
	if (p->mode == MODE_RESET || p->nconns == MAX_CONNS) {
		struct linger lg = { .l_onoff = 1, .l_linger = 0 };
		setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
		close(fd);
		p->resets++;
		return;
	}
	int up = socket(AF_INET, SOCK_STREAM, 0);
	if (up < 0 || set_nonblocking(fd) != 0 || set_nonblocking(up) != 0) {
		close(fd);
		if (up >= 0)
			close(up);
		return;
	}
	int one = 1;
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
	setsockopt(up, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
	struct sockaddr_in a = loopback(p->target_port);
	bool connecting = false;
	if (connect(up, (struct sockaddr *)&a, sizeof a) != 0) {
		if (errno != EINPROGRESS) {
			/* the target is down: the client sees its connection end */
			close(up);
			close(fd);
			return;
		}
		connecting = true;
	}
	struct conn *c = &p->conns[p->nconns++];
	memset(c, 0, sizeof *c);
	c->fd[0] = fd;
	c->fd[1] = up;
	c->connecting = connecting;
	int64_t t = now_ms();
	c->flow[0].refill_at = c->flow[1].refill_at = t;
}

static bool
throttled(const struct proxy *p)
{
	return p->rate > 0;
}

static bool
delayed(const struct proxy *p)
{
	return p->delay_ms > 0 || p->jitter_ms > 0;
}

/* Reads what the source of flow k has, queues it with its due time. Returns
 * false when the connection must be closed. */
static bool
flow_read(struct proxy *p, struct conn *c, int k)
{
	struct flow *f = &c->flow[k];
	uint8_t buf[CHUNK_MAX];
	ssize_t n = read(c->fd[k], buf, sizeof buf);
	if (n < 0)
		return errno == EAGAIN || errno == EINTR;
	if (n == 0) {
		f->eof = true;
		return true;
	}
	struct chunk *ch = malloc(sizeof *ch + (size_t)n);
	if (ch == NULL)
		return false;
	memcpy(ch->data, buf, (size_t)n);
	ch->len = (size_t)n;
	ch->off = 0;
	ch->next = NULL;
	int64_t t = now_ms(), due = t;
	if (delayed(p))
		due = t + rng_between(p, p->delay_ms - p->jitter_ms,
			p->delay_ms + p->jitter_ms);
	if (due < f->last_due)
		due = f->last_due;
	f->last_due = due;
	ch->due = due;
	if (p->mode == MODE_CORRUPT &&
	    rng_between(p, 0, 999) < p->corrupt_per_mille) {
		uint64_t bit = rng_next(p) % ((uint64_t)n * 8);
		ch->data[bit / 8] ^= (uint8_t)(1u << (bit % 8));
		p->corrupted++;
	}
	if (k == 1 && p->flip_next) {
		ch->data[n - 1] ^= 1;
		p->flip_next = false;
		p->corrupted++;
		logf_("flipped a bit of a chunk to a client");
	}
	if (f->tail != NULL)
		f->tail->next = ch;
	else
		f->head = ch;
	f->tail = ch;
	f->queued += (size_t)n;
	return true;
}

static void
refill(struct proxy *p, struct flow *f, int64_t t)
{
	if (!throttled(p))
		return;
	double cap = (double)p->rate / 20.0;
	if (cap < 1024)
		cap = 1024;
	f->tokens += (double)(t - f->refill_at) * (double)p->rate / 1000.0;
	if (f->tokens > cap)
		f->tokens = cap;
	f->refill_at = t;
}

/* Writes what is due of flow k to its destination. Returns false when the
 * connection must be closed. */
static bool
flow_write(struct proxy *p, struct conn *c, int k)
{
	struct flow *f = &c->flow[k];
	int to = c->fd[1 - k];
	int64_t t = now_ms();
	refill(p, f, t);
	while (f->head != NULL && f->head->due <= t) {
		struct chunk *ch = f->head;
		size_t want = ch->len - ch->off;
		if (throttled(p)) {
			if (f->tokens < 1)
				break;
			if ((double)want > f->tokens)
				want = (size_t)f->tokens;
		}
		ssize_t n = write(to, ch->data + ch->off, want);
		if (n < 0)
			return errno == EAGAIN || errno == EINTR;
		ch->off += (size_t)n;
		f->queued -= (size_t)n;
		p->bytes[k] += (uint64_t)n;
		if (throttled(p))
			f->tokens -= (double)n;
		if (ch->off < ch->len)
			break;
		f->head = ch->next;
		if (f->head == NULL)
			f->tail = NULL;
		free(ch);
	}
	if (f->eof && f->head == NULL && !f->shut) {
		shutdown(to, SHUT_WR);
		f->shut = true;
	}
	return true;
}

/* ---- the control channel ---- */

static void
say_stats(struct proxy *p, char *out, size_t len)
{
	snprintf(out, len, "ok mode=%s conns=%zu accepted=%llu resets=%llu "
		"corrupted=%llu up=%llu down=%llu", mode_names[p->mode], p->nconns,
		(unsigned long long)p->accepted, (unsigned long long)p->resets,
		(unsigned long long)p->corrupted, (unsigned long long)p->bytes[0],
		(unsigned long long)p->bytes[1]);
}

/* Queues, after what every client is sent, the header of a ZMTP long
 * frame of 2^63 - 1 bytes: more than any node's ZMQ_MAXMSGSIZE, so the
 * client's decoder refuses it (a protocol error, not a lost connection). */
static void
garble_all(struct proxy *p)
{
	static const uint8_t bad[] = { 0x02, 0x7f, 0xff, 0xff, 0xff, 0xff, 0xff,
		0xff, 0xff };
	size_t done = 0;
	for (size_t i = 0; i < p->nconns; i++) {
		struct flow *f = &p->conns[i].flow[1];
		struct chunk *ch = malloc(sizeof *ch + sizeof bad);
		if (ch == NULL)
			continue;
		memcpy(ch->data, bad, sizeof bad);
		ch->len = sizeof bad;
		ch->off = 0;
		ch->next = NULL;
		ch->due = f->last_due > now_ms() ? f->last_due : now_ms();
		if (f->tail != NULL)
			f->tail->next = ch;
		else
			f->head = ch;
		f->tail = ch;
		f->queued += sizeof bad;
		p->corrupted++;
		done++;
	}
	logf_("garbled %zu connection%s", done, done == 1 ? "" : "s");
}

/* Parses a non-negative integer argument no larger than max. */
static bool
arg_num(const char *s, long max, long *out)
{
	char *end;
	if (s == NULL || *s == '\0')
		return false;
	errno = 0;
	long v = strtol(s, &end, 10);
	if (errno != 0 || *end != '\0' || v < 0 || v > max)
		return false;
	*out = v;
	return true;
}

static void
command(struct proxy *p, char *line, char *out, size_t len)
{
	char *argv[4] = { 0 };
	int argc = 0;
	for (char *tok = strtok(line, " \t\r\n"); tok != NULL && argc < 4;
	    tok = strtok(NULL, " \t\r\n"))
		argv[argc++] = tok;
	long a = 0, b = 0;
	const char *cmd = argc > 0 ? argv[0] : "";

	if (strcmp(cmd, "stats") == 0) {
		say_stats(p, out, len);
		return;
	}
	if (strcmp(cmd, "kill") == 0) {
		reset_all(p, "kill");
		snprintf(out, len, "ok");
		return;
	}
	if (strcmp(cmd, "garble") == 0 && argc == 1) {
		garble_all(p);
		snprintf(out, len, "ok");
		return;
	}
	if (strcmp(cmd, "flip") == 0 && argc == 1) {
		p->flip_next = true;
		snprintf(out, len, "ok");
		return;
	}
	if (strcmp(cmd, "pass") == 0 && argc == 1) {
		p->mode = MODE_PASS;
		p->delay_ms = p->jitter_ms = 0;
		p->rate = 0;
	} else if (strcmp(cmd, "delay") == 0 && argc == 3 &&
	    arg_num(argv[1], 600000, &a) && arg_num(argv[2], a, &b)) {
		p->mode = MODE_DELAY;
		p->delay_ms = (int)a;
		p->jitter_ms = (int)b;
	} else if (strcmp(cmd, "throttle") == 0 && argc == 2 &&
	    arg_num(argv[1], 1L << 30, &a) && a > 0) {
		p->mode = MODE_THROTTLE;
		p->rate = a;
	} else if (strcmp(cmd, "blackhole") == 0 && argc == 1) {
		p->mode = MODE_BLACKHOLE;
	} else if (strcmp(cmd, "reset") == 0 && argc == 1) {
		p->mode = MODE_RESET;
		reset_all(p, "reset mode");
	} else if (strcmp(cmd, "flap") == 0 && argc == 3 &&
	    arg_num(argv[1], 600000, &a) && arg_num(argv[2], 600000, &b) &&
	    a > 0 && b >= a) {
		p->mode = MODE_FLAP;
		p->flap_min = (int)a;
		p->flap_max = (int)b;
		p->flap_at = now_ms() + rng_between(p, a, b);
	} else if (strcmp(cmd, "corrupt") == 0 && argc == 2 &&
	    arg_num(argv[1], 1000, &a)) {
		p->mode = MODE_CORRUPT;
		p->corrupt_per_mille = (int)a;
	} else {
		snprintf(out, len, "error unknown command or bad arguments");
		return;
	}
	logf_("mode %s", mode_names[p->mode]);
	snprintf(out, len, "ok mode=%s", mode_names[p->mode]);
}

static void
on_control(struct proxy *p)
{
	int fd = accept(p->control_fd, NULL, NULL);
	if (fd < 0)
		return;
	/* a client sends its line at once: do not let a silent one stall the
	 * relay for long */
	struct timeval tv = { .tv_sec = 1 };
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
	char line[LINE_MAX_], out[LINE_MAX_];
	size_t got = 0;
	while (got < sizeof line - 1) {
		ssize_t n = read(fd, line + got, sizeof line - 1 - got);
		if (n <= 0)
			break;
		got += (size_t)n;
		if (memchr(line, '\n', got) != NULL)
			break;
	}
	line[got] = '\0';
	command(p, line, out, sizeof out);
	size_t n = strlen(out);
	out[n++] = '\n';
	if (write(fd, out, n) < 0)
		logf_("could not answer a control client: %s", strerror(errno));
	close(fd);
}

/* ---- the loop ---- */

/* Which events to wait for on connection c's socket k. */
static short
wanted(const struct proxy *p, const struct conn *c, int k)
{
	short ev = 0;
	if (k == 1 && c->connecting)
		return POLLOUT;
	if (p->mode == MODE_BLACKHOLE)
		return 0;
	/* read from k into flow k while there is room */
	if (!c->flow[k].eof && c->flow[k].queued < QUEUE_MAX &&
	    !(k == 0 && c->connecting))
		ev |= POLLIN;
	/* write flow 1-k into k when its head is due */
	const struct flow *f = &c->flow[1 - k];
	if (f->head != NULL && f->head->due <= now_ms() &&
	    (!throttled(p) || f->tokens >= 1))
		ev |= POLLOUT;
	return ev;
}

/* How long poll may wait: until the next delayed chunk, token or flap. */
static int
timeout_ms(struct proxy *p)
{
	int64_t t = now_ms(), next = t + 1000;
	if (p->mode == MODE_BLACKHOLE)
		return 200;
	for (size_t i = 0; i < p->nconns; i++) {
		for (int k = 0; k < 2; k++) {
			struct flow *f = &p->conns[i].flow[k];
			if (f->head == NULL)
				continue;
			if (f->head->due > t && f->head->due < next)
				next = f->head->due;
			if (throttled(p) && f->tokens < 1)
				next = t + 5;
		}
	}
	if (p->mode == MODE_FLAP && p->flap_at < next)
		next = p->flap_at;
	return next > t ? (int)(next - t) : 0;
}

static void
serve(struct proxy *p)
{
	struct pollfd pf[2 + 2 * MAX_CONNS];

	while (!stopping) {
		int64_t t = now_ms();
		if (p->mode == MODE_FLAP && t >= p->flap_at) {
			reset_all(p, "flap");
			p->flap_at = t + rng_between(p, p->flap_min, p->flap_max);
		}
		for (size_t i = 0; i < p->nconns; i++)
			for (int k = 0; k < 2; k++)
				refill(p, &p->conns[i].flow[k], t);
		size_t n = 0;
		pf[n++] = (struct pollfd){ .fd = p->listen_fd, .events = POLLIN };
		pf[n++] = (struct pollfd){ .fd = p->control_fd, .events = POLLIN };
		size_t nc = p->nconns;
		for (size_t i = 0; i < nc; i++)
			for (int k = 0; k < 2; k++)
				pf[n++] = (struct pollfd){ .fd = p->conns[i].fd[k],
					.events = wanted(p, &p->conns[i], k) };
		if (poll(pf, n, timeout_ms(p)) < 0) {
			if (errno == EINTR)
				continue;
			logf_("poll: %s", strerror(errno));
			return;
		}
		/* connections first, from the last, so that closing one (which
		 * moves the last into its slot) leaves the rest in place */
		for (size_t i = nc; i-- > 0; ) {
			struct conn *c = &p->conns[i];
			bool ok = true;
			for (int k = 0; k < 2 && ok; k++) {
				short re = pf[2 + 2 * i + (size_t)k].revents;
				if (k == 1 && c->connecting && (re & (POLLOUT | POLLERR | POLLHUP))) {
					int err = 0;
					socklen_t el = sizeof err;
					getsockopt(c->fd[1], SOL_SOCKET, SO_ERROR, &err, &el);
					ok = err == 0;
					c->connecting = false;
					continue;
				}
				if (re & POLLIN)
					ok = flow_read(p, c, k);
				else if (re & (POLLERR | POLLHUP))
					ok = false;
				if (ok && (re & POLLOUT))
					ok = flow_write(p, c, 1 - k);
			}
			/* chunks that fell due while nothing was polled */
			for (int k = 0; k < 2 && ok && !c->connecting &&
			    p->mode != MODE_BLACKHOLE; k++)
				ok = flow_write(p, c, k);
			if (!ok) {
				conn_close(p, i, true);
				continue;
			}
			if (c->flow[0].shut && c->flow[1].shut)
				conn_close(p, i, false);
		}
		if (pf[0].revents & POLLIN)
			on_accept(p);
		if (pf[1].revents & POLLIN)
			on_control(p);
	}
}

/* ---- start ---- */

static int
listen_tcp(uint16_t port, uint16_t *bound)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0), one = 1;
	struct sockaddr_in a = loopback(port);
	socklen_t al = sizeof a;
	if (fd < 0)
		return -1;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
	if (bind(fd, (struct sockaddr *)&a, sizeof a) != 0 || listen(fd, 64) != 0 ||
	    getsockname(fd, (struct sockaddr *)&a, &al) != 0 ||
	    set_nonblocking(fd) != 0) {
		close(fd);
		return -1;
	}
	*bound = ntohs(a.sin_port);
	return fd;
}

static int
listen_unix(const char *path)
{
	struct sockaddr_un a;
	memset(&a, 0, sizeof a);
	a.sun_family = AF_UNIX;
	if (strlen(path) >= sizeof a.sun_path)
		return -1;
	strcpy(a.sun_path, path);
	unlink(path);
	int fd = socket(AF_UNIX, SOCK_STREAM, 0);
	if (fd < 0)
		return -1;
	if (bind(fd, (struct sockaddr *)&a, sizeof a) != 0 || listen(fd, 8) != 0) {
		close(fd);
		return -1;
	}
	return fd;
}

/* faultproxy ctl PATH COMMAND...: sends one line, prints the answer;
 * exit status 0 only for an "ok" answer. */
static int
ctl(int argc, char **argv)
{
	struct sockaddr_un a;
	char line[LINE_MAX_] = "", reply[LINE_MAX_];
	if (argc < 4 || strlen(argv[2]) >= sizeof a.sun_path) {
		fprintf(stderr, "usage: faultproxy ctl PATH COMMAND [ARG...]\n");
		return 2;
	}
	for (int i = 3; i < argc; i++) {
		if (strlen(line) + strlen(argv[i]) + 2 >= sizeof line)
			return 2;
		strcat(line, argv[i]);
		strcat(line, i + 1 < argc ? " " : "\n");
	}
	memset(&a, 0, sizeof a);
	a.sun_family = AF_UNIX;
	strcpy(a.sun_path, argv[2]);
	int fd = socket(AF_UNIX, SOCK_STREAM, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&a, sizeof a) != 0) {
		fprintf(stderr, "faultproxy ctl: cannot reach %s: %s\n", argv[2],
			strerror(errno));
		return 1;
	}
	struct timeval tv = { .tv_sec = 10 };
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
	size_t got = 0;
	if (write(fd, line, strlen(line)) < 0) {
		close(fd);
		return 1;
	}
	while (got < sizeof reply - 1) {
		ssize_t n = read(fd, reply + got, sizeof reply - 1 - got);
		if (n <= 0)
			break;
		got += (size_t)n;
	}
	close(fd);
	reply[got] = '\0';
	fputs(reply, stdout);
	return strncmp(reply, "ok", 2) == 0 ? 0 : 1;
}

static void
usage(void)
{
	fprintf(stderr, "usage: faultproxy --listen PORT --to PORT --control PATH "
		"[--seed N] [--port-file PATH]\n"
		"       faultproxy ctl PATH COMMAND [ARG...]\n");
}

int
main(int argc, char **argv)
{
	struct proxy p = { .listen_fd = -1, .control_fd = -1, .rng = 1 };
	long listen_port = -1, to = -1, seed = 1;
	const char *port_file = NULL;

	if (argc >= 2 && strcmp(argv[1], "ctl") == 0)
		return ctl(argc, argv);
	for (int i = 1; i + 1 < argc; i += 2) {
		bool ok = true;
		if (strcmp(argv[i], "--listen") == 0)
			ok = arg_num(argv[i + 1], 65535, &listen_port);
		else if (strcmp(argv[i], "--to") == 0)
			ok = arg_num(argv[i + 1], 65535, &to) && to > 0;
		else if (strcmp(argv[i], "--control") == 0)
			p.control_path = argv[i + 1];
		else if (strcmp(argv[i], "--seed") == 0)
			ok = arg_num(argv[i + 1], 1L << 30, &seed);
		else if (strcmp(argv[i], "--port-file") == 0)
			port_file = argv[i + 1];
		else
			ok = false;
		if (!ok) {
			usage();
			return 2;
		}
	}
	if (argc % 2 != 1 || listen_port < 0 || to < 0 || p.control_path == NULL) {
		usage();
		return 2;
	}
	p.target_port = (uint16_t)to;
	p.rng = 0x9E3779B97F4A7C15ULL ^ (uint64_t)seed;

	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);

	uint16_t bound;
	p.listen_fd = listen_tcp((uint16_t)listen_port, &bound);
	if (p.listen_fd < 0) {
		fprintf(stderr, "faultproxy: cannot listen on 127.0.0.1:%ld: %s\n",
			listen_port, strerror(errno));
		return 1;
	}
	p.control_fd = listen_unix(p.control_path);
	if (p.control_fd < 0) {
		fprintf(stderr, "faultproxy: cannot listen on %s: %s\n",
			p.control_path, strerror(errno));
		return 1;
	}
	if (port_file != NULL) {
		FILE *f = fopen(port_file, "w");
		if (f == NULL || fprintf(f, "%u\n", bound) < 0 || fclose(f) != 0) {
			fprintf(stderr, "faultproxy: cannot write %s\n", port_file);
			return 1;
		}
	}
	printf("listening on 127.0.0.1:%u, relaying to 127.0.0.1:%ld\n", bound, to);
	fflush(stdout);
	serve(&p);
	reset_all(&p, "stopping");
	close(p.listen_fd);
	close(p.control_fd);
	unlink(p.control_path);
	return 0;
}
