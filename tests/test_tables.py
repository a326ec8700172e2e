"""The lake layer's table helpers."""

from pipeline.lake import tables
from pipeline.lake.tables import check_text
import pytest

pytestmark = pytest.mark.spark


def test_check_text_ignores_spacing_but_not_string_literals():
    # As the file writes it, and as Delta stores it after ALTER TABLE ... ADD CONSTRAINT.
    assert check_text("first_message_by IN ('customer', 'agent')") == check_text(
        "first_message_by IN ( 'customer' , 'agent' )"
    )
    assert check_text("a  >=\n 0") == check_text("a >= 0")
    assert check_text("device = 'Agent Web'") != check_text("device = 'AgentWeb'")
    assert check_text("x = 'it\\'s  ok' AND y") == "x='it\\'s  ok'ANDy"
    assert check_text("a >= 0") != check_text("a > 0")


def test_ensure_properties_turns_on_what_an_older_table_lacks_once(spark, tmp_path):
    path = str(tmp_path / "gold")
    spark.range(3).write.format("delta").save(path)  # made before the properties were given
    wanted = {**tables.CHANGE_FEED, **tables.DELETION_VECTORS}
    tables.ensure_properties(spark, path, wanted)
    assert wanted.items() <= tables.table_properties(spark, path).items()
    version = tables.version(spark, path)
    tables.ensure_properties(spark, path, wanted)  # nothing differs: no commit
    assert tables.version(spark, path) == version == 1
