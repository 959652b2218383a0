"""p95 server time per analysis page with the 1M-line shop analysed (Django test Client).

    python -m benchmarks.pages [--lines 1000000]

Baseline: the same client fetching the plain Settings page, so the ratio shows what
the analysis pages add over Django's own request cost. Target: every p95 ≤ 300 ms.
The API's read endpoints are timed too. "first" is the warm-up request, the one that
fills what the pages keep per analysis run (the segment scatter, a product's figures);
the p95 is over the requests after it.

Beside the generated shop: one grocery-style household with 4,500 order lines
(benchmarks/household.py, imported like any upload) whose profile is timed too, and
a campaign sent to an RFM segment of about 2,000 customers into the local inbox, for
the campaign list, its report and the Outbox. Then, when Chromium is there, the site
is served as `make run` serves it (gunicorn, compressed static files) and a chart
page's first render in a fresh browser is timed (target ≤ 500 ms): from navigation
start to the first chart drawn, and again with plotly.js in the browser's cache.
"""

from __future__ import annotations

import os
import shutil
import statistics
import time
from pathlib import Path

from benchmarks.segments_data import analyze, arguments, load_orders

REPEAT = 20
HOUSEHOLD_LINES = 4500
CAMPAIGN_AUDIENCE = 2000
FIRST_RENDER_TARGET_MS = 500
# Resolves with the time since navigation start at the first frame showing a drawn chart
# (null on a page that has none to draw).
CHART_DRAWN = """() => new Promise(resolve => {
  if (!document.querySelector('[data-chart]')) return resolve(null);
  const check = () => document.querySelector('[data-chart] .main-svg')
    ? resolve(performance.now()) : requestAnimationFrame(check);
  check();
})"""
# Where a first render's time went: the page's HTML, plotly.js on the wire, the deferred
# scripts run (DOMContentLoaded waits for them), all in ms since navigation start.
RENDER_PARTS = """() => {
  const nav = performance.getEntriesByType('navigation')[0];
  const plotly = performance.getEntriesByType('resource').find(e => e.name.includes('/plotly/'));
  return {html_ms: nav.responseEnd, plotly_fetched_ms: plotly ? plotly.responseEnd : null,
          scripts_run_ms: nav.domContentLoadedEventEnd};
}"""


def _p95(samples: list[float]) -> float:
    return statistics.quantiles(samples, n=20)[-1] if len(samples) >= 2 else samples[0]


def _load_household() -> int:
    """Import the household's lines as an owner's upload; returns its customer id."""
    from benchmarks.common import DATA_DIR
    from benchmarks.household import EMAIL, write_household
    from ingest.models import Customer
    from tests.segments.demo_loader import load_order_lines

    path = DATA_DIR / f"household_{HOUSEHOLD_LINES}.csv"
    DATA_DIR.mkdir(parents=True, exist_ok=True)
    write_household(path, lines=HOUSEHOLD_LINES)
    load_order_lines(path)
    return Customer.objects.get(email=EMAIL).pk


def _send_campaign() -> tuple[int, int]:
    """A campaign sent to the RFM segment nearest CAMPAIGN_AUDIENCE in size, into a fresh
    local inbox (what the Outbox lists); returns (campaign id, messages sent)."""
    from aiosmtpd.controller import Controller
    from django.conf import settings

    from benchmarks.sending import free_port
    from campaigns.local_inbox import MaildirHandler, inbox_dir
    from campaigns.models import CampaignSend, Recipient
    from campaigns.services.campaigns import campaign_create, campaign_send_start
    from campaigns.services.sending import campaign_send_run
    from profiler_site.core.jobs import execute_job
    from segments import selectors
    from segments.models import SegmentKind

    segments = selectors.segments_for(SegmentKind.RFM, selectors.current_run())
    segment = min(segments, key=lambda s: abs(s.size - CAMPAIGN_AUDIENCE))
    shutil.rmtree(inbox_dir(), ignore_errors=True)  # a reused bench folder keeps old mail
    port = free_port()
    controller = Controller(MaildirHandler(inbox_dir()), hostname="127.0.0.1", port=port)
    controller.start()
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", port
    settings.EMAIL_HOST_USER = settings.EMAIL_HOST_PASSWORD = ""
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
    try:
        campaign = campaign_create(
            name="Autumn beans", subject='Autumn beans for you, {{ first_name | "friend" }}',
            from_name="Bean Shop", from_address="shop@beans.example",
            html_body='<p>Hi {{ first_name | "there" }}</p><p><a href="https://beans.example/'
                      'autumn">Shop the autumn beans</a></p>{{ recommended_products }}',
            audience_kind="rfm", audience_key=segment.key, holdout_share=0.1, max_per_second=0)
        job = campaign_send_start(campaign_id=campaign.pk)
        execute_job(model=CampaignSend, job_id=job.pk, task_id=job.task_id, work=campaign_send_run)
    finally:
        controller.stop()
    return campaign.pk, Recipient.objects.filter(campaign=campaign, status="sent").count()


