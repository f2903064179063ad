"""A GeoJSON FeatureCollection read one feature at a time, in bounded memory.

`json.loads` of a 500 MB GeoJSON holds the text and some ten times its size in Python
objects. Here the file is decoded in chunks: the top-level members other than `features`
(`type`, `crs`, `name`…) are decoded whole (they are small), and the `features` array is
walked with `json.JSONDecoder.raw_decode`, one feature at a time, reading more of the file
only when a feature is not complete in the buffer. Each feature's nesting depth is checked
against `max_json_depth` (as `filelimits.load_json` does for whole documents); errors are
`Invalid` with the line and column, in French.
"""

from __future__ import annotations

import codecs
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from patrimoine.core.errors import Invalid
from patrimoine.core.filelimits import FileLimits, json_depth

CHUNK = 1 << 20
_WHITESPACE = " \t\r\n"


class FeatureStream:
    """Iterate the features of a GeoJSON file; `members` holds the other top-level members
    once the file was read to its end (a `crs` may come after the features)."""

    def __init__(self, path: Path, filename: str, limits: FileLimits) -> None:
        self.path, self.filename, self.limits = path, filename, limits
        self.members: dict[str, Any] = {}

    def __iter__(self) -> Iterator[dict[str, Any]]:
        reader = _Reader(self.path, self.filename, self.limits)
        try:
            yield from self._walk(reader)
        finally:
            reader.close()

    def _walk(self, r: _Reader) -> Iterator[dict[str, Any]]:
        r.expect("{", "le fichier doit commencer par un objet « { »")
        seen_features = False
        if r.peek() == "}":
            r.pos += 1
        else:
            while True:
                if r.peek() != '"':
                    r.fail("nom de membre attendu")
                key = r.value(depth_before=1)
                r.expect(":", "« : » attendu")
                if key == "features" and r.peek() == "[":
                    seen_features = True
                    r.pos += 1
                    if r.peek() == "]":
                        r.pos += 1
                    else:
                        while True:
                            feature = r.value(depth_before=2)
                            if not isinstance(feature, dict):
                                r.fail("une entité (Feature) doit être un objet")
                            yield feature
                            if r.peek() == ",":
                                r.pos += 1
                                continue
                            r.expect("]", "« , » ou « ] » attendu")
                            break
                else:
                    self.members[key] = r.value(depth_before=1)
                if r.peek() == ",":
                    r.pos += 1
                    continue
                r.expect("}", "« , » ou « } » attendu")
                break
        if r.peek() != "":
            r.fail("contenu après la fin de l'objet")
        if not seen_features:
            if self.members.get("type") == "Feature":
                yield self.members
            else:
                raise Invalid(f"{self.filename} : ce n'est pas une collection d'entités GeoJSON "
                              "(FeatureCollection).")


class _Reader:
    """A window on the file's text: `buf[pos:]` is what is left to parse."""

    def __init__(self, path: Path, filename: str, limits: FileLimits) -> None:
        self.file = open(path, "rb")  # noqa: SIM115 - closed by close()
        self.decoder = codecs.getincrementaldecoder("utf-8-sig")()
        self.json = json.JSONDecoder()
        self.filename, self.limits = filename, limits
        self.buf, self.pos, self.eof = "", 0, False
        self.lines_before = 0  # line breaks in the text dropped from the buffer
        self.offset = 0  # bytes read so far

    def close(self) -> None:
        self.file.close()

    def _more(self, size: int = CHUNK) -> bool:
        """Append the next chunk to the buffer (dropping what was parsed); False at the end."""
        if self.eof:
            return False
        data = self.file.read(size)
        try:
            text = self.decoder.decode(data, final=not data)
        except UnicodeDecodeError as exc:
            raise Invalid(f"Le fichier GeoJSON « {self.filename} » n'est pas en UTF-8 (octet "
                          f"0x{data[exc.start]:02x} à la position "
                          f"{self.offset + exc.start}).") from None
        self.offset += len(data)
        if self.pos:
            self.lines_before += self.buf.count("\n", 0, self.pos)
            self.buf = self.buf[self.pos:]
            self.pos = 0
        self.buf += text
        self.eof = not data
        return True

    def peek(self) -> str:
        """The next character that is not white space ('' at the end of the file)."""
        while True:
            while self.pos < len(self.buf) and self.buf[self.pos] in _WHITESPACE:
                self.pos += 1
            if self.pos < len(self.buf):
                return self.buf[self.pos]
            if not self._more():
                return ""

    def expect(self, char: str, what: str) -> None:
        if self.peek() != char:
            self.fail(what)
        self.pos += 1

    def value(self, depth_before: int) -> Any:
        """Decode the next JSON value, reading more until it is complete."""
        self.peek()
        size = CHUNK
        while True:
            try:
                value, end = self.json.raw_decode(self.buf, self.pos)
            except RecursionError:
                while self._more(size):  # to measure the depth from the whole value
                    size *= 2
                self._too_deep(depth_before + json_depth(self.buf[self.pos:].encode()))
            except json.JSONDecodeError as exc:
                # Cut by the end of the buffer (not a real error), or broken here?
                cut = exc.pos >= len(self.buf) - 8 or exc.msg.startswith("Unterminated string")
                if cut and self._more(size):
                    size *= 2  # a large feature: read it in fewer, larger steps
                    continue
                self._fail_at(exc.pos, None)
            else:
                # A number or literal at the very end of the buffer may go on in the file.
                if end == len(self.buf) and self._more(size):
                    continue
                break
        # Most features hold few brackets: their count bounds the depth, no need to measure.
        if self.buf[self.pos] in "[{" and depth_before + self.buf.count("[", self.pos, end) + \
                self.buf.count("{", self.pos, end) > self.limits.max_json_depth:
            depth = depth_before + json_depth(self.buf[self.pos:end].encode())
            if depth > self.limits.max_json_depth:
                self._too_deep(depth)
        self.pos = end
        return value

    def _too_deep(self, depth: int) -> None:
        shown = f"{depth:,}".replace(",", "\u202f")
        raise Invalid(
            f"Le fichier GeoJSON « {self.filename} » imbrique ses valeurs sur {shown} niveaux "
            f"(au plus {self.limits.max_json_depth}, limite réglée par "
            "PATRIMOINE_MAX_JSON_DEPTH) : refusé.")

    def fail(self, what: str) -> None:
        self._fail_at(self.pos, what)

    def _fail_at(self, pos: int, what: str | None) -> None:
        line = self.lines_before + self.buf.count("\n", 0, pos) + 1
        start = self.buf.rfind("\n", 0, pos) + 1
        where = f"ligne {line}" + (f", colonne {pos - start + 1}" if start or not
                                   self.lines_before else "")
        raise Invalid(f"Le fichier GeoJSON « {self.filename} » est illisible : JSON invalide "
                      f"{where}" + (f" ({what})" if what else "") + ".")
