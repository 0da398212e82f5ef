"""The one exception type for problems a user can cause (bad layout, bad deck, bad option)."""

from __future__ import annotations


class PkgdrcError(Exception):
    """A user-caused problem: the message names the file, the place and what was expected.

    The CLI prints it as one line on stderr and exits 2. Anything else raised inside
    pkgdrc is a bug and keeps its traceback.
    """

    def __init__(self, message: str, *, path: str | None = None, line: int | None = None):
        self.path = path
        self.line = line
        where = ""
        if path is not None:
            where = f"{path}:{line}: " if line is not None else f"{path}: "
        super().__init__(where + message)
