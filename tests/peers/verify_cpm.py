#!/usr/bin/env python3
"""Issuer-side check of walletcore's EMVCo consumer-presented (CPM) payment codes.

Used by core/tests/qr_cpm.rs. Reads {"imk": hex, "payloads": [base64, ...]} on stdin and
writes {"results": [{"apps": [...]} | {"error": "..."}]} on stdout, one result per payload.

Everything is taken from the payload alone, parsed here with a BER-TLV reader independent of
walletcore's: per application template 61, the PAN from the track-2 equivalent (57), the PSN
(5F34), and from template 63 the ATC (9F36), unpredictable number (9F37), AIP (82), IAD
(9F10) and the ARQC (9F26). A CPM code is shown before the amount or terminal are known, so
the amount, other amount, terminal country, TVR, currency, date and transaction type the
cryptogram covers are zeros. The expected ARQC comes from tests/peers/emv_oracle.py: pyemv
for Visa CVN 18/'22' and Mastercard CVN 20/21, and its independent UnionPay CVN 01
computation over `cryptography`'s DES.

Exit status 3 with a message on stderr when pyemv or cryptography is missing.
"""
import base64
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import emv_oracle  # noqa: E402  (exits 3 with an install hint when pyemv is missing)

ZERO_TERMINAL_DATA = {
    "9F02": "000000000000",
    "9F03": "000000000000",
    "9F1A": "0000",
    "95": "0000000000",
    "5F2A": "0000",
    "9A": "000000",
    "9C": "00",
}


def read_tlv(data):
    """One level of BER-TLV: a list of (tag hex, value bytes)."""
    out, i = [], 0
    while i < len(data):
        if data[i] in (0x00, 0xFF):
            i += 1
            continue
        start = i
        i += 1
        if data[start] & 0x1F == 0x1F:
            while data[i] & 0x80:
                i += 1
            i += 1
        tag = data[start:i].hex().upper()
        length = data[i]
        i += 1
        if length & 0x80:
            n = length & 0x7F
            length = int.from_bytes(data[i : i + n], "big")
            i += n
        value = data[i : i + length]
        if len(value) != length:
            raise ValueError(f"value of tag {tag} overruns")
        out.append((tag, value))
        i += length
    return out


def cvn_of(aid, iad):
    if aid.startswith("A000000003"):
        return "visa22" if iad[0] == 0x1F else "visa18"
    if aid.startswith("A000000004"):
        return {0x14: "mc20", 0x15: "mc21"}[iad[1]]
    if aid.startswith("A000000333"):
        return "unionpay"
    raise ValueError(f"no cryptogram version known for AID {aid}")


def check_app(imk, template):
    app = dict(read_tlv(template))
    txn = dict(read_tlv(app["63"]))
    aid = app["4F"].hex().upper()
    pan = app["57"].hex().upper().split("D")[0]
    psn = app["5F34"].hex().upper()
    iad = txn["9F10"]
    cvn = cvn_of(aid, iad)
    case = {"imk": imk, "pan": pan, "psn": psn, "cvn": cvn, **ZERO_TERMINAL_DATA}
    case.update({"9F37": txn["9F37"].hex(), "82": txn["82"].hex(), "9F36": txn["9F36"].hex(), "9F10": iad.hex()})
    expected = emv_oracle.unionpay(case) if cvn == "unionpay" else emv_oracle.pyemv_arqc(case)
    arqc = txn["9F26"].hex().upper()
    return {
        "aid": aid,
        "pan": pan,
        "psn": psn,
        "cvn": cvn,
        "atc": int.from_bytes(txn["9F36"], "big"),
        "cid": txn["9F27"].hex().upper(),
        "arqc": arqc,
        "expected": expected["arqc"].upper(),
        "ok": arqc == expected["arqc"].upper(),
    }


def check(imk, payload):
    try:
        top = read_tlv(base64.b64decode(payload, validate=True))
        if not top or top[0] != ("85", b"CPV01"):
            return {"error": "no payload format indicator 85 CPV01"}
        return {"apps": [check_app(imk, v) for t, v in top if t == "61"]}
    except (ValueError, KeyError, IndexError) as e:
        return {"error": f"{type(e).__name__}: {e}"}


def main():
    request = json.load(sys.stdin)
    json.dump({"results": [check(request["imk"], p) for p in request["payloads"]]}, sys.stdout)


if __name__ == "__main__":
    main()
