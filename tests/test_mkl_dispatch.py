"""MKL's AVX2 path on AMD CPUs: when `MKL_DEBUG_CPU_TYPE` is set, and that `import ppcrnn` sets it."""
import os
import subprocess
import sys

import pytest

from ppcrnn.utils.mkl_dispatch import VARIABLE, avx2_path_note, use_avx2_mkl_on_amd

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def cpuinfo(tmp_path, vendor: str, flags: str) -> str:
    path = tmp_path / "cpuinfo"
    processor = f"processor\t: {{}}\nvendor_id\t: {vendor}\nmodel name\t: some CPU\nflags\t\t: {flags}\n\n"
    path.write_text(processor.format(0) + processor.format(1))
    return str(path)


@pytest.mark.parametrize("vendor, flags, expected", [
    ("AuthenticAMD", "fpu sse sse2 avx fma avx2 bmi2", "5"),
    ("AuthenticAMD", "fpu sse sse2 avx", None),           # no AVX2: that path would crash
    ("GenuineIntel", "fpu sse sse2 avx fma avx2 avx512f", None),  # MKL picks Intel's best itself
    ("HygonGenuine", "fpu sse sse2 avx fma avx2", None),
])
def test_set_only_on_amd_with_avx2(tmp_path, vendor, flags, expected):
    environ = {}
    assert use_avx2_mkl_on_amd(environ, cpuinfo(tmp_path, vendor, flags)) is (expected is not None)
    assert environ.get(VARIABLE) == expected


@pytest.mark.parametrize("preset", ["", "0", "5"])
def test_a_value_already_set_is_left_alone(tmp_path, preset):
    environ = {VARIABLE: preset}
    assert not use_avx2_mkl_on_amd(environ, cpuinfo(tmp_path, "AuthenticAMD", "avx2"))
    assert environ == {VARIABLE: preset}


def test_unreadable_cpuinfo_changes_nothing(tmp_path):
    environ = {}
    assert not use_avx2_mkl_on_amd(environ, str(tmp_path / "missing"))
    assert environ == {}


def test_note_only_when_the_avx2_path_is_asked_for():
    assert VARIABLE in avx2_path_note({VARIABLE: "5"})
    assert avx2_path_note({VARIABLE: ""}) is None
    assert avx2_path_note({}) is None


def run_import(environ: dict) -> str:
    code = "import os, ppcrnn; print(repr(os.environ.get('MKL_DEBUG_CPU_TYPE')))"
    return subprocess.run([sys.executable, "-c", code], cwd=REPO, env=environ, capture_output=True,
                          text=True, check=True).stdout.strip().splitlines()[-1]


def test_import_ppcrnn_sets_it_on_this_machine_as_the_rule_says():
    environ = {k: v for k, v in os.environ.items() if k != VARIABLE}
    expected = dict(environ)
    use_avx2_mkl_on_amd(expected)  # this machine's /proc/cpuinfo
    assert run_import(environ) == repr(expected.get(VARIABLE))
    assert run_import({**environ, VARIABLE: ""}) == repr("")
