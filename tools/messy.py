"""The messy forms in which the chat backend sends values (data contract, issue 2).

Ids as digit strings, booleans as strings, nulls or left out, send times in
thirteen forms and any zone, re-emitted events, and the bad records the pipeline
must quarantine. Every draw comes from the generator's one random stream, so
the same seed gives the same files.
"""

from __future__ import annotations

import json
import random
import time

OFFSETS = (0, 60, 120, 180, 330, 345, 540, 600)  # zone offsets in minutes, used with either sign
ABSENT = object()  # a field left out of the event
# Quarantined records that are still JSON objects: (field, value). A bad id
# counts as null, so each one lands in exactly one quarantine reason.
BAD_FIELDS = (
    ("orderId", None), ("orderId", ABSENT), ("orderId", "abc"),
    ("fromId", None), ("fromId", ABSENT), ("fromId", 1.5),
    ("customerId", None), ("customerId", ABSENT), ("customerId", "12x"),
    ("messageSentTime", None), ("messageSentTime", ABSENT), ("messageSentTime", ""),
    ("messageSentTime", "2024-02-20t10:15:00Z"), ("messageSentTime", "2024-02-20T10:15:00z"),
    ("messageSentTime", "2024-02-20T10:15:00+05"), ("messageSentTime", "2024-02-20T24:00:00Z"),
    ("messageSentTime", "2024-02-20 10:15:60"), ("messageSentTime", "2024-02-30T10:15:00Z"),
    ("messageSentTime", 17_084_234_000_000),  # 14 digits: not epoch milliseconds
)
BAD_LINES = 2  # bad kinds 0 (truncated object) and 1 (`42`) only fit in JSON Lines files
BAD_KINDS = BAD_LINES + len(BAD_FIELDS)


class Messy:
    """Values, events and bad records in the backend's forms, drawn from `rng`."""

    def __init__(self, rng: random.Random):
        self.rng = rng

    def ident(self, value: int | None):
        """Ids are sometimes sent as digit strings."""
        if value is None or self.rng.random() >= 0.05:
            return value
        return str(value)

    def flag(self, event: dict, field: str, value: bool) -> None:
        """A boolean as the backend sends it: false is also null or left out, both meaning false."""
        r = self.rng.random()
        if value:
            event[field] = "true" if r < 0.1 else True
        elif r < 0.70:
            event[field] = "false" if r < 0.05 else False
        elif r < 0.85:
            event[field] = None

    def sent_time(self, us: int, exact: bool = False) -> tuple[int | str, int]:
        """Instant `us` (epoch microseconds) in a random messy form: (value, instant it denotes).

        Forms with fewer fraction digits truncate the instant; with `exact`,
        only forms that keep it unchanged are used (ties, duplicates).
        """
        rng = self.rng
        while True:
            form = rng.randrange(13)  # epoch number, epoch string, or ISO with no '.', '.' alone, 1..9 digits
            digits = form - 3
            precision = 1000 if form < 2 else 1_000_000 if digits <= 0 else 10 ** max(0, 6 - digits)
            if not exact or us % precision == 0:
                break
        us -= us % precision
        if form == 0:
            return us // 1000, us
        if form == 1:
            value = str(us // 1000)
        else:
            zone = rng.randrange(6)  # none, Z, +HH:MM, -HH:MM, +HHMM, -HHMM
            offset = rng.choice(OFFSETS) * (-1 if zone in (3, 5) else 1) if zone > 1 else 0
            seconds, micros = divmod(us, 1_000_000)
            t = time.gmtime(seconds + offset * 60)
            sep = "T" if rng.random() < 0.5 else " "
            if rng.random() < 0.6:
                value = f"{t.tm_year}-{t.tm_mon:02d}-{t.tm_mday:02d}{sep}"
                value += f"{t.tm_hour:02d}:{t.tm_min:02d}:{t.tm_sec:02d}"
            else:
                value = f"{t.tm_year}-{t.tm_mon}-{t.tm_mday}{sep}{t.tm_hour}:{t.tm_min}:{t.tm_sec}"
            if digits >= 0:
                value += "." + f"{micros:06d}"[:digits]
            if digits > 6:  # digits beyond microseconds, which the parser truncates
                value += f"{rng.randrange(10 ** (digits - 6)):0{digits - 6}d}"
            if zone == 1:
                value += "Z"
            elif zone > 1:
                hours, minutes = divmod(abs(offset), 60)
                value += f"{'-' if zone in (3, 5) else '+'}{hours:02d}{':' if zone < 4 else ''}{minutes:02d}"
        if rng.random() < 0.04:
            value = rng.choice((" {}", "{} ", "  {}  ")).format(value)
        return value, us

    def event(self, order_id: int, customer: int, agent: int | None, by_agent: bool, device: str,
              started: bool, priority: bool, resolved: bool, stage: str, sent) -> dict:
        rng, ident = self.rng, self.ident
        event = {"senderDeviceType": None if rng.random() < 0.04 else "Agent Web" if by_agent else device,
                 "customerId": ident(customer)}
        sender, receiver = (agent, customer) if by_agent else (customer, agent)
        event["fromId"], event["toId"] = ident(sender), ident(receiver)
        self.flag(event, "chatStartedByMessage", started)
        event["orderId"] = ident(order_id)
        self.flag(event, "priority", priority)
        self.flag(event, "resolution", resolved)
        event["agentId"] = ident(agent)
        r = rng.random()
        if r >= 0.08:
            event["orderStage"] = stage
        elif r < 0.04:
            event["orderStage"] = None
        event["messageSentTime"] = sent
        return event

    def copy(self, variant: int, event: dict, instant: int) -> str:
        """A re-emitted event: verbatim, the same instant in another form, or that with another priority."""
        if variant:
            event = dict(event, messageSentTime=self.sent_time(instant, exact=True)[0])
        if variant == 2:
            event["priority"] = event.get("priority") not in (True, "true")
        return json.dumps(event)

    def corrupt(self, kind: int, event: dict) -> str:
        """Bad record `kind` of BAD_KINDS: a line that is no JSON object, or the event with one bad field."""
        if kind == 0:
            line = json.dumps(event)
            return line[:len(line) // 2]  # a cut-off object is not JSON
        if kind == 1:
            return "42"  # JSON, but not an object
        field, value = BAD_FIELDS[kind - BAD_LINES]
        event = dict(event)
        if value is ABSENT:
            del event[field]
        else:
            event[field] = value
        return json.dumps(event)
