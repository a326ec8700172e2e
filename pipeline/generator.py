"""Deterministic synthetic landing data with every messy form of the data contract (issue 2).

    python -m pipeline.generator --lake datalake --orders 400 --seed 1

One conversation per order, about 8 messages each, written to
`<lake>/landing/customer_agent_messages/` and `<lake>/landing/orders/` as
`<prefix>-<seed>-<NNNN>.<ext>`. Files sorted by name are the ingestion order, so
what must arrive later (duplicates, late arrivals, city changes) goes into
higher-numbered files:

- messages 0 .. F-3: the conversations in order-id chunks, cycling through
  `.jsonl`, `.json` (array), `.jsonl.gz`, `.json.gz` (array);
- messages F-2: the one broken array file (starts with `[`, cut off);
- messages F-1: a `.json` file holding JSON Lines: late arrivals, some
  duplicates, and the bad lines of chats written to array files;
- orders 0 .. G-2: one record per known order; orders G-1 (`.jsonl`): city
  changes, later null cities and the bad order records.

Same arguments give byte-identical files. The counts generate() returns are the
ones the pipeline must reconcile to: landing message records (non-blank lines,
array elements, a broken array file counting as one) = silver + quarantined
(`bad_message_records`) + `duplicate_message_records`.
"""

from __future__ import annotations

import argparse
import gzip
import json
import math
import os
import random
import re
import sys
import time

MESSAGES_DIR = os.path.join("landing", "customer_agent_messages")
ORDERS_DIR = os.path.join("landing", "orders")
MESSAGES_PER_ORDER = 8  # average, bad records and duplicates included
MESSAGES_PER_FILE = 50_000  # keeps files around 15 MB
ORDERS_PER_FILE = 500_000
MIN_FILES = 6  # 4 conversation files (one per format) + broken array + late file

ORDER_BASE = 100_000_000
CUSTOMERS = range(2_000_000, 3_000_000)  # disjoint from AGENTS, so fromId tells the sender
AGENTS = range(7_000, 7_400)
CITIES = ("BCN", "MAD", "LIS", "PAR", "MIL", "BER")
STAGES = ("PLACED", "PICKING", "IN_TRANSIT", "DELIVERED")
START_US = 1_707_868_800_000_000  # 2024-02-14T00:00Z: the 30 days span Feb 29 and a month end
DAY_US = 86_400_000_000
OFFSETS = (0, 60, 120, 180, 330, 345, 540, 600)  # zone offsets in minutes, used with either sign

CUSTOMER_CHAT, CUSTOMER_ONLY, AGENT_CHAT, AGENT_ONLY = range(4)  # conversation shapes
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
PREFIX = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]*")  # Spark skips names starting with '.' or '_'


def generate(
    lake: str, orders: int, seed: int = 1, files: int | None = None, prefix: str = "generated"
) -> dict:
    """Write a synthetic landing data set of `orders` orders into `lake`; return what was written.

    `files` is the number of message files (default: one per ~50k messages, at
    least 6). Raises ValueError for bad arguments and FileExistsError, before
    writing anything, when a file of this prefix and seed is already there.
    """
    if orders < 1:
        raise ValueError(f"orders must be at least 1, got {orders}")
    if seed < 0:
        raise ValueError(f"seed must be at least 0, got {seed}")
    if files is None:
        files = max(MIN_FILES, math.ceil(orders * MESSAGES_PER_ORDER / MESSAGES_PER_FILE))
    if files < MIN_FILES:
        raise ValueError(f"files must be at least {MIN_FILES}, got {files}")
    if not PREFIX.fullmatch(prefix):
        raise ValueError(f"prefix must be letters, digits, '-' or '_' (not first), got {prefix!r}")
    order_files = 1 + math.ceil(orders / ORDERS_PER_FILE)
    gen = _Generator(lake, orders, seed, prefix)
    gen.claim(MESSAGES_DIR, files)
    gen.claim(ORDERS_DIR, order_files)
    gen.write_messages(files)
    gen.write_orders(order_files)
    return {"message_files": files, "order_files": order_files, **gen.counts}


