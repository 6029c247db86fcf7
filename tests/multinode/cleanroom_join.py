#!/usr/bin/python3
"""A joiner written from protocol/invite.md (and protocol/entry.md for the
entries) alone, with PyNaCl, pyzmq and msgpack: no code of amends.

    cleanroom_join.py vectors FILE
        checks this implementation against protocol/invite-vectors.txt
    cleanroom_join.py join CODE [--decline]
        joins with a real code: JOIN, checks the PREVIEW's signatures,
        sends its ACCEPT (or DECLINE), reads ADMITTED, and when joined
        walks the record with MORE; prints one line of JSON

Exit status: 0 done, 1 a check or the exchange failed.
"""
import hashlib
import json
import sys
import time

import msgpack
import nacl.bindings
import nacl.signing
import zmq

ALPHABET = "0123456789abcdefghjkmnpqrstvwxyz"
PREFIX = "aminvite"
WAIT_MS = 15000


class Refused(Exception):
    pass


def fail(why):
    print("cleanroom: " + why, file=sys.stderr)
    sys.exit(1)


def blake2b(data, key=b""):
    return hashlib.blake2b(data, digest_size=32, key=key).digest()


def pack(value):
    return msgpack.packb(value, use_bin_type=True)


def unpack(data):
    return msgpack.unpackb(data, raw=False, strict_map_key=True,
                           use_list=True)


# ---- the code ----

def base32_decode(text, n):
    acc = bits = 0
    out = bytearray()
    for ch in text:
        ch = {"o": "0", "i": "1", "l": "1"}.get(ch, ch)
        v = ALPHABET.find(ch)
        if v < 0:
            raise ValueError("not base32")
        acc = (acc << 5) | v
        bits += 5
        if bits >= 8:
            bits -= 8
            if len(out) < n:
                out.append((acc >> bits) & 0xff)
    return bytes(out)


def parse_code(code):
    text = "".join(code.split()).lower()
    if not text.startswith(PREFIX):
        raise ValueError("no prefix")
    body = text[len(PREFIX):]
    n = len(body) * 5 // 8
    if (n * 8 + 4) // 5 != len(body):
        raise ValueError("bad length")
    b = base32_decode(body, n)
    if blake2b(b[:-4], key=PREFIX.encode())[:4] != b[-4:]:
        raise ValueError("bad check")
    if b[0] != 1 or b[1] > 1:
        raise ValueError("bad version or role")
    o = 2
    circle = b[o:o + 32]; o += 32
    inviter = b[o:o + 32]; o += 32
    secret = b[o:o + 16]; o += 16
    expires = int.from_bytes(b[o:o + 8], "big"); o += 8
    alen = b[o]; o += 1
    if alen == 0 or o + alen + 4 != len(b):
        raise ValueError("bad address length")
    address = b[o:o + alen].decode("ascii")
    return {"bytes": b, "role": b[1], "circle": circle, "inviter": inviter,
            "secret": secret, "expires": expires, "address": address}


def throwaway_keys(secret):
    seed = blake2b(secret, key=b"amends-invite-key-v1")
    return nacl.bindings.crypto_box_seed_keypair(seed)


# ---- entries (protocol/entry.md) ----

def entry_sign(sk, circle, seq, prev, t, kind, body):
    author = bytes(sk.verify_key)
    signed = pack([1, circle, author, seq, prev, t, kind, body])
    sig = sk.sign(b"amends-entry-v1" + signed).signature
    return pack([signed, sig])


def entry_open(raw):
    """Decodes and verifies an entry; returns its fields and hash."""
    env = unpack(raw)
    if not (isinstance(env, list) and len(env) == 2):
        raise ValueError("not an entry")
    signed, sig = env
    f = unpack(signed)
    if not (isinstance(f, list) and len(f) == 8 and f[0] == 1):
        raise ValueError("not an entry's fields")
    nacl.signing.VerifyKey(f[2]).verify(b"amends-entry-v1" + signed, sig)
    return {"circle": f[1], "author": f[2], "seq": f[3], "prev": f[4],
            "time": f[5], "kind": f[6], "body": f[7], "hash": blake2b(raw)}


