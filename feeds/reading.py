"""Reading feed files: CSV (UTF-8 or Windows-1252) and Excel (.xlsx), streamed, with every limit checked
while reading.

A file is read as (row number, {column: text}) pairs, one at a time, so memory does
not grow with the file. Whatever is wrong with the file as a whole raises
`FileRejected` with a message for the person who sent it, as soon as it is found:
before the first row for the encoding, the type of file and the columns; at the
offending row for an over-long cell, too many rows or too many blank rows.
"""

import codecs
import csv
import datetime
import io
import zipfile

from django.utils.text import get_valid_filename

MAX_FILE_BYTES = 25 * 1024 * 1024
MAX_ROWS = 250_000
MAX_BLANK_ROWS = 10_000
MAX_CELL_CHARS = 2_000
MAX_COLUMNS = 100
# An .xlsx is a zip: its parts may unpack to at most this much, and each to at most this many times its packed size.
MAX_UNPACKED_BYTES = 400 * 1024 * 1024
MAX_PACKING_RATIO = 200

READ_CHUNK = 1024 * 1024
# The csv module's own guard, process-wide: no field may grow past this while a line is being parsed.
csv.field_size_limit(MAX_CELL_CHARS * 4)


class FileRejected(Exception):
    """The file as a whole cannot be used; the message says why and what to do."""


def header_key(text):
    return str(text or "").strip().lstrip("\ufeff").strip().lower().replace(" ", "_").replace("-", "_")


def cell_text(value):
    """A cell as the text a person would have typed: dates as 2026-03-01, whole numbers without '.0'."""
    if value is None:
        return ""
    if isinstance(value, datetime.datetime):
        if value.time() == datetime.time.min:
            return value.date().isoformat()
        return value.isoformat(sep=" ", timespec="minutes")
    if isinstance(value, datetime.date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


class FeedFile:
    """A file to read: a path or an open binary file object, and the name it was sent with."""

    def __init__(self, name, *, path=None, fileobj=None, content=None):
        self.name = get_valid_filename(name or "file") if name else "file"
        self.path, self.fileobj, self.content = path, fileobj, content

    def open(self):
        if self.content is not None:
            return io.BytesIO(self.content)
        if self.path is not None:
            return open(self.path, "rb")  # noqa: SIM115 - closed by the reader
        self.fileobj.seek(0)
        return _Unclosed(self.fileobj)

    @property
    def extension(self):
        return self.name.lower().rsplit(".", 1)[-1] if "." in self.name else ""


class _Unclosed(io.RawIOBase):
    """A caller's file object that the reader may close without closing the caller's file."""

    def __init__(self, raw):
        self.raw = raw

    def readable(self):
        return True

    def readinto(self, buffer):
        data = self.raw.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)

    def seekable(self):
        return True

    def seek(self, offset, whence=0):
        return self.raw.seek(offset, whence)

    def tell(self):
        return self.raw.tell()


