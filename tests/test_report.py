"""The HTML report on the bundled sample: its figures against Spark SQL, and Chromium renders it."""

import shutil
import subprocess
from datetime import datetime, timezone
from html.parser import HTMLParser

import pytest

from pipeline.runtime.config import REPO_ROOT
from pipeline.outputs.report_page import ReportData, render_report
from tests.support.lakes import run_in_session


class Figures(HTMLParser):
    """The elements of the page that carry data-* attributes, by id or kind."""

    def __init__(self, html: str):
        super().__init__()
        self.by_id, self.cities, self.slowest, self.svgs = {}, {}, [], 0
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if "id" in attrs and "data-value" in attrs:
            self.by_id[attrs["id"]] = attrs["data-value"]
        if "data-city" in attrs:
            self.cities[attrs["data-city"]] = (float(attrs["data-p50"]), float(attrs["data-p90"]))
        if "data-order-id" in attrs:
            self.slowest.append((int(attrs["data-order-id"]), int(attrs["data-delay"])))
        self.svgs += tag == "svg"


@pytest.fixture(scope="module")
def sample(spark, tmp_path_factory):
    """The bundled sample through every job, then the report."""
    lake = tmp_path_factory.mktemp("sample")
    for source in (REPO_ROOT / "datalake" / "landing").glob("*/sample-*"):
        (lake / "landing" / source.parent.name).mkdir(parents=True, exist_ok=True)
        shutil.copy(source, lake / "landing" / source.parent.name / source.name)
    run_in_session("all", lake)
    run_in_session("report", lake)
    gold = spark.read.format("delta").load(f"{lake}/gold/customer_agent_conversations")
    gold.createOrReplaceTempView("report_gold")
    return lake, (lake / "reports" / "index.html").read_text()


@pytest.mark.spark
def test_report_figures_equal_spark_sql_on_the_gold_tables(spark, sample):
    lake, html = sample
    figures = Figures(html)
    total, never_answered, p50, p90 = spark.sql(
        "SELECT count(*), count_if(first_response_time_delay_seconds IS NULL), "
        "percentile(first_response_time_delay_seconds, 0.5), percentile(first_response_time_delay_seconds, 0.9) "
        "FROM report_gold"
    ).first()
    assert total == 400  # the sample's figure in the README
    assert int(figures.by_id["total-conversations"]) == total
    assert int(figures.by_id["never-answered"]) == never_answered
    assert (float(figures.by_id["overall-p50"]), float(figures.by_id["overall-p90"])) == (p50, p90)
    kpi_total = spark.sql(f"SELECT sum(conversations) FROM delta.`{lake}/gold/customer_care_daily_kpis`").first()[0]
    assert kpi_total == total

    cities = spark.sql(
        "SELECT coalesce(city_code, 'unknown') AS city, percentile(first_response_time_delay_seconds, 0.5), "
        "percentile(first_response_time_delay_seconds, 0.9) FROM report_gold GROUP BY city_code"
    ).collect()
    assert figures.cities == {city: (p50, p90) for city, p50, p90 in cities}
    assert "unknown" in figures.cities

    slowest = spark.sql(
        "SELECT order_id, first_response_time_delay_seconds FROM report_gold "
        "WHERE first_response_time_delay_seconds IS NOT NULL "
        "ORDER BY first_response_time_delay_seconds DESC, order_id LIMIT 20"
    ).collect()
    assert figures.slowest == [tuple(row) for row in slowest]
    order_id, delay = figures.slowest[0]
    assert f">{order_id}<" in html and f">{delay:,}<" in html  # shown, not only in attributes

    assert figures.svgs == 4
    assert "<script" not in html and "<link" not in html and "url(" not in html
    assert "http" not in html.replace('xmlns="http://www.w3.org/2000/svg"', "")  # nothing loaded from elsewhere


@pytest.mark.system
def test_chromium_renders_the_report(sample, tmp_path):
    lake, _ = sample
    chromium = shutil.which("chromium")
    assert chromium, "chromium is not installed: apt-get install -y chromium (.ci/run installs it)"
    page = f"file://{lake}/reports/index.html"
    common = [chromium, "--headless", "--no-sandbox", "--disable-gpu", f"--user-data-dir={tmp_path / 'profile'}"]
    png = tmp_path / "report.png"
    shot = subprocess.run([*common, f"--screenshot={png}", "--window-size=1280,2400", page],
                          capture_output=True, text=True, timeout=120)
    assert shot.returncode == 0, shot.stderr[-2000:]
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and png.stat().st_size > 50_000  # not a blank page
    dom = subprocess.run([*common, "--dump-dom", page], capture_output=True, text=True, timeout=120)
    assert dom.returncode == 0 and dom.stdout.count("<svg") == 4 and "<rect" in dom.stdout


@pytest.mark.unit
def test_report_without_conversations_says_so():
    overview = {"conversations": 0}
    html = render_report(ReportData("/lake", datetime(2024, 3, 1, tzinfo=timezone.utc), overview, [], [0] * 11,
                                    [], []))
    assert "No conversations yet" in html and "<svg" not in html
