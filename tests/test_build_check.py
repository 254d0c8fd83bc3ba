"""local.build_check: a built CoreLayer is for the architecture `make build ARCH=...` asked for."""

from __future__ import annotations

import importlib.util
import py_compile
import sys
import tomllib
from pathlib import Path

import pytest

from local.build_check import MAGIC_NUMBERS, BuildCheckError, check_layer, magic_number, main, pyc_problem
from local.template import ROOT

ELF_CODES = {"aarch64": 183, "x86_64": 62}
CPYTHON_312 = 3531  # importlib.util.MAGIC_NUMBER of pyenv's 3.12.1: b"\xcb\r\r\n"
CPYTHON_311 = 3495


def pyc(*, magic: int = CPYTHON_312, flags: int = 0b01) -> bytes:
    """A .pyc's 16-byte header (PEP 552), then a byte of code object: the magic number and b"\\r\\n", the
    flags word (bit 0 hash-based, bit 1 check_source: 1 is unchecked-hash), then 8 bytes (source hash,
    or mtime and size)."""
    return magic.to_bytes(2, "little") + b"\r\n" + flags.to_bytes(4, "little") + bytes(8) + b"\xe3"


def elf(machine: str) -> bytes:
    """The first bytes of a 64-bit little-endian ELF shared object for ``machine``."""
    return b"\x7fELF\x02\x01\x01" + bytes(11) + ELF_CODES[machine].to_bytes(2, "little") + bytes(44)


def fake_layer(root: Path, machine: str, *, numpy: bool = True, python: str = "312", bytecode: bytes = pyc()) -> Path:
    """A built layer's shape: python/ with numpy's wheel metadata and extensions, pydantic-core, reco, and
    ``bytecode`` as the .pyc of reco's modules and numpy's ``__init__`` (unchecked-hash, CPython 3.12)."""
    site = root / "CoreLayer" / "python"
    files: dict[str, bytes] = {
        "reco/__init__.py": b"",
        "reco/__pycache__/__init__.cpython-312.pyc": bytecode,
        "reco/api/app.py": b"",
        "reco/api/__pycache__/app.cpython-312.pyc": bytecode,
        f"pydantic_core/_pydantic_core.cpython-{python}-{machine}-linux-gnu.so": elf(machine),
        "pydantic_core-2.27.2.dist-info/WHEEL": f"Tag: cp{python}-cp{python}-manylinux_2_17_{machine}\n".encode(),
        "fastapi-0.115.0.dist-info/WHEEL": b"Wheel-Version: 1.0\nTag: py3-none-any\n",
    }
    if numpy:
        files |= {
            "numpy/__init__.py": b"",
            "numpy/__pycache__/__init__.cpython-312.pyc": bytecode,
            f"numpy/_core/_multiarray_umath.cpython-{python}-{machine}-linux-gnu.so": elf(machine),
            f"numpy/linalg/_umath_linalg.cpython-{python}-{machine}-linux-gnu.so": elf(machine),
            "numpy.libs/libscipy_openblas64_-ff651d7f.so": elf(machine),  # no machine in the name: its header
            "numpy-2.2.1.dist-info/WHEEL": (
                "Wheel-Version: 1.0\nGenerator: meson\nRoot-Is-Purelib: false\n"
                f"Tag: cp{python}-cp{python}-manylinux_2_17_{machine}\n"
                f"Tag: cp{python}-cp{python}-manylinux2014_{machine}\n"
            ).encode(),
        }
    for name, content in files.items():
        (site / name).parent.mkdir(parents=True, exist_ok=True)
        (site / name).write_bytes(content)
    return site.parent


def test_an_aarch64_layer_passes_for_arm64(tmp_path: Path) -> None:
    report = check_layer(fake_layer(tmp_path, "aarch64"), "arm64")
    assert report.architecture == "arm64"
    assert report.numpy_version == "2.2.1"
    assert report.numpy_tags == ("cp312-cp312-manylinux_2_17_aarch64", "cp312-cp312-manylinux2014_aarch64")
    assert report.extensions == 3  # numpy's two and pydantic-core's; the .libs object is checked, not counted
    assert report.bytecode == 3  # reco's two modules and numpy's __init__
    assert report.unzipped_bytes > 0


def test_an_x86_64_layer_passes_for_x86_64(tmp_path: Path) -> None:
    assert check_layer(fake_layer(tmp_path, "x86_64"), "x86_64").numpy_tags[0].endswith("_x86_64")


