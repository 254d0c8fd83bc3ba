"""Check that a built CoreLayer matches the architecture it was built for (`make build ARCH=...`).

    python -m local.build_check .aws-sam/build/CoreLayer arm64

The layer's compiled packages (numpy, pydantic-core) come as wheels for one machine: built for the
other one, every function fails at its first import in Lambda. This reads what the build produced —
the wheels' ``Tag:`` lines in ``*.dist-info/WHEEL`` and the names of the compiled extensions
(``*.cpython-312-aarch64-linux-gnu.so``), or the ELF header of a shared object whose name does not
say — and fails with the machine it found.

It also checks the layer's bytecode. Lambda's ``/opt`` is read-only: a module without a usable
``.pyc`` is compiled again at every cold start. So every module of the ``reco`` package, and numpy's
``__init__``, must have a ``__pycache__/*.cpython-312.pyc`` with CPython 3.12's magic number, and every
``.pyc`` in the layer must be hash-based and unchecked (``compileall --invalidation-mode
unchecked-hash``): sam zips files with a 1980 timestamp, so a timestamp-based one never matches.
Standard library only: it runs in any virtualenv.
"""

from __future__ import annotations

import argparse
import importlib.util
import re
import sys
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

# Lambda's architecture names, and the machine names that wheels and extension modules carry.
MACHINES = {"arm64": "aarch64", "x86_64": "x86_64"}
RUNTIME_PYTHON = "3.12"  # template.yaml's Runtime (python3.12)

EXTENSION = re.compile(r"\.cpython-(?P<version>\d+)-(?P<machine>[a-z0-9_]+)-linux-gnu\.so$")
# ELF e_machine (offset 18, little-endian): what a shared object was compiled for.
ELF_MACHINES = {62: "x86_64", 183: "aarch64"}
# CPython's bytecode magic numbers, the first 2 bytes of a .pyc (little-endian, then b"\r\n"): each
# is importlib.util.MAGIC_NUMBER of that version (checked with pyenv's 3.10.13, 3.11.7, 3.12.1, 3.13.0).
MAGIC_NUMBERS = {"3.10": 3439, "3.11": 3495, "3.12": 3531, "3.13": 3571}
# The .pyc flags word (bytes 4-8, little-endian, PEP 552): bit 0 hash-based, bit 1 check_source.
UNCHECKED_HASH = 0b01
PYC_KINDS = {0b00: "timestamp-based", 0b01: "unchecked-hash", 0b11: "checked-hash"}
FIX_BYTECODE = (
    "layers/core/Makefile must compile the layer with python{version} -m compileall "
    "--invalidation-mode unchecked-hash; rebuild with `make build`"
)


class BuildCheckError(Exception):
    """The built layer does not match the architecture (or runtime) it is meant for."""


@dataclass(frozen=True)
class LayerReport:
    architecture: str
    numpy_version: str
    numpy_tags: tuple[str, ...]
    extensions: int
    unzipped_bytes: int
    bytecode: int  # .pyc files, all unchecked-hash for the runtime's CPython

    def describe(self, layer: Path) -> str:
        return (
            f"{layer}: {self.architecture} — numpy {self.numpy_version} ({', '.join(self.numpy_tags)}), "
            f"{self.extensions} compiled extensions for {MACHINES[self.architecture]}, "
            f"{self.bytecode} unchecked-hash .pyc, {self.unzipped_bytes / 1e6:.1f} MB unzipped"
        )


def wheel_tags(dist_info: Path) -> list[str]:
    """The ``Tag:`` values of a ``*.dist-info/WHEEL`` file, e.g. ``cp312-cp312-manylinux_2_17_aarch64``."""
    wheel = dist_info / "WHEEL"
    if not wheel.is_file():
        return []
    return [line.split(":", 1)[1].strip() for line in wheel.read_text().splitlines() if line.startswith("Tag:")]


def tag_machine(tag: str) -> str | None:
    """The machine a wheel tag's platform names (None for pure-Python ``any``)."""
    platform = tag.rsplit("-", 1)[-1]
    return next((machine for machine in MACHINES.values() if platform.endswith(f"_{machine}")), None)