class Table:
    """The rows of a file under its header. `columns` are the header's keys, in order."""

    def __init__(self, feed_file, *, known_columns, aliases=None):
        self.file = feed_file
        aliases = aliases or {}
        self.known = set(known_columns)
        extension = feed_file.extension
        if extension == "csv":
            self._source = _csv_source(feed_file)
        elif extension == "xlsx":
            self._source = _xlsx_source(feed_file)
        else:
            raise FileRejected("The file must be a CSV (.csv) or an Excel (.xlsx) file.")
        header = next(self._source, None)
        if header is None:
            raise FileRejected("The file is empty.")
        self.columns = [aliases.get(header_key(cell), header_key(cell)) for cell in header[1]]
        if len(self.columns) > MAX_COLUMNS:
            raise FileRejected(f"The first row has {len(self.columns):,} columns: at most {MAX_COLUMNS} are read.")
        seen = set()
        for key in self.columns:
            if key and key in seen:
                raise FileRejected(f"The column {key} appears more than once in the first row. Keep one.")
            seen.add(key)
        named = [key for key in self.columns if key in self.known]
        if not named:
            raise FileRejected("The first row must name the columns. None of its cells is a column this feed "
                               "reads: download the template to see them.")
        self.ignored = sorted(key for key in self.columns if key and key not in self.known)

    def rows(self):
        blank = 0
        count = 0
        keys = self.columns
        for number, values in self._source:
            record = {}
            filled = False
            for key, value in zip(keys, values, strict=False):
                if key not in self.known:
                    continue
                text = cell_text(value)
                if len(text) > MAX_CELL_CHARS:
                    raise FileRejected(
                        f"Row {number:,}, column {key}: the cell has {len(text):,} characters; at most "
                        f"{MAX_CELL_CHARS:,} are allowed."
                    )
                if text:
                    filled = True
                record[key] = text
            if not filled:
                blank += 1
                if blank > MAX_BLANK_ROWS:
                    raise FileRejected(f"The file has more than {MAX_BLANK_ROWS:,} blank rows. Remove them and "
                                       "send it again.")
                continue
            count += 1
            if count > MAX_ROWS:
                raise FileRejected(f"The file has more than {MAX_ROWS:,} rows. Split it into smaller files.")
            yield number, record


# -- CSV ---------------------------------------------------------------------------------------------------------

BINARY_SIGNATURES = {
    b"PK\x03\x04": "an Excel or other zip file",
    b"%PDF": "a PDF",
    b"\xd0\xcf\x11\xe0": "an old Excel (.xls) or Word file",
    b"\x89PNG": "an image",
    b"\xff\xd8\xff": "an image",
}


def _csv_encoding(feed_file):
    """UTF-8 (with or without a byte-order mark) or Windows-1252, found in one streaming pass over the file."""
    with feed_file.open() as raw:
        start = raw.read(8192)
        for signature, what in BINARY_SIGNATURES.items():
            if start.startswith(signature):
                raise FileRejected(f"The file is {what}, not a CSV file. Save it as CSV, or upload the .xlsx.")
        if b"\x00" in start:
            raise FileRejected("The file is not a text file. Save it as CSV (UTF-8) and upload it again.")
        size = len(start)
        candidates = {"utf-8-sig": codecs.getincrementaldecoder("utf-8-sig")(),
                      "cp1252": codecs.getincrementaldecoder("cp1252")()}
        chunk = start
        while chunk:
            if b"\x00" in chunk:
                raise FileRejected("The file is not a text file. Save it as CSV (UTF-8) and upload it again.")
            for name, decoder in list(candidates.items()):
                try:
                    decoder.decode(chunk)
                except UnicodeDecodeError:
                    del candidates[name]
            if not candidates:
                raise FileRejected("The file is not UTF-8 or Windows-1252 text. Save it as CSV UTF-8 and "
                                   "upload it again.")
            chunk = raw.read(READ_CHUNK)
            size += len(chunk)
            if size > MAX_FILE_BYTES:
                raise FileRejected(f"The file must be smaller than {MAX_FILE_BYTES // (1024 * 1024)} MB.")
        for name, decoder in list(candidates.items()):
            try:
                decoder.decode(b"", final=True)
            except UnicodeDecodeError:
                del candidates[name]
        if not candidates:
            raise FileRejected("The file is not UTF-8 or Windows-1252 text. Save it as CSV UTF-8 and upload it "
                               "again.")
        return next(iter(candidates))


def _csv_source(feed_file):
    encoding = _csv_encoding(feed_file)
    raw = feed_file.open()
    text = io.TextIOWrapper(raw, encoding=encoding, newline="")
    return _csv_records(text)


def _csv_records(text):
    reader = csv.reader(text)
    number = 0
    try:
        with text:
            for values in reader:
                number += 1
                yield number, values
    except csv.Error as error:
        if "field larger than field limit" in str(error):
            raise FileRejected(f"Row {number + 1:,}: a cell is longer than {MAX_CELL_CHARS:,} characters "
                               "(or a quotation mark is not closed).") from error
        raise FileRejected(f"Row {number + 1:,} could not be read as CSV: {error}.") from error


