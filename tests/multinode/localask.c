/*
 * Holds silent connections to a node's local socket (AM_NODE_ASK), as a
 * stuck or hostile local process would: N of them at once, each saying
 * nothing, opened again whenever the node closes one, for SECONDS.
 *
 *   localask HOME SECONDS N
 *
 * Prints "held N silent connections for SECONDS s; the node closed K"
 * and exits 0, or 1 when it could not connect at all.
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "amends/home.h"
#include "amends/node.h"

#define MAX_CONNS 256

static int64_t
now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int
open_one(const struct sockaddr_un *sun)
{
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return -1;
	/* a full backlog says EAGAIN: tried again at the next round */
	if (connect(fd, (const struct sockaddr *)sun, sizeof *sun) != 0) {
		close(fd);
		return -1;
	}
	return fd;
}

int
main(int argc, char **argv)
{
	if (argc != 4) {
		fprintf(stderr, "usage: localask HOME SECONDS N\n");
		return 2;
	}
	int seconds = atoi(argv[2]), n = atoi(argv[3]);
	if (seconds < 1 || n < 1 || n > MAX_CONNS) {
		fprintf(stderr, "localask: SECONDS >= 1 and N in 1..%d\n", MAX_CONNS);
		return 2;
	}
	char *path = am_home_path(argv[1], AM_NODE_ASK);
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	if (path == NULL || strlen(path) >= sizeof sun.sun_path)
		return 2;
	memcpy(sun.sun_path, path, strlen(path) + 1);
	free(path);

	struct pollfd pf[MAX_CONNS];
	long closed = 0, opened = 0;
	for (int i = 0; i < n; i++) {
		pf[i].fd = open_one(&sun);
		pf[i].events = POLLIN;
		if (pf[i].fd >= 0)
			opened++;
	}
	if (opened == 0) {
		fprintf(stderr, "localask: cannot connect to %s\n", sun.sun_path);
		return 1;
	}
	printf("connected: %ld\n", opened);
	fflush(stdout);
	int64_t until = now_ms() + (int64_t)seconds * 1000;
	while (now_ms() < until) {
		if (poll(pf, (nfds_t)n, 100) < 0 && errno != EINTR)
			break;
		for (int i = 0; i < n; i++) {
			char buf[256];
			if (pf[i].fd < 0) {
				pf[i].fd = open_one(&sun);
				continue;
			}
			if (!(pf[i].revents & (POLLIN | POLLHUP | POLLERR)))
				continue;
			if (recv(pf[i].fd, buf, sizeof buf, MSG_DONTWAIT) > 0)
				continue;    /* an answer: read on to the close */
			close(pf[i].fd);
			closed++;
			pf[i].fd = open_one(&sun);
		}
		/* while some wait for room in the backlog, at most 10 rounds
		 * a second */
		for (int i = 0; i < n; i++)
			if (pf[i].fd < 0) {
				poll(NULL, 0, 100);
				break;
			}
	}
	for (int i = 0; i < n; i++)
		if (pf[i].fd >= 0)
			close(pf[i].fd);
	printf("held %d silent connections for %d s; the node closed %ld\n", n,
		seconds, closed);
	return 0;
}