def _first_render(pages: dict[str, str]) -> dict[str, dict[str, float]]:
    """Each chart page's first render in a fresh browser, served as `make run` serves it."""
    chromium = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
    if not Path(chromium).exists():
        print(f"first render not measured: no Chromium at {chromium}")
        return {}
    from django.db import connection
    from playwright.sync_api import sync_playwright

    from tests.web_server import make_run_web

    database_url = os.environ["DATABASE_URL"]
    connection.close()  # the server's requests must not wait on this process's transaction
    results: dict[str, dict[str, float]] = {}
    with make_run_web(database_url=database_url, redis_url=os.environ["REDIS_URL"],
                      var_dir=Path(os.environ["PROFILER_VAR_DIR"])) as url, sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=chromium,
                                     args=["--no-sandbox", "--disable-gpu"])
        context = browser.new_context(viewport={"width": 1400, "height": 900})
        page = context.new_page()
        page.goto(url + "/accounts/login/")
        page.get_by_label("Username").fill("bench")
        page.get_by_label("Password").fill("x")
        page.get_by_role("button", name="Log in").click()
        page.wait_for_url(url + "/")
        cookies = context.cookies()
        for name, path in pages.items():
            cold = browser.new_context(viewport={"width": 1400, "height": 900})
            cold.add_cookies(cookies)  # logged in, with an empty cache
            tab = cold.new_page()
            times, parts = [], {}
            for _ in range(2):  # first visit, then with plotly.js cached
                tab.goto(url + path, wait_until="domcontentloaded")
                times.append(tab.evaluate(CHART_DRAWN))
                parts = parts or tab.evaluate(RENDER_PARTS)
            cold.close()
            if times[0] is None:
                print(f"{name:20s} first render: no chart on {path}")
                continue
            parts = {k: v if v is None else round(v, 1) for k, v in parts.items()}
            results[name] = {"first_ms": round(times[0], 1), "cached_ms": round(times[1], 1),
                             **parts}
            print(f"{name:20s} first render {times[0]:7.1f} ms  cached {times[1]:7.1f} ms  "
                  f"{path}  (served as make run serves it; first visit: {parts})")
        browser.close()
    return results


def main() -> None:
    args = arguments(__doc__.splitlines()[0])
    load_orders(args.lines, args.customers, reuse=args.reuse_data)
    household = _load_household()
    from django.contrib.auth import get_user_model
    from django.core.management import call_command
    from django.test import Client

    from benchmarks.common import report
    from ingest.models import Product
    from profiler_site.core.jobs import execute_job
    from segments.models import CustomerScore, RuleMiningJob, SegmentationRun
    from segments.services.refresh import segmentation_run_execute
    from segments.services.rules import rule_mining_execute

    run = SegmentationRun.objects.create()
    execute_job(model=SegmentationRun, job_id=run.pk, task_id="bench", work=segmentation_run_execute)
    # The rules job the run queued, as a worker would run it next: the rules, product
    # and customer pages are measured with the run's rules and recommendations in place.
    execute_job(model=RuleMiningJob, job_id=RuleMiningJob.objects.get(run=run).pk,
                task_id="bench-rules", work=rule_mining_execute)
    analyze()  # the run rewrote ~600k rows; autovacuum would re-analyze them
    campaign, sent = _send_campaign()
    # The pages link their static files by the manifest's hashed names, as under `make run`.
    call_command("collectstatic", interactive=False, verbosity=0)
    user = get_user_model().objects.create_superuser("bench", "bench@example.com", "x")
    client = Client()
    client.force_login(user)
    top = CustomerScore.objects.order_by("-monetary").first()
    pages = {
        "overview": "/", "segments": "/segments/", "clusters": "/segments/?kind=cluster",
        "segment_detail": f"/segments/rfm/{top.rfm_key}/", "rfm": "/segments/rfm/",
        "models": "/segments/models/", "rules": "/segments/rules/",
        "customers": "/customers/", "customers_search": "/customers/?q=smith",
        "customer": f"/customers/{top.customer_id}/",
        "household": f"/customers/{household}/", "household_page_3": f"/customers/{household}/?page=3",
        "product": f"/products/{Product.objects.order_by('pk').first().pk}/",
        "api_segments": "/api/segments/", "api_customers": f"/api/segment-customers/?rfm={top.rfm_key}",
        "api_runs": "/api/runs/", "api_rules": "/api/rules/",
        "api_recommendations": f"/api/recommendations/?customer={top.customer_id}",
        "campaigns": "/campaigns/", "campaign": f"/campaigns/{campaign}/",
        "campaign_report": f"/campaigns/{campaign}/report/", "outbox": "/campaigns/outbox/",
        "outbox_page_2": "/campaigns/outbox/?page=2",
    }
    results: dict[str, float] = {}
    for name, url in [("baseline", "/settings/"), *pages.items()]:
        started = time.perf_counter()
        client.get(url)  # warm caches
        first = time.perf_counter() - started
        samples = []
        for _ in range(REPEAT):
            started = time.perf_counter()
            response = client.get(url)
            samples.append(time.perf_counter() - started)
            assert response.status_code == 200, (url, response.status_code)
        results[name] = _p95(samples)
        print(f"{name:20s} p95 {1000 * results[name]:7.1f} ms  first {1000 * first:7.1f} ms  {url}")
    base = results.pop("baseline")
    worst = max(results.values())
    rendered = _first_render({"overview": "/", "segment_detail": f"/segments/rfm/{top.rfm_key}/",
                              "campaign_report": f"/campaigns/{campaign}/report/"})
    report("pages", worst, base, lines=args.lines,
           p95_ms={k: round(1000 * v, 1) for k, v in results.items()},
           slowest=max(results, key=results.get), target_p95_ms=300,
           household_lines=HOUSEHOLD_LINES, campaign_sent=sent,
           first_render_ms=rendered, target_first_render_ms=FIRST_RENDER_TARGET_MS)


if __name__ == "__main__":
    main()
