"""The cycle loop of the continuous mode on its own: no Spark, fake steps."""

from pipeline.runtime import continuous
import pytest

pytestmark = pytest.mark.unit


def loop(results, waiting, max_failures=3):
    """Run cycles that return or raise `results` in turn; stop when they are used up."""
    calls = []

    def cycle():
        calls.append(len(calls))
        result = results[len(calls) - 1]
        if len(calls) == len(results):
            continuous.signal.raise_signal(continuous.signal.SIGTERM)  # stop after this cycle
        if isinstance(result, Exception):
            raise result
        return result

    code = continuous.run_cycles(cycle, waiting, 0.001, max_failures, str)
    return code, calls


def test_the_first_cycle_runs_then_only_when_files_wait(capsys):
    waits = iter([{}, {}, {"f": 0}])
    code, calls = loop(["first", "second"], lambda: next(waits, {}))
    out = capsys.readouterr().out
    assert code == 0 and len(calls) == 2
    assert next(waits, "all checked") == "all checked"  # the second cycle waited for the files
    assert "all: cycle 1: first\n" in out and "all: cycle 2: second, lag " in out
    assert out.endswith("all: stopped after 2 cycles\n")


def test_a_failed_cycle_is_retried_and_the_same_error_max_failures_times_ends_it(capsys):
    code, calls = loop([RuntimeError("disk"), RuntimeError("disk"), RuntimeError("disk")], lambda: {})
    assert code == 1 and len(calls) == 3
    assert capsys.readouterr().err.splitlines()[-1] == "all: cycle 3: error: disk (3 of 3 in a row)"


def test_a_different_error_or_a_success_restarts_the_count(capsys):
    code, calls = loop([RuntimeError("a"), RuntimeError("b"), "ok", RuntimeError("b")], lambda: {"f": 0})
    assert code == 0 and len(calls) == 4  # never the same error 3 times in a row
    errors = [line for line in capsys.readouterr().err.splitlines() if ": error: " in line]
    assert errors[-1] == "all: cycle 4: error: b (1 of 3 in a row)"


def test_a_failing_check_for_new_files_runs_the_cycle_that_reports_it():
    def broken():
        raise OSError("store unreachable")

    code, calls = loop(["first", "second"], broken)
    assert code == 0 and len(calls) == 2
