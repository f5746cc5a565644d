"""A small real disk for the disk-full tests: a tmpfs mounted in a temporary folder."""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest


@pytest.fixture(name="small_disk")
def small_disk_fixture(tmp_path: Path) -> Iterator[Path]:
    """A 64 MB tmpfs folder (needs root; skipped otherwise); `resize` changes its size."""
    folder = tmp_path / "index"
    folder.mkdir()
    if os.geteuid() != 0 or not shutil.which("mount"):
        pytest.skip("mounting a small tmpfs needs root")
    proc = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64m", "tmpfs", str(folder)],
                          capture_output=True, text=True)  # fmt: skip
    if proc.returncode:
        pytest.skip(f"cannot mount a tmpfs here: {proc.stderr.strip()}")
    try:
        yield folder
    finally:
        # Lazy: this process's Chroma client still holds files open in it.
        subprocess.run(["umount", "-l", str(folder)], check=False)


def resize(folder: Path, kilobytes: int) -> None:
    subprocess.run(["mount", "-o", f"remount,size={kilobytes}k", str(folder)], check=True)


def used_kb(folder: Path) -> int:
    st = os.statvfs(folder)
    return (st.f_blocks - st.f_bfree) * st.f_frsize // 1024


def fill(folder: Path) -> None:
    """Leave no free byte: shrink the tmpfs to what it holds, then fill what is left."""
    resize(folder, used_kb(folder) + 64)
    try:
        with open(folder / "filler", "wb") as f:
            while True:
                f.write(b"\0" * 4096)
                f.flush()
    except OSError:  # ENOSPC, at once or after some blocks
        pass
    assert shutil.disk_usage(folder).free == 0
