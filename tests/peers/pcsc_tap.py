#!/usr/bin/env python3
"""A PC/SC terminal for walletcore's virtual card, independent of walletcore's own terminal.

Talks to the card through pcscd (vsmartcard's vpcd driver) with pyscard (Debian
python3-pyscard): waits for the card in the reader whose name starts with argv[1], checks the
ATR, reads the UID with the PC/SC GET DATA pseudo-APDU, then runs one contactless purchase per
application the PPSE lists (PPSE, SELECT, GPO with PDOL data, READ RECORD along the AFL,
GENERATE AC when the card has a CDOL1), resetting the card between them.

    stdout: {"atr": hex, "uid": hex, "taps": [{"aid": hex, "apdus": [{"c": hex, "r": hex}]}]}
    exit  : 0 ok, 3 pyscard missing, 4 no card/reader
"""

import json
import os
import sys
import time

try:
    from smartcard.System import readers
    from smartcard.scard import SCARD_RESET_CARD
except ImportError:
    print("pyscard is not installed: apt-get install python3-pyscard", file=sys.stderr)
    sys.exit(3)


def tlv(data):
    out, i = [], 0
    while i < len(data):
        first = data[i]
        tag = first
        i += 1
        if first & 0x1F == 0x1F:
            while True:
                tag = (tag << 8) | data[i]
                i += 1
                if not data[i - 1] & 0x80:
                    break
        length = data[i]
        i += 1
        if length & 0x80:
            n = length & 0x7F
            length = int.from_bytes(bytes(data[i:i + n]), "big")
            i += n
        out.append((tag, bytes(data[i:i + length]), bool(first & 0x20)))
        i += length
    return out


def find_all(data, into):
    for tag, value, constructed in tlv(data):
        if constructed:
            find_all(value, into)
        into.setdefault(tag, value)
    return into


def dol_entries(dol):
    out, i = [], 0
    while i < len(dol):
        tag = dol[i]
        i += 1
        if tag & 0x1F == 0x1F:
            while True:
                tag = (tag << 8) | dol[i]
                i += 1
                if not dol[i - 1] & 0x80:
                    break
        out.append((tag, dol[i]))
        i += 1
    return out


NUMERIC = {0x9F02, 0x9F03, 0x9F1A, 0x5F2A, 0x9A, 0x9C}


def dol_data(dol, values):
    out = b""
    for tag, n in dol_entries(dol):
        v = values.get(tag, b"")
        if tag in NUMERIC:
            v = (bytes(n) + v)[-n:] if len(v) <= n else v[-n:]
        else:
            v = (v + bytes(n))[:n]
        out += v
    return out


def apdu(cla, ins, p1, p2, data=b"", le=True):
    c = bytes([cla, ins, p1, p2])
    if data:
        c += bytes([len(data)]) + data
    if le:
        c += b"\x00"
    return c


def main():
    prefix = sys.argv[1] if len(sys.argv) > 1 else "Virtual PCD"
    deadline = time.time() + 20
    connection = None
    while time.time() < deadline and connection is None:
        for r in readers():
            if str(r).startswith(prefix):
                c = r.createConnection()
                try:
                    c.connect()
                    connection = c
                    break
                except Exception:  # no card yet
                    pass
        if connection is None:
            time.sleep(0.2)
    if connection is None:
        print("no card in a reader named %r" % prefix, file=sys.stderr)
        return 4

    trace = []

    def send(c):
        data, sw1, sw2 = connection.transmit(list(c))
        r = bytes(data) + bytes([sw1, sw2])
        trace.append({"c": c.hex(), "r": r.hex()})
        return bytes(data), (sw1 << 8) | sw2

    atr = bytes(connection.getATR()).hex()
    uid, sw = send(bytes.fromhex("FFCA000000"))
    uid = uid.hex() if sw == 0x9000 else ""

    trace.clear()
    ppse, sw = send(apdu(0x00, 0xA4, 0x04, 0x00, b"2PAY.SYS.DDF01"))
    if sw != 0x9000:
        print("PPSE answered %04X" % sw, file=sys.stderr)
        return 4
    directory = [v for t, v, _ in tlv(find_all(ppse, {}).get(0xBF0C, b"")) if t == 0x61]
    aids = [find_all(e, {})[0x4F] for e in directory]

    taps = []
    for n, aid in enumerate(aids):
        if n:
            connection.reconnect(disposition=SCARD_RESET_CARD)
        trace.clear()
        send(apdu(0x00, 0xA4, 0x04, 0x00, b"2PAY.SYS.DDF01"))
        fci, sw = send(apdu(0x00, 0xA4, 0x04, 0x00, aid))
        if sw != 0x9000:
            continue
        values = {
            0x9F66: bytes.fromhex("36804000"),
            0x9F02: bytes.fromhex("000000002500"),
            0x9F03: bytes(6),
            0x9F1A: bytes.fromhex("0156"),
            0x95: bytes(5),
            0x5F2A: bytes.fromhex("0156"),
            0x9A: bytes.fromhex(time.strftime("%y%m%d", time.gmtime())),
            0x9C: b"\x00",
            0x9F37: os.urandom(4),
            0x9F35: b"\x22",
            0x9F34: bytes.fromhex("3F0000"),
        }
        pdol = find_all(fci, {}).get(0x9F38, b"")
        pdol_data = dol_data(pdol, values)
        resp, sw = send(apdu(0x80, 0xA8, 0x00, 0x00, bytes([0x83, len(pdol_data)]) + pdol_data))
        if sw != 0x9000:
            taps.append({"aid": aid.hex(), "apdus": list(trace)})
            continue
        card = find_all(resp, {})
        afl = card.get(0x94, b"")
        for i in range(0, len(afl), 4):
            sfi, first, last = afl[i] >> 3, afl[i + 1], afl[i + 2]
            for rec in range(first, last + 1):
                data, sw = send(apdu(0x00, 0xB2, rec, (sfi << 3) | 4))
                if sw == 0x9000:
                    find_all(data, card)
        if 0x9F26 not in card and 0x8C in card:
            send(apdu(0x80, 0xAE, 0x80, 0x00, dol_data(card[0x8C], values)))
        taps.append({"aid": aid.hex(), "apdus": list(trace)})

    connection.disconnect()
    json.dump({"atr": atr, "uid": uid, "taps": taps}, sys.stdout)
    return 0


if __name__ == "__main__":
    sys.exit(main())
