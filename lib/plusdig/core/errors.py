"""The one error type of the library: bad input, named precisely.

Every loader raises :class:`DataValidationError` for input it cannot accept. The
message always names the file, the record or row, the field, and what was expected,
so an evaluator can fix the data without reading a traceback.
"""

from __future__ import annotations

from pathlib import Path


class DataValidationError(ValueError):
    """Input data that does not meet its schema.

    Attributes mirror the message so tests and tools can inspect them.
    """

    def __init__(
        self,
        file: str | Path,
        problem: str,
        *,
        record: str | None = None,
        field: str | None = None,
        expected: str | None = None,
    ) -> None:
        self.file = str(file)
        self.record = record
        self.field = field
        self.expected = expected
        self.problem = problem
        where = [self.file]
        if record:
            where.append(record)
        if field:
            where.append(f"field '{field}'")
        msg = ": ".join([", ".join(where), problem])
        if expected:
            msg += f" (expected: {expected})"
        super().__init__(msg)


#: Characters no text field may hold: C0/C1 control characters (a line break and a tab are
#: allowed only where the field may be multi-line text: the source's quotes hold tabs) and the
#: bidirectional overrides/isolates that reorder text on screen ("Trojan Source").
_BIDI = set("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f")


def control_char(text: str, *, multiline: bool = False) -> str | None:
    """The first forbidden character in ``text`` as ``'U+0007'``, or None if there is none.
    ``multiline`` allows line breaks and tabs."""
    for ch in text:
        code = ord(ch)
        if (code < 0x20 or 0x7F <= code <= 0x9F) and not (multiline and ch in "\n\t"):
            return f"U+{code:04X}"
        if ch in _BIDI or ch == "\ufeff":
            return f"U+{code:04X}"
    return None


def describe(value: object, limit: int = 40) -> str:
    """A value for an error message: its repr if it is short (a code, a number, a slug),
    else only its kind and length, so a message never reproduces a long text."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None or isinstance(value, int | float):
        text = repr(value)
        return text if len(text) <= limit else f"a number of {len(text)} characters"
    if isinstance(value, str):
        if len(value) <= limit and value.isprintable():
            return repr(value)
        return f"a text of {len(value)} characters"
    return f"a {type(value).__name__}"
