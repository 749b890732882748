"""Dagit end to end in headless Chromium: the whole graph, one model partition, a new model's backfill.

`dagster dev -w workspace.yaml` runs on 127.0.0.1 with the smoke config and its own homes;
Playwright drives Debian's chromium through the UI as a user would. Screenshots of every
step go to test-artifacts/dagit/ ($RFT_TEST_ARTIFACTS/dagit when set). Needs chromium:

    apt-get install -y chromium          # or: bash scripts/install_chromium.sh
    python -m pytest tests/browser/test_dagit_browser.py

The tests run in file order on one Dagit: the backfill reads the questions the second test
materialises.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import time
import urllib.parse
from pathlib import Path

import dagster as dg
import pytest
from playwright.sync_api import expect, sync_playwright

from free_ports import free_port
from dagit_server import DagitServer, start_dagit, write_instance_config
from rft.config.rft_config import load_config
from rft.home import PROJECT_ROOT
from rft_dagster.definitions import defs
from spark_jobs.server import ServerConfig, ensure_server
from spark_servers import stop_test_server

pytestmark = pytest.mark.browser

SMOKE = PROJECT_ROOT / "configs" / "smoke.yaml"
FIRST_MODEL, NEW_MODEL = "tiny-llama-a", "tiny-llama-b"
# A new model's backfill as `rft backfill` starts it: its own assets, then the cross-model one.
BACKFILL_ASSETS = ("sft_model", "sampled_paths", "verified_paths", "distinct_paths")
RUN_TIMEOUT_S = 900
INSTALL_HINT = "apt-get install -y chromium   (or: bash scripts/install_chromium.sh)"


def declared_assets() -> dict[dg.AssetKey, tuple[str, str]]:
    """Every asset the code location declares, with its group and description."""
    graph = defs.resolve_asset_graph()
    declared = set()
    for item in defs.assets or []:
        declared.update(item.keys if isinstance(item, dg.AssetsDefinition) else [item.key])
    return {key: (graph.get(key).group_name, graph.get(key).description or "") for key in declared}


def graph_label_matches(label: str, name: str) -> bool:
    """Dagit shows a node's last key part, cut in the middle with '…' when it is long."""
    if "…" not in label:
        return label == name
    head, tail = label.split("…", 1)
    return name.startswith(head) and name.endswith(tail) and len(name) >= len(label)


def unmatched_names(labels: list[str], names: list[str]) -> list[str]:
    free, missing = list(labels), []
    for name in sorted(names, key=lambda n: (n not in labels, -len(n))):  # exact labels first
        hit = next((label for label in free if graph_label_matches(label, name)), None)
        if hit is None:
            missing.append(name)
        else:
            free.remove(hit)
    return missing


def test_graph_labels_match_names_cut_in_the_middle():
    assert graph_label_matches("questions", "questions")
    assert graph_label_matches("question_…_by_model", "question_difficulty_by_model")
    assert not graph_label_matches("question_…_by_model", "questions")
    labels = ["sft_model", "rft_…_rows"]
    assert unmatched_names(labels, ["sft_model", "rft_dataset_rows", "rft_model"]) == ["rft_model"]


@pytest.fixture(scope="module")
def chromium() -> str:
    path = os.environ.get("RFT_CHROMIUM") or shutil.which("chromium")
    if not path:
        pytest.fail(f"Debian's chromium is needed for the Dagit browser test; install it with: {INSTALL_HINT}",
                    pytrace=False)
    return path


@pytest.fixture(scope="module")
def artifacts(request) -> Path:
    folder = Path(os.environ.get("RFT_TEST_ARTIFACTS") or PROJECT_ROOT / "test-artifacts") / "dagit"
    folder.mkdir(parents=True, exist_ok=True)
    for old in folder.glob("*.png"):
        old.unlink()
    with request.config.pluginmanager.getplugin("capturemanager").global_and_fixture_disabled():
        print(f"\nDagit screenshots: {folder}")  # shown under output capture too
    return folder


