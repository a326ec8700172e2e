"""The static HTML report page: `render_report` turns ReportData into one self-contained page.

Inline CSS and SVG, no scripts, no external files; plain Python, no Spark."""

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import partial
from html import escape

from pipeline.outputs.charts import (
    PALETTE, Series, bar_rows, column_chart, duration_ticks, format_duration, format_number, format_percent,
    line_chart, nice_ticks,
)

UNKNOWN_CITY = "unknown"  # how the report shows a null city_code (order unknown to the orders feed)
SLOWEST = 20
# Lower bounds (seconds) and labels of the first-response histogram's buckets: roughly doubling widths.
DELAY_BUCKETS = (
    (0, "< 10\ns"), (10, "10–30\ns"), (30, "30–60\ns"), (60, "1–2\nmin"), (120, "2–5\nmin"), (300, "5–10\nmin"),
    (600, "10–30\nmin"), (1800, "30–60\nmin"), (3600, "1–3\nh"), (10800, "3–12\nh"), (43200, "≥ 12\nh"),
)
PERCENTILES = (0.1, 0.25, 0.5, 0.75, 0.9, 0.95, 0.99)


@dataclass
class ReportData:
    """The report's figures as small Python values (from pipeline.outputs.report.collect_report)."""

    lake: str
    generated_at: datetime
    overview: dict
    daily: list[dict]
    histogram: list[int]
    cities: list[dict]
    slowest: list[dict]


def every_day(rows: list[dict]) -> list[dict]:
    """The daily rows with the days without conversations filled in (as None)."""
    if not rows:
        return []
    by_day = {row["day"]: row for row in rows}
    first, last = rows[0]["day"], rows[-1]["day"]
    days = [first + timedelta(days=i) for i in range((last - first).days + 1)]
    return [by_day.get(day, {"day": day, "conversations": 0, "never_answered": None, "reassigned": None})
            for day in days]


def day_label(day: date) -> str:
    return f"{day.day} {day:%b}"


def city_name(code: str | None) -> str:
    return UNKNOWN_CITY if code is None else code


def tile(label: str, value: str, note: str, element_id: str, raw) -> str:
    return (
        f'<div class="tile" id="{element_id}" data-value="{escape(str(raw))}">'
        f'<div class="tile-label">{escape(label)}</div><div class="tile-value">{escape(value)}</div>'
        f'<div class="tile-note">{escape(note)}</div></div>'
    )


def tiles(o: dict) -> str:
    total = o["conversations"]
    answered = total - o["never_answered"]
    return "".join([
        tile("Conversations", format_number(total), f"{day_label(o['first_day'])} – {day_label(o['last_day'])} "
             f"{o['last_day'].year}", "total-conversations", total),
        tile("Median first response", format_duration(o["p50"]) if o["p50"] is not None else "–",
             f"over {format_number(answered)} answered", "overall-p50", o["p50"]),
        tile("90th percentile", format_duration(o["p90"]) if o["p90"] is not None else "–",
             "9 in 10 answers came sooner", "overall-p90", o["p90"]),
        tile("Never answered", format_percent(o["never_answered"] / total), f"{format_number(o['never_answered'])} "
             "conversations", "never-answered", o["never_answered"]),
        tile("Reassigned", format_percent(o["reassigned"] / total), "more than one agent", "reassigned",
             o["reassigned"]),
        tile("Resolved", format_percent(o["resolved"] / total), f"{format_number(o['resolved'])} conversations",
             "resolved", o["resolved"]),
    ])


def daily_charts(rows: list[dict]) -> tuple[str, str]:
    labels = [day_label(row["day"]) for row in rows]
    volume = column_chart(
        labels, [row["conversations"] for row in rows], x_title="conversation date (UTC)",
        y_title="conversations", label="Conversations per day",
        tooltips=[f"{row['day']:%a %d %b %Y}: {row['conversations']} conversations" for row in rows],
    )

    def rate(key: str) -> list[float | None]:
        return [None if row[key] is None else row[key] / row["conversations"] for row in rows]

    rates = [Series("never answered", rate("never_answered"), PALETTE[3]),
             Series("reassigned", rate("reassigned"), PALETTE[1])]
    top = max((v for s in rates for v in s.values if v is not None), default=0)
    ticks = [t / 100 for t in nice_ticks(max(top * 100, 1))]
    trend = line_chart(
        labels, rates, ticks=ticks, tick_format=lambda v: f"{v * 100:.0f}%", x_title="conversation date (UTC)",
        y_title="share of the day's conversations", label="Never-answered and reassigned shares per day",
    )
    return volume, trend


