#!/usr/bin/env python3
"""Write the seed corpora of hce_engine, mpm_parse, cpm_decode and vpcd_frame.

The APDUs are the ones core/tests/hce_support builds (SELECT PPSE/AID, GPO with the qVSDC/qPBOC
PDOL data, READ RECORD, GENERATE AC with the M/Chip CDOL1 data); the QR payloads are every entry
of core/tests/fixtures/qr-corpus.jsonl plus the CPM codes of core/tests/qr_bad_input.rs.
Run from the repository root: python3 fuzz/seeds/make.py
"""
import base64
import json
import os
import re

PPSE = b"2PAY.SYS.DDF01"
AID_UNIONPAY = bytes.fromhex("A000000333010101")
AID_VISA = bytes.fromhex("A0000000031010")
AID_MASTERCARD = bytes.fromhex("A0000000041010")
UN = bytes.fromhex("01020304")


def select(name):
    return bytes([0x00, 0xA4, 0x04, 0x00, len(name)]) + name + b"\x00"


def n12(v):
    return bytes.fromhex(f"{v:012d}")


def pdol_data(amount, ttq):
    return (ttq + n12(amount) + bytes(6) + bytes.fromhex("0156") + bytes(5)
            + bytes.fromhex("0156") + bytes.fromhex("250101") + b"\x00" + UN)


def ttq(cvm):
    return bytes([0x36, 0x80 | (0x40 if cvm else 0), 0x40, 0x00])


def gpo(data):
    return bytes([0x80, 0xA8, 0x00, 0x00, len(data) + 2, 0x83, len(data)]) + data + b"\x00"


def cdol1_data(amount):
    return (n12(amount) + bytes(6) + bytes.fromhex("0156") + bytes(5) + bytes.fromhex("0156")
            + bytes.fromhex("250101") + b"\x00" + UN + b"\x22" + bytes.fromhex("3F0000"))


def generate_ac(p1, data):
    return bytes([0x80, 0xAE, p1, 0x00, len(data)]) + data + b"\x00"


def read_record(sfi, rec):
    return bytes([0x00, 0xB2, rec, (sfi << 3) | 0x04, 0x00])


GET_DATA_ATC = bytes.fromhex("80CA9F3600")


