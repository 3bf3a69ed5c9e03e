"""One PDF written from many small reportlab documents, so a long print never holds its pages in memory.

reportlab's Canvas keeps every page's compressed content until it saves, about 17 KB a page. The
printer therefore draws a few hundred pages per Canvas (a "part"), and this module copies each
saved part into the one output file straight away and forgets it. A part's objects are renumbered
into the output's numbering and written as they come; its own page tree stays whole and becomes
one branch of the output's page tree (the pages keep their /Parent, the branch gains one). Each
part embeds its own font subsets, all tagged AAAAAA, AAAAAB… by reportlab; the PDF standard wants
different subsets in one file to have different tags, so each part's tags are renamed. Each
part's catalogue and document information are dropped, except the first part's information
(title, author, dates). What stays in memory from one part to the next is a few counters and the
number of each part's branch; the cross-reference table, twenty bytes an object, goes to a
spooled temporary file, on disk only past a megabyte (about 50,000 objects).

This reads reportlab's own output and nothing else: objects written one after the other, a
classic cross-reference table and trailer, dictionaries whose only strings are in the document
information. Anything else is refused with `UnexpectedPdf` rather than copied wrong. The output
is written front to back and never re-read, so `out` can be a file, a BytesIO or a pipe.
"""

from __future__ import annotations

import hashlib
import re
import shutil
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import IO, BinaryIO

PAGE_TREE_ROOT = 1  # written last, when every branch is known; its number is needed by the first branch
XREF_SPOOL_BYTES = 1 << 20

_XREF_ENTRY = re.compile(rb"(\d{10}) (\d{5}) ([nf])\s{2}")
_START_XREF = re.compile(rb"startxref\s+(\d+)\s+%%EOF\s*$")
_TRAILER_REF = re.compile(rb"/(Root|Info) (\d+) 0 R")
_OBJECT_HEAD = re.compile(rb"(\d+) 0 obj\b")
# In a dictionary: a literal string (kept: its text is not a reference), an indirect reference
# "N 0 R", or the six-letter tag of an embedded font subset ("/AAAAAA+NotoSans-Regular").
_TOKEN = re.compile(rb"\((?:\\.|[^\\)])*\)|(?<![\w.+/-])(\d+) 0 R(?!\w)|/([A-Z]{6})\+", re.S)
_STREAM_END = b"endstream\nendobj\n"
_PAGES_COUNT = re.compile(rb"/Count (\d+)")


class UnexpectedPdf(ValueError):
    """A part is not laid out as reportlab writes it; joining it could produce a broken file."""


@contextmanager
def joined_pdf(out: BinaryIO) -> Iterator[PdfJoiner]:
    """A joiner writing to `out`, whose PDF is completed when the block ends without an error."""
    with tempfile.SpooledTemporaryFile(max_size=XREF_SPOOL_BYTES) as xref:
        joiner = PdfJoiner(out, xref)
        yield joiner
        joiner.close()


class PdfJoiner:
    """Streams the pages of reportlab documents, part after part, into one PDF on `out`."""

    def __init__(self, out: BinaryIO, xref: IO[bytes]) -> None:
        self.out = out
        self.position = 0
        self.next_number = PAGE_TREE_ROOT + 1
        self.branches: list[int] = []
        self.pages = 0
        self.info: int | None = None
        self.digest = hashlib.md5(usedforsecurity=False)
        self.subsets = 0
        self.xref = xref  # twenty bytes an object, read back once to write the table

    def add(self, part: bytes) -> None:
        """Copy every page of one saved reportlab document to the output, after the pages already there."""
        spans, root, info = _read_xref(part)
        catalogue = _object_at(part, spans, root)
        pages_match = re.search(rb"/Pages (\d+) 0 R", catalogue)
        if pages_match is None:
            raise UnexpectedPdf("a part's catalogue names no page tree")
        branch = int(pages_match.group(1))
        if self.position == 0:
            self._write(part[: min(start for start, _ in spans.values())])  # the header: version line and binary marker
        keep_info = self.info is None
        skipped = {root} if keep_info else {root, info}
        numbers = {old: self._number() for old in sorted(spans) if old not in skipped}
        tags: dict[bytes, bytes] = {}
        for old in sorted(numbers):
            body = _object_at(part, spans, old)
            if old == branch:
                body = self._as_branch(body)
            self._write_object(numbers[old], _renumber(body, numbers, tags, self._new_tag))
        if keep_info:
            self.info = numbers[info]
        self.branches.append(numbers[branch])

    def close(self) -> None:
        """Write the page tree, catalogue, cross-reference table and trailer; the output is then complete."""
        if not self.branches:
            raise UnexpectedPdf("a PDF needs at least one page")
        kids = " ".join(f"{number} 0 R" for number in self.branches)
        root_offset = self.position
        self._write(f"{PAGE_TREE_ROOT} 0 obj\n<<\n/Count {self.pages} /Kids [ {kids} ] /Type /Pages\n>>\n"
                    "endobj\n".encode("ascii"))
        catalogue = self._number()
        self._write_object(catalogue, f"{catalogue} 0 obj\n<<\n/PageMode /UseNone /Pages {PAGE_TREE_ROOT} 0 R "
                           "/Type /Catalog\n>>\nendobj\n".encode("ascii"))
        xref_offset = self.position
        identifier = self.digest.hexdigest()
        self._write(f"xref\n0 2\n0000000000 65535 f \n{root_offset:010d} 00000 n \n"
                    f"{PAGE_TREE_ROOT + 1} {self.next_number - PAGE_TREE_ROOT - 1}\n".encode("ascii"))
        self.xref.seek(0)
        shutil.copyfileobj(self.xref, self.out)
        info = f"/Info {self.info} 0 R\n" if self.info is not None else ""
        self.out.write(f"trailer\n<<\n/ID [<{identifier}><{identifier}>]\n{info}/Root {catalogue} 0 R\n"
                       f"/Size {self.next_number}\n>>\nstartxref\n{xref_offset}\n%%EOF\n".encode("ascii"))

    def _as_branch(self, body: bytes) -> bytes:
        """A part's page tree root, hung under the output's root; its page count joins the total."""
        count = _PAGES_COUNT.search(body)
        opening = body.find(b"<<")
        if count is None or opening < 0 or b"/Type /Pages" not in body:
            raise UnexpectedPdf("a part's page tree has no page count")
        self.pages += int(count.group(1))
        return body[: opening + 2] + f"\n/Parent {PAGE_TREE_ROOT} 0 R".encode("ascii") + body[opening + 2 :]

    def _new_tag(self) -> bytes:
        """The next unused subset tag: six capital letters, counting AAAAAA, AAAAAB… across the whole file."""
        number, self.subsets = self.subsets, self.subsets + 1
        letters = bytearray()
        for _ in range(6):
            number, letter = divmod(number, 26)
            letters.insert(0, ord("A") + letter)
        return bytes(letters)

    def _number(self) -> int:
        number = self.next_number
        self.next_number += 1
        return number

    def _write_object(self, number: int, body: bytes) -> None:
        """Objects are numbered in the order they are written, so their xref entries are too."""
        if number != PAGE_TREE_ROOT + self.xref.tell() // 20 + 1:
            raise UnexpectedPdf(f"object {number} written out of order")
        self.xref.write(f"{self.position:010d} 00000 n \n".encode("ascii"))
        self._write(body)

    def _write(self, data: bytes) -> None:
        self.out.write(data)
        self.digest.update(data)
        self.position += len(data)


