"""Hostile spreadsheets, built honestly in a second or two: each really unpacks to what it claims.

A deflate stream flushed with Z_FULL_FLUSH forgets its history, so one compressed block of a
repeated unit can be repeated to make a member of any size without compressing it all.
"""

from __future__ import annotations

import bz2
import io
import re
import struct
import zipfile
import zlib

from openpyxl import Workbook

MB = 1024 * 1024
HEADINGS = ["commune_code", "hamlet", "head_name", "members", "smartphone_users", "installed_before",
            "installed_during_visit", "visited_on"]
# A member is (method, compressed bytes, crc32, unpacked size).
Member = tuple[int, bytes, int, int]


def _block(data: bytes) -> bytes:
    comp = zlib.compressobj(9, zlib.DEFLATED, -15)
    return comp.compress(data) + comp.flush(zlib.Z_FULL_FLUSH)


def deflated(head: bytes, unit: bytes = b"", repeats: int = 0, tail: bytes = b"") -> Member:
    """head + unit * repeats + tail, deflated without compressing the repeats one by one."""
    crc = zlib.crc32(head)
    for _ in range(repeats):
        crc = zlib.crc32(unit, crc)
    crc = zlib.crc32(tail, crc)
    body = _block(head) + (_block(unit) * repeats if repeats else b"") + _block(tail)
    body += zlib.compressobj(9, zlib.DEFLATED, -15).flush()  # the final, empty block
    return zipfile.ZIP_DEFLATED, body, crc, len(head) + len(unit) * repeats + len(tail)


def zip_of(members: dict[str, Member]) -> bytes:
    """A zip archive of already compressed members (no zip64: each under 4 GB)."""
    out, central = io.BytesIO(), io.BytesIO()
    for name, (method, data, crc, size) in members.items():
        raw = name.encode()
        offset = out.tell()
        out.write(struct.pack("<IHHHHHIIIHH", 0x04034B50, 20, 0, method, 0, 0x21, crc, len(data), size,
                              len(raw), 0) + raw + data)
        central.write(struct.pack("<IHHHHHHIIIHHHHHII", 0x02014B50, 20, 20, 0, method, 0, 0x21, crc, len(data),
                                  size, len(raw), 0, 0, 0, 0, 0, offset) + raw)
    start = out.tell()
    out.write(central.getvalue())
    out.write(struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, len(members), len(members), len(central.getvalue()),
                          start, 0))
    return out.getvalue()


def workbook_members(rows: list[list]) -> dict[str, bytes]:
    """The parts of a plain workbook holding ``rows`` on its first sheet."""
    wb = Workbook()
    for row in rows:
        wb.active.append(row)
    buf = io.BytesIO()
    wb.save(buf)
    with zipfile.ZipFile(buf) as z:
        return {name: z.read(name) for name in z.namelist()}


def _rebuilt(parts: dict[str, bytes], replaced: dict[str, Member]) -> bytes:
    members = {name: replaced.get(name) or deflated(data) for name, data in parts.items()}
    members.update({k: v for k, v in replaced.items() if k not in members})
    return zip_of(members)


def dimension_bomb(rows: int = 50_000) -> bytes:
    """About 5 KB: headings, then ``rows`` empty rows, the sheet claiming A1:XFD1048576.

    A reader that trusts the claim pads every row to 16,384 cells: minutes of work.
    """
    parts = workbook_members([HEADINGS])
    head, tail = parts["xl/worksheets/sheet1.xml"].split(b"</sheetData>")
    head = re.sub(rb'<dimension ref="[^"]+"', b'<dimension ref="A1:XFD1048576"', head)
    return _rebuilt(parts, {"xl/worksheets/sheet1.xml": deflated(head, b"<row><c/></row>" * 1000, rows // 1000,
                                                                 b"</sheetData>" + tail)})


def huge_sheet_bomb(unpacked: int = 1100 * MB) -> bytes:
    """About 1 MB that unpacks to ``unpacked`` bytes of rows."""
    parts = workbook_members([HEADINGS])
    sheet = re.sub(rb"<dimension[^>]*/>", b"", parts["xl/worksheets/sheet1.xml"])  # no size claimed at all
    head, tail = sheet.split(b"</sheetData>")
    row = b"<row><c><v>1</v></c></row>"
    unit = row * (MB // len(row))
    return _rebuilt(parts, {"xl/worksheets/sheet1.xml": deflated(head, unit, unpacked // len(unit),
                                                                 b"</sheetData>" + tail)})


def shared_strings_bomb(unpacked: int = 300 * MB) -> bytes:
    """A few hundred KB whose shared-strings table holds millions of strings."""
    parts = workbook_members([HEADINGS])
    entry = b"<si><t>ab</t></si>"
    unit = entry * (MB // len(entry))
    head = (b'<?xml version="1.0" encoding="UTF-8"?>'
            b'<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">')
    parts["[Content_Types].xml"] = parts["[Content_Types].xml"].replace(b"</Types>", (
        b'<Override PartName="/xl/sharedStrings.xml" '
        b'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/></Types>'))
    return _rebuilt(parts, {"xl/sharedStrings.xml": deflated(head, unit, unpacked // len(unit), b"</sst>")})


def bzip2_bomb(unpacked: int = 64 * MB) -> bytes:
    """A sheet compressed with bzip2, which reaches ratios deflate cannot (the zip allows it)."""
    parts = workbook_members([HEADINGS])
    head, tail = parts["xl/worksheets/sheet1.xml"].split(b"</sheetData>")
    sheet = head + b" " * unpacked + b"</sheetData>" + tail
    member = (zipfile.ZIP_BZIP2, bz2.compress(sheet, 9), zlib.crc32(sheet), len(sheet))
    return _rebuilt(parts, {"xl/worksheets/sheet1.xml": member})
