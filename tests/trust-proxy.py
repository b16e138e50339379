#!/usr/bin/env python3
"""A small TCP man in the middle for the trust-*.sh tests, 127.0.0.1 only.

  trust-proxy.py proxy --to PORT --port-file F [--record F] [--flip-at N]
                 [--trickle-after N --trickle-every SECS] [--cut-at N] [--conns K]
      Listen on 127.0.0.1 (a free port, written to F), forward each
      connection to 127.0.0.1:PORT.  Only the FIRST connection is
      meddled with: its sender-to-receiver bytes are recorded (--record),
      bit 0 of byte N is flipped (--flip-at), after N bytes the rest
      trickles one byte every SECS (--trickle-after), or after N bytes
      both sides are cut off, as by a dropped link (--cut-at).  Later connections
      pass through untouched.  Exits after K connections (default 1) or
      when killed.
      Record-aware meddling (the proxy follows the plain record headers):
      --flip-record TYPE [--flip-nth K] [--flip-off N] [--flip-dir D]
      flips bit 0 of byte N of the payload of the K-th record (default
      1st) of TYPE (e.g. 0x10) going direction D (s2r, default, or r2s),
      on the first connection, once.  --inject-refuse TEXT
      [--inject-conn C] [--inject-before K] writes a plain (unsealed)
      REFUSE record with TEXT (Python escapes allowed: \\x1b) into the
      receiver-to-sender stream of connection C (0-based, default 0),
      just before that stream's K-th record (default 2: after CHALLENGE).
      --mute-r2s-before K [--mute-secs S]: on the first connection, the
      receiver's K-th record and all after it are swallowed, and the
      sender's side is held open, silent, for S seconds (default 30).
  trust-proxy.py replay --to PORT --file F [--timeout SECS]
      Connect to 127.0.0.1:PORT, send F's bytes verbatim (as fast as the
      peer takes them), print what came back: "replay: sent S received R
      closed-by-peer=yes|no" and the received bytes' printable text.
  trust-proxy.py trickle --to PORT --preamble-of F --every SECS --max SECS
      Connect, send the first 16 bytes of F (a p2vstream preamble), then
      one byte of F every SECS, until the peer hangs up or MAX seconds.
      Prints "trickle: peer closed after S s" or "trickle: still open".
  trust-proxy.py silent --to PORT --max SECS
      Connect and send nothing; print how long until the peer closed.
"""
import argparse
import socket
import sys
import threading
import time

LOCAL = "127.0.0.1"


def pump(src, dst, meddle, done, other):
    """Copy src to dst; meddle(bytes, offset) -> list of (data, delay).
    When dst went away (a write failed), the other direction (event
    other) may still carry its last words, a RESULT sent just before it
    closed: let that finish (bounded) before hanging up both sides.
    End of src and a cut hang up at once."""
    off = 0
    dst_gone = False
    try:
        while True:
            data = src.recv(65536)
            if not data:
                break
            for piece, delay in meddle(data, off):
                if piece is None:       # cut: the finally hangs up both sides
                    return
                if isinstance(piece, str):      # mute: silent, but open
                    time.sleep(delay)
                    return
                if delay:
                    time.sleep(delay)
                try:
                    dst.sendall(piece)
                except OSError:
                    dst_gone = True
                    raise
            off += len(data)
    except OSError:
        pass
    finally:
        if dst_gone:
            other.wait(2)
        for s in (dst, src):
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        done.set()


def passthrough(data, off):
    return [(data, 0)]


class Records:
    """Follows the record boundaries of one direction of a p2vstream
    connection: a 16-byte preamble, then 8-byte headers (type, flags,
    2 reserved, big-endian length) each followed by length bytes."""

    def __init__(self):
        self.hdr = b""
        self.pos = 16            # where the next header starts
        self.count = {}          # records seen per type
        self.n = 0               # records whose header was read
        self.starts = {1: 16}    # record number -> stream offset of its header

    def feed(self, data, off, on_record):
        i = 0
        while i < len(data):
            at = off + i
            if at < self.pos:
                i += min(len(data) - i, self.pos - at)
                continue
            need = 8 - len(self.hdr)
            take = data[i:i + need]
            self.hdr += take
            i += len(take)
            if len(self.hdr) == 8:
                rtype = self.hdr[0]
                length = int.from_bytes(self.hdr[4:8], "big")
                self.n += 1
                self.count[rtype] = self.count.get(rtype, 0) + 1
                payload = self.pos + 8
                on_record(rtype, self.count[rtype], payload, length)
                self.pos = payload + length
                self.starts[self.n + 1] = self.pos
                self.hdr = b""


