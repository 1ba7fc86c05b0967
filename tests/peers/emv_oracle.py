#!/usr/bin/env python3
"""EMV cryptogram oracle for walletcore's tests (core/tests/emv_pyemv.rs).

Reads one JSON object {"cases": [...]} on stdin and writes {"results": [...]} on stdout, one
result per case, in order. All byte strings are hex.

Visa and Mastercard values come from pyemv (knovichikhin/pyemv): its key derivations, its
ISO 9797-1 MAC and its per-CVN classes, which know each AC input layout. UnionPay qPBOC CVN 01
has no public vectors and pyemv has no class for it, so those values are computed here
directly from `cryptography`'s DES/3DES primitives, without any pyemv EMV function, from the
description in notes/emv.md (option A UDK, SK = E(00x6||ATC) || E(00x6||ATC^FFFF), retail MAC
with padding method 2 over the terminal data and the 4-byte CVR).

Exit status 3 with a message on stderr when pyemv or cryptography is missing.
"""
import json
import sys
import warnings

# pyemv 1.5.0 reaches TripleDES through cryptography's deprecated path; the values are right,
# the warnings are noise.
warnings.simplefilter("ignore")

try:
    from pyemv import cvn as pcvn
    from pyemv import kd as pkd
    from pyemv import mac as pmac
    from cryptography.hazmat.primitives.ciphers import Cipher, modes

    try:
        from cryptography.hazmat.decrepit.ciphers.algorithms import TripleDES
    except ImportError:  # cryptography < 43
        from cryptography.hazmat.primitives.ciphers.algorithms import TripleDES
except ImportError as e:
    sys.stderr.write(
        f"emv_oracle: {e}. Install the peers: pip install -r tests/peers/requirements.txt\n"
    )
    sys.exit(3)

TERMINAL_FIELDS = ["9F02", "9F03", "9F1A", "95", "5F2A", "9A", "9C", "9F37", "82", "9F36"]


def b(h):
    return bytes.fromhex(h)


def tags(case):
    """The ten terminal/card fields as pyemv's keyword arguments."""
    return {f"tag_{t.lower()}": b(case[t]) for t in TERMINAL_FIELDS}


# --- Visa and Mastercard: pyemv ---------------------------------------------------------

PYEMV_CLASSES = {
    "visa18": pcvn.VisaCVN18,
    "visa22": pcvn.VisaCVN22,
    "mc16": pcvn.MasterCardCVN16,
    "mc17": pcvn.MasterCardCVN17,
    "mc20": pcvn.MasterCardCVN20,
    "mc21": pcvn.MasterCardCVN21,
}


def pyemv_arqc(case):
    imk = b(case["imk"])
    card = PYEMV_CLASSES[case["cvn"]](
        iss_mk_ac=imk, iss_mk_smi=imk, iss_mk_smc=imk, pan=case["pan"], psn=case["psn"]
    )
    iad = b(case["9F10"])
    kwargs = tags(case)
    if case["cvn"].startswith("visa"):
        kwargs["tag_9f10"] = iad  # CVN 18/'22' MAC the whole IAD
    else:
        # M/Chip IAD (pyemv's test comments, M/Chip 4 layout):
        # DKI(1) CVN(1) CVR(6) DAC/IDN(2) counters(8).
        kwargs["cvr"] = iad[2:8]
        if case["cvn"] in ("mc17", "mc21"):
            kwargs["counters"] = iad[10:18]
    return {"mk": card.icc_mk_ac.hex(), "arqc": card.generate_ac(**kwargs).hex()}


def common_sk(mk, r):
    return pkd.derive_common_sk(b(mk), r).hex()


# --- UnionPay qPBOC CVN 01: cryptography's primitives only -------------------------------


def tdes_ecb(key16, block):
    enc = Cipher(TripleDES(key16 + key16[:8]), modes.ECB()).encryptor()
    return enc.update(block) + enc.finalize()


def des_cbc_last(key8, data):
    """Single DES CBC (as 3DES with K1=K2=K3), zero IV; the last block."""
    enc = Cipher(TripleDES(key8 * 3), modes.CBC(bytes(8))).encryptor()
    return (enc.update(data) + enc.finalize())[-8:]


def retail_mac_method2(key16, data):
    data = data + b"\x80"
    data += bytes(-len(data) % 8)
    head, last = data[:-8], data[-8:]
    state = des_cbc_last(key16[:8], head) if head else bytes(8)
    return tdes_ecb(key16, bytes(x ^ y for x, y in zip(state, last)))


def option_a(imk, pan, psn):
    digits = (pan + psn)[-16:].rjust(16, "0")
    y = bytes.fromhex(digits)
    key = tdes_ecb(imk, y) + tdes_ecb(imk, bytes(x ^ 0xFF for x in y))
    # odd parity on every byte
    return bytes(x ^ (1 - bin(x).count("1") % 2) for x in key)


def unionpay(case):
    udk = option_a(b(case["imk"]), case["pan"], case["psn"])
    atc = b(case["9F36"])
    sk = tdes_ecb(udk, bytes(6) + atc) + tdes_ecb(udk, bytes(6) + bytes(x ^ 0xFF for x in atc))
    data = b"".join(b(case[t]) for t in TERMINAL_FIELDS) + b(case["9F10"])[3:7]
    return {"mk": udk.hex(), "sk": sk.hex(), "arqc": retail_mac_method2(sk, data).hex()}


# --- dispatch --------------------------------------------------------------------------


def run(case):
    kind = case["kind"]
    if kind == "mk":
        return {
            "a": pkd.derive_icc_mk_a(b(case["imk"]), case["pan"], case["psn"]).hex(),
            "b": pkd.derive_icc_mk_b(b(case["imk"]), case["pan"], case["psn"]).hex(),
        }
    if kind == "csk":
        return {"sk": common_sk(case["mk"], b(case["atc"]) + bytes(6))}
    if kind == "skd":
        return {"sk": common_sk(case["mk"], b(case["atc"]) + bytes(2) + b(case["un"]))}
    if kind == "mac":
        key = b(case["key"])
        return {"mac": pmac.mac_iso9797_3(key[:8], key[8:], b(case["data"]), case["padding"]).hex()}
    if kind == "arqc":
        return pyemv_arqc(case)
    if kind == "unionpay":
        return unionpay(case)
    raise ValueError(f"unknown case kind {kind!r}")


def main():
    request = json.load(sys.stdin)
    results = [run(case) for case in request["cases"]]
    json.dump({"results": results}, sys.stdout)


if __name__ == "__main__":
    main()