def histogram_section(counts: list[int], percentiles: list[float] | None) -> str:
    total = sum(counts) or 1
    chart = column_chart(
        [label for _, label in DELAY_BUCKETS], counts, x_title="first response delay", y_title="conversations",
        label="First response delay distribution", width=520, height=330, show_values=True, label_spacing=36,
        tooltips=[f"{label.replace(chr(10), ' ')}: {n} conversations ({format_percent(n / total)})"
                  for (_, label), n in zip(DELAY_BUCKETS, counts)],
    )
    rows = "".join(
        f'<tr><td>{"median" if p == 0.5 else f"p{p * 100:g}"}</td><td class="num">{format_duration(value)}</td>'
        f'<td class="muted">{p * 100:g}% of answers came within this</td></tr>'
        for p, value in zip(PERCENTILES, percentiles or [])
    )
    return chart + f'<table class="compact" id="percentiles"><tbody>{rows}</tbody></table>'


def city_section(cities: list[dict]) -> str:
    top = max((c["p90"] or 0 for c in cities), default=0)
    chart = bar_rows(
        [city_name(c["city_code"]) for c in cities],
        [Series("median (p50)", [c["p50"] for c in cities], PALETTE[0]),
         Series("p90", [c["p90"] for c in cities], "#93c5fd")],
        ticks=duration_ticks(top, 4), tick_format=partial(format_duration, tick=True), value_format=format_duration,
        x_title="first response delay", label="First response delay per city", missing="none answered",
    )
    rows = "".join(
        f'<tr data-city="{escape(city_name(c["city_code"]))}" data-p50="{c["p50"]!r}" data-p90="{c["p90"]!r}">'
        f'<td>{escape(city_name(c["city_code"]))}</td><td class="num">{format_number(c["conversations"])}</td>'
        f'<td class="num">{format_duration(c["p50"]) if c["p50"] is not None else "–"}</td>'
        f'<td class="num">{format_duration(c["p90"]) if c["p90"] is not None else "–"}</td>'
        f'<td class="num">{format_percent(c["never_answered"] / c["conversations"])}</td></tr>'
        for c in cities
    )
    table = (
        '<table class="compact" id="cities"><thead><tr><th>City</th><th class="num">Conversations</th>'
        '<th class="num">Median</th><th class="num">p90</th><th class="num">Never answered</th></tr></thead>'
        f"<tbody>{rows}</tbody></table>"
    )
    return chart + table


def slowest_table(rows: list[dict]) -> str:
    body = "".join(
        f'<tr data-order-id="{r["order_id"]}" data-delay="{r["delay"]}"><td class="num muted">{rank}</td>'
        f'<td class="mono">{r["order_id"]}</td><td>{escape(city_name(r["city_code"]))}</td>'
        f'<td>{r["conversation_started_at"]:%Y-%m-%d %H:%M:%S}</td>'
        f'<td class="num strong">{format_duration(r["delay"])}</td><td class="num">{format_number(r["delay"])}</td>'
        f'<td>{escape(r["first_message_by"] or "")}</td><td class="num">{r["messages"]}</td>'
        f'<td class="num">{r["num_agents"]}</td><td>{"yes" if r["resolved"] else "no"}</td></tr>'
        for rank, r in enumerate(rows, 1)
    )
    return (
        '<table id="slowest"><thead><tr><th class="num">#</th><th>Order</th><th>City</th>'
        '<th>Started (UTC)</th><th class="num">First response</th><th class="num">Seconds</th>'
        '<th>Started by</th><th class="num">Messages</th><th class="num">Agents</th><th>Resolved</th></tr></thead>'
        f"<tbody>{body}</tbody></table>"
    )


def card(title: str, subtitle: str, content: str, css: str = "card") -> str:
    return f'<section class="{css}"><h2>{escape(title)}</h2><p class="sub">{escape(subtitle)}</p>{content}</section>'