def elf_machine(path: Path) -> str | None:
    header = path.read_bytes()[:20] if path.stat().st_size >= 20 else b""
    if not header.startswith(b"\x7fELF"):
        return None
    code = int.from_bytes(header[18:20], "little")
    return ELF_MACHINES.get(code, f"ELF machine {code}")


def magic_number(python_version: str) -> bytes:
    """The first 4 bytes of a .pyc written by CPython ``python_version`` (e.g. ``b"\\xcb\\r\\r\\n"`` for 3.12)."""
    if sys.implementation.name == "cpython" and python_version == "{}.{}".format(*sys.version_info[:2]):
        return importlib.util.MAGIC_NUMBER
    if python_version not in MAGIC_NUMBERS:
        raise BuildCheckError(
            f"no known bytecode magic number for Python {python_version}: run the check with python{python_version}, "
            "or add it to MAGIC_NUMBERS (its importlib.util.MAGIC_NUMBER)"
        )
    return MAGIC_NUMBERS[python_version].to_bytes(2, "little") + b"\r\n"


def pyc_problem(pyc: Path, magic: bytes, python_version: str) -> str | None:
    """Why ``pyc`` is not unchecked-hash bytecode of CPython ``python_version`` (None if it is)."""
    with pyc.open("rb") as file:
        header = file.read(16)
    if len(header) < 16:
        return f"{len(header)}-byte file, not a .pyc"
    if header[:4] != magic:
        found = int.from_bytes(header[:2], "little")
        versions = [version for version, number in MAGIC_NUMBERS.items() if number == found]
        made_by = f"Python {versions[0]}" if versions else "an unknown Python"
        return f"magic number {found} ({made_by}), not CPython {python_version}'s"
    flags = int.from_bytes(header[4:8], "little")
    if flags != UNCHECKED_HASH:
        return f"{PYC_KINDS.get(flags, f'flags {flags}')}, not unchecked-hash"
    return None


def check_bytecode(site: Path, python_version: str) -> tuple[int, list[str]]:
    """How many .pyc files ``site`` holds, and the problems: a reco module or numpy's ``__init__``
    without bytecode for ``python_version``, or a .pyc anywhere that Lambda would not use as is."""
    magic = magic_number(python_version)
    tag = "cpython-" + python_version.replace(".", "")
    problems: list[str] = []
    reco = site / "reco"
    modules = sorted(path for path in reco.rglob("*.py") if "tests" not in path.relative_to(reco).parts)
    modules += [site / "numpy/__init__.py"]
    missing = []
    for module in modules:
        pyc = module.parent / "__pycache__" / f"{module.stem}.{tag}.pyc"
        if not pyc.is_file():
            others = sorted(p.name for p in pyc.parent.glob(f"{module.stem}.*.pyc"))
            missing.append(str(pyc.relative_to(site)) + (f" (found {', '.join(others)})" if others else ""))
    if missing:
        problems.append(
            f"{len(missing)} modules have no CPython {python_version} bytecode, e.g. {'; '.join(missing[:3])}: "
            "without it Lambda compiles them at every cold start (/opt is read-only). "
            + FIX_BYTECODE.format(version=python_version)
        )
    wrong = []
    count = 0
    for pyc in sorted(site.rglob("*.pyc")):
        count += 1
        name = str(pyc.relative_to(site))
        if f".{tag}." not in pyc.name:
            wrong.append(f"{name}: not named for {tag}")
        elif problem := pyc_problem(pyc, magic, python_version):
            wrong.append(f"{name}: {problem}")
    if wrong:
        problems.append(
            f"{len(wrong)} .pyc files that Lambda's CPython {python_version} would not use as they are, "
            f"e.g. {'; '.join(wrong[:3])}. " + FIX_BYTECODE.format(version=python_version)
        )
    return count, problems


