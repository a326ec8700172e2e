"""Which orders show which conversation case, and each conversation's messages in send order.

The cases (one-sided chats, reassignments, ties, midnight crossings, late
arrivals, duplicates, bad records ...) are exact-size samples rather than
per-order coin flips, so that even ~50 orders show every case at least once.
"""

from __future__ import annotations

import json
import random

from tools.messy import BAD_KINDS, Messy

ORDER_BASE = 100_000_000
CUSTOMERS = range(2_000_000, 3_000_000)  # disjoint from AGENTS, so fromId tells the sender
AGENTS = range(7_000, 7_400)
STAGES = ("PLACED", "PICKING", "IN_TRANSIT", "DELIVERED")
START_US = 1_707_868_800_000_000  # 2024-02-14T00:00Z: the 30 days span Feb 29 and a month end
DAY_US = 86_400_000_000
SPAN_DAYS = 30

CUSTOMER_CHAT, CUSTOMER_ONLY, AGENT_CHAT, AGENT_ONLY = range(4)  # conversation shapes


def pick(rng: random.Random, population, share: float, at_least: int = 1) -> set[int]:
    """An exact-size sample: `share` of `population`, at least `at_least` (all when it has fewer)."""
    size = min(len(population), max(at_least, round(len(population) * share)))
    return set(rng.sample(population, size))


class Conversations:
    """The cases of `orders` orders, drawn up front; then each order's messages when asked for.

    All draws come from the generator's one stream: the same calls in the same
    order give the same data.
    """

    def __init__(self, orders: int, rng: random.Random, messy: Messy, base: int = ORDER_BASE,
                 days: tuple[int, int] = (0, SPAN_DAYS - 1)):
        self.rng, self.messy, self.base = rng, messy, base  # order i has the id base + i
        self.days = days  # the first and last day of the span on which conversations start
        self.late_chats = []  # (order, customer, device, agent, first instant): late_messages() input
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
        self.reassigned = pick(rng, both, 0.10)
        self.tied = pick(rng, both, 0.03)
        self.midnight = pick(rng, both, 0.03)
        self.resolved = pick(rng, answered, 0.40)
        self.priority = pick(rng, range(orders), 0.15)
        self.unknown = pick(rng, range(orders), 0.03)
        self.late = pick(rng, both, 0.03, at_least=3)  # two-sided, so one-sided chats stay one-sided
        self.duplicated = pick(rng, range(orders), 0.16, at_least=3)  # one copy each: ~2% of messages
        self.bad = pick(rng, range(orders), 0.08, at_least=BAD_KINDS)  # one bad record each: ~1%

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

        first, last = self.days
        t = START_US + first * DAY_US + rng.randrange((last - first + 1) * DAY_US)
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
                sent, instant = self.messy.sent_time(messages[-1][1], exact=True)
            else:
                sent, instant = self.messy.sent_time(times[j])
            stage = min(stage + (rng.random() < 0.1), 3)
            event = self.messy.event(self.base + i, customer, agents[j], by_agent[j], device, j == 0,
                                     j >= escalated, j == resolved, STAGES[stage], sent)
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
            sent = self.messy.sent_time(t)[0]
            event = self.messy.event(self.base + i, customer, agent, by_agent, device, False, False, False,
                                     STAGES[0], sent)
            lines.append(json.dumps(event))
        return lines[::-1]