# ---- messages ----

def join_msg(sk, inv, invite_pub):
    me = bytes(sk.verify_key)
    sig = sk.sign(b"amends-join-v1" + invite_pub + inv["circle"] + me).signature
    return pack([1, 1, me, sig])


def answer_msg(entry):
    return pack([1, 3, entry])


def more_msg(author, frm):
    return pack([1, 5, author, frm])


def open_preview(msg, inv, me):
    m = unpack(msg)
    if m[:2] == [1, 9]:
        raise Refused("refused %d: %s" % (m[2], m[3]))
    if not (len(m) == 5 and m[:2] == [1, 7]):
        raise ValueError("not a PREVIEW")
    preview, signer, sig = m[2], m[3], m[4]
    if signer != inv["inviter"]:
        raise ValueError("the preview is not signed by the code's issuer")
    nacl.signing.VerifyKey(signer).verify(b"amends-preview-v1" + preview, sig)
    p = unpack(preview)
    if not (len(p) == 9 and p[0] == 1):
        raise ValueError("not a preview")
    _, circle, name, role, joiner, graw, praw, members, made = p
    if circle != inv["circle"] or joiner != me or role != inv["role"]:
        raise ValueError("the preview is for another circle, person or role")
    g = entry_open(graw)
    if g["kind"] != 1 or g["seq"] != 1 or g["circle"] != circle:
        raise ValueError("the genesis is not this circle's")
    gname, nonce = g["body"]
    if blake2b(b"amends-circle-v1" + g["author"] + nonce) != circle:
        raise ValueError("the genesis does not make this circle")
    if gname != name:
        raise ValueError("the name is not the genesis's")
    pr = entry_open(praw)
    ids = [x[0] for x in members]
    if (pr["kind"] != 2 or pr["circle"] != circle or
            pr["body"] != [me, role] or pr["author"] not in ids):
        raise ValueError("the proposal does not name this joiner")
    return {"name": name, "proposal": pr["hash"], "creator": g["author"],
            "members": [(x[0].hex(), x[1]) for x in members]}


# ---- vectors ----

def check_vectors(path):
    v = {}
    with open(path) as f:
        for line in f:
            if line.startswith("#") or ": " not in line:
                continue
            k, val = line.rstrip("\n").split(": ", 1)
            v[k] = val
    h = bytes.fromhex
    inviter = nacl.signing.SigningKey(h(v["inviter.seed"]))
    joiner = nacl.signing.SigningKey(h(v["joiner.seed"]))
    checks = []
    checks.append(("inviter.id", bytes(inviter.verify_key) == h(v["inviter.id"])))
    checks.append(("joiner.id", bytes(joiner.verify_key) == h(v["joiner.id"])))
    inv = parse_code(v["code"])
    checks.append(("code.bytes", inv["bytes"] == h(v["code.bytes"])))
    checks.append(("code.secret", inv["secret"] == h(v["code.secret"])))
    checks.append(("circle", inv["circle"] == h(v["circle"])))
    pub, sec = throwaway_keys(inv["secret"])
    checks.append(("invite.public", pub == h(v["invite.public"])))
    checks.append(("invite.secret", sec == h(v["invite.secret"])))
    curve = nacl.bindings.crypto_sign_ed25519_pk_to_curve25519(inv["inviter"])
    checks.append(("inviter.curve", curve == h(v["inviter.curve"])))
    checks.append(("join", join_msg(joiner, inv, pub) == h(v["join"])))
    pv = open_preview(h(v["preview"]), inv, bytes(joiner.verify_key))
    checks.append(("preview", pv["proposal"] == h(v["proposal.hash"])))
    t = entry_open(h(v["accept"]))["time"]
    acc = entry_sign(joiner, inv["circle"], 1, None, t, 5, [pv["proposal"]])
    checks.append(("accept", acc == h(v["accept"])))
    checks.append(("answer.accept", answer_msg(acc) == h(v["answer.accept"])))
    dec = entry_sign(joiner, inv["circle"], 1, None, t, 6,
                     [pv["proposal"], "I do not know you"])
    checks.append(("decline", dec == h(v["decline"])))
    checks.append(("more.start", more_msg(None, 0) == h(v["more.start"])))
    checks.append(("more.next",
                   more_msg(inv["inviter"], 2) == h(v["more.next"])))
    checks.append(("admitted.waiting",
                   unpack(h(v["admitted.waiting"])) == [1, 4, False, 1]))
    e = unpack(h(v["entries"]))
    checks.append(("entries", e[:2] == [1, 6] and len(e[2]) == 2 and
                   entry_open(e[2][0])["kind"] == 1))
    bad = [name for name, ok in checks if not ok]
    if bad:
        fail("vectors differ: " + ", ".join(bad))
    print("cleanroom: %d vectors match" % len(checks))


