"""The committed locks: what `make run` and `make test` install on a fresh clone."""

from __future__ import annotations

import re

from paths import REPO

PIN = re.compile(r"^([A-Za-z0-9_.\-]+)==(\S+)$")


def _pins(name: str) -> dict[str, str]:
    pins: dict[str, str] = {}
    for line in (REPO / name).read_text().splitlines():
        m = PIN.match(line.strip())
        if m:
            pins[m.group(1).lower().replace("_", "-")] = m.group(2)
    return pins


def _requirement_lines(name: str) -> list[str]:
    lines = (REPO / name).read_text().splitlines()
    return [s for line in lines if (s := line.strip()) and not s.startswith("#")]


def test_every_lock_line_is_an_exact_pin_of_a_published_package() -> None:
    # A path or URL (e.g. "askfront @ file:///home/me/askfront") would install this
    # checkout's code, or nothing at all, on someone else's machine.
    for name in ("requirements.txt", "requirements-test.txt"):
        lines = _requirement_lines(name)
        assert lines, name
        assert [line for line in lines if not PIN.match(line)] == [], name
        assert "askfront" not in _pins(name), name


def test_the_test_lock_installs_the_runtime_versions() -> None:
    runtime, test = _pins("requirements.txt"), _pins("requirements-test.txt")
    assert {k: test.get(k) for k in runtime} == runtime


def test_runtime_imports_that_only_test_extras_used_to_bring_are_locked() -> None:
    # SQLRecordManager imports sqlalchemy.ext.asyncio, which needs greenlet (issue 12).
    runtime = _pins("requirements.txt")
    # mcp: Gradio's MCP server (askfront serve) imports it (issue 18).
    for package in (
        "greenlet",
        "sqlalchemy",
        "transformers",
        "tokenizers",
        "python-dateutil",
        "mcp",
    ):
        assert package in runtime, package


def test_torch_is_the_cpu_pin_of_the_makefile() -> None:
    makefile = (REPO / "Makefile").read_text()
    pinned = re.search(r"^TORCH := torch==(\S+)$", makefile, re.MULTILINE)
    assert pinned is not None
    assert _pins("requirements.txt")["torch"] == pinned.group(1)
