"""Dev signing key and tokens for the local authorizer (RS256; the key lives in .local/, git-ignored).

python -m local.tokens --tenant demo --roles backend,manager
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import json
import os
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from local.template import ROOT, parameter_default

KEY_DIR = ROOT / ".local"
KEY_FILE = "jwt-private.pem"
LOCAL_ISSUER = "https://reco.local/issuer"
LOCAL_AUDIENCE = "reco-api"
DEFAULT_TTL_SECONDS = 3600


def _create_key_file(path: Path) -> None:
    """Write a new private key to ``path`` atomically; if another process got there first, keep theirs."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    path.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile(dir=path.parent, delete=False) as tmp:
        tmp.write(pem)
    os.chmod(tmp.name, 0o600)
    try:
        os.link(tmp.name, path)  # fails if the file exists: the first writer wins
    except FileExistsError:
        pass
    finally:
        os.unlink(tmp.name)


def ensure_keys(key_dir: Path = KEY_DIR) -> tuple[str, dict[str, Any]]:
    """The dev private key (PEM, created on first use) and the public JWKS derived from it."""
    path = key_dir / KEY_FILE
    if not path.exists():
        _create_key_file(path)
    pem = path.read_text()
    private_key = serialization.load_pem_private_key(pem.encode(), password=None)
    public_jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(private_key.public_key()))  # type: ignore[arg-type]
    # RFC 7638 thumbprint as the key id: stable for the key, so tokens and JWKS always agree.
    canonical = json.dumps({k: public_jwk[k] for k in ("e", "kty", "n")}, separators=(",", ":"), sort_keys=True)
    kid = base64.urlsafe_b64encode(hashlib.sha256(canonical.encode()).digest()).rstrip(b"=").decode()
    public_jwk.update(kid=kid, alg="RS256", use="sig")
    return pem, {"keys": [public_jwk]}


def issue_token(
    tenant: str,
    roles: Sequence[str],
    *,
    subject: str = "local-user",
    ttl_seconds: int = DEFAULT_TTL_SECONDS,
    key_dir: Path = KEY_DIR,
    extra_claims: dict[str, Any] | None = None,
) -> str:
    private_pem, jwks = ensure_keys(key_dir)
    now = int(time.time())
    claims: dict[str, Any] = {
        "iss": LOCAL_ISSUER,
        "aud": LOCAL_AUDIENCE,
        "sub": subject,
        str(parameter_default("TenantClaim")): tenant,
        "roles": list(roles),
        "iat": now,
        "nbf": now,
        "exp": now + ttl_seconds,
        **(extra_claims or {}),
    }
    return jwt.encode(claims, private_pem, algorithm="RS256", headers={"kid": jwks["keys"][0]["kid"]})


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Print a bearer token for the local API.")
    parser.add_argument("--tenant", default="demo")
    parser.add_argument("--roles", default="backend", help="comma-separated: root, manager, backend, frontend, read")
    parser.add_argument("--subject", default="local-user", help="the sub claim: the user a read token is for")
    parser.add_argument("--ttl", type=int, default=DEFAULT_TTL_SECONDS, help="lifetime in seconds")
    args = parser.parse_args(argv)
    roles = [r.strip() for r in args.roles.split(",") if r.strip()]
    token = issue_token(args.tenant, roles, subject=args.subject, ttl_seconds=args.ttl)
    print(f"# tenant={args.tenant} roles={','.join(roles)} expires in {args.ttl}s", flush=True)
    print(token)


if __name__ == "__main__":
    main()
