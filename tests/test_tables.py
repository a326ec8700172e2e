"""The lake layer's pure helpers."""

from pipeline.lake.tables import check_text


def test_check_text_ignores_spacing_but_not_string_literals():
    # As the file writes it, and as Delta stores it after ALTER TABLE ... ADD CONSTRAINT.
    assert check_text("first_message_by IN ('customer', 'agent')") == check_text(
        "first_message_by IN ( 'customer' , 'agent' )"
    )
    assert check_text("a  >=\n 0") == check_text("a >= 0")
    assert check_text("device = 'Agent Web'") != check_text("device = 'AgentWeb'")
    assert check_text("x = 'it\\'s  ok' AND y") == "x='it\\'s  ok'ANDy"
    assert check_text("a >= 0") != check_text("a > 0")
