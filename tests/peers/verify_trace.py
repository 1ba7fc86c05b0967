#!/usr/bin/env python3
"""Recompute a contactless card's application cryptogram from its APDU trace alone.

An independent check of walletcore's card: nothing here comes from walletcore except the bytes
that crossed the (virtual) NFC field. The script finds the PDOL/CDOL1 and the terminal's data
in the commands, the card's AIP, ATC, IAD, PAN and PSN in the responses, derives the ICC master
key and session key from the issuer master key with pyemv (PyPI, knovichikhin/pyemv), and
recomputes tag 9F26.

    stdin : {"imk": "<32 hex>", "apdus": [{"c": "<hex>", "r": "<hex>"}, ...]}
    stdout: {"scheme", "cvn", "pan", "psn", "atc", "card": "<9F26 hex>",
             "expected": "<hex>", "match": bool}
    exit  : 0 match, 1 mismatch, 2 bad trace, 3 pyemv missing

Visa CVN 18 / '22' and Mastercard CVN 20 / 21 use pyemv's own CVN classes. UnionPay qPBOC
CVN 01 has no pyemv class; it is assembled from pyemv primitives (option A master key, 3DES
ECB, ISO 9797-1 MAC algorithm 3) following the public description of qPBOC: session key
E_UDK(00..||ATC) || E_UDK(00..||ATC xor FFFF), MAC over 9F02 9F03 9F1A 95 5F2A 9A 9C 9F37 82
9F36 CVR(4) with padding method 2.
"""

import json
import sys

try:
    from pyemv import cvn as pcvn
    from pyemv import kd, mac, tools
except ImportError:  # the check must fail loudly, never skip
    print("pyemv is not installed: pip install pyemv", file=sys.stderr)
    sys.exit(3)

PPSE = b"2PAY.SYS.DDF01"


class BadTrace(Exception):
    pass


def parse_tlv(data):
    """One level of BER-TLV: list of (tag:int, value:bytes, constructed:bool)."""
    out, i = [], 0
    while i < len(data):
        if data[i] in (0x00, 0xFF):
            i += 1
            continue
        first = data[i]
        tag = first
        i += 1
        if first & 0x1F == 0x1F:
            while True:
                if i >= len(data):
                    raise BadTrace("truncated tag")
                tag = (tag << 8) | data[i]
                i += 1
                if not data[i - 1] & 0x80:
                    break
        if i >= len(data):
            raise BadTrace("missing length")
        length = data[i]
        i += 1
        if length & 0x80:
            n = length & 0x7F
            length = int.from_bytes(data[i:i + n], "big")
            i += n
        if i + length > len(data):
            raise BadTrace("truncated value")
        out.append((tag, data[i:i + length], bool(first & 0x20)))
        i += length
    return out


def walk(data, into):
    """Every primitive object, depth first; the first occurrence of a tag wins."""
    for tag, value, constructed in parse_tlv(data):
        if constructed:
            walk(value, into)
        else:
            into.setdefault(tag, value)
    return into


def parse_dol(dol):
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


def split_dol(dol, data):
    entries = parse_dol(dol)
    if sum(n for _, n in entries) != len(data):
        raise BadTrace("DOL data length does not match the DOL")
    out, i = {}, 0
    for tag, n in entries:
        out[tag] = data[i:i + n]
        i += n
    return out


def command_data(c):
    """Data field of a short command APDU (case 3 or 4)."""
    if len(c) < 6:
        return b""
    return c[5:5 + c[4]]


def read_trace(apdus):
    card, terminal = {}, {}
    aid = pdol = None
    for pair in apdus:
        c, r = bytes.fromhex(pair["c"]), bytes.fromhex(pair["r"])
        if len(c) < 4 or len(r) < 2 or r[-2:] != b"\x90\x00":
            continue
        ins, body = c[1], r[:-2]
        if ins == 0xA4:
            name = command_data(c)
            if name != PPSE:
                aid = name
                fci = walk(body, {})
                pdol = fci.get(0x9F38, b"")
                card, terminal = {}, {}  # a new selection starts a new transaction
        elif ins == 0xA8:
            template = parse_tlv(command_data(c))
            if len(template) != 1 or template[0][0] != 0x83:
                raise BadTrace("GPO data is not an 83 template")
            terminal.update(split_dol(pdol or b"", template[0][1]))
            objects = parse_tlv(body)
            if objects and objects[0][0] == 0x80:  # format 1: AIP || AFL
                card[0x82], card[0x94] = objects[0][1][:2], objects[0][1][2:]
            else:
                walk(body, card)
        elif ins == 0xB2:
            walk(body, card)
        elif ins == 0xAE:
            if 0x8C not in card:
                raise BadTrace("GENERATE AC without a CDOL1 in the records")
            terminal.update(split_dol(card[0x8C], command_data(c)))
            objects = parse_tlv(body)
            if objects and objects[0][0] == 0x80:  # format 1: CID ATC AC IAD
                v = objects[0][1]
                card[0x9F27], card[0x9F36], card[0x9F26], card[0x9F10] = v[:1], v[1:3], v[3:11], v[11:]
            else:
                for tag, value in walk(body, {}).items():
                    card[tag] = value
    if aid is None or 0x9F26 not in card:
        raise BadTrace("no selected application or no cryptogram in the trace")
    return aid, card, terminal