def test_an_x86_64_layer_fails_for_arm64_and_names_what_it_found(tmp_path: Path) -> None:
    with pytest.raises(BuildCheckError) as failed:
        check_layer(fake_layer(tmp_path, "x86_64"), "arm64")
    message = str(failed.value)
    assert "the layer holds code for x86_64, not aarch64 (arm64)" in message
    assert "numpy-2.2.1.dist-info/WHEEL Tag cp312-cp312-manylinux_2_17_x86_64" in message
    assert "make build ARCH=arm64" in message and "Architecture=x86_64" in message


def test_an_aarch64_layer_fails_for_x86_64(tmp_path: Path) -> None:
    with pytest.raises(BuildCheckError, match=r"holds code for aarch64, not x86_64"):
        check_layer(fake_layer(tmp_path, "aarch64"), "x86_64")


def test_one_shared_object_for_the_other_machine_is_enough_to_fail(tmp_path: Path) -> None:
    layer = fake_layer(tmp_path, "aarch64")
    (layer / "python/numpy.libs/libscipy_openblas64_-ff651d7f.so").write_bytes(elf("x86_64"))
    with pytest.raises(BuildCheckError, match=r"x86_64 \(1 files, e\.g\. numpy\.libs/libscipy_openblas64_"):
        check_layer(layer, "arm64")


def test_a_layer_without_numpy_fails(tmp_path: Path) -> None:
    with pytest.raises(BuildCheckError, match=r"no numpy in .*requirements\.txt"):
        check_layer(fake_layer(tmp_path, "aarch64", numpy=False), "arm64")


def test_a_folder_that_is_not_a_built_layer_fails(tmp_path: Path) -> None:
    with pytest.raises(BuildCheckError, match=r"has no python/ folder"):
        check_layer(tmp_path, "arm64")


def test_extensions_for_another_python_fail(tmp_path: Path) -> None:
    with pytest.raises(BuildCheckError, match=r"3 extensions are not for CPython 3\.12 \(the runtime\)"):
        check_layer(fake_layer(tmp_path, "aarch64", python="311"), "arm64")


def test_tests_in_the_reco_package_fail(tmp_path: Path) -> None:
    layer = fake_layer(tmp_path, "aarch64")
    (layer / "python/reco/tests").mkdir()
    with pytest.raises(BuildCheckError, match=r"reco package carries its tests: reco/tests"):
        check_layer(layer, "arm64")


def test_the_magic_numbers_are_cpython_s() -> None:
    assert magic_number("3.12") == b"\xcb\r\r\n" == CPYTHON_312.to_bytes(2, "little") + b"\r\n"
    assert magic_number("3.11") == b"\xa7\r\r\n"
    running = "{}.{}".format(*sys.version_info[:2])
    assert magic_number(running) == importlib.util.MAGIC_NUMBER
    assert MAGIC_NUMBERS[running].to_bytes(2, "little") + b"\r\n" == importlib.util.MAGIC_NUMBER
    with pytest.raises(BuildCheckError, match=r"no known bytecode magic number for Python 3\.99: run the check"):
        magic_number("3.99")


def test_the_header_read_is_the_one_py_compile_writes(tmp_path: Path) -> None:
    """The running interpreter's own bytecode: its flags word as this check reads it, per invalidation mode."""
    (tmp_path / "module.py").write_text("x = 1\n")
    running = "{}.{}".format(*sys.version_info[:2])
    found = {}
    for mode in py_compile.PycInvalidationMode:
        compiled = Path(
            py_compile.compile(str(tmp_path / "module.py"), str(tmp_path / f"{mode.name}.pyc"), invalidation_mode=mode)
        )
        assert compiled.read_bytes()[:4] == importlib.util.MAGIC_NUMBER
        found[mode.name] = pyc_problem(compiled, magic_number(running), running)
    assert found == {
        "TIMESTAMP": "timestamp-based, not unchecked-hash",
        "CHECKED_HASH": "checked-hash, not unchecked-hash",
        "UNCHECKED_HASH": None,
    }


def test_a_layer_with_unchecked_hash_bytecode_for_3_12_passes(tmp_path: Path) -> None:
    layer = fake_layer(tmp_path, "x86_64")
    assert (layer / "python/reco/api/__pycache__/app.cpython-312.pyc").read_bytes()[:8] == b"\xcb\r\r\n\x01\0\0\0"
    assert check_layer(layer, "x86_64").bytecode == 3


