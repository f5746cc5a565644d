"""The conversation exports' temp folder: one per process, swept when its process is gone."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from askfront.web.chat import exports_folder


def test_folders_of_dead_processes_are_removed_and_live_ones_kept(tmp_path: Path) -> None:
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True)  # fmt: skip
    stale = tmp_path / f"askfront-exports-{dead.stdout.strip()}"
    (stale / "x").mkdir(parents=True)
    live = tmp_path / f"askfront-exports-{os.getppid()}"
    live.mkdir()
    other = tmp_path / "someone-elses-folder"
    other.mkdir()

    mine = exports_folder(tmp_path)

    assert mine == tmp_path / f"askfront-exports-{os.getpid()}"
    assert not stale.exists()
    assert live.exists() and other.exists()


def test_the_folder_is_removed_when_the_process_exits(tmp_path: Path) -> None:
    code = (
        "import sys; from pathlib import Path; from askfront.web.chat import exports_folder;"
        "f = exports_folder(Path(sys.argv[1])); f.mkdir(); (f / 'a.md').write_text('x');"
        "print(f)"
    )
    out = subprocess.run([sys.executable, "-c", code, str(tmp_path)],
                         capture_output=True, text=True, check=True)  # fmt: skip
    assert out.stdout.strip().startswith(str(tmp_path))
    assert not Path(out.stdout.strip()).exists()