def scheme_of(aid):
    return {
        bytes.fromhex("A000000333"): "unionpay",
        bytes.fromhex("A000000003"): "visa",
        bytes.fromhex("A000000004"): "mastercard",
    }.get(aid[:5])


def recompute(imk, scheme, card, terminal):
    if 0x5A in card:
        pan = card[0x5A].hex().upper().rstrip("F")
    else:
        pan = card[0x57].hex().upper().split("D")[0]
    psn = "%02d" % int(card.get(0x5F34, b"\x00").hex() or "0")
    iad = card[0x9F10]
    t = lambda tag: terminal.get(tag, b"")  # noqa: E731
    covered = [t(0x9F02), t(0x9F03), t(0x9F1A), t(0x95), t(0x5F2A), t(0x9A), t(0x9C), t(0x9F37), card[0x82], card[0x9F36]]

    if scheme == "visa":
        cvn = iad[1] if iad[0] == 0x1F else iad[2]
        cls = {0x12: pcvn.VisaCVN18, 0x22: pcvn.VisaCVN22}.get(cvn)
        if cls is None:
            raise BadTrace("Visa CVN %02X not supported by this check" % cvn)
        ac = cls(imk, imk, imk, pan, psn).generate_ac(*covered, iad)
    elif scheme == "mastercard":
        cvn = iad[1]
        cvr = iad[2:8]
        if cvn == 0x14:
            ac = pcvn.MasterCardCVN20(imk, imk, imk, pan, psn).generate_ac(*covered, cvr)
        elif cvn == 0x15:
            # M/Chip IAD: DKI CVN CVR(6) DAC/IDN(2) counters(8) ...
            counters = iad[10:18]
            ac = pcvn.MasterCardCVN21(imk, imk, imk, pan, psn).generate_ac(*covered, cvr, counters)
        else:
            raise BadTrace("Mastercard CVN %02X not supported by this check" % cvn)
    elif scheme == "unionpay":
        cvn = iad[2]
        if cvn != 0x01:
            raise BadTrace("UnionPay CVN %02X not supported by this check" % cvn)
        udk = kd.derive_icc_mk_a(imk, pan, psn)  # option A: rightmost 16 digits of PAN||PSN
        atc = int.from_bytes(card[0x9F36], "big")
        left = tools.encrypt_tdes_ecb(udk, bytes(6) + atc.to_bytes(2, "big"))
        right = tools.encrypt_tdes_ecb(udk, bytes(6) + (atc ^ 0xFFFF).to_bytes(2, "big"))
        cvr = iad[3:7]  # IAD: 07 DKI CVN CVR(03 + 3 bytes) algorithm-id
        ac = mac.mac_iso9797_3(left, right, b"".join(covered) + cvr, 2)
    else:
        raise BadTrace("unknown scheme")
    return pan, psn, cvn, ac


def main():
    request = json.load(sys.stdin)
    imk = bytes.fromhex(request["imk"])
    try:
        aid, card, terminal = read_trace(request["apdus"])
        scheme = scheme_of(aid)
        pan, psn, cvn, expected = recompute(imk, scheme, card, terminal)
    except (BadTrace, KeyError, IndexError, ValueError) as e:
        print("bad trace: %s" % e, file=sys.stderr)
        return 2
    match = expected == card[0x9F26]
    json.dump(
        {
            "scheme": scheme,
            "cvn": "%02X" % cvn,
            "pan": pan,
            "psn": psn,
            "atc": int.from_bytes(card[0x9F36], "big"),
            "card": card[0x9F26].hex().upper(),
            "expected": expected.hex().upper(),
            "match": match,
        },
        sys.stdout,
    )
    return 0 if match else 1


if __name__ == "__main__":
    sys.exit(main())