def check_layer(layer: Path, architecture: str, python_version: str = RUNTIME_PYTHON) -> LayerReport:
    """Raise :class:`BuildCheckError` unless ``layer`` (a built CoreLayer) is for ``architecture``."""
    if architecture not in MACHINES:
        raise BuildCheckError(f"architecture must be one of {sorted(MACHINES)}, not {architecture!r}")
    expected = MACHINES[architecture]
    site = layer / "python"
    if not site.is_dir():
        raise BuildCheckError(f"{layer} has no python/ folder: is it a built layer (sam build's CoreLayer)?")

    numpy_infos = sorted(site.glob("numpy-*.dist-info"))
    if not numpy_infos or not (site / "numpy").is_dir():
        raise BuildCheckError(
            f"no numpy in {site}: the layer build did not install layers/core/requirements.txt "
            "(numpy is the compiled package this check reads)"
        )
    numpy_tags = wheel_tags(numpy_infos[0])
    if not numpy_tags:
        raise BuildCheckError(f"{numpy_infos[0]}/WHEEL has no Tag lines: numpy was not installed from a wheel")

    found: Counter[str] = Counter()  # machine -> how many files say so
    examples: dict[str, str] = {}
    problems: list[str] = []
    for dist_info in sorted(site.glob("*.dist-info")):
        for tag in wheel_tags(dist_info):
            machine = tag_machine(tag)
            if machine is not None:
                found[machine] += 1
                examples.setdefault(machine, f"{dist_info.name}/WHEEL Tag {tag}")
    extensions = 0
    wrong_python: list[str] = []
    cpython = "cpython-" + python_version.replace(".", "")
    for path in sorted(site.rglob("*.so*")):
        if not path.is_file():
            continue
        named = EXTENSION.search(path.name)
        machine = named["machine"] if named else elf_machine(path)
        if named:
            extensions += 1
            if f"cpython-{named['version']}" != cpython:
                wrong_python.append(str(path.relative_to(site)))
        if machine is not None:
            found[machine] += 1
            examples.setdefault(machine, str(path.relative_to(site)))

    others = sorted(machine for machine in found if machine != expected)
    if others:
        seen = "; ".join(f"{machine} ({found[machine]} files, e.g. {examples[machine]})" for machine in others)
        problems.append(
            f"the layer holds code for {', '.join(others)}, not {_named(architecture)}: {seen}. "
            f"Rebuild with `make build ARCH={architecture}`, or deploy with Architecture={_architecture_of(others)}"
        )
    if expected not in found:
        problems.append(f"no wheel tag or compiled extension in {site} names {_named(architecture)}")
    if wrong_python:
        problems.append(
            f"{len(wrong_python)} extensions are not for CPython {python_version} (the runtime), e.g. {wrong_python[0]}"
        )
    reco = site / "reco"
    if not (reco / "__init__.py").is_file():
        problems.append(f"no reco package at {reco}")
    elif leftovers := sorted(str(p.relative_to(site)) for p in reco.rglob("tests")):
        problems.append(f"the reco package carries its tests: {', '.join(leftovers[:3])}")
    bytecode, bytecode_problems = check_bytecode(site, python_version)
    problems += bytecode_problems
    if problems:
        raise BuildCheckError(
            f"{layer} is not a layer for {architecture} and CPython {python_version}:\n- " + "\n- ".join(problems)
        )

    size = sum(p.stat().st_size for p in layer.rglob("*") if p.is_file())
    version = numpy_infos[0].name.removeprefix("numpy-").removesuffix(".dist-info")
    return LayerReport(architecture, version, tuple(numpy_tags), extensions, size, bytecode)


def _named(architecture: str) -> str:
    machine = MACHINES[architecture]
    return machine if machine == architecture else f"{machine} ({architecture})"


def _architecture_of(machines: list[str]) -> str:
    names = {machine: name for name, machine in MACHINES.items()}
    return " / ".join(names.get(machine, machine) for machine in machines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m local.build_check", description=__doc__.split("\n\n")[0])
    parser.add_argument("layer", type=Path, help="the built layer, e.g. .aws-sam/build/CoreLayer")
    parser.add_argument("architecture", choices=sorted(MACHINES), help="what it was built for (make build ARCH=...)")
    parser.add_argument("--python", default=RUNTIME_PYTHON, help="the runtime's Python version (default %(default)s)")
    args = parser.parse_args(argv)
    try:
        report = check_layer(args.layer, args.architecture, args.python)
    except BuildCheckError as error:
        print(f"build check failed: {error}", file=sys.stderr)
        return 1
    print(report.describe(args.layer))
    return 0


if __name__ == "__main__":
    sys.exit(main())
