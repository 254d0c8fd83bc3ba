"""Dev signing keys and tokens for the local authorizer (RS256, a JWKS on disk, git-ignored).

python -m local.tokens --tenant demo --roles backend,manager
"""

from __future__ import annotations

import argparse
import json
import time
import uuid
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from local.template import ROOT

KEY_DIR = ROOT / ".local"
LOCAL_ISSUER = "https://reco.local/issuer"
LOCAL_AUDIENCE = "reco-api"
DEFAULT_TTL_SECONDS = 3600


def ensure_keys(key_dir: Path = KEY_DIR) -> tuple[str, dict[str, Any]]:
    """The dev private key (PEM) and public JWKS, created on first use."""
    private_path, jwks_path = key_dir / "jwt-private.pem", key_dir / "jwks.json"
    if not private_path.exists() or not jwks_path.exists():
        key_dir.mkdir(parents=True, exist_ok=True)
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        pem = key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
        public_jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(key.public_key()))
        public_jwk.update(kid=uuid.uuid4().hex[:16], alg="RS256", use="sig")
        private_path.write_bytes(pem)
        private_path.chmod(0o600)
        jwks_path.write_text(json.dumps({"keys": [public_jwk]}, indent=2))
    return private_path.read_text(), json.loads(jwks_path.read_text())


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
        "tenant": tenant,
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
    parser.add_argument("--roles", default="backend", help="comma-separated: root, manager, backend, frontend")
    parser.add_argument("--subject", default="local-user")
    parser.add_argument("--ttl", type=int, default=DEFAULT_TTL_SECONDS, help="lifetime in seconds")
    args = parser.parse_args(argv)
    roles = [r.strip() for r in args.roles.split(",") if r.strip()]
    token = issue_token(args.tenant, roles, subject=args.subject, ttl_seconds=args.ttl)
    print(f"# tenant={args.tenant} roles={','.join(roles)} expires in {args.ttl}s", flush=True)
    print(token)


if __name__ == "__main__":
    main()