def serve(args):
    ls = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind((LOCAL, 0))
    ls.listen(4)
    with open(args.port_file + ".tmp", "w") as f:
        f.write("%d\n" % ls.getsockname()[1])
    import os
    os.rename(args.port_file + ".tmp", args.port_file)
    rec = open(args.record, "wb") if args.record else None
    for n in range(args.conns):
        c, _ = ls.accept()
        try:
            u = socket.create_connection((LOCAL, args.to), timeout=10)
            u.settimeout(None)
        except OSError:
            c.close()
            continue
        r2s = passthrough
        if args.inject_refuse is not None and n == args.inject_conn:
            text = args.inject_refuse.encode().decode("unicode_escape").encode("latin-1")
            forged = (bytes([3, 0, 0, 0]) + (4 + len(text)).to_bytes(4, "big")
                      + (6).to_bytes(4, "big") + text)
            tr, done = Records(), [False]

            def r2s(data, off, tr=tr, done=done, forged=forged):
                tr.feed(data, off, lambda *a: None)
                at = tr.starts.get(args.inject_before)
                if done[0] or at is None or not off <= at < off + len(data):
                    return [(data, 0)]
                done[0] = True
                sys.stderr.write("proxy: injected a plain REFUSE at r2s byte %d\n" % at)
                k = at - off
                return [(data[:k] + forged + data[k:], 0)]
        if n == 0 and args.mute_r2s_before is not None:
            mt = Records()

            def r2s(data, off, mt=mt):
                mt.feed(data, off, lambda *a: None)
                at = mt.starts.get(args.mute_r2s_before)
                if at is None or at >= off + len(data):
                    return [(data, 0)]
                sys.stderr.write("proxy: muted the receiver from r2s byte %d\n" % at)
                return [(data[:max(0, at - off)], 0), ("mute", args.mute_secs)]
        if n == 0 and args.flip_record is not None:
            tr, target = Records(), [None]

            def on_record(rtype, nth, payload, length, target=target):
                if rtype == args.flip_record and nth == args.flip_nth and target[0] is None:
                    if args.flip_off >= length:
                        sys.stderr.write("proxy: record too short for --flip-off\n")
                        target[0] = -1
                    else:
                        target[0] = payload + args.flip_off

            def flip(data, off, tr=tr, target=target, inner=r2s):
                tr.feed(data, off, on_record)
                t = target[0]
                if t is not None and t >= 0 and off <= t < off + len(data):
                    b = bytearray(data)
                    b[t - off] ^= 1
                    target[0] = -1
                    sys.stderr.write("proxy: flipped bit 0 of %s byte %d (record type 0x%02x "
                                     "#%d, payload byte %d)\n" % (args.flip_dir, t, args.flip_record,
                                                                   args.flip_nth, args.flip_off))
                    data = bytes(b)
                return inner(data, off) if inner is not passthrough else [(data, 0)]
            if args.flip_dir == "r2s":
                r2s = flip
                meddle = passthrough
            else:
                meddle = lambda data, off, f=flip: f(data, off)
                flip.__defaults__ = (tr, target, passthrough)
        elif n == 0:
            def meddle(data, off, rec=rec):
                if rec:
                    rec.write(data)
                    rec.flush()
                if args.flip_at is not None and off <= args.flip_at < off + len(data):
                    b = bytearray(data)
                    b[args.flip_at - off] ^= 1
                    sys.stderr.write("proxy: flipped bit 0 of byte %d\n" % args.flip_at)
                    data = bytes(b)
                if args.cut_at is not None and off + len(data) > args.cut_at:
                    sys.stderr.write("proxy: cut the connection at byte %d\n" % args.cut_at)
                    return [(data[:max(0, args.cut_at - off)], 0), (None, 0)]
                if args.trickle_after is not None:
                    end = off + len(data)
                    if end <= args.trickle_after:
                        return [(data, 0)]
                    head = max(0, args.trickle_after - off)
                    out = [(data[:head], 0)] if head else []
                    out += [(data[i:i + 1], args.trickle_every) for i in range(head, len(data))]
                    return out
                return [(data, 0)]
        else:
            meddle = passthrough
        d1, d2 = threading.Event(), threading.Event()
        threading.Thread(target=pump, args=(c, u, meddle, d1, d2), daemon=True).start()
        threading.Thread(target=pump, args=(u, c, r2s, d2, d1), daemon=True).start()
        d1.wait()
        d2.wait()
        c.close()
        u.close()
    if rec:
        rec.close()


