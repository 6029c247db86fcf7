/*
 * A preloaded library (LD_PRELOAD) for the S2 test: it simulates the
 * start-order and configuration mistakes that would leave a CurveZMQ
 * server without authentication, so the test can see that the node either
 * still refuses strangers or refuses to start (its self-test).
 *
 * AMENDS_FAULT_ZAP holds words, any of:
 *   unbound    the ZAP handler's bind to inproc://zeromq.zap.01 "succeeds"
 *              without binding: no handler is listening
 *   noenforce  setting ZMQ_ZAP_ENFORCE_DOMAIN is ignored
 *   nodomain   setting ZMQ_ZAP_DOMAIN is ignored
 */
#include <dlfcn.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <zmq.h>

#ifndef ZMQ_ZAP_ENFORCE_DOMAIN
#define ZMQ_ZAP_ENFORCE_DOMAIN 93
#endif

int zmq_bind(void *s, const char *endpoint);
int zmq_setsockopt(void *s, int option, const void *value, size_t len);

static bool
fault(const char *word)
{
	const char *v = getenv("AMENDS_FAULT_ZAP");
	return v != NULL && strstr(v, word) != NULL;
}

int
zmq_bind(void *s, const char *endpoint)
{
	int (*real)(void *, const char *);
	/* the POSIX way to take a function from dlsym (ISO C has none) */
	*(void **)&real = dlsym(RTLD_NEXT, "zmq_bind");
	if (fault("unbound") && strcmp(endpoint, "inproc://zeromq.zap.01") == 0)
		return 0;
	return real(s, endpoint);
}

int
zmq_setsockopt(void *s, int option, const void *value, size_t len)
{
	int (*real)(void *, int, const void *, size_t);
	*(void **)&real = dlsym(RTLD_NEXT, "zmq_setsockopt");
	if ((option == ZMQ_ZAP_ENFORCE_DOMAIN && fault("noenforce")) ||
	    (option == ZMQ_ZAP_DOMAIN && fault("nodomain")))
		return 0;
	return real(s, option, value, len);
}