@pytest.fixture(scope="module")
def home(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("dagit_rft_home")


@pytest.fixture(scope="module")
def spark_server(home):
    """The warehouse's Spark server, started before Dagit so the first run does not wait for it."""
    cfg = ServerConfig(warehouse=home / "warehouse", port=free_port(), master="local[2]", driver_memory="2g")
    yield cfg
    stop_test_server(cfg)


@pytest.fixture(scope="module")
def dagit(home, spark_server, artifacts) -> DagitServer:
    env = {
        **os.environ, "PYTHONPATH": str(PROJECT_ROOT), "RFT_HOME": str(home), "DAGSTER_HOME": str(home / "dagster"),
        "RFT_CONFIG": str(SMOKE), "RFT_SPARK_PORT": str(spark_server.port), "RFT_SPARK_MASTER": spark_server.master,
    }
    for name in ("RFT_SPARK_REMOTE", "SPARK_REMOTE"):
        env.pop(name, None)
    write_instance_config(home / "dagster")
    # The first model comes from the CLI, as the README shows, while the Spark server starts; it
    # also creates the instance's storage, which processes starting at once would race to create.
    add = subprocess.Popen([sys.executable, "-m", "rft_dagster.cli", "models", "add", FIRST_MODEL],
                           cwd=PROJECT_ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    ensure_server(spark_server)
    output, _ = add.communicate(timeout=600)
    assert add.returncode == 0, output
    server = start_dagit(env, free_port(), artifacts / "dagster-dev.log")
    try:
        server.wait_until_ready()
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="module")
def browser_page(chromium, dagit):
    """One Chromium page for the module's tests, in a fresh profile."""
    n_assets = len(declared_assets())
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium, headless=True)
        # Tall enough that the catalog's virtualised table renders every asset's row at once.
        context = browser.new_context(viewport={"width": 1600, "height": max(1000, 300 + 72 * n_assets)})
        context.set_default_timeout(120_000)
        expect.set_options(timeout=120_000)
        page = context.new_page()
        yield page
        browser.close()


@pytest.fixture
def page(request, browser_page, artifacts):
    """The page, and a screenshot of it as the test left it: what was shown when a step failed."""
    yield browser_page
    browser_page.screenshot(path=artifacts / f"end-of-{request.node.name}.png", full_page=True)


def graph_labels_once_complete(page, canvas, names: list[str], timeout_s: float = 120) -> list[str]:
    """The node labels on the canvas, polled until every name is there (or the time is up)."""
    deadline = time.monotonic() + timeout_s
    while True:
        labels = [line.strip() for line in canvas.inner_text().splitlines() if line.strip()]
        if not unmatched_names(labels, names) or time.monotonic() > deadline:
            return labels
        page.wait_for_timeout(500)


def shot(page, artifacts: Path, name: str) -> None:
    page.screenshot(path=artifacts / f"{name}.png", full_page=True)


def test_graph_shows_every_asset_in_its_group_with_its_description(page, dagit, artifacts):
    assets = declared_assets()
    page.goto(f"{dagit.url}/asset-groups")
    canvas = page.locator("[data-svg-viewport]")
    for group in sorted({group for group, _ in assets.values()}):
        expect(canvas.get_by_text(group, exact=True).first).to_be_visible()
    page.get_by_role("button", name="settings", exact=True).click()  # the graph's settings, not the app's
    toggle = page.get_by_role("menuitem", name=re.compile("(Expand|Collapse) all groups"))
    if "Expand" in toggle.inner_text():
        toggle.click()
    page.keyboard.press("Escape")
    labels = graph_labels_once_complete(page, canvas, [key.path[-1] for key in assets])
    shot(page, artifacts, "01-asset-graph")
    assert unmatched_names(labels, [key.path[-1] for key in assets]) == [], f"the asset graph shows {labels}"

    page.goto(f"{dagit.url}/assets")
    for key, (group, description) in sorted(assets.items()):
        assert description and group != "default", f"{key.to_user_string()}: give it a group and a docstring"
        link = page.locator(f'a[href="/assets/{"/".join(urllib.parse.quote(p) for p in key.path)}"]').first
        row = link.locator("xpath=ancestor::div[.//a[contains(@href, '/asset-groups~group')]][1]")
        # Dagit cuts long descriptions (dbt models' run to several sentences); the start names them.
        expect(row).to_contain_text(" ".join(description.split())[:120])
        expect(row.get_by_role("link", name=re.compile(rf"\b{re.escape(group)}$"))).to_be_visible()
    shot(page, artifacts, "02-catalog-groups-and-descriptions")


def test_materialise_one_model_partition_from_the_launchpad(page, dagit, artifacts):
    page.goto(f"{dagit.url}/assets/questions")  # what every model's partition reads
    before = dagit.run_ids()
    page.get_by_role("button", name=re.compile(r"^materialization Materialize$")).click()
    dagit.wait_for_run(dagit.launched_run(before), RUN_TIMEOUT_S)

    page.goto(f"{dagit.url}/assets/sft_model")
    page.get_by_role("button", name=re.compile(r"^materialization Materialize…$")).click()
    dialog = page.get_by_role("dialog")
    dialog.get_by_text("Select a partition or create one").click()
    page.get_by_role("menuitem", name=FIRST_MODEL).click()
    dialog.get_by_text("Launch runs to materialize sft_model").click()  # closes the partition list
    expect(dialog.get_by_text("1 partition", exact=True)).to_be_visible()
    shot(page, artifacts, "03-launch-sft-model-partition")
    before = dagit.run_ids()
    dialog.get_by_role("button", name="Launch 1 run").click()
    run_id = dagit.launched_run(before)
    dagit.wait_for_run(run_id, RUN_TIMEOUT_S)
    page.goto(f"{dagit.url}/runs/{run_id}")
    expect(page.get_by_text("Succeeded (1)")).to_be_visible()
    shot(page, artifacts, "04-sft-model-run-succeeded")

    tags = dagit.graphql(RUN_TAGS, runId=run_id)["runOrError"]["tags"]
    assert {"key": "dagster/partition", "value": FIRST_MODEL} in tags


