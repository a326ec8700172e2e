from datetime import date, datetime

from chispa import assert_df_equality

from pipeline.transforms.conversations import GOLD_COLUMNS, build_conversations
from tests.support.lakes import GOLD_SCHEMA
import pytest

pytestmark = pytest.mark.spark

MESSAGES = (
    "order_id long, customer_id long, from_id long, to_id long, agent_id long, sender_role string, "
    "sender_device_type string, chat_started_by_message boolean, priority boolean, resolution boolean, "
    "order_stage string, message_sent_at timestamp"
)


def msg(order, customer, sender, to, agent, started, at, stage, device=None, priority=False, resolution=False):
    role = "customer" if sender == customer else "agent"
    device = device or ("Customer iOS" if role == "customer" else "Agent Web")
    return (order, customer, sender, to, agent, role, device, started, priority, resolution, stage, at)


def test_every_gold_column_on_hand_computed_conversations(spark):
    messages = spark.createDataFrame(
        [
            # 1: customer-started; reassigned from agent 100 to 200; the last two messages tie
            # in time and customer goes before agent, so the agent's stage is the last one.
            msg(1, 1, 1, 100, 100, True, datetime(2024, 3, 1, 10, 0, 0), "PLACED"),
            msg(1, 1, 100, 1, 100, False, datetime(2024, 3, 1, 10, 0, 30, 700000), "PLACED"),
            msg(1, 1, 200, 1, 200, False, datetime(2024, 3, 1, 10, 5), "PICKING", resolution=True),
            msg(1, 1, 1, 200, 200, False, datetime(2024, 3, 1, 10, 5), "IN_TRANSIT", priority=True),
            # 2: agent-started just before midnight, unknown order; delay floors 1.000001 s
            msg(2, 2, 300, 2, 300, True, datetime(2024, 3, 1, 23, 59, 59, 999999), None),
            msg(2, 2, 2, 300, 300, False, datetime(2024, 3, 2, 0, 0, 1), "DELIVERED"),
            # 3: never answered, no agent assigned; the last message has no stage
            msg(3, 3, 3, None, None, True, datetime(2024, 3, 5, 12), "PLACED"),
            msg(3, 3, 3, None, None, False, datetime(2024, 3, 5, 12, 10), None),
            # 4: same instant, the chat-starting (agent) message goes first
            msg(4, 4, 4, 400, 400, False, datetime(2024, 3, 6, 9), "A"),
            msg(4, 4, 400, 4, 400, True, datetime(2024, 3, 6, 9), "B"),
            # 5: two agent messages at one instant are ordered by from_id
            msg(5, 5, 501, 5, 501, False, datetime(2024, 3, 7, 10), "X"),
            msg(5, 5, 500, 5, 500, False, datetime(2024, 3, 7, 10), "Y", device="Agent Android"),
            msg(5, 5, 5, 500, 500, True, datetime(2024, 3, 7, 9), "Z"),
        ],
        MESSAGES,
    )
    orders = spark.createDataFrame(
        [(1, "BCN"), (3, None), (4, "MAD"), (5, "LIS"), (99, "PAR")], "order_id long, city_code string"
    )
    expected = spark.createDataFrame(
        [
            (1, "BCN", datetime(2024, 3, 1, 10, 0, 30, 700000), datetime(2024, 3, 1, 10), 2, 2, "customer",
             datetime(2024, 3, 1, 10), 30, datetime(2024, 3, 1, 10, 5), "PICKING", 2, True, True, date(2024, 3, 1)),
            (2, None, datetime(2024, 3, 1, 23, 59, 59, 999999), datetime(2024, 3, 2, 0, 0, 1), 1, 1, "agent",
             datetime(2024, 3, 1, 23, 59, 59, 999999), 1, datetime(2024, 3, 2, 0, 0, 1), "DELIVERED", 1, False,
             False, date(2024, 3, 1)),
            (3, None, None, datetime(2024, 3, 5, 12), 0, 2, "customer", datetime(2024, 3, 5, 12), None,
             datetime(2024, 3, 5, 12, 10), None, 0, False, False, date(2024, 3, 5)),
            (4, "MAD", datetime(2024, 3, 6, 9), datetime(2024, 3, 6, 9), 1, 1, "agent", datetime(2024, 3, 6, 9), 0,
             datetime(2024, 3, 6, 9), "A", 1, False, False, date(2024, 3, 6)),
            (5, "LIS", datetime(2024, 3, 7, 10), datetime(2024, 3, 7, 9), 2, 1, "customer", datetime(2024, 3, 7, 9),
             3600, datetime(2024, 3, 7, 10), "X", 2, False, False, date(2024, 3, 7)),
        ],
        GOLD_SCHEMA,
    )
    actual = build_conversations(messages, orders)
    assert actual.columns == list(GOLD_COLUMNS)
    assert_df_equality(actual, expected, ignore_nullable=True, ignore_row_order=True)