def _read_xref(part: bytes) -> tuple[dict[int, tuple[int, int]], int, int]:
    """Where each object starts and ends, and the catalogue's and information's numbers, from the trailer."""
    start = _START_XREF.search(part, max(0, len(part) - 64))
    if start is None:
        raise UnexpectedPdf("a part does not end with startxref and %%EOF")
    xref_at = int(start.group(1))
    trailer_at = part.find(b"trailer", xref_at)
    header = re.match(rb"xref\s+0 (\d+)\s+", part[xref_at:trailer_at])
    if trailer_at < 0 or header is None:
        raise UnexpectedPdf("a part has no single cross-reference section")
    entries = _XREF_ENTRY.findall(part, xref_at + header.end(), trailer_at)
    if len(entries) != int(header.group(1)):
        raise UnexpectedPdf("a part's cross-reference table is not the length it says")
    starts = [(number, int(offset)) for number, (offset, _, state) in enumerate(entries) if state == b"n"]
    if [offset for _, offset in starts] != sorted(offset for _, offset in starts):
        raise UnexpectedPdf("a part's objects are not written in the order of their numbers")
    ends = [offset for _, offset in starts[1:]] + [xref_at]
    spans = {number: (offset, end) for (number, offset), end in zip(starts, ends, strict=True)}
    refs = dict(_TRAILER_REF.findall(part, trailer_at))
    if b"Root" not in refs or b"Info" not in refs:
        raise UnexpectedPdf("a part's trailer names no catalogue or information")
    return spans, int(refs[b"Root"]), int(refs[b"Info"])


def _object_at(part: bytes, spans: dict[int, tuple[int, int]], number: int) -> bytes:
    """The bytes of one object, from "N 0 obj" to the next object (reportlab writes them back to back)."""
    start, end = spans[number]
    body = part[start:end]
    head = _OBJECT_HEAD.match(body)
    if head is None or int(head.group(1)) != number:
        raise UnexpectedPdf(f"object {number} is not where the cross-reference table says")
    return body


def _renumber(body: bytes, numbers: dict[int, int], tags: dict[bytes, bytes], new_tag: Callable[[], bytes]) -> bytes:
    """The object under its new number, its references and subset tags renamed; stream data as it was."""
    head = _OBJECT_HEAD.match(body)
    if head is None:
        raise UnexpectedPdf("an object without its 'N 0 obj' line")
    dictionary_end = body.index(b"stream") if body.endswith(_STREAM_END) else len(body)

    def renamed(match: re.Match[bytes]) -> bytes:
        reference, tag = match.group(1), match.group(2)
        if tag is not None:
            if tag not in tags:
                tags[tag] = new_tag()
            return b"/" + tags[tag] + b"+"
        if reference is None:
            return match.group(0)
        if int(reference) not in numbers:
            raise UnexpectedPdf(f"a reference to object {int(reference)}, which the part does not copy")
        return b"%d 0 R" % numbers[int(reference)]

    dictionary = _TOKEN.sub(renamed, body[head.end() : dictionary_end])
    return b"%d 0 obj" % numbers[int(head.group(1))] + dictionary + body[dictionary_end:]
