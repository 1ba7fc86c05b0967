#!/usr/bin/env python3
"""Independent JOSE peer for walletcore's JWE tests (uses jwcrypto, not walletcore code).

Reads one JSON object on stdin, writes one JSON object on stdout:
  {"op": "decrypt", "jwk": <private EC JWK>, "jwe": "<compact>"}
      -> {"plaintext_b64": "...", "header": {...}}
  {"op": "encrypt", "jwk": <public EC JWK with kid>, "plaintext_b64": "..."}
      -> {"jwe": "<compact>"}
Exit status 3 with a message on stderr when jwcrypto is missing.
"""
import base64
import json
import sys

try:
    from jwcrypto import jwe, jwk
    from jwcrypto.common import json_encode
except ImportError:
    sys.stderr.write("jwcrypto is not installed: pip3 install -r tests/peers/requirements.txt\n")
    sys.exit(3)


def b64d(s):
    return base64.urlsafe_b64decode(s + "=" * (-len(s) % 4))


def b64e(b):
    return base64.urlsafe_b64encode(b).rstrip(b"=").decode()


def main():
    req = json.load(sys.stdin)
    key = jwk.JWK(**req["jwk"])
    if req["op"] == "decrypt":
        token = jwe.JWE()
        # Same allow-list walletcore enforces; jwcrypto refuses anything else.
        token.allowed_algs = ["ECDH-ES", "A256GCM"]
        token.deserialize(req["jwe"], key=key)
        json.dump({"plaintext_b64": b64e(token.payload), "header": token.jose_header}, sys.stdout)
    elif req["op"] == "encrypt":
        header = {"alg": "ECDH-ES", "enc": "A256GCM", "kid": req["jwk"]["kid"]}
        token = jwe.JWE(b64d(req["plaintext_b64"]), json_encode(header))
        token.add_recipient(key)
        json.dump({"jwe": token.serialize(compact=True)}, sys.stdout)
    else:
        sys.stderr.write("unknown op\n")
        sys.exit(2)


if __name__ == "__main__":
    main()