def write(target, name, data):
    d = os.path.join("fuzz", "seeds", target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


# hce_engine: variant byte, then steps (a byte n > 4 is an APDU of n bytes; 1 field off,
# 2 unlock, 3 lock, 4 a minute passes).
def steps(*items):
    out = b""
    for it in items:
        out += bytes([it]) if isinstance(it, int) else bytes([len(it)]) + it
    return out


qtap = lambda aid, amount, cvm=False: [select(PPSE), select(aid), gpo(pdol_data(amount, ttq(cvm))),
                                       read_record(1, 1), GET_DATA_ATC]
mtap = lambda amount, p1=0x80: [select(PPSE), select(AID_MASTERCARD), gpo(b""), read_record(1, 1),
                                 read_record(2, 1), generate_ac(p1, cdol1_data(amount)), GET_DATA_ATC]
hce = {
    "visa_tap": b"\x00" + steps(*qtap(AID_VISA, 1_200)),
    "visa18_unlocked_high": b"\x01" + steps(2, *qtap(AID_VISA, 9_000)),
    "visa_see_phone": b"\x00" + steps(*qtap(AID_VISA, 9_000)),
    "unionpay_tap_twice": b"\x00" + steps(*qtap(AID_UNIONPAY, 800), 1, *qtap(AID_UNIONPAY, 900, True)),
    "mastercard_tap": b"\x00" + steps(*mtap(1_500)),
    "mastercard20_aac": b"\x02" + steps(*mtap(1_500, 0x00)),
    "mastercard_unlock_expires": b"\x00" + steps(2, 4, *mtap(7_000, 0x40)),
    "all_schemes": b"\x03" + steps(*qtap(AID_VISA, 100), 1, *qtap(AID_UNIONPAY, 100), 1, *mtap(100), 3),
    "extended_select": b"\x00" + b"\x00" + len(bytes([0, 0xA4, 4, 0, 0, 0, 7]) + AID_VISA + b"\x00\x00").to_bytes(2, "big")
    + bytes([0, 0xA4, 4, 0, 0, 0, 7]) + AID_VISA + b"\x00\x00",
}
for name, data in hce.items():
    write("hce_engine", name, data)

# vpcd_frame: length-prefixed messages as vpcd sends them.
frame = lambda p: len(p).to_bytes(2, "big") + p
vpcd = {
    "power_atr_tap": b"".join(frame(m) for m in [b"\x01", b"\x04", bytes.fromhex("FFCA000000"),
                                                  *qtap(AID_VISA, 1_200), b"\x00"]),
    "reset_and_stray": b"".join(frame(m) for m in [b"\x01", b"\x02", b"\x03", b"\x04", select(PPSE)]),
    "truncated": frame(select(PPSE))[:-3],
}
for name, data in vpcd.items():
    write("vpcd_frame", name, data)

# mpm_parse and cpm_decode: the QR corpus.
with open(os.path.join("core", "tests", "fixtures", "qr-corpus.jsonl")) as f:
    for line in f:
        entry = json.loads(line)
        payload = entry["payload"].encode()
        if entry["mode"] == "MPM":
            write("mpm_parse", entry["id"], payload)
        else:
            write("cpm_decode", entry["id"], b"\x00" + payload)
            try:
                write("cpm_decode", entry["id"] + "-tlv", b"\x01" + base64.b64decode(payload))
            except ValueError:
                pass
with open(os.path.join("core", "tests", "qr_bad_input.rs")) as f:
    for i, code in enumerate(sorted(set(re.findall(r'"(hQ[A-Za-z0-9+/=]{8,})"', f.read())))):
        write("cpm_decode", f"bad-input-{i}", b"\x00" + code.encode())

# server_json: one realistic body per response type the client parses (type byte first), in
# the shapes core/src/token/api.rs defines.
profile = {"id": "tok-1", "scheme": "visa", "aid": "A0000000031010", "label": "VISA",
           "token_pan": "4895370012345678", "expiry": "3012", "psn": 1, "cvn": "Visa22", "dki": 1,
           "cvm_limit_minor": 5000, "issuer_country": 156}
wire_keys = [{"atc": a, "key": f"{a:032X}"} for a in (1, 2, 3)]
bodies = [
    {"error": {"code": "otp_incorrect", "message": "wrong code", "attempts_left": 2}},
    {"device_id": "d-0123456789abcdef"},
    {"provisioning_id": "0123456789abcdef0123456789abcdef", "scheme": "unionpay", "pan_suffix": "1234",
     "terms": {"id": "t-1", "url": "https://example.invalid/terms", "text": "Terms"}},
    {"decision": "REQUIRE_IDV", "idv_methods": [{"id": "sms-1", "kind": "OTP_SMS", "target": "+86 *** **** 1234"}]},
    {"method_id": "sms-1", "otp_expires_in_secs": 300},
    {"provisioning_id": "0123456789abcdef0123456789abcdef", "state": "APPROVED", "scheme": "visa",
     "pan_suffix": "5678", "terms": {"id": "t-1", "url": "u", "text": "x"}, "token_ref": "tok-1"},
    {"token_ref": "tok-1", "jwe": "eyJhbGciOiJFQ0RILUVTIn0..AAAA.BBBB.CCCC"},
    {"token_ref": "tok-1", "state": "SUSPENDED", "last_issued_atc": 20},
    {"events": [{"seq": 7, "token_ref": "tok-1", "kind": "REPLENISH_REQUIRED", "reason": "keys revoked"}]},
    {"token_ref": "tok-1", "atc": 3, "status": "approved", "amount_minor": 1200, "currency": 156, "response_code": "00"},
    {"approved": False, "response_code": "05", "reason": "cryptogram", "auth_code": None},
    {"keys": [{"kty": "EC", "crv": "P-256", "kid": "srv-1", "alg": "ECDH-ES",
               "x": "axfR8uEsQkf4vOblY6RA8ncDfYEt6zOg9KE5RdiYwpY",  # the P-256 base point
               "y": "T-NC4v4af5uO5-tKfA-eFivOM1drMV7Oy7ZAaDe_UfU"}]},
    {"token_ref": "tok-1", "profile": profile, "keys": wire_keys, "log_mac_key": "00" * 32},
]
for i, body in enumerate(bodies):
    write("server_json", f"type-{i:02}", bytes([i]) + json.dumps(body).encode())
write("server_json", "type-12-batch", bytes([12]) + json.dumps({"token_ref": "tok-1", "keys": wire_keys}).encode())

# jwe_decode: JWEs sealed to the target's fixed device key (scalar 11..11, kid "device-1") by an
# independent JOSE library, and plaintexts for the seal-and-tamper mode.
write("jwe_decode", "plain-credentials", b"\x01\x00\x10\x01" + json.dumps(bodies[12]).encode())
write("jwe_decode", "plain-empty", b"\x01\x00\x00\x80")
try:
    from cryptography.hazmat.primitives.asymmetric import ec
    from jwcrypto import jwe as jjwe, jwk as jjwk

    device = ec.derive_private_key(int.from_bytes(b"\x11" * 32, "big"), ec.SECP256R1())
    public = jjwk.JWK.from_pyca(device.public_key())
    for name, plain in [("credentials", json.dumps(bodies[12]).encode()),
                        ("batch", json.dumps({"token_ref": "tok-1", "keys": wire_keys}).encode())]:
        token = jjwe.JWE(plain, protected={"alg": "ECDH-ES", "enc": "A256GCM", "kid": "device-1"})
        token.add_recipient(public)
        write("jwe_decode", f"jwcrypto-{name}", b"\x00" + token.serialize(compact=True).encode())
except ImportError:
    print("jwcrypto not installed (pip install jwcrypto): jwe_decode gets no sealed seeds")
