"""The streaming splitter of large JSON array files (no Spark): every element's
exact text, in order, whatever the chunk boundaries; a text that is not one JSON
array is refused with where it stops being one."""

import re

import pytest

from pipeline.lake.json_arrays import ArrayError, elements

pytestmark = pytest.mark.unit

# Hand-written: strings with brackets, commas, quotes and escapes, nested values,
# every kind of element, odd whitespace, a byte order mark.
ARRAY = '\ufeff [ {"a": "x,]}[", "b": [1, {"c": null}]} ,\n 42, -1.5e3,"te\\"x]t" , null,true,[1, [2]],{}\r\n]\n'
EXPECTED = ['{"a": "x,]}[", "b": [1, {"c": null}]}', "42", "-1.5e3", '"te\\"x]t"', "null", "true", "[1, [2]]", "{}"]


def chunked(text, size):
    return [text[i:i + size] for i in range(0, len(text), size)]


@pytest.mark.parametrize("size", [1, 2, 3, 7, 1000])
def test_elements_are_the_exact_texts_whatever_the_chunks(size):
    assert list(elements(chunked(ARRAY, size))) == EXPECTED


def test_a_number_cut_by_a_chunk_end_is_read_whole():
    assert list(elements(["[12", "34, 5", "6, 1.5", "e", "3, tr", "ue]"])) == ["1234", "56", "1.5e3", "true"]


@pytest.mark.parametrize("text", ["[]", " [ \n ] ", "\ufeff[]"])
def test_an_empty_array_has_no_elements(text):
    assert list(elements(chunked(text, 1))) == []


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ('{"a": 1}', "at character 0: expected '['"),
        ("[1,]", "at character 3: Expecting value"),
        ("[1 2]", "at character 3: expected ',' or ']'"),
        ("[1] x", "at character 4: text after the array"),
        ("[1", "at character 2: expected ',' or ']'"),
        ('["abc', "at character 1: Unterminated string"),
        ("", "at character 0: expected '['"),
    ],
)
def test_a_text_that_is_no_array_is_refused_with_where(text, problem):
    with pytest.raises(ArrayError, match=re.escape(problem)):
        list(elements(chunked(text, 2)))
