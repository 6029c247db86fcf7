/*
 * The parts of the hostile test peer (tests/hostile) that need no member
 * identity: raw TCP bytes sent before any handshake, and a circle digest
 * recomputed from a database by the rules of protocol/entry.md.
 */
#ifndef HOSTILE_H
#define HOSTILE_H

/*
 * hostile raw ENDPOINT: opens several plain TCP connections to a node's
 * port, each sending bytes that are not a CurveZMQ handshake (or nothing),
 * and waits, bounded, for the node to close every one. Prints one line per
 * connection; returns 0 when all were closed, 1 when not, 2 on misuse.
 */
int raw_main(int argc, char **argv);

/*
 * hostile digest DB CIRCLE-HEX: prints the circle's digest computed from
 * the tables of the database DB (read only), as protocol/entry.md defines
 * it, for comparison with the digest the node itself reports. Returns 0,
 * or 2 when the database cannot be read.
 */
int digest_main(int argc, char **argv);

#endif
