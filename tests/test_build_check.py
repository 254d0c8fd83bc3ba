"""local.build_check: a built CoreLayer is for the architecture `make build ARCH=...` asked for."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from local.build_check import BuildCheckError, check_layer, main
from local.template import ROOT

ELF_CODES = {"aarch64": 183, "x86_64": 62}


def elf(machine: str) -> bytes:
    """The first bytes of a 64-bit little-endian ELF shared object for ``machine``."""
    return b"\x7fELF\x02\x01\x01" + bytes(11) + ELF_CODES[machine].to_bytes(2, "little") + bytes(44)


def fake_layer(root: Path, machine: str, *, numpy: bool = True, python: str = "312") -> Path:
    """A built layer's shape: python/ with numpy's wheel metadata and extensions, pydantic-core, reco."""
    site = root / "CoreLayer" / "python"
    files: dict[str, bytes] = {
        "reco/__init__.py": b"",
        "reco/api/app.py": b"",
        f"pydantic_core/_pydantic_core.cpython-{python}-{machine}-linux-gnu.so": elf(machine),
        "pydantic_core-2.27.2.dist-info/WHEEL": f"Tag: cp{python}-cp{python}-manylinux_2_17_{machine}\n".encode(),
        "fastapi-0.115.0.dist-info/WHEEL": b"Wheel-Version: 1.0\nTag: py3-none-any\n",
    }
    if numpy:
        files |= {
            "numpy/__init__.py": b"",
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


def test_local_bytecode_in_the_reco_package_fails(tmp_path: Path) -> None:
    layer = fake_layer(tmp_path, "aarch64")
    (layer / "python/reco/__pycache__").mkdir()
    with pytest.raises(BuildCheckError, match=r"reco package carries local files: reco/__pycache__"):
        check_layer(layer, "arm64")


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