def test_add_a_model_in_dagit_and_backfill_it(page, dagit, artifacts, spark_server):
    selection = " or ".join(f'key:"{name}"' for name in BACKFILL_ASSETS)
    page.goto(f"{dagit.url}/asset-groups~{urllib.parse.quote(selection)}")
    page.get_by_role("button", name=re.compile("Materialize all")).click()
    dialog = page.get_by_role("dialog").filter(has_text=f"materialize {len(BACKFILL_ASSETS)} assets")
    dialog.get_by_role("button", name="Add a partition").click()
    add = page.get_by_role("dialog").filter(has_text="Add a partition for models")
    add.get_by_role("textbox", name="name").fill(NEW_MODEL)
    add.get_by_role("button", name="Save").click()
    expect(add).to_be_hidden()
    expect(dialog.get_by_text("1 partition", exact=True)).to_be_visible()
    shot(page, artifacts, "05-add-model-and-launch-its-backfill")
    before = dagit.run_ids()
    # One partition is one run in Dagit (it makes a backfill object for two or more).
    dialog.get_by_role("button", name="Launch 1 run").click()
    run_id = dagit.launched_run(before)
    dagit.wait_for_run(run_id, 2 * RUN_TIMEOUT_S)
    page.goto(f"{dagit.url}/runs/{run_id}")
    expect(page.get_by_text(f"Succeeded ({len(BACKFILL_ASSETS)})")).to_be_visible()
    shot(page, artifacts, "06-backfill-run-succeeded")

    # The new model's rows are in the Delta tables, and the cross-model asset ran after them.
    cfg = load_config(SMOKE)
    n_paths = cfg.task.n_train * cfg.sampling.k
    counts = delta_counts(spark_server, NEW_MODEL)
    assert counts == {"sampled_paths": n_paths, "verified_paths": n_paths, "sft_models": 1}
    tags = dagit.graphql(RUN_TAGS, runId=run_id)["runOrError"]["tags"]
    assert {"key": "dagster/partition", "value": NEW_MODEL} in tags
    for name in BACKFILL_ASSETS:
        latest = dagit.graphql(LATEST_MATERIALIZATION, path=[name])["assetNodeOrError"]["assetMaterializations"]
        assert latest and latest[0]["runId"] == run_id, name

    page.goto(f"{dagit.url}/assets/sft_model")
    page.get_by_role("tab", name="Partitions").click()
    expect(page.get_by_text(NEW_MODEL).first).to_be_visible()
    expect(page.get_by_text("Materialized (2)")).to_be_visible()  # both models' partitions
    shot(page, artifacts, "07-sft-model-partitions")


def test_the_pass_at_k_plot_shows_on_the_asset_page(page, dagit, artifacts):
    """distinct_paths' materialisation carries a plot as a markdown image; Dagit renders it."""
    page.goto(f"{dagit.url}/assets/distinct_paths")
    row = page.locator("tr").filter(has_text="pass_at_k_plot").first
    expect(row).to_be_visible(timeout=60_000)
    row.get_by_text(re.compile("Show Markdown")).click()
    plot = page.get_by_role("dialog").get_by_role("img", name="pass@k per model")
    expect(plot).to_be_visible()
    assert plot.evaluate("img => img.complete && img.naturalWidth") > 100  # a decoded PNG, not a broken image
    shot(page, artifacts, "08-pass-at-k-plot-on-the-asset-page")


def delta_counts(cfg: ServerConfig, model: str) -> dict[str, int]:
    from pyspark.sql import SparkSession

    spark = SparkSession.builder.remote(cfg.url).create()  # its own client, not another test's session
    try:
        row = spark.sql(f"""
            SELECT (SELECT count(*) FROM rft.sampled_paths WHERE model = '{model}') AS sampled_paths,
                   (SELECT count(*) FROM rft.verified_paths WHERE model = '{model}') AS verified_paths,
                   (SELECT count(*) FROM rft.models WHERE model = '{model}' AND stage = 'sft') AS sft_models
        """).collect()[0]
        return row.asDict()
    finally:
        spark.stop()


RUN_TAGS = "query($runId: ID!) { runOrError(runId: $runId) { ... on Run { tags { key value } } } }"
LATEST_MATERIALIZATION = """query($path: [String!]!) { assetNodeOrError(assetKey: {path: $path}) {
  ... on AssetNode { assetMaterializations(limit: 1) { runId } } } }"""
