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
