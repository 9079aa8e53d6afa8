"""The viewer in a real browser (Debian's Chromium, driven by Playwright) against a live stack: API, worker, Redis.

Screenshots go to var/screenshots/; the README shows the committed copies in docs/ (refresh them with
`cp var/screenshots/*.png docs/`).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.conftest import TEST_REDIS_URL
from tests.e2e.stack import base_env
from tests.e2e.test_sweep import SWEEP
from tests.harness import ROOT, Stack

pytestmark = pytest.mark.e2e

CHROMIUM = "/usr/bin/chromium"  # Debian's package (scripts/install-system-deps.sh); Playwright's download is not used
SCREENSHOTS = ROOT / "var" / "screenshots"
API_KEY = "viewer-test-key"


@pytest.fixture(scope="module")
def demo_stack(tmp_path_factory: pytest.TempPathFactory, model_cache: Path) -> Iterator[Stack]:
    """API (with an API key, so the page must send it) and one worker on the demo model: real images to look at."""
    prefix = f"schedlab-test-{uuid.uuid4().hex[:8]}"
    storage = tmp_path_factory.mktemp("viewer-storage")
    env = base_env(TEST_REDIS_URL, prefix, storage.as_uri(), model_cache)
    env.update({"SCHEDLAB_MODEL": "demo", "SCHEDLAB_API_KEYS": API_KEY})
    stack = Stack(env=env, workdir=tmp_path_factory.mktemp(prefix))
    try:
        stack.start_api()
        stack.start_worker("viewer-w1", wait=False)
        yield stack
    finally:
        stack.close()


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    from playwright.sync_api import sync_playwright

    assert Path(CHROMIUM).exists(), f"{CHROMIUM} is missing: run scripts/install-system-deps.sh"
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        try:
            yield browser
        finally:
            browser.close()


@pytest.fixture
def page(browser, demo_stack: Stack):  # type: ignore[no-untyped-def]
    context = browser.new_context(viewport={"width": 1400, "height": 1000}, base_url=demo_stack.base_url)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto("/")
    page.fill("#api-key", API_KEY)
    page.dispatch_event("#api-key", "change")
    yield page
    context.close()
    assert errors == [], errors  # no uncaught script errors


def wait_worker(stack: Stack) -> None:
    from tests.harness import wait_until

    wait_until(lambda: stack.worker_names(), 120, "the demo worker")


def fill_form(page, steps: int, capture_every: int, images: int = 2) -> None:  # type: ignore[no-untyped-def]
    page.wait_for_selector("#scheduler-list input[value=euler]")
    page.fill("textarea[name=prompt]", "a red circle on a black background")
    page.fill("input[name=steps]", str(steps))
    page.fill("input[name=num_images]", str(images))
    page.fill("input[name=guidance_scale]", "6")
    page.fill("input[name=capture_value]", str(capture_every))


def test_submit_watch_frames_arrive_live_slider_and_ab_view(page, demo_stack: Stack) -> None:  # type: ignore[no-untyped-def]
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    fill_form(page, steps=20, capture_every=2)
    page.screenshot(path=str(SCREENSHOTS / "viewer-submit.png"), full_page=True)
    wait_worker(demo_stack)
    page.click("button[type=submit]")
    page.wait_for_url("**/comparisons/*")
    job_id = page.url.rsplit("/", 1)[1]

    # A frame is on screen while the job still runs: it came over the event stream, not from a final result.
    page.wait_for_function(
        "document.querySelector('#grids img[data-loaded]') && "
        "document.querySelector('#job-status').textContent === 'running'",
        timeout=60_000,
    )
    status = httpx.get(
        f"{demo_stack.base_url}/v1/comparisons/{job_id}", headers={"Authorization": f"Bearer {API_KEY}"}
    ).json()["status"]
    assert status in ("queued", "running")
    page.screenshot(path=str(SCREENSHOTS / "viewer-live.png"), full_page=True)

    page.wait_for_selector("#job-status.succeeded", timeout=120_000)
    page.wait_for_function("document.querySelectorAll('#grids img.pending').length === 0")
    grid_cells = page.locator("#grids img.frame").count()
    assert grid_cells == 4 * 2 * 10  # 4 schedulers x 2 images x 10 captured steps, every one filled in
    page.wait_for_selector("#similarity-heatmap table.heat")
    assert page.locator("#results-table tbody tr").count() == 4
    assert page.locator("#convergence-chart polyline").count() == 4

    # The slider shows every scheduler at the same step.
    slider = page.locator("#step-slider")
    slider.fill("0")
    assert page.text_content("#step-label") == "2 / 20"
    page.wait_for_function("[...document.querySelectorAll('#step-strip img')].every(img => img.dataset.loaded)")
    first_step_sources = page.eval_on_selector_all("#step-strip img", "imgs => imgs.map(i => i.src)")
    slider.fill("9")
    assert page.text_content("#step-label") == "20 / 20"
    page.wait_for_function("[...document.querySelectorAll('#step-strip img')].every(img => img.dataset.loaded)")
    last_step_sources = page.eval_on_selector_all("#step-strip img", "imgs => imgs.map(i => i.src)")
    assert len(last_step_sources) == 4 and not set(first_step_sources) & set(last_step_sources)

    # A/B: two schedulers side by side and their difference.
    page.select_option("#ab-a", "0")
    page.select_option("#ab-b", "3")
    page.wait_for_selector("#ab-view[data-ready=true]")
    page.wait_for_function("document.querySelector('#ab-stats').textContent.startsWith('mean')")
    assert "heun" in page.text_content("#ab-caption-b")
    page.locator("#ab-view").scroll_into_view_if_needed()
    page.screenshot(path=str(SCREENSHOTS / "viewer-watch.png"), full_page=True)

    # The recent list on the home page links back to it.
    page.click("a.brand")
    page.wait_for_selector(f"#recent-list a[href='/comparisons/{job_id}']")


def test_cancel_from_the_page(page, demo_stack: Stack) -> None:  # type: ignore[no-untyped-def]
    fill_form(page, steps=400, capture_every=100, images=1)
    for name in ("euler_a", "dpmpp_2m_karras", "heun"):
        page.uncheck(f"#scheduler-list input[value={name}]")
    wait_worker(demo_stack)
    page.click("button[type=submit]")
    page.wait_for_selector("#job-status.running", timeout=60_000)
    page.click("#cancel-button")
    page.wait_for_selector("#job-status.canceled", timeout=60_000)
    assert page.locator("#cancel-button").is_hidden()


def test_a_sweep_shows_its_xy_grids_error_vs_nfe_plot_ranking_and_cells(page, demo_stack: Stack) -> None:  # type: ignore[no-untyped-def]
    wait_worker(demo_stack)
    headers = {"Authorization": f"Bearer {API_KEY}"}
    response = httpx.post(
        f"{demo_stack.base_url}/v1/comparisons",
        json={**SWEEP, "prompt": "a red circle on a black background"},
        headers=headers,
    )
    assert response.status_code == 202, response.text
    job_id = response.json()["id"]
    page.goto(f"/comparisons/{job_id}")
    page.wait_for_selector("#job-status.succeeded", timeout=120_000)
    job = httpx.get(f"{demo_stack.base_url}/v1/comparisons/{job_id}", headers=headers).json()

    # The worker's X/Y grids (one per guidance scale here: one seed) and its plot, loaded from the job's files.
    page.wait_for_function("document.querySelectorAll('#sweep-grids img.xy-grid[data-loaded]').length === 2")
    captions = page.locator("#sweep-grids figcaption").all_text_contents()
    assert captions == ["CFG 1, seed 0", "CFG 5, seed 0"]
    page.wait_for_selector("#sweep-plot img.sweep-plot[data-loaded]")
    widths = page.eval_on_selector_all("#sweep img[data-loaded]", "imgs => imgs.map(img => img.naturalWidth)")
    assert len(widths) == 3 and min(widths) > 200  # real PNGs, not the placeholder pixel
    # The answer's numbers: a curve per scheduler and guidance, a ranking per guidance and budget, every cell.
    assert page.locator("#sweep-curves tbody tr").count() == len(job["sweep"]["curves"]) == 4
    assert page.locator("#sweep-ranking tbody tr").count() == len(job["sweep"]["ranking"]) == 4
    assert page.locator("#sweep-cells tbody tr").count() == len(job["results"]) == 8
    distances = page.locator("#sweep-cells tbody tr td:nth-child(7)").all_text_contents()
    assert all(text != "—" for text in distances)  # every cell measured against its reference
    # Links to the worker's artifacts.
    links = page.locator("#job-links a").all_text_contents()
    assert {"manifest.json", "sweep answer.json", "error-vs-NFE plot"} <= set(links)
    assert {"X/Y grid: CFG 1, seed 0", "X/Y grid: CFG 5, seed 0"} <= set(links)
    # Progress counts each scheduler's steps over its cells, and the reference runs.
    counts = page.locator("#progress .count").all_text_contents()
    assert counts == ["12 / 12", "12 / 12", "8 / 8"]  # 2 + 4 steps at 2 scales; a 4-step reference per scale
    # The per-step views describe one cell: hidden for a sweep.
    assert page.locator("#grids").is_hidden() and page.locator("#step-strip").is_hidden()
    page.locator("#sweep").scroll_into_view_if_needed()
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "viewer-sweep.png"), full_page=True)


def test_the_model_picker_lists_served_models_and_switches_the_schedulers(page, demo_stack: Stack) -> None:  # type: ignore[no-untyped-def]
    """A second worker serves tiny-flux: picking it lists its flow schedulers, and the job runs on that model."""
    from tests.harness import wait_until

    demo_stack.start_worker("viewer-flux", extra_env={"SCHEDLAB_MODEL": "tiny-flux"})
    wait_until(lambda: len(demo_stack.worker_names()) >= 2, 120, "the demo and tiny-flux workers")
    page.reload()  # the models are read on each visit to the form
    page.wait_for_selector("#model-picker option[value=tiny-flux]", state="attached")
    assert page.input_value("#model-picker") == "demo"  # the deployment's default comes first
    page.wait_for_selector("#scheduler-list input[value=euler]:not([disabled])")

    page.select_option("#model-picker", "tiny-flux")
    page.wait_for_selector("#scheduler-list input[value=flow_euler]:not([disabled])")
    assert page.locator("#scheduler-list input[value=euler][disabled]").count() == 1  # SD's Euler: not for Flux
    chips = page.locator("#scheduler-chosen .chip").all_text_contents()
    assert chips and not any("Euler a" in chip for chip in chips)  # what the model cannot run was dropped

    fill_form(page, steps=4, capture_every=2, images=1)
    page.click("button[type=submit]")
    page.wait_for_url("**/comparisons/*")
    job_id = page.url.rsplit("/", 1)[1]
    page.wait_for_selector("#job-status.succeeded", timeout=120_000)
    job = httpx.get(
        f"{demo_stack.base_url}/v1/comparisons/{job_id}", headers={"Authorization": f"Bearer {API_KEY}"}
    ).json()
    assert job["spec"]["model"] == "tiny-flux"
    assert {choice["name"] for choice in job["spec"]["schedulers"]} <= {"flow_euler", "flow_dpmpp_2m"}
