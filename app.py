"""Start the web chat: `python app.py` (settings from ASKFRONT_* variables or .env)."""

from __future__ import annotations

import logging
import sys

from pydantic import ValidationError

from askfront.core.config import Settings
from askfront.core.errors import AskfrontError


def main() -> int:
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    try:
        from askfront.web.serve import serve

        serve(Settings())
    except (AskfrontError, ValidationError) as exc:  # a message to act on, not a traceback
        print(f"askfront: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