def render_report(data: ReportData) -> str:
    """The whole page as one string."""
    header = (
        f'<header><h1>Customer care report</h1><p class="sub">Lake <code>{escape(data.lake)}</code> · '
        f'generated {data.generated_at:%Y-%m-%d %H:%M} UTC · from gold.customer_agent_conversations and '
        f"gold.customer_care_daily_kpis</p></header>"
    )
    if not data.overview["conversations"]:
        return page(header + card("No conversations yet", "Run the pipeline (make run-local), then the report.", ""))
    volume, trend = daily_charts(every_day(data.daily))
    body = "".join([
        header,
        f'<div class="tiles">{tiles(data.overview)}</div>',
        card("Conversations per day", "By the UTC date of the conversation's first message.", volume),
        '<div class="pair">',
        card("First response delay", "Answered conversations, by time from the first message to the first "
             "message of the other role.", histogram_section(data.histogram, data.overview["percentiles"])),
        card("First response per city", "Median and 90th percentile over the whole period (exact percentiles).",
             city_section(data.cities)),
        "</div>",
        card("Never answered and reassigned", "Share of each day's conversations that got no reply from the other "
             "role, and that had more than one agent.", trend),
        card(f"The {SLOWEST} slowest first responses", "Answered conversations with the longest first response "
             "delay.", slowest_table(data.slowest)),
        '<footer>Static report: no scripts and nothing loaded from elsewhere. Regenerate with '
        "<code>make report</code>.</footer>",
    ])
    return page(body)


def page(body: str) -> str:
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Customer care report</title>
<style>{CSS}</style></head>
<body><main>{body}</main></body></html>
"""


CSS = """
:root { --ink: #111827; --muted: #6b7280; --line: #e5e7eb; --bg: #f6f7f9; --card: #fff; }
* { box-sizing: border-box; }
body { margin: 0; background: var(--bg); color: var(--ink);
  font: 15px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, "Liberation Sans", "DejaVu Sans", sans-serif; }
main { max-width: 1120px; margin: 0 auto; padding: 32px 24px 48px; }
header h1 { margin: 0; font-size: 28px; font-weight: 650; letter-spacing: -0.01em; }
h2 { margin: 0; font-size: 17px; font-weight: 600; }
.sub { margin: 2px 0 14px; color: var(--muted); font-size: 13.5px; }
code { font: 12.5px ui-monospace, "DejaVu Sans Mono", monospace; background: #eef0f3; padding: 1px 5px;
  border-radius: 4px; }
.tiles { display: grid; grid-template-columns: repeat(6, 1fr); gap: 12px; margin: 20px 0; }
.tile, .card { background: var(--card); border: 1px solid var(--line); border-radius: 10px;
  box-shadow: 0 1px 2px rgba(16, 24, 40, .04); }
.tile { padding: 14px 16px; }
.tile-label { color: var(--muted); font-size: 12.5px; font-weight: 500; }
.tile-value { font-size: 22px; font-weight: 650; margin: 2px 0; font-variant-numeric: tabular-nums;
  white-space: nowrap; }
.tile-note { color: var(--muted); font-size: 12px; }
.card { padding: 20px 22px; margin-bottom: 16px; min-width: 0; }
.pair { display: grid; grid-template-columns: 1fr 1fr; gap: 16px; }
@media (max-width: 900px) { .pair { grid-template-columns: 1fr; } .tiles { grid-template-columns: repeat(3, 1fr); } }
svg { display: block; width: 100%; height: auto; }
svg text { font-family: inherit; }
.tick { font-size: 11.5px; fill: var(--muted); }
.category { font-size: 12.5px; fill: var(--ink); }
.axis-title { font-size: 12px; fill: var(--muted); font-weight: 500; }
.legend { font-size: 12px; fill: var(--ink); }
.value { font-size: 11.5px; fill: #374151; font-variant-numeric: tabular-nums; }
.grid { stroke: var(--line); stroke-width: 1; }
.axis { stroke: #9ca3af; stroke-width: 1; }
table { width: 100%; border-collapse: collapse; font-size: 13.5px; font-variant-numeric: tabular-nums; }
th { text-align: left; color: var(--muted); font-weight: 500; font-size: 12.5px; border-bottom: 1px solid var(--line);
  padding: 6px 10px; }
td { padding: 7px 10px; border-bottom: 1px solid #f0f1f3; }
tbody tr:hover { background: #f9fafb; }
table.compact { margin-top: 8px; font-size: 13px; }
table.compact td { padding: 4px 10px; }
.num { text-align: right; white-space: nowrap; }
.mono { font-family: ui-monospace, "DejaVu Sans Mono", monospace; font-size: 12.5px; }
.muted { color: var(--muted); }
.strong { font-weight: 600; }
footer { color: var(--muted); font-size: 12.5px; margin-top: 24px; }
"""
