"""MarketDataReader: frames of one market-data file, checked as they are read.

Every problem is a UserError naming the file and the fix: missing, not gzip, not this format,
a newer version, a corrupt or truncated stream (gzip's CRC and length trailer are checked, and
the end line must agree with what was read).
"""

from __future__ import annotations

import json
import zlib
from pathlib import Path
from typing import Any, Callable, Iterator

from pydantic import ValidationError

from nonstop.errors import UserError
from nonstop.venues.replay.format import FORMAT_NAME, FORMAT_VERSION, EarlierBooks, Header

# Inflating and parsing were half of a replay's time with the standard library. ISA-L inflates
# the same gzip stream (CRC and length checked alike) ~2.5x faster, orjson parses the lines ~2x
# faster with bit-identical floats; both are dependencies, the standard library the fallback.
_inflate: Any
try:
    from isal import isal_zlib as _inflate
except ImportError:  # pragma: no cover
    _inflate = zlib
_INFLATE_ERRORS: tuple[type[BaseException], ...] = (zlib.error, _inflate.error)
_LOADS: Callable[[Any], Any]  # bytes, or a memoryview of them (orjson; json gets bytes)
try:
    from orjson import loads as _LOADS
except ImportError:  # pragma: no cover
    def _LOADS(line: Any) -> Any:
        return json.loads(bytes(line))

_CHUNK = 1 << 20


def _parse(line: Any) -> Any:
    try:
        return _LOADS(line)
    except ValueError:  # JSON orjson does not take (an integer past 64 bits): the standard parser
        return json.loads(bytes(line))


class MarketDataReader:
    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        if not self.path.is_file():
            raise UserError(f"--data: {self.path} does not exist; give a file written by `nonstop record` "
                            f"or the sim converter")
        self.size = self.path.stat().st_size
        self.consumed = 0  # compressed bytes read so far (progress)
        self.frames = 0
        self.events = 0
        self.tokens: list[str] = []  # version 2's token table: number -> token id
        self._lines = self._iter_lines()
        first = self._next_line()
        if first is None:
            raise self._corrupt("it is empty")
        try:
            raw = json.loads(first)
            self.header = Header.model_validate(raw)
        except (ValueError, ValidationError):
            raise self._corrupt("its first line is not a market-data header") from None
        if self.header.format != FORMAT_NAME:
            raise self._corrupt(f"format {self.header.format!r} is not {FORMAT_NAME!r}")
        if self.header.version > FORMAT_VERSION:
            raise UserError(f"--data: {self.path} is format version {self.header.version}, this nonstop reads "
                            f"up to {FORMAT_VERSION}; upgrade nonstop")

    def _corrupt(self, why: str) -> UserError:
        return UserError(f"--data: {self.path} is not a readable nonstop market-data file ({why}); "
                         f"re-record it or convert it again")

    def _iter_lines(self) -> Iterator[bytes | memoryview]:
        """The lines, as views into the inflated chunk (no copy: orjson parses a view as it is)."""
        inflater = _inflate.decompressobj(16 + zlib.MAX_WBITS)
        rest = b""
        with open(self.path, "rb") as raw:
            while True:
                chunk = raw.read(_CHUNK)
                if not chunk:
                    break
                self.consumed += len(chunk)
                try:
                    data = inflater.decompress(chunk)
                except _INFLATE_ERRORS as exc:
                    raise self._corrupt(f"gzip: {exc}") from None
                if inflater.unused_data:
                    raise self._corrupt("trailing bytes after the gzip stream")
                if not data:
                    continue
                find, start = data.find, 0
                if rest:  # the line cut by the previous chunk's end
                    start = find(b"\n") + 1
                    if not start:
                        rest += data
                        continue
                    yield rest + data[:start - 1]
                view = memoryview(data)
                while (end := find(b"\n", start)) >= 0:
                    yield view[start:end]
                    start = end + 1
                rest = data[start:]
        if not inflater.eof:
            raise self._corrupt("the gzip stream is truncated")
        if rest:
            yield rest

    def _next_line(self) -> bytes | None:
        for line in self._lines:
            if line:
                return bytes(line)
        return None

    def frames_iter(self) -> Iterator[dict[str, Any]]:
        """Frames in file order, as version 1 writes them (token ids in `B` and `T`) whatever the file's
        version; a version 2 frame may carry `b`, its superseded books (format.EarlierBooks). The end
        line is checked, not yielded."""
        last_t = float("-inf")
        numbered = self.header.version >= 2
        for line in self._lines:
            try:
                frame = _parse(line)
                t = frame["t"]
            except (ValueError, KeyError, TypeError):
                if bytes(line[:6]) == b'{"end"':
                    self._check_end(bytes(line))
                    return
                raise self._corrupt(f"line {self.frames + 2} is not a frame") from None
            if t < last_t:
                raise self._corrupt(f"frame {self.frames + 1} goes back in time ({t} < {last_t})")
            last_t = t
            self.frames += 1
            if numbered:
                self._unnumber(frame)
            yield frame
        raise self._corrupt("it has no end line; the writer did not finish")

    def _unnumber(self, frame: dict[str, Any]) -> None:
        """A version 2 frame with its token numbers replaced by the token ids (the table's own strings)."""
        names = self.tokens
        try:
            for number, token in frame.get("K", ()):
                if number != len(names) or type(token) is not str:
                    raise ValueError(number)
                names.append(token)
            for kind in ("B", "T"):
                rows = frame.get(kind)
                if rows:
                    for row in rows:
                        row[0] = names[row[0]]
        except (ValueError, TypeError, IndexError):
            raise self._corrupt(f"frame {self.frames} names a token its file does not list") from None
        count = frame.get("b")
        if count:
            line = next(self._lines, None)
            if line is None:
                raise self._corrupt(f"frame {self.frames} lacks the line of its earlier books")
            frame["b"] = EarlierBooks(count, line, names, _parse)

    def _check_end(self, line: bytes) -> None:
        try:
            end = json.loads(line)["end"]
        except (ValueError, KeyError):
            raise self._corrupt("its end line is damaged") from None
        if end.get("frames") != self.frames:
            raise self._corrupt(f"the end line counts {end.get('frames')} frames, {self.frames} were read")
        for rest in self._lines:
            if rest:
                raise self._corrupt("data after the end line")

    @property
    def progress(self) -> float:
        return self.consumed / self.size if self.size else 1.0


def peek_header(path: str | Path) -> Header:
    """Check a file's header (cheap: the first chunk only); UserError when it is not ours."""
    return MarketDataReader(path).header