def replay(args):
    data = open(args.file, "rb").read()
    s = socket.create_connection((LOCAL, args.to), timeout=args.timeout)
    got = bytearray()
    closed = [False]

    def reader():
        try:
            while True:
                b = s.recv(65536)
                if not b:
                    closed[0] = True
                    break
                got.extend(b)
        except OSError:
            closed[0] = True

    t = threading.Thread(target=reader, daemon=True)
    t.start()
    sent = 0
    try:
        while sent < len(data):
            sent += s.send(data[sent:sent + 65536])
    except OSError:
        pass
    t.join(args.timeout)
    print("replay: sent %d of %d received %d closed-by-peer=%s"
          % (sent, len(data), len(got), "yes" if closed[0] else "no"))
    print("replay: text: %s" % "".join(chr(c) if 32 <= c < 127 else "." for c in got))


def trickle(args):
    data = open(args.preamble_of, "rb").read()
    s = socket.create_connection((LOCAL, args.to), timeout=5)
    s.sendall(data[:16])
    t0 = time.monotonic()
    i = 16
    s.settimeout(args.every)
    while time.monotonic() - t0 < args.max and i < len(data):
        try:
            b = s.recv(4096)
            if not b:
                print("trickle: peer closed after %.0f s" % (time.monotonic() - t0))
                return
        except socket.timeout:
            pass
        except OSError:
            print("trickle: peer closed after %.0f s" % (time.monotonic() - t0))
            return
        try:
            s.sendall(data[i:i + 1])
        except OSError:
            print("trickle: peer closed after %.0f s" % (time.monotonic() - t0))
            return
        i += 1
    print("trickle: still open after %.0f s, %d bytes sent" % (time.monotonic() - t0, i))


def silent(args):
    s = socket.create_connection((LOCAL, args.to), timeout=5)
    s.settimeout(args.max)
    t0 = time.monotonic()
    try:
        while s.recv(4096):
            pass
        print("silent: peer closed after %.0f s" % (time.monotonic() - t0))
    except socket.timeout:
        print("silent: still open after %.0f s" % (time.monotonic() - t0))
    except OSError:
        print("silent: peer closed after %.0f s" % (time.monotonic() - t0))


def main():
    p = argparse.ArgumentParser()
    sub = p.add_subparsers(dest="cmd", required=True)
    a = sub.add_parser("proxy")
    a.add_argument("--to", type=int, required=True)
    a.add_argument("--port-file", required=True)
    a.add_argument("--record")
    a.add_argument("--flip-at", type=int)
    a.add_argument("--trickle-after", type=int)
    a.add_argument("--trickle-every", type=float, default=2.0)
    a.add_argument("--cut-at", type=int)
    a.add_argument("--conns", type=int, default=1)
    a.add_argument("--flip-record", type=lambda x: int(x, 0))
    a.add_argument("--flip-nth", type=int, default=1)
    a.add_argument("--flip-off", type=int, default=0)
    a.add_argument("--flip-dir", choices=("s2r", "r2s"), default="s2r")
    a.add_argument("--mute-r2s-before", type=int)
    a.add_argument("--mute-secs", type=float, default=30)
    a.add_argument("--inject-refuse")
    a.add_argument("--inject-conn", type=int, default=0)
    a.add_argument("--inject-before", type=int, default=2)
    b = sub.add_parser("replay")
    b.add_argument("--to", type=int, required=True)
    b.add_argument("--file", required=True)
    b.add_argument("--timeout", type=float, default=20)
    c = sub.add_parser("trickle")
    c.add_argument("--to", type=int, required=True)
    c.add_argument("--preamble-of", required=True)
    c.add_argument("--every", type=float, default=2)
    c.add_argument("--max", type=float, default=60)
    d = sub.add_parser("silent")
    d.add_argument("--to", type=int, required=True)
    d.add_argument("--max", type=float, default=60)
    args = p.parse_args()
    {"proxy": serve, "replay": replay, "trickle": trickle, "silent": silent}[args.cmd](args)


if __name__ == "__main__":
    main()
