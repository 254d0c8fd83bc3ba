"""The files a newcomer reads first: the LICENSE that pyproject.toml declares, and `make help`."""

from __future__ import annotations

import hashlib
import re
import subprocess
import tomllib

from local.template import ROOT

# SHA-256 of the Apache License 2.0 as the Apache Software Foundation publishes it (LICENSE-2.0.txt).
APACHE_2_SHA256 = "cfc7749b96f63bd31c3c42b5c471bf756814053e847c10f3eb003417bc523d30"
COPYRIGHT = "   Copyright 2026 the reco authors\n"
APPENDIX_PLACEHOLDER = "   Copyright [yyyy] [name of copyright owner]\n"


def test_license_is_the_one_pyproject_declares() -> None:
    assert tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["license"] == "Apache-2.0"
    text = (ROOT / "LICENSE").read_text()
    assert text.split("\n")[1:3] == [
        "                                 Apache License",
        "                           Version 2.0, January 2004",
    ]
    # The standard text, word for word, with the appendix's copyright line filled in.
    assert text.count(COPYRIGHT) == 1
    standard = text.replace(COPYRIGHT, APPENDIX_PLACEHOLDER)
    assert hashlib.sha256(standard.encode()).hexdigest() == APACHE_2_SHA256


def make_help(*variables: str) -> list[str]:
    done = subprocess.run(
        ["make", "-s", "help", *variables], cwd=ROOT, capture_output=True, text=True, check=True, timeout=60
    )
    return done.stdout.splitlines()


def test_make_help_prints_values_not_variable_names() -> None:
    lines = make_help()
    assert not [line for line in lines if "$(" in line]
    targets = {line.split()[0]: line for line in lines}
    assert {"help", "install", "run", "token", "test", "openapi", "clean"} <= set(targets)
    assert "serve every route on http://127.0.0.1:3000 against" in targets["run"]
    # Every description starts in one column, however long the target's name.
    assert len({re.match(r"^\S+\s+", line).end() for line in lines}) == 1  # type: ignore[union-attr]

    assert "http://127.0.0.1:8123 against" in {line.split()[0]: line for line in make_help("PORT=8123")}["run"]


def test_no_merge_or_patch_leftovers_are_tracked_and_they_are_ignored() -> None:
    tracked = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True).stdout.split()
    assert [path for path in tracked if path.endswith((".orig", ".rej"))] == []
    ignored = (ROOT / ".gitignore").read_text().split()
    assert "*.orig" in ignored and "*.rej" in ignored
