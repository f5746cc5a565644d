"""Where the tests' files are, and the offline environment every test runs in."""

from __future__ import annotations

import os
from pathlib import Path

# Read when huggingface_hub and chromadb are first imported; conftest imports this module
# before any test module can import them.
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")

TESTS = Path(__file__).resolve().parent  # tests/: helpers and data stay here
REPO = TESTS.parent
DATA = TESTS / "data"
DEFAULT_ARTICLE = REPO / "corpus" / "ukraine-foreign-fighters-washington-post-2024-02-28.md"
# The shared data sets (never committed). .ci/run points ASKFRONT_DATASETS at them, since
# its clean clones do not sit beside ../shared.
DATASETS = Path(os.environ.get("ASKFRONT_DATASETS") or REPO.parent / "shared" / "datasets")

CHROMIUM = Path("/usr/bin/chromium")  # Debian's; Playwright never downloads a browser here
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
