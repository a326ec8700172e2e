"""Large JSON array files, split into their elements with bounded memory.

Spark's JSON reader turns a top-level array into rows only after building the
whole array in memory (JacksonParser.convertArray), so a file too large to read
whole is split here instead: read as a stream in chunks, each element cut out
as its exact text, and staged as JSON Lines of {"i": place in the array, "raw":
element text}, which Spark then reads in parallel like any JSON Lines file.
Memory holds one chunk and the element being read, whatever the file's size.
"""

import codecs
import gzip
import json
import os
import shutil
import tempfile
from collections.abc import Iterable, Iterator
from json.encoder import encode_basestring  # json.dumps of a str, in C, without the call overhead

from pyspark.sql import SparkSession

from pipeline.lake.files import local_path

CHUNK_BYTES = 4 << 20
MAX_ELEMENT_CHARS = 64 << 20  # one element larger than this is no export record
STAGED_SCHEMA = "i long, raw string"
_WHITESPACE = " \t\r\n"
_NUMBER_GOES_ON = "0123456789.eE+-"
_DECODER = json.JSONDecoder()


class ArrayError(ValueError):
    """The text is not one JSON array (or an element is too large)."""


def elements(chunks: Iterable[str]) -> Iterator[str]:
    """The text of each element of the one JSON array that `chunks` spell, in
    order, exactly as written (without the whitespace around it). A leading
    byte order mark is skipped. Raises ArrayError where the text stops being a
    JSON array."""
    chunks = iter(chunks)
    buffer, pos, consumed, ended = "", 0, 0, False  # consumed: characters dropped before `buffer`

    def more() -> bool:
        nonlocal buffer, pos, consumed, ended
        for chunk in chunks:
            if chunk:
                consumed += pos
                buffer, pos = buffer[pos:] + chunk, 0
                return True
        ended = True
        return False

    def next_character() -> str:
        """The next non-blank character ('' at the end), `pos` on it."""
        nonlocal pos
        while True:
            while pos < len(buffer) and buffer[pos] in _WHITESPACE:
                pos += 1
            if pos < len(buffer) or not more():
                return buffer[pos:pos + 1]

    def fail(message: str):
        raise ArrayError(f"not a JSON array at character {consumed + pos}: {message}")

    more()
    if buffer.startswith("\ufeff"):
        pos = 1
    if next_character() != "[":
        fail("expected '['")
    pos += 1
    if next_character() == "]":
        pos += 1
    else:
        while True:
            next_character()
            while True:
                start = pos  # more() moves the buffer: the element starts at `pos`
                try:
                    _, end = _DECODER.raw_decode(buffer, start)
                except json.JSONDecodeError as err:
                    end, problem = None, err.msg
                # A number cut by the chunk end (12 of 123, 1.5 of 1.5e3) reads as a shorter one.
                if end is not None and (ended or end < len(buffer) and buffer[end] not in _NUMBER_GOES_ON):
                    break
                if len(buffer) - start > MAX_ELEMENT_CHARS:
                    fail(f"an element longer than {MAX_ELEMENT_CHARS} characters")
                if not more():
                    if end is None:
                        fail(problem)
                    break
            yield buffer[start:end]
            pos = end
            separator = next_character()
            if separator not in (",", "]"):
                fail("expected ',' or ']'")
            pos += 1
            if separator == "]":
                break
    if next_character():
        fail("text after the array")


def _decoded(binary, encoding_errors: str = "replace") -> Iterator[str]:
    """The text of a binary stream, chunk by chunk (a UTF-8 character cut by a
    chunk end waits for the next chunk; invalid bytes become U+FFFD)."""
    decoder = codecs.getincrementaldecoder("utf-8")(errors=encoding_errors)
    while chunk := binary.read(CHUNK_BYTES):
        yield decoder.decode(chunk)
    yield decoder.decode(b"", final=True)


def stage(spark: SparkSession, path: str, target: str) -> int:
    """Write the elements of the array file `path` (gzipped when it ends in .gz)
    as JSON Lines {"i", "raw"} to the file `target`; the number of elements.
    Raises ArrayError for a file that is no JSON array, OSError/EOFError when it
    cannot be read or decompressed. Files on other file systems than the local
    one are copied through the driver's temporary folder."""
    hadoop = spark._jvm.org.apache.hadoop.fs
    conf = spark._jsc.hadoopConfiguration()
    scratch = tempfile.mkdtemp(prefix="json-array-")
    try:
        source = local_path(path)
        if source is None:
            source = os.path.join(scratch, "source")
            hadoop.Path(path).getFileSystem(conf).copyToLocalFile(False, hadoop.Path(path), hadoop.Path(source), True)
        output = local_path(target)
        if output is None:
            output = os.path.join(scratch, "staged.jsonl")
        os.makedirs(os.path.dirname(output), exist_ok=True)
        count = 0
        with (gzip.open if path.endswith(".gz") else open)(source, "rb") as binary, \
                open(output, "w", encoding="utf-8") as out:
            for count, raw in enumerate(elements(_decoded(binary)), start=1):
                out.write(f'{{"i":{count - 1},"raw":{encode_basestring(raw)}}}\n')
        if local_path(target) is None:
            hadoop.Path(target).getFileSystem(conf).copyFromLocalFile(True, True, hadoop.Path(output), hadoop.Path(target))
        return count
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
