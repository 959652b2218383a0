"""p95 server time per analysis page with the 1M-line shop analysed (Django test Client).

    python -m benchmarks.pages [--lines 1000000]

Baseline: the same client fetching the plain Settings page, so the ratio shows what
the analysis pages add over Django's own request cost. Target: every p95 ≤ 300 ms.
The API's read endpoints are timed too. "first" is the warm-up request, the one that
fills what the pages keep per analysis run (the segment scatter, a product's figures);
the p95 is over the requests after it.
"""

from __future__ import annotations

import statistics
import time

from benchmarks.segments_data import analyze, arguments, load_orders

REPEAT = 20


def _p95(samples: list[float]) -> float:
    return statistics.quantiles(samples, n=20)[-1] if len(samples) >= 2 else samples[0]


def main() -> None:
    args = arguments(__doc__.splitlines()[0])
    load_orders(args.lines, args.customers, reuse=args.reuse_data)
    from django.contrib.auth import get_user_model
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
        "product": f"/products/{Product.objects.order_by('pk').first().pk}/",
        "api_segments": "/api/segments/", "api_customers": f"/api/segment-customers/?rfm={top.rfm_key}",
        "api_runs": "/api/runs/", "api_rules": "/api/rules/",
        "api_recommendations": f"/api/recommendations/?customer={top.customer_id}",
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
    report("pages", worst, base, lines=args.lines,
           p95_ms={k: round(1000 * v, 1) for k, v in results.items()},
           slowest=max(results, key=results.get), target_p95_ms=300)


if __name__ == "__main__":
    main()
