#!/usr/bin/env python3
"""slowclients.py PORT SPEC... [--settle S] [--hold S]: slow HTTP clients of
127.0.0.1:PORT, for the tests of `wsr watch`'s connection limits.

Each SPEC is FROM:COUNT:MODE: COUNT connections from source address FROM
(any 127.x.y.z: all of 127/8 is loopback), MODE "idle" (sends nothing) or
"trickle" (a request line and headers, one byte a second, never ending).
Connections are opened in the order given, 5 ms apart. After --settle
seconds (default 1) it prints one line, "closed I J ...", the indexes (from
0, in opening order) of those the server has closed, then keeps the others
open (trickling) for --hold seconds (default 0) or until killed.
"""
import select
import socket
import sys
import time

REQUEST = b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: " + b"x" * 4096


def closed(s):
    r, _, _ = select.select([s], [], [], 0)
    if not r:
        return False
    try:
        return s.recv(1) == b""
    except OSError:  # reset
        return True


def main(argv):
    port, specs, settle, hold = int(argv[0]), [], 1.0, 0.0
    args = argv[1:]
    while args:
        a = args.pop(0)
        if a == "--settle":
            settle = float(args.pop(0))
        elif a == "--hold":
            hold = float(args.pop(0))
        else:
            src, count, mode = a.split(":")
            specs += [(src, mode)] * int(count)
    conns = []
    for src, mode in specs:
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.bind((src, 0))
        s.connect(("127.0.0.1", port))
        conns.append([s, mode, 0, False])
        time.sleep(0.005)
    end = time.monotonic() + settle
    gone = set()
    while True:
        now = time.monotonic()
        for i, c in enumerate(conns):
            if i in gone:
                continue
            if closed(c[0]):
                gone.add(i)
            elif c[1] == "trickle" and c[2] < len(REQUEST):
                try:
                    c[0].send(REQUEST[c[2]:c[2] + 1])
                    c[2] += 1
                except OSError:
                    gone.add(i)
        if end and now >= end:
            print("closed " + " ".join(str(i) for i in sorted(gone)), flush=True)
            end, stop = None, now + hold
        if end is None and now >= stop:
            return 0
        time.sleep(min(1.0, max(0.01, (end or stop) - now)))


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
