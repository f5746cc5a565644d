"""Text from documents made safe to print on a terminal.

Articles are untrusted input: an escape sequence inside one (colour, clear screen, a new
window title, a hyperlink) would reach the user's terminal through a quote, a title, a file
name or an error reason. Hand-written because rich's helpers fall short: its
`strip_control_codes` removes only a few C0 characters, and its ANSI decoder keeps ESC
sequences it does not recognise and misses OSC strings ended by BEL.
"""

from __future__ import annotations

import json
import re
from typing import Any

# ECMA-48: CSI (ESC [ ... final byte), OSC, DCS, SOS, PM and APC strings (ended by BEL or
# ST, or by the end of the text), and the other two-byte ESC sequences. The 8-bit C1 forms
# (U+009B CSI, U+009D OSC, ...) are covered by the control characters below.
_ESCAPE = re.compile(
    r"\x1b\[[0-?]*[ -/]*[@-~]?"
    r"|\x1b[\]PX^_][^\x07\x1b]*(?:\x07|\x1b\\)?"
    r"|\x1b[ -/]*[0-~]?"
)
# C0 controls but tab and newline (a carriage return or backspace can overwrite what was
# printed), DEL, and the C1 controls.
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
# What json.dumps(ensure_ascii=False) leaves raw that a terminal may act on or cannot print:
# DEL, C1 controls, and lone surrogates (from file names that are not UTF-8).
_JSON_RAW = re.compile(r"[\x7f-\x9f\ud800-\udfff]")


def strip_escapes(text: str) -> str:
    """`text` without terminal escape sequences and control characters (but \\t, \\n)."""
    return _CONTROL.sub("", _ESCAPE.sub("", text))


def to_json(data: Any) -> str:
    """JSON for stdout: the values exact, every character a terminal could act on escaped.

    json.dumps already writes C0 controls (ESC among them) as \\u001b; the rest is done here,
    so the output stays valid JSON and quotes still match their documents' offsets.
    """
    text = json.dumps(data, indent=2, ensure_ascii=False)
    return _JSON_RAW.sub(lambda m: f"\\u{ord(m.group(0)):04x}", text)