def test_a_reco_module_without_bytecode_fails_and_names_the_file(tmp_path: Path) -> None:
    layer = fake_layer(tmp_path, "aarch64")
    (layer / "python/reco/api/__pycache__/app.cpython-312.pyc").unlink()
    with pytest.raises(BuildCheckError) as failed:
        check_layer(layer, "arm64")
    message = str(failed.value)
    assert "1 modules have no CPython 3.12 bytecode, e.g. reco/api/__pycache__/app.cpython-312.pyc:" in message
    assert "compiles them at every cold start" in message
    assert "python3.12 -m compileall --invalidation-mode unchecked-hash" in message


def test_a_layer_without_any_bytecode_fails_for_reco_and_numpy(tmp_path: Path) -> None:
    layer = fake_layer(tmp_path, "aarch64")
    for compiled in (layer / "python").rglob("*.pyc"):
        compiled.unlink()
    with pytest.raises(BuildCheckError) as failed:
        check_layer(layer, "arm64")
    assert (
        "3 modules have no CPython 3.12 bytecode, e.g. reco/__pycache__/__init__.cpython-312.pyc; "
        "reco/api/__pycache__/app.cpython-312.pyc; numpy/__pycache__/__init__.cpython-312.pyc:"
    ) in str(failed.value)


def test_timestamp_based_bytecode_fails(tmp_path: Path) -> None:
    with pytest.raises(BuildCheckError) as failed:
        check_layer(fake_layer(tmp_path, "aarch64", bytecode=pyc(flags=0)), "arm64")
    message = str(failed.value)
    assert "3 .pyc files that Lambda's CPython 3.12 would not use as they are" in message
    assert "numpy/__pycache__/__init__.cpython-312.pyc: timestamp-based, not unchecked-hash" in message


def test_checked_hash_bytecode_fails(tmp_path: Path) -> None:
    with pytest.raises(BuildCheckError, match=r"__init__\.cpython-312\.pyc: checked-hash, not unchecked-hash"):
        check_layer(fake_layer(tmp_path, "aarch64", bytecode=pyc(flags=0b11)), "arm64")


def test_bytecode_of_another_python_fails(tmp_path: Path) -> None:
    with pytest.raises(BuildCheckError) as failed:
        check_layer(fake_layer(tmp_path, "aarch64", bytecode=pyc(magic=CPYTHON_311)), "arm64")
    assert "app.cpython-312.pyc: magic number 3495 (Python 3.11), not CPython 3.12's" in str(failed.value)


def test_bytecode_named_for_another_python_fails(tmp_path: Path) -> None:
    layer = fake_layer(tmp_path, "aarch64")
    cache = layer / "python/reco/api/__pycache__"
    (cache / "app.cpython-312.pyc").rename(cache / "app.cpython-311.pyc")
    with pytest.raises(BuildCheckError) as failed:
        check_layer(layer, "arm64")
    message = str(failed.value)
    assert "e.g. reco/api/__pycache__/app.cpython-312.pyc (found app.cpython-311.pyc):" in message
    assert "reco/api/__pycache__/app.cpython-311.pyc: not named for cpython-312" in message


def test_the_command_exits_non_zero_with_the_reason(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    layer = fake_layer(tmp_path, "x86_64")
    assert main([str(layer), "arm64"]) == 1
    assert "build check failed" in capsys.readouterr().err
    assert main([str(layer), "x86_64"]) == 0
    assert "x86_64 — numpy 2.2.1" in capsys.readouterr().out


def built_architecture(build: Path) -> str:
    """The CoreLayer architecture sam build resolved (template parameter Architecture), from build.toml."""
    definitions = tomllib.loads((build / "build.toml").read_text())["layer_build_definitions"]
    (architecture,) = {d["architecture"] for d in definitions.values() if d["layer_name"] == "CoreLayer"}
    return str(architecture)


def test_the_last_make_build_produced_a_layer_for_its_architecture() -> None:
    build = ROOT / ".aws-sam"
    layer = build / "build/CoreLayer"
    if not (layer / "python").is_dir() or not (build / "build.toml").is_file():
        pytest.skip("no .aws-sam/build/CoreLayer: run `make build` (ARCH=arm64 or x86_64) first")
    architecture = built_architecture(build)
    report = check_layer(layer, architecture)
    assert report.extensions > 0
    assert report.unzipped_bytes < 250 * 1024 * 1024  # Lambda's limit for a function and its layers, unzipped
