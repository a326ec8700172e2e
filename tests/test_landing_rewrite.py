"""forget --rewrite-landing's file replacement: the records left, in the
file's own format, under its old modification time; none left, no file."""

import gzip
import json
import os

import pytest

from pipeline.lake.landing import replace_local_file

pytestmark = pytest.mark.unit

OLD = 1_700_000_000_123_456_789  # ns


def landed(path, content: bytes):
    path.write_bytes(content)
    os.utime(path, ns=(OLD, OLD))
    return path


def test_an_array_file_keeps_its_other_records_as_an_array_and_its_time(tmp_path):
    path = landed(tmp_path / "a.json", b'[{"orderId": 1}, {"orderId": 2}, {"orderId": 3}]')
    replace_local_file(str(path), ['{"orderId":1}', '{"orderId":3}'], array=True)
    assert json.loads(path.read_text()) == [{"orderId": 1}, {"orderId": 3}]
    assert path.stat().st_mtime_ns == OLD
    assert os.listdir(tmp_path) == ["a.json"]


def test_a_gzipped_json_lines_file_stays_gzipped_json_lines(tmp_path):
    path = landed(tmp_path / "b.jsonl.gz", gzip.compress(b'{"orderId": 1}\n{"orderId": 2}\n'))
    replace_local_file(str(path), ['{"orderId": 2}'], array=False)
    assert gzip.decompress(path.read_bytes()) == b'{"orderId": 2}\n'
    assert path.stat().st_mtime_ns == OLD


def test_a_file_with_no_record_left_is_removed(tmp_path):
    path = landed(tmp_path / "c.jsonl", b'{"orderId": 1}\n')
    replace_local_file(str(path), iter([]), array=False)
    assert os.listdir(tmp_path) == []