# -- XLSX --------------------------------------------------------------------------------------------------------


def _check_zip(feed_file):
    """Refuse a zip bomb before any XML is parsed: packed sizes, declared sizes, and the bytes actually unpacked."""
    with feed_file.open() as raw:
        raw.seek(0, io.SEEK_END)
        if raw.tell() > MAX_FILE_BYTES:
            raise FileRejected(f"The file must be smaller than {MAX_FILE_BYTES // (1024 * 1024)} MB.")
        raw.seek(0)
        try:
            archive = zipfile.ZipFile(raw)
        except (zipfile.BadZipFile, OSError, ValueError) as error:
            raise FileRejected("The file could not be read as an Excel (.xlsx) workbook.") from error
        with archive:
            members = archive.infolist()
            if len(members) > 1000:
                raise FileRejected("The workbook has too many parts to be an ordinary spreadsheet.")
            declared = sum(member.file_size for member in members)
            if declared > MAX_UNPACKED_BYTES or any(
                member.file_size > 1024 * 1024 and member.file_size > MAX_PACKING_RATIO * max(member.compress_size, 1)
                for member in members
            ):
                raise FileRejected("The workbook unpacks to far more than its size (a zip bomb?). It was not read.")
            unpacked = 0
            for member in members:
                try:
                    with archive.open(member) as part:
                        while block := part.read(READ_CHUNK):
                            unpacked += len(block)
                            if unpacked > MAX_UNPACKED_BYTES:
                                raise FileRejected("The workbook unpacks to far more than its size (a zip bomb?). "
                                                   "It was not read.")
                except (zipfile.BadZipFile, OSError, EOFError, NotImplementedError, RuntimeError) as error:
                    raise FileRejected("The file could not be read as an Excel (.xlsx) workbook.") from error


def _xlsx_source(feed_file):
    from openpyxl import load_workbook

    _check_zip(feed_file)
    raw = feed_file.open()
    try:
        workbook = load_workbook(raw, read_only=True, data_only=True)
        sheet = workbook.worksheets[0]
    except Exception as error:  # noqa: BLE001 - openpyxl raises many kinds for a broken file
        raw.close()
        raise FileRejected("The file could not be read as an Excel (.xlsx) workbook.") from error
    last_allowed = MAX_ROWS + MAX_BLANK_ROWS + 1
    try:
        declared_rows = sheet.max_row or 0
    except Exception:  # noqa: BLE001 - a missing or broken dimension: the row bound below still holds
        declared_rows = 0
    if declared_rows > last_allowed:
        workbook.close()
        raw.close()
        raise FileRejected(f"The sheet goes down to row {declared_rows:,}: at most {MAX_ROWS:,} rows are read. "
                           "Delete the empty rows below the data, or split the file.")
    return _xlsx_records(workbook, raw, sheet, last_allowed)


def _xlsx_records(workbook, raw, sheet, last_allowed):
    try:
        # openpyxl stops at max_row before filling the gap to a far-away row, so a lone cell at row 3,000,000
        # costs nothing; a sheet that really has rows past the bound is refused at the bound.
        for number, values in enumerate(sheet.iter_rows(max_row=last_allowed + 1, values_only=True), start=1):
            if number > last_allowed:
                raise FileRejected(f"The sheet has more than {last_allowed:,} rows. Split it into smaller files.")
            if len(values) > MAX_COLUMNS * 10:
                values = values[: MAX_COLUMNS * 10]
            yield number, values
    except FileRejected:
        raise
    except Exception as error:  # noqa: BLE001 - a broken sheet part
        raise FileRejected("The sheet could not be read: save the workbook again and upload it.") from error
    finally:
        workbook.close()
        raw.close()
