"""make sql's terminal: Spark's error messages as one line each, without the
query plan; the timings of the statements that name the tables dropped."""

import pytest

from pipeline.outputs.sql_shell import without_timings
from pipeline.runtime.errors import condensed_sql_errors

pytestmark = pytest.mark.unit

NOT_FOUND = """[TABLE_OR_VIEW_NOT_FOUND] The table or view `gold`.`x` cannot be found.
Search path: [`system`.`builtin`].
To tolerate the error use DROP TABLE IF EXISTS. SQLSTATE: 42P01; line 1 pos 14;
'Project [*]
+- 'UnresolvedRelation [gold, x], [], false

"""
PARSE = """[PARSE_SYNTAX_ERROR] Syntax error at or near 'SELEC'. SQLSTATE: 42601 (line 1, pos 0)

== SQL ==
SELEC 1
^^^
"""


def test_each_error_is_one_line_without_its_plan_and_other_lines_pass():
    lines = ["a warning\n", *NOT_FOUND.splitlines(True), *PARSE.splitlines(True)]
    assert list(condensed_sql_errors(lines, " (details: x.log)")) == [
        "a warning\n",
        "sql: error: [TABLE_OR_VIEW_NOT_FOUND] The table or view `gold`.`x` cannot be found. Search path: "
        "[`system`.`builtin`]. To tolerate the error use DROP TABLE IF EXISTS. SQLSTATE: 42P01; line 1 pos 14"
        " (details: x.log)\n",
        "sql: error: [PARSE_SYNTAX_ERROR] Syntax error at or near 'SELEC'. SQLSTATE: 42601 (line 1, pos 0)"
        " (details: x.log)\n",
    ]


def test_a_message_without_sqlstate_is_passed_on_whole():
    lines = ["[SOMETHING] went wrong\n", "at some place\n"]
    assert list(condensed_sql_errors(lines)) == lines


def test_only_the_first_timings_are_dropped_unless_silent():
    lines = ["Time taken: 0.1 seconds\n", "Time taken: 0.2 seconds\n", "Time taken: 0.3 seconds, Fetched 1 row(s)\n"]
    assert list(without_timings(lines, 2)) == lines[2:]
    assert list(without_timings(lines, None)) == []