class _Generator:
    def __init__(self, lake: str, orders: int, seed: int, prefix: str):
        self.lake, self.n, self.seed, self.prefix = lake, orders, seed, prefix
        self.rng = rng = random.Random(seed)
        self.counts = dict.fromkeys(
            ("message_records", "bad_message_records", "duplicate_message_records",
             "late_message_records", "order_records", "bad_order_records"), 0)

        # Shapes and features are exact-size samples rather than per-order coin
        # flips, so that even ~50 orders show every case at least once.
        everyone = rng.sample(range(orders), orders)
        self.shape = bytearray(orders)  # CUSTOMER_CHAT unless set below
        start = 0
        for shape, share in ((CUSTOMER_ONLY, 0.05), (AGENT_ONLY, 0.03), (AGENT_CHAT, 0.15)):
            chats = everyone[start:start + (round(orders * share) or 1)]
            for i in chats:
                self.shape[i] = shape
            start += len(chats)
            if shape == CUSTOMER_ONLY:
                self.unassigned = set(chats[::2])  # never got an agent: agentId and toId null
        both = [i for i in range(orders) if self.shape[i] in (CUSTOMER_CHAT, AGENT_CHAT)]
        answered = [i for i in range(orders) if self.shape[i] != CUSTOMER_ONLY]
        self.reassigned = self.pick(both, 0.10)
        self.tied = self.pick(both, 0.03)
        self.midnight = self.pick(both, 0.03)
        self.resolved = self.pick(answered, 0.40)
        self.priority = self.pick(range(orders), 0.15)
        self.unknown = self.pick(range(orders), 0.03)
        self.late = self.pick(both, 0.03, at_least=3)  # two-sided, so one-sided chats stay one-sided
        self.duplicated = self.pick(range(orders), 0.16, at_least=3)  # one copy each: ~2% of messages
        self.bad = self.pick(range(orders), 0.08, at_least=BAD_KINDS)  # one bad record each: ~1%

    def pick(self, population, share: float, at_least: int = 1) -> set[int]:
        size = min(len(population), max(at_least, round(len(population) * share)))
        return set(self.rng.sample(population, size))

    def path(self, folder: str, index: int, ext: str) -> str:
        return os.path.join(self.lake, folder, f"{self.prefix}-{self.seed}-{index:04d}.{ext}")

    def claim(self, folder: str, count: int) -> None:
        """Create `folder`; refuse if any file of this prefix and seed is already there."""
        folder = os.path.join(self.lake, folder)
        os.makedirs(folder, exist_ok=True)
        taken = {name.split(".", 1)[0]: name for name in os.listdir(folder)}
        for index in range(count):
            name = taken.get(f"{self.prefix}-{self.seed}-{index:04d}")
            if name:
                path = os.path.join(folder, name)
                raise FileExistsError(f"{path} already exists; use another --prefix or --seed")

    # ---------------------------------------------------------------- values

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

    def event(self, order: int, customer: int, agent: int | None, by_agent: bool, device: str,
              started: bool, priority: bool, resolved: bool, stage: str, sent) -> dict:
        rng, ident = self.rng, self.ident
        event = {"senderDeviceType": None if rng.random() < 0.04 else "Agent Web" if by_agent else device,
                 "customerId": ident(customer)}
        sender, receiver = (agent, customer) if by_agent else (customer, agent)
        event["fromId"], event["toId"] = ident(sender), ident(receiver)
        self.flag(event, "chatStartedByMessage", started)
        event["orderId"] = ident(ORDER_BASE + order)
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

    # ---------------------------------------------------------------- conversations

    def conversation(self, i: int) -> list[tuple[dict, int]]:
        """The messages of order i in send order, as (event, instant)."""
        rng, shape = self.rng, self.shape[i]
        customer = rng.choice(CUSTOMERS)
        device = "Customer iOS" if rng.random() < 0.5 else "Customer Android"
        if shape == CUSTOMER_ONLY:
            by_agent = [False] * rng.randint(1, 4)
        elif shape == AGENT_ONLY:
            by_agent = [True] * rng.randint(1, 3)
        else:
            by_agent = [shape == AGENT_CHAT] + [rng.random() < 0.5 for _ in range(rng.randint(1, 13))]
            if len(set(by_agent)) == 1:
                by_agent[-1] = not by_agent[0]
        n = len(by_agent)
        agent = None if i in self.unassigned else rng.choice(AGENTS)
        agents = [agent] * n
        if i in self.reassigned:
            # Reassigned at message k; the new agent answers at message j >= k.
            answers = [j for j in range(1, n) if by_agent[j]]
            if not answers:  # nobody answered after the first message yet: the new agent does
                by_agent.append(True)
                agents.append(agent)
                answers = [n]
                n += 1
            j = rng.choice(answers)
            k = rng.randint(1, j)
            other = AGENTS[(agent - AGENTS.start + rng.randrange(1, len(AGENTS))) % len(AGENTS)]
            agents[k:] = [other] * (n - k)

        t = START_US + rng.randrange(30 * DAY_US)
        if i in self.midnight:  # opened minutes before midnight, answered after it
            t += DAY_US - t % DAY_US - rng.randrange(60_000_000, 600_000_000)
        times = []
        for j in range(n):
            times.append(t)
            # At least 1 s apart, so that truncating a form never reorders or merges messages.
            t += 1_000_000 + int(rng.expovariate(1 / 90e6))
            if rng.random() < 0.05 or (j == 0 and i in self.midnight):
                t += rng.randrange(600_000_000, 3 * 3_600_000_000)
        if rng.random() < 0.5:  # a millisecond clock, so epoch forms can express these exactly
            times = [t - t % 1000 for t in times]
        tie = -1
        if i in self.tied:  # a reply sent at the very same instant as the message before it
            tie = rng.choice([j for j in range(1, n) if by_agent[j] != by_agent[j - 1]])

        escalated = rng.randrange(n) if i in self.priority else n
        resolved = max(j for j in range(n) if by_agent[j]) if i in self.resolved else -1
        stage = rng.randrange(3)
        messages = []
        for j in range(n):
            if j == tie:
                sent, instant = self.sent_time(messages[-1][1], exact=True)
            else:
                sent, instant = self.sent_time(times[j])
            stage = min(stage + (rng.random() < 0.1), 3)
            event = self.event(i, customer, agents[j], by_agent[j], device, j == 0, j >= escalated,
                               j == resolved, STAGES[stage], sent)
            messages.append((event, instant))
        if i in self.late:
            self.late_chats.append((i, customer, device, agent, messages[0][1]))
        return messages

    def late_messages(self, count: int, chat: tuple) -> list[str]:
        """Messages delivered late with instants before the chat's first; every third chat by over a day."""
        i, customer, device, agent, first = chat
        rng, t, lines = self.rng, first, []
        for j in range(rng.randint(1, 3)):
            t -= rng.randrange(60_000_000, 3_600_000_000) + (DAY_US if count % 3 == 0 and j == 0 else 0)
            by_agent = rng.random() < 0.4
            sent = self.sent_time(t)[0]
            lines.append(json.dumps(self.event(i, customer, agent, by_agent, device, False, False, False,
                                               STAGES[0], sent)))
        return lines[::-1]

    def copy(self, variant: int, event: dict, instant: int) -> str:
        """A re-emitted event: verbatim, the same instant in another form, or that with another priority."""
        if variant:
            event = dict(event, messageSentTime=self.sent_time(instant, exact=True)[0])
        if variant == 2:
            event["priority"] = event.get("priority") not in (True, "true")
        return json.dumps(event)

    def corrupt(self, kind: int, event: dict) -> str:
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

    # ---------------------------------------------------------------- files

    def write(self, path: str, lines: list[str], array: bool) -> None:
        if array:
            self.save(path, "[\n  " + ",\n  ".join(lines) + "\n]\n")
            return
        for _ in range(len(lines) // 1000 + 1):  # blank lines, which readers must skip
            lines.insert(self.rng.randrange(len(lines) + 1), "")
        self.save(path, "\n".join(lines) + "\n")

    @staticmethod
    def save(path: str, text: str) -> None:
        data = text.encode()
        if path.endswith(".gz"):
            data = gzip.compress(data, compresslevel=6, mtime=0)  # mtime=0 keeps reruns byte-identical
        with open(path, "xb") as f:
            f.write(data)

    def write_messages(self, files: int) -> None:
        rng, counts, chunks = self.rng, self.counts, files - 2
        late_file = files - 1
        pending = [[] for _ in range(files)]  # lines due in a later file
        self.late_chats, sample = [], []
        dups = bad = 0
        for k in range(chunks):
            ext, array = (("jsonl", False), ("json", True), ("jsonl.gz", False), ("json.gz", True))[k % 4]
            lines = pending[k]
            for i in range(k * self.n // chunks, (k + 1) * self.n // chunks):
                messages = self.conversation(i)
                lines += [json.dumps(event) for event, _ in messages]
                if i in self.duplicated:
                    later = rng.randint(k + 1, chunks)  # chunks stands for the late file
                    line = self.copy(dups % 3, *rng.choice(messages))
                    pending[late_file if later == chunks else later].append(line)
                    dups += 1
                if i in self.bad:
                    kind = bad % BAD_KINDS
                    line = self.corrupt(kind, rng.choice(messages)[0])
                    (pending[late_file] if array and kind < BAD_LINES else lines).append(line)
                    bad += 1
            sample = sample or lines[:3]
            counts["message_records"] += len(lines)
            self.write(self.path(MESSAGES_DIR, k, ext), lines, array)

        broken = "[\n  " + ",\n  ".join(sample) + ",\n  " + sample[0][:len(sample[0]) // 2] + "\n"
        self.save(self.path(MESSAGES_DIR, files - 2, "json"), broken)

        lines = [line for n, chat in enumerate(self.late_chats) for line in self.late_messages(n, chat)]
        counts["late_message_records"] = len(lines)
        lines += pending[late_file]
        counts["message_records"] += len(lines) + 1  # + the broken array file, one record
        counts["duplicate_message_records"] = dups
        counts["bad_message_records"] = bad + 1
        self.write(self.path(MESSAGES_DIR, late_file, "json"), lines, array=False)  # JSON Lines in a .json

    def write_orders(self, files: int) -> None:
        rng, chunks = self.rng, files - 1
        known = [i for i in range(self.n) if i not in self.unknown]
        known += range(self.n, self.n + (round(self.n * 0.02) or 1))  # orders nobody chatted about
        city = {i: rng.choice(CITIES) for i in known}
        for k in range(chunks):
            ext, array = (("json", True), ("jsonl.gz", False), ("jsonl", False), ("json.gz", True))[k % 4]
            part = known[k * len(known) // chunks:(k + 1) * len(known) // chunks]
            lines = [json.dumps({"orderId": self.ident(ORDER_BASE + i), "cityCode": city[i]}) for i in part]
            self.counts["order_records"] += len(lines)
            self.write(self.path(ORDERS_DIR, k, ext), lines, array)

        # The last ingested record of an order wins as a whole, null city included.
        moved = sorted(self.pick(known, 0.05, at_least=2))
        lines = [json.dumps({"orderId": self.ident(ORDER_BASE + i),
                             "cityCode": rng.choice([c for c in CITIES if c != city[i]])}) for i in moved]
        lines += [json.dumps({"orderId": ORDER_BASE + i, "cityCode": None})
                  for i in sorted(self.pick(known, 0.01))]
        lines += ['{"orderId": null, "cityCode": "MAD"}', '{"orderId": ' + str(ORDER_BASE) + ', "cityCo']
        self.counts["order_records"] += len(lines)
        self.counts["bad_order_records"] = 2
        self.write(self.path(ORDERS_DIR, chunks, "jsonl"), lines, array=False)


class _Parser(argparse.ArgumentParser):
    def error(self, message: str):
        self.exit(2, f"{self.prog}: error: {message}\n")  # one line, without the usage block


def main(argv: list[str] | None = None) -> int:
    parser = _Parser(
        prog="python -m pipeline.generator",
        description="Write a deterministic synthetic landing data set (about 8 messages per order) with "
        "every messy form of the data contract: mixed file formats and timestamps, bad records, "
        "duplicates, late arrivals, reassignments and unknown orders.",
    )
    parser.add_argument("--lake", required=True, help="lake root; files go under <lake>/landing/")
    parser.add_argument("--orders", type=int, required=True, help="number of orders, one conversation each")
    parser.add_argument(
        "--seed", type=int, default=1, help="random seed, also part of the file names (default: 1)"
    )
    parser.add_argument("--files", type=int,
                        help=f"number of message files (default: one per ~{MESSAGES_PER_FILE} messages, "
                        f"at least {MIN_FILES})")
    parser.add_argument("--prefix", default="generated", help="file name prefix (default: generated)")
    args = parser.parse_args(argv)
    started = time.perf_counter()
    try:
        s = generate(args.lake, args.orders, args.seed, args.files, args.prefix)
    except ValueError as err:
        parser.error(str(err))
    except OSError as err:
        print(f"{parser.prog}: error: {err}", file=sys.stderr)
        return 1
    print(f"wrote {s['message_records']} message records ({s['bad_message_records']} bad, "
          f"{s['duplicate_message_records']} duplicates, {s['late_message_records']} late) in "
          f"{s['message_files']} files and {s['order_records']} order records in {s['order_files']} files "
          f"under {os.path.join(args.lake, 'landing')} in {time.perf_counter() - started:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