# ---- the exchange ----

def ask(sock, msg):
    sock.send(msg)
    if not sock.poll(WAIT_MS, zmq.POLLIN):
        fail("the inviter's node did not answer in time")
    return sock.recv()


def join(code, decline):
    inv = parse_code(code)
    if time.time() >= inv["expires"]:
        fail("the code has expired")
    sk = nacl.signing.SigningKey.generate()
    me = bytes(sk.verify_key)
    pub, sec = throwaway_keys(inv["secret"])
    ctx = zmq.Context()
    sock = ctx.socket(zmq.DEALER)
    sock.setsockopt(zmq.LINGER, 0)
    sock.curve_publickey = pub
    sock.curve_secretkey = sec
    sock.curve_serverkey = \
        nacl.bindings.crypto_sign_ed25519_pk_to_curve25519(inv["inviter"])
    sock.connect(inv["address"])
    try:
        pv = open_preview(ask(sock, join_msg(sk, inv, pub)), inv, me)
        t = int(time.time() * 1000)
        if decline:
            entry = entry_sign(sk, inv["circle"], 1, None, t, 6,
                               [pv["proposal"], "not for me"])
        else:
            entry = entry_sign(sk, inv["circle"], 1, None, t, 5,
                               [pv["proposal"]])
        adm = unpack(ask(sock, answer_msg(entry)))
        if adm[:2] == [1, 9]:
            raise Refused("refused %d: %s" % (adm[2], adm[3]))
        if not (len(adm) == 4 and adm[:2] == [1, 4]):
            fail("not an ADMITTED: %r" % adm)
        joined, waiting = adm[2], adm[3]
        count = 0
        mine = False
        if joined:
            author, frm = None, 0
            for _ in range(10000):
                r = unpack(ask(sock, more_msg(author, frm)))
                if r[:2] == [1, 9]:
                    raise Refused("refused %d: %s" % (r[2], r[3]))
                for raw in r[2]:
                    e = entry_open(raw)
                    if e["circle"] != inv["circle"]:
                        fail("an entry of another circle")
                    mine |= raw == entry
                    count += 1
                author, frm = r[3], r[4]
                if author is None:
                    break
        print(json.dumps({
            "id": me.hex(), "circle": inv["circle"].hex(),
            "name": pv["name"], "proposal": pv["proposal"].hex(),
            "members": [m[0] for m in pv["members"]],
            "answer_hash": blake2b(entry).hex(),
            "joined": joined, "waiting": waiting, "entries": count,
            "own_answer_served": mine}))
    except Refused as r:
        fail(str(r))
    except (ValueError, TypeError, nacl.exceptions.BadSignatureError) as e:
        fail("the exchange does not hold: %s" % e)
    finally:
        sock.close()
        ctx.term()


def main():
    if len(sys.argv) == 3 and sys.argv[1] == "vectors":
        check_vectors(sys.argv[2])
    elif len(sys.argv) in (3, 4) and sys.argv[1] == "join":
        join(sys.argv[2], len(sys.argv) == 4 and sys.argv[3] == "--decline")
    else:
        print(__doc__, file=sys.stderr)
        sys.exit(2)


if __name__ == "__main__":
    main()
