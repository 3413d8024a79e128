# An independent computation of Patronym's two derivations, written from
# ARCHITECTURE.md's formulas with Python's standard library only (no code
# shared with src/): reads JSON cases on stdin, prints JSON results.
#   accountId = base64url(HMAC-SHA256(accountKey, lp(realm) || lp(stableId)))
#   sub = base32lower(HMAC-SHA256(pairwiseKey, lp(sector) || lp(accountId) || lp(generation))) "@" scope
# lp(s) = 4-byte big-endian length of s's UTF-8 bytes, then the bytes.
import base64, hashlib, hmac, json, struct, sys

def lp(*parts):
    out = b""
    for p in parts:
        b = p.encode("utf-8")
        out += struct.pack(">I", len(b)) + b
    return out

def account_id(key, realm, stable_id):
    digest = hmac.new(key, lp(realm, stable_id), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")

def sub(key, sector, account, generation, scope):
    digest = hmac.new(key, lp(sector.lower(), account, str(generation)), hashlib.sha256).digest()
    return base64.b32encode(digest).decode().rstrip("=").lower() + "@" + scope.lower()

cases = json.load(sys.stdin)
results = []
for c in cases:
    a = account_id(bytes.fromhex(c["accountKey"]), c["realm"], c["stableId"])
    results.append({"accountId": a, "sub": sub(bytes.fromhex(c["pairwiseKey"]), c["sector"], a, c["generation"], c["scope"])})
print(json.dumps(results))
