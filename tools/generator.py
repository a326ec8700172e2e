"""Deterministic synthetic landing data with every messy form of the data contract (issue 2).

    python -m tools.generator --lake datalake --orders 400 --seed 1

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

This module writes the files; tools.conversations draws the cases and builds
each conversation, tools.messy gives values and bad records their messy forms.
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

from tools.conversations import ORDER_BASE, SPAN_DAYS, Conversations, pick
from tools.messy import BAD_KINDS, BAD_LINES, Messy

MESSAGES_DIR = os.path.join("landing", "customer_agent_messages")
ORDERS_DIR = os.path.join("landing", "orders")
MESSAGES_PER_ORDER = 8  # average, bad records and duplicates included
MESSAGES_PER_FILE = 50_000  # keeps files around 15 MB
ORDERS_PER_FILE = 500_000
MIN_FILES = 6  # 4 conversation files (one per format) + broken array + late file

CITIES = ("BCN", "MAD", "LIS", "PAR", "MIL", "BER")
PREFIX = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]*")  # Spark skips names starting with '.' or '_'

def generate(
    lake: str, orders: int, seed: int = 1, files: int | None = None, prefix: str = "generated",
    first_order: int = 0, days: tuple[int, int] = (0, SPAN_DAYS - 1),
) -> dict:
    """Write a synthetic landing data set of `orders` orders into `lake`; return what was written.

    `files` is the number of message files (default: one per ~50k messages, at
    least 6). Order ids start at ORDER_BASE + `first_order` (another drop's
    `orders` and up: new orders; below: more messages for existing ones).
    `days` = (first, last): the days of the 30-day span on which the
    conversations start, e.g. (29, 29) for a day's new orders. Raises ValueError for bad arguments and FileExistsError, before
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
    if first_order < 0:
        raise ValueError(f"first_order must be at least 0, got {first_order}")
    if not 0 <= days[0] <= days[1] < SPAN_DAYS:
        raise ValueError(f"days must be within 0-{SPAN_DAYS - 1}, first before last, got {days[0]}-{days[1]}")
    gen = _Generator(lake, orders, seed, prefix, ORDER_BASE + first_order, days)
    gen.claim(MESSAGES_DIR, files)
    gen.claim(ORDERS_DIR, order_files)
    gen.write_messages(files)
    gen.write_orders(order_files)
    return {"message_files": files, "order_files": order_files, **gen.counts}


class _Generator:
    def __init__(self, lake: str, orders: int, seed: int, prefix: str, base: int, days: tuple[int, int]):
        self.lake, self.n, self.seed, self.prefix = lake, orders, seed, prefix
        self.rng = random.Random(seed)
        self.counts = dict.fromkeys(
            ("message_records", "bad_message_records", "duplicate_message_records",
             "late_message_records", "order_records", "bad_order_records"), 0)
        self.messy = Messy(self.rng)
        self.chats = Conversations(orders, self.rng, self.messy, base, days)
        self.base = base

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
        sample = []
        dups = bad = 0
        for k in range(chunks):
            ext, array = (("jsonl", False), ("json", True), ("jsonl.gz", False), ("json.gz", True))[k % 4]
            lines = pending[k]
            for i in range(k * self.n // chunks, (k + 1) * self.n // chunks):
                messages = self.chats.conversation(i)
                lines += [json.dumps(event) for event, _ in messages]
                if i in self.chats.duplicated:
                    later = rng.randint(k + 1, chunks)  # chunks stands for the late file
                    line = self.messy.copy(dups % 3, *rng.choice(messages))
                    pending[late_file if later == chunks else later].append(line)
                    dups += 1
                if i in self.chats.bad:
                    kind = bad % BAD_KINDS
                    line = self.messy.corrupt(kind, rng.choice(messages)[0])
                    (pending[late_file] if array and kind < BAD_LINES else lines).append(line)
                    bad += 1
            sample = sample or lines[:3]
            counts["message_records"] += len(lines)
            self.write(self.path(MESSAGES_DIR, k, ext), lines, array)

        broken = "[\n  " + ",\n  ".join(sample) + ",\n  " + sample[0][:len(sample[0]) // 2] + "\n"
        self.save(self.path(MESSAGES_DIR, files - 2, "json"), broken)

        lines = [line for n, chat in enumerate(self.chats.late_chats) for line in self.chats.late_messages(n, chat)]
        counts["late_message_records"] = len(lines)
        lines += pending[late_file]
        counts["message_records"] += len(lines) + 1  # + the broken array file, one record
        counts["duplicate_message_records"] = dups
        counts["bad_message_records"] = bad + 1
        self.write(self.path(MESSAGES_DIR, late_file, "json"), lines, array=False)  # JSON Lines in a .json

    def write_orders(self, files: int) -> None:
        rng, chunks = self.rng, files - 1
        known = [i for i in range(self.n) if i not in self.chats.unknown]
        known += range(self.n, self.n + (round(self.n * 0.02) or 1))  # orders nobody chatted about
        city = {i: rng.choice(CITIES) for i in known}
        for k in range(chunks):
            ext, array = (("json", True), ("jsonl.gz", False), ("jsonl", False), ("json.gz", True))[k % 4]
            part = known[k * len(known) // chunks:(k + 1) * len(known) // chunks]
            lines = [json.dumps({"orderId": self.messy.ident(self.base + i), "cityCode": city[i]}) for i in part]
            self.counts["order_records"] += len(lines)
            self.write(self.path(ORDERS_DIR, k, ext), lines, array)

        # The last ingested record of an order wins as a whole, null city included.
        moved = sorted(pick(rng, known, 0.05, at_least=2))
        lines = [json.dumps({"orderId": self.messy.ident(self.base + i),
                             "cityCode": rng.choice([c for c in CITIES if c != city[i]])}) for i in moved]
        lines += [json.dumps({"orderId": self.base + i, "cityCode": None})
                  for i in sorted(pick(rng, known, 0.01))]
        lines += ['{"orderId": null, "cityCode": "MAD"}', '{"orderId": ' + str(self.base) + ', "cityCo']
        self.counts["order_records"] += len(lines)
        self.counts["bad_order_records"] = 2
        self.write(self.path(ORDERS_DIR, chunks, "jsonl"), lines, array=False)


def day_range(text: str) -> tuple[int, int]:
    """'29' -> (29, 29); '27-29' -> (27, 29)."""
    first, _, last = text.partition("-")
    try:
        return int(first), int(last or first)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a day or FIRST-LAST, e.g. 29 or 27-29, got {text!r}") from None


class _Parser(argparse.ArgumentParser):
    def error(self, message: str):
        self.exit(2, f"{self.prog}: error: {message}\n")  # one line, without the usage block


def main(argv: list[str] | None = None) -> int:
    parser = _Parser(
        prog="python -m tools.generator",
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
    parser.add_argument("--first-order", type=int, default=0,
                        help="number of the first order: another drop's --orders for new orders (default: 0)")
    parser.add_argument("--days", type=day_range, default=(0, SPAN_DAYS - 1), metavar="FIRST-LAST",
                        help=f"days of the {SPAN_DAYS}-day span (0-{SPAN_DAYS - 1}, from 2024-02-14) on which the "
                        "conversations start, e.g. 29 for one day's new orders (default: 0-29)")
    args = parser.parse_args(argv)
    started = time.perf_counter()
    try:
        s = generate(args.lake, args.orders, args.seed, args.files, args.prefix, args.first_order, args.days)
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