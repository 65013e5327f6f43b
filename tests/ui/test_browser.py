"""A real browser (Debian's chromium, driven by playwright) loads the app, asks a question, waits for
the cited answer and saves screenshots under bench/results/. Runs wherever chromium is installed
(`.ci/run` installs it when it can)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from .test_app import factory, serving

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
RESULTS = Path(__file__).resolve().parents[2] / "bench" / "results"
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync"]

pytestmark = [pytest.mark.integration,
              pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed (apt-get install chromium)")]


@pytest.fixture(scope="module")
def page(links_home, tmp_path_factory):
    playwright = pytest.importorskip("playwright.sync_api")
    def literature_model(backend, model, base_url):  # whatever the model selector says
        return factory(backend, "fake-literature", base_url)

    with serving(links_home, literature_model) as app, playwright.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        try:
            tab = browser.new_page(viewport={"width": 1400, "height": 1000})
            tab.goto(app.local_url, wait_until="load")
            tab.get_by_placeholder("e.g. Does bromocriptine").wait_for(timeout=60_000)
            yield tab
        finally:
            browser.close()


def test_a_question_in_the_browser_gets_a_cited_answer(page):
    page.get_by_placeholder("e.g. Does bromocriptine").fill("What is known about trypanosome flagella?")
    page.get_by_placeholder("e.g. Does bromocriptine").press("Enter")
    answer = page.get_by_text("Sources", exact=True)
    answer.wait_for(timeout=60_000)
    page.get_by_text("Tool · search_literature").first.wait_for()
    links = page.locator("a[href^='https://pubmed.ncbi.nlm.nih.gov/']")
    assert links.count() >= 2  # the inline citation and the sources list
    assert "12345678" not in page.locator(".message-wrap").inner_text()  # the unretrieved citation is gone
    RESULTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(RESULTS / "ui_chat.png"), full_page=True)


def test_molecules_tab_in_the_browser(page):
    page.get_by_role("tab", name="Molecules").click()
    page.get_by_label("SMILES or drug names, one per line").fill("aspirin\nnot_a_molecule\ncaffeine\nimatinib")
    page.get_by_role("button", name="Predict").click()
    page.get_by_text("4 rows, 1 could not be read").wait_for(timeout=60_000)
    page.locator("img[alt='structure']:visible").first.wait_for()
    page.screenshot(path=str(RESULTS / "ui_molecules.png"), full_page=True)


def test_links_tab_in_the_browser(page):
    page.get_by_role("tab", name="Links").click()
    page.get_by_label("Drug, disease or target").fill("angina")
    page.get_by_role("button", name="Find links").click()
    page.get_by_text("click a row for its evidence and trend").wait_for(timeout=60_000)
    # the table renders each cell twice (display and a hidden editor): click the visible one
    page.locator(":text-is('Nifedipine'):visible").first.click()
    page.get_by_role("heading", name="Nifedipine treats Angina Pectoris").wait_for(timeout=30_000)  # not the row
    page.locator("a[href='https://pubmed.ncbi.nlm.nih.gov/417957/']:visible").first.wait_for()
    page.locator(".block:has-text('Articles per year') img").first.wait_for(timeout=30_000)
    page.wait_for_timeout(500)  # the evidence fades in
    page.screenshot(path=str(RESULTS / "ui_links.png"), full_page=True)
