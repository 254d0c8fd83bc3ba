"""The layer's dependency rules: business logic imports neither boto3 nor FastAPI; stores never FastAPI."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

from local.template import ROOT

PACKAGE = ROOT / "layers/core/reco"
HTTP_LIBRARIES = {"fastapi", "starlette", "mangum"}
AWS_LIBRARIES = {"boto3", "botocore"}


def imported_roots(path: Path) -> set[str]:
    roots = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            roots |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            roots.add(node.module.split(".")[0])
            if node.module == "reco.stores" or node.module.startswith("reco.stores."):
                roots.add("reco.stores")
            if node.module == "reco.api" or node.module.startswith("reco.api."):
                roots.add("reco.api")
    return roots


def modules(folder: str | None = None) -> list[Path]:
    return sorted((PACKAGE / folder if folder else PACKAGE).rglob("*.py"))


def test_domain_modules_import_neither_aws_nor_http() -> None:
    for path in modules():
        relative = path.relative_to(PACKAGE).parts
        # api/, cli/ and services/ (the composition root) are entry points, like the handlers, that wire
        # stores to the domain; snapstart.py resets the AWS clients of a restored container.
        if relative[0] in ("api", "cli", "services", "stores") or relative in (
            ("observability.py",),
            ("snapstart.py",),
        ):
            continue
        found = imported_roots(path) & (HTTP_LIBRARIES | AWS_LIBRARIES | {"reco.stores", "reco.api"})
        assert not found, f"{path.relative_to(ROOT)} imports {sorted(found)}"


def test_stores_never_import_http() -> None:
    for path in modules("stores"):
        found = imported_roots(path) & (HTTP_LIBRARIES | {"reco.api"})
        assert not found, f"{path.relative_to(ROOT)} imports {sorted(found)}"


def test_importing_the_ranking_domain_loads_no_aws_or_http_library() -> None:
    code = (
        "import sys, reco.ranking.service; "
        "print(sorted(m for m in ('boto3', 'botocore', 'fastapi', 'starlette') if m in sys.modules))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        env={"PYTHONPATH": str(ROOT / "layers/core")},
    )
    assert result.stdout.strip() == "[]"
