"""The README's examples and its guides', run top to bottom as a new user runs them, against one server.

The order is the README's: its own examples, then each guide its API table links, in the table's order.
Every bash block that talks to the server (or the CLI's ``--local``) carries a ``<!-- marker -->``; the
block runs verbatim (only the port differs) and its answer must match the JSON block documented after
it in every stable part: statuses, ids, field names, texts, scores to 1e-3. Times, generated ids and
cursors are checked for presence only. Documented output lines written as ``# …`` comments in a block
without a JSON answer must appear in its output. One server for the whole walk, so an example that
changed what a later one serves (as training a model on the demo tenant once did) fails here.
About a minute: a fresh store (the demo tenant is loaded and trained at start-up), ~30 examples.
"""

from __future__ import annotations

import json
import re
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from bench.runner import running, runtime_env
from local.template import ROOT

README = ROOT / "README.md"
# Blocks that need what a new user may not have: MovieLens (its terms forbid a copy here; the ML-100K one is run
# by tests/test_runner_storage.py) or the user's own catalog file.
NEEDS_FILES = ("../shared/data/", "products.csv", "products.jsonl")
# Fields whose values differ on every run: checked for presence (and null-ness) only.
VOLATILE = {
    "rec_id",
    "next_cursor",
    "created_at",
    "updated_at",
    "trained_at",
    "timestamp",
    "job_id",
    "conversation_id",
    "fit_seconds",
    "processing_time_ms",
}
BLOCK = re.compile(
    r"(?:<!-- (?P<marker>[\w-]+) -->\s*)?```bash\n(?P<script>.*?)```(?:\s*```json\n(?P<answer>.*?)```)?", re.S
)


@dataclass
class Example:
    document: str
    marker: str | None
    script: str
    answer: str | None


def documents() -> list[Path]:
    """The README, then the pages its "The APIs" section links, in the order it lists them."""
    readme = README.read_text()
    section = readme[readme.index("\n## The APIs") :]
    section = section[: section.index("\n## ", 1)]
    pages = dict.fromkeys(ROOT / link for link in re.findall(r"\]\((docs/[\w-]+\.md)\)", section))
    return [README, *pages]


def examples() -> list[Example]:
    found = []
    for document in documents():
        for block in BLOCK.finditer(document.read_text()):
            script = block["script"]
            if "curl " not in script and "reco --local" not in script:
                continue  # make, sam, fuzz: not a call to the running server
            if any(needed in script for needed in NEEDS_FILES):
                continue
            found.append(Example(document.relative_to(ROOT).as_posix(), block["marker"], script, block["answer"]))
    return found


def test_every_example_is_marked_and_the_walk_covers_every_guide() -> None:
    walk = examples()
    assert all(e.marker for e in walk), [e.script[:80] for e in walk if not e.marker]
    assert len({e.marker for e in walk}) == len(walk), "a marker is used twice"
    assert {e.document for e in walk} >= {
        "README.md",
        "docs/catalog-and-events.md",
        "docs/models.md",
        "docs/scenarios.md",
        "docs/lists.md",
        "docs/customer.md",
        "docs/chat.md",
    }


def mismatches(actual: Any, documented: Any, path: str = "$") -> list[str]:
    """Where ``actual`` differs from ``documented`` in a stable part."""
    if isinstance(documented, dict):
        if not isinstance(actual, dict):
            return [f"{path}: {type(actual).__name__}, documented an object"]
        found = (
            [f"{path}: keys {sorted(set(actual) ^ set(documented))} differ"] if set(actual) != set(documented) else []
        )
        for key in set(actual) & set(documented):
            if key in VOLATILE:
                if (actual[key] is None) != (documented[key] is None):
                    found.append(f"{path}.{key}: {actual[key]!r}, documented {documented[key]!r}")
            else:
                found += mismatches(actual[key], documented[key], f"{path}.{key}")
        return found
    if isinstance(documented, list):
        if not isinstance(actual, list) or len(actual) != len(documented):
            return [f"{path}: {json.dumps(actual)[:300]}, documented {json.dumps(documented)[:300]}"]
        return [
            m for i, (a, d) in enumerate(zip(actual, documented, strict=True)) for m in mismatches(a, d, f"{path}[{i}]")
        ]
    if isinstance(documented, float) and isinstance(actual, int | float) and not isinstance(actual, bool):
        return [] if actual == pytest.approx(documented, abs=1e-3) else [f"{path}: {actual}, documented {documented}"]
    return [] if actual == documented else [f"{path}: {actual!r}, documented {documented!r}"]


def test_the_readme_examples_run_in_order_against_one_server() -> None:
    endpoint = ROOT / ".local" / "aws-endpoint.json"
    if endpoint.exists() and Path(f"/proc/{json.loads(endpoint.read_text()).get('pid', 0)}").exists():
        pytest.skip("a `make run` of this checkout is running: its endpoint file (which --local reads) must stay")
    walk, failures = examples(), []
    # As `make run` starts (demo tenant, throttles on), with a throwaway store; run from the repository folder,
    # as the examples say, so `make token` and `reco --local` work as they do for a user.
    with running(ROOT, demo=True, throttling=True, RECO_EPHEMERAL="1") as runner:
        for example in walk:
            result = subprocess.run(
                ["bash", "-euo", "pipefail", "-c", example.script.replace("http://127.0.0.1:3000", runner.base)],
                cwd=ROOT,
                env=runtime_env(),
                capture_output=True,
                text=True,
                timeout=120,
            )
            where = f"{example.document} <!-- {example.marker} -->"
            if result.returncode != 0:
                failures.append(f"{where}: exit {result.returncode}: {result.stderr[-500:]}")
                continue
            if example.answer is None:
                for line in example.script.splitlines():
                    if line.startswith("# ") and line[2:] not in result.stdout:
                        failures.append(f"{where}: the output lacks the documented line {line[2:]!r}")
                continue
            lines = result.stdout.strip().splitlines()
            try:
                actual = json.loads(lines[-1])
            except (IndexError, ValueError):
                failures.append(f"{where}: the answer is not one JSON line: {result.stdout[-300:]!r}")
                continue
            failures += [f"{where}: {m}" for m in mismatches(actual, json.loads(example.answer))]
    assert not failures, "\n".join(failures)
