"""The web page in a real browser: Debian's Chromium driven by Playwright against `facetrust serve`.

One server process (temp data dir, random token) and one signed-in page serve the whole module:
the page uploads a forged face, and what it shows is checked against the API's JSON for that scan.
Skips when Playwright or Chromium is absent (``playwright install`` cannot download here).
"""

from __future__ import annotations

import os
import re
import secrets
import shutil
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image


httpx = pytest.importorskip("httpx")

CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run",
]
TIMEOUT_MS = 60_000  # the first scan loads the models
PCT = re.compile(r"(\d+(?:\.\d+)?)\s?%")


def _chromium() -> str | None:
    return os.environ.get("FACETRUST_CHROMIUM") or shutil.which("chromium")


@dataclass
class Server:
    base: str
    token: str

    def get(self, path: str) -> Any:
        r = httpx.get(self.base + path, headers={"Authorization": f"Bearer {self.token}"}, timeout=30)
        r.raise_for_status()
        return r.json()


@dataclass
class Flow:
    """The signed-in page after its first upload, and the console errors it has logged so far."""

    page: Any
    server: Server
    scan_id: str
    errors: list[str] = field(default_factory=list)


@pytest.fixture(scope="module")
def sync_api():
    try:
        from playwright import sync_api
    except ImportError:
        pytest.skip("playwright is not installed")
    if not _chromium():
        pytest.skip("no Chromium executable (apt-get install chromium, or set FACETRUST_CHROMIUM)")
    return sync_api


@pytest.fixture(scope="module")
def server(tmp_path_factory) -> Iterator[Server]:
    from facetrust.server.process import ServerProcess

    tmp = tmp_path_factory.mktemp("serve")
    token = secrets.token_urlsafe(24)
    proc = ServerProcess(tmp / "data", token, log=tmp / "server.log")
    try:
        try:
            proc.wait_ready(60)
        except RuntimeError as exc:
            pytest.fail(str(exc))
        yield Server(proc.base, token)
    finally:
        proc.stop(15)


@pytest.fixture(scope="module")
def browser(sync_api):
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=_chromium(), args=CHROMIUM_ARGS)
        try:
            yield b
        finally:
            b.close()


@pytest.fixture(scope="module")
def forged_jpeg(tmp_path_factory, hopper, astronaut) -> Path:
    """The demo's forgery: the astronaut's face pasted onto Grace Hopper."""
    from facetrust.demo import paste_face

    forged, _ = paste_face(hopper, astronaut)
    path = tmp_path_factory.mktemp("media") / "forged_hopper.jpg"
    Image.fromarray(forged).save(path, quality=92)
    return path


def _sign_in(page, server: Server, token: str) -> None:
    page.goto(server.base + "/")
    page.fill("#token-input", token)
    page.click("#login-button")


def _wait_for_result(page, scan_id: str | None = None) -> None:
    """Until the result view shows a finished scan (``scan_id``'s, if given) with its preview loaded."""
    page.wait_for_function(
        """(id) => {
            const v = document.getElementById('verdict');
            const sel = document.querySelector('.history-item[aria-current="true"]');
            const img = document.getElementById('preview-image');
            const pv = document.getElementById('preview-block');
            const imgReady = pv.hidden || (img.complete && img.naturalWidth > 0);
            return v.dataset.verdict !== '' && !document.getElementById('result').hidden
                && (!id || (sel && sel.dataset.scanId === id)) && imgReady;
        }""",
        arg=scan_id,
    )


@pytest.fixture(scope="module")
def flow(browser, server, forged_jpeg) -> Iterator[Flow]:
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.set_default_timeout(TIMEOUT_MS)
    errors: list[str] = []
    page.on("console", lambda m: errors.append(f"console: {m.text}") if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(f"pageerror: {e}"))
    _sign_in(page, server, server.token)
    page.wait_for_selector("#app", state="visible")
    page.set_input_files("#file-input", str(forged_jpeg))
    # The newest scan in the API is the upload; the page selects it in its history once finished.
    page.wait_for_selector('.history-item[aria-current="true"]')
    scan_id = server.get("/v1/scans?limit=1")["items"][0]["id"]
    _wait_for_result(page, scan_id)
    try:
        yield Flow(page, server, scan_id, errors)
    finally:
        context.close()


def _show(flow: Flow, scan_id: str) -> None:
    flow.page.click(f'.history-item[data-scan-id="{scan_id}"]')
    _wait_for_result(flow.page, scan_id)


def _pct(text: str) -> float:
    m = PCT.search(text)
    assert m, f"no percentage in {text!r}"
    return float(m.group(1))


def test_upload_shows_the_apis_verdict_faces_and_preview(flow, tmp_path):
    page, scan = flow.page, flow.server.get(f"/v1/scans/{flow.scan_id}")
    assert scan["status"] == "done" and scan["verdict"] in ("real", "fake")
    r = scan["result"]["results"][0]

    verdict = page.text_content("#verdict")
    assert scan["verdict"] in verdict.lower()
    assert _pct(verdict) == pytest.approx(scan["fake_probability"] * 100, abs=0.051)
    assert page.text_content("#explanation") == r["explanation"] and r["explanation"]

    preview = scan["artifacts"]["preview"]
    size = page.eval_on_selector("#preview-image", "i => [i.naturalWidth, i.naturalHeight]")
    assert size == [preview["width"], preview["height"]] and size[0] > 0

    bars = page.query_selector_all(".prob-bar")
    assert len(bars) == len(r["faces"]) >= 1
    for bar, face in zip(bars, r["faces"], strict=True):
        expected = face["fake_probability"] * 100
        assert _pct(bar.text_content()) == pytest.approx(expected, abs=0.051)
        width = bar.eval_on_selector(".prob-fill", "f => f.style.width")
        assert _pct(width) == pytest.approx(expected, abs=0.051)
    assert page.text_content(".face .tag").strip().lower() == r["faces"][0]["verdict"]

    # One box per face of the preview frame, scaled into the preview.
    in_frame = [f for f in r["faces"] if f["frame_index"] == preview["frame_index"]]
    rects = page.eval_on_selector_all(
        "#boxes rect", "rs => rs.map(r => ['x','y','width','height'].map(k => +r.getAttribute(k)))")
    assert len(rects) == len(in_frame)
    x0, y0, x1, y1 = (v * preview["scale"] for v in in_frame[0]["box"])
    assert rects[0] == pytest.approx([x0, y0, x1 - x0, y1 - y0], abs=0.01)

    shot = tmp_path / "result.png"
    page.screenshot(path=str(shot))
    assert shot.stat().st_size > 10_000


def test_overlay_toggle_shows_and_hides_the_heatmap(flow):
    page = flow.page
    _show(flow, flow.scan_id)
    page.wait_for_function("() => document.getElementById('overlay-layer').naturalWidth > 0")
    assert not page.is_visible("#overlay-layer")
    page.click("#overlay-toggle")
    page.wait_for_selector("#overlay-layer", state="visible", timeout=10_000)  # the click's handler runs async
    # Layered exactly on the preview: same pixel size and the same box on screen.
    sizes = page.evaluate("""() => ['preview-image', 'overlay-layer'].map(id => {
        const e = document.getElementById(id), b = e.getBoundingClientRect();
        return [e.naturalWidth, e.naturalHeight, Math.round(b.x), Math.round(b.y), Math.round(b.width)];
    })""")
    assert sizes[0] == sizes[1]
    page.click("#overlay-toggle")
    page.wait_for_selector("#overlay-layer", state="hidden", timeout=10_000)


def test_report_is_fetched_with_the_token(flow):
    page = flow.page
    _show(flow, flow.scan_id)
    r = httpx.get(f"{flow.server.base}/v1/scans/{flow.scan_id}/report",
                  headers={"Authorization": f"Bearer {flow.server.token}"}, timeout=30)
    r.raise_for_status()
    with page.expect_download() as info:
        page.click("#report-download")
    assert info.value.suggested_filename == f"facetrust-report-{flow.scan_id}.html"
    assert Path(info.value.path()).read_bytes() == r.content
    with page.context.expect_page() as popup:
        page.click("#report-button")
    report = popup.value  # opened blank inside the click, then pointed at the fetched report
    report.wait_for_url(lambda url: url.startswith("blob:"))
    report.wait_for_load_state()
    assert "forged_hopper.jpg" in report.title()
    report.close()


def test_history_lists_scans_and_reopens_one(flow, astronaut, tmp_path):
    page = flow.page
    item = page.query_selector(f'.history-item[data-scan-id="{flow.scan_id}"]')
    assert item is not None and "forged_hopper.jpg" in item.text_content()
    # A second upload without a face: not applicable, with the reason; then back to the first scan.
    no_face = tmp_path / "sky.png"
    Image.fromarray(np.ascontiguousarray(astronaut[:60, 300:])).save(no_face)
    page.set_input_files("#file-input", str(no_face))
    page.wait_for_function("() => document.getElementById('verdict').dataset.verdict === 'not_applicable'")
    newest = flow.server.get("/v1/scans?limit=20")
    assert [i["id"] for i in newest["items"][:2]][1] == flow.scan_id
    page.wait_for_selector(f'.history-item[data-scan-id="{newest["items"][0]["id"]}"]')
    ids = page.eval_on_selector_all(".history-item", "bs => bs.map(b => b.dataset.scanId)")
    assert ids == [i["id"] for i in newest["items"]]
    r = flow.server.get(f"/v1/scans/{ids[0]}")["result"]["results"][0]
    assert page.is_visible("#notice") and r["reason"] in page.text_content("#notice")
    assert page.query_selector_all(".prob-bar") == []

    _show(flow, flow.scan_id)
    first = flow.server.get(f"/v1/scans/{flow.scan_id}")
    assert page.get_attribute("#verdict", "data-verdict") == first["verdict"]
    assert not page.is_visible("#notice")

    # Past one page (20): "More" follows next_cursor and appends the rest, in the API's order.
    for _ in range(21 - len(newest["items"])):
        r = httpx.post(f"{flow.server.base}/v1/scans", headers={"Authorization": f"Bearer {flow.server.token}"},
                       files={"file": ("sky.png", no_face.read_bytes(), "image/png")}, timeout=60)
        assert r.status_code == 200, r.text
    page1 = flow.server.get("/v1/scans?limit=20")
    page2 = flow.server.get(f"/v1/scans?limit=20&cursor={page1['next_cursor']}")
    page.click("#refresh-button")
    page.wait_for_selector("#more-button", state="visible")
    page.click("#more-button")
    page.wait_for_selector("#more-button", state="hidden")
    ids = page.eval_on_selector_all(".history-item", "bs => bs.map(b => b.dataset.scanId)")
    assert ids == [i["id"] for i in page1["items"] + page2["items"]] and len(ids) == 21


def test_video_progress_and_timeline(flow, demo_media):
    page = flow.page
    # Record every state the scan progress line goes through: a video is a job the page polls.
    page.evaluate("""() => {
        window.__scanTexts = [];
        const t = document.getElementById('scan-text');
        new MutationObserver(() => window.__scanTexts.push(t.textContent))
            .observe(t, {childList: true, characterData: true, subtree: true});
    }""")
    page.set_input_files("#file-input", str(demo_media["hopper_half_forged.mp4"]))
    page.wait_for_selector("#timeline-svg")
    _wait_for_result(page)
    scan_id = page.get_attribute('.history-item[aria-current="true"]', "data-scan-id")
    scan = flow.server.get(f"/v1/scans/{scan_id}")
    assert scan["kind"] == "video" and scan["status"] == "done"
    r = scan["result"]["results"][0]
    texts = page.evaluate("() => window.__scanTexts")
    assert any(t.startswith(("queued", "running")) for t in texts), texts
    assert texts[-1].startswith("done · 100%")
    assert f"{len(r['frames'])} frames analysed" in page.text_content("#result-meta")
    dots = page.query_selector_all("#timeline-svg circle.dot")
    assert len(dots) == sum(f["fake_probability"] is not None for f in r["frames"]) > 1
    assert len(page.query_selector_all("#timeline-svg rect.seg")) == sum(len(t["segments"]) for t in r["tracks"])
    assert page.query_selector("#timeline-threshold") is not None
    # The preview is the most suspicious frame; only its faces get boxes.
    frame = scan["artifacts"]["preview"]["frame_index"]
    assert len(page.query_selector_all("#boxes rect")) == sum(f["frame_index"] == frame for f in r["faces"])


def test_bad_token_is_refused_and_forget_clears_the_token(browser, server):
    context = browser.new_context()
    page = context.new_page()
    page.set_default_timeout(TIMEOUT_MS)
    try:
        _sign_in(page, server, "not-the-token-" + secrets.token_hex(4))
        page.wait_for_selector("#auth-message", state="visible")
        assert "unauthorized" in page.text_content("#auth-message").lower()
        assert not page.is_visible("#app")
        assert page.evaluate("() => sessionStorage.length") == 0

        page.fill("#token-input", server.token)
        page.click("#login-button")
        page.wait_for_selector("#app", state="visible")
        assert not page.is_visible("#auth-message")
        # A refused upload shows the API's error code (this page's console may log the 4xx).
        page.set_input_files("#file-input", files=[{"name": "notes.jpg", "mimeType": "image/jpeg",
                                                     "buffer": b"plain text, not a picture\n" * 20}])
        page.wait_for_function("() => document.getElementById('status-message').textContent.includes('refused')")
        assert "unsupported_media_type" in page.text_content("#status-message")
        page.click("#forget-button")
        assert page.is_visible("#token-input") and not page.is_visible("#app")
        assert page.evaluate("() => sessionStorage.length") == 0
    finally:
        context.close()


def test_no_console_errors_during_the_flow(flow):
    # Last in the module: by now the page has uploaded, switched scans, toggled and followed a video.
    assert flow.errors == []


def _face_labels(page) -> list[dict]:
    """What the page shows per face: name, tag, family, bar text, bar class and fill colour."""
    return page.eval_on_selector_all("#faces .face", """items => items.map(li => {
        const bar = li.querySelector('.prob-bar');
        const fill = bar.querySelector('.prob-fill');
        const tag = li.querySelector('.tag');
        const fam = li.querySelector('.family');
        return {name: li.querySelector('.face-name').textContent, tag: tag.textContent,
                tagColour: getComputedStyle(tag).backgroundColor, barClass: bar.className,
                barText: bar.textContent, fillColour: fill ? getComputedStyle(fill).backgroundColor : null,
                family: fam ? fam.textContent : null,
                notDeciding: !!li.querySelector('.tag.not-deciding')};
    })""")


def test_labels_name_the_fake_probability_and_colour_by_verdict(flow, astronaut, forged_jpeg, tmp_path):
    """Issue 16: a forged and a genuine upload; each face's label names its number (from 1), the fake
    probability, the verdict's colour, and a family only for a face judged fake."""
    from facetrust.report.labels import family_text
    from facetrust.report.schema import FaceResult

    page = flow.page
    genuine = tmp_path / "genuine_astronaut.png"
    Image.fromarray(astronaut).save(genuine)
    verdicts = set()
    for upload in (genuine, forged_jpeg):  # each scanned now, so it is on the history's first page
        if upload is genuine:  # through the page
            before = flow.server.get("/v1/scans?limit=1")["items"][0]["id"]
            page.set_input_files("#file-input", str(upload))
            page.wait_for_function(
                "(b) => { const s = document.querySelector('.history-item[aria-current=\"true\"]'); "
                "return s && s.dataset.scanId !== b; }", arg=before)
            scan_id = flow.server.get("/v1/scans?limit=1")["items"][0]["id"]
            _wait_for_result(page, scan_id)
        else:  # through the API at a low threshold, so a face is judged fake whatever the model's score
            resp = httpx.post(f"{flow.server.base}/v1/scans", data={"threshold": "0.05"}, timeout=60,
                              headers={"Authorization": f"Bearer {flow.server.token}"},
                              files={"file": (upload.name, upload.read_bytes(), "image/jpeg")})
            assert resp.status_code == 200, resp.text
            scan_id = resp.json()["id"]
            page.click("#refresh-button")
            page.wait_for_selector(f'.history-item[data-scan-id="{scan_id}"]')
            _show(flow, scan_id)
        r = flow.server.get(f"/v1/scans/{scan_id}")["result"]["results"][0]
        shown = _face_labels(page)
        assert len(shown) == len(r["faces"]) >= 1
        for face, label in zip(r["faces"], shown, strict=True):
            verdicts.add(face["verdict"])
            assert label["name"].lower() == f"face {face['face_index'] + 1}"
            assert label["barText"].startswith("p(fake) ")
            assert _pct(label["barText"]) == pytest.approx(face["fake_probability"] * 100, abs=0.051)
            assert f"v-{face['verdict']}" in label["barClass"]
            assert label["fillColour"] == label["tagColour"]  # the bar wears the verdict's colour
            fields = FaceResult.__dataclass_fields__
            expected = family_text(FaceResult(**{k: v for k, v in face.items() if k in fields}))
            assert (label["family"] or "") == (f"forgery family: {expected}" if expected else "")
            assert label["notDeciding"] is (not face["decisive"])
        boxes = page.eval_on_selector_all("#boxes text", "ts => ts.map(t => t.textContent)")
        assert all(" · p(fake) " in b for b in boxes)
        # Provenance in its own block: these uploads carry no metadata, and the page says so plainly.
        assert r["provenance"]["empty"] is True
        assert "No camera, editing or generator metadata" in page.text_content("#provenance-block")
    assert verdicts == {"real", "fake"}  # a genuine face and a face judged fake were both read


def _upload_and_show(flow: Flow, path: Path, mime: str) -> dict:
    """Upload ``path`` through the API, show it on the page; the API's result for it."""
    resp = httpx.post(f"{flow.server.base}/v1/scans", timeout=60,
                      headers={"Authorization": f"Bearer {flow.server.token}"},
                      files={"file": (path.name, path.read_bytes(), mime)})
    assert resp.status_code == 200, resp.text
    scan_id = resp.json()["id"]
    flow.page.click("#refresh-button")
    flow.page.wait_for_selector(f'.history-item[data-scan-id="{scan_id}"]')
    _show(flow, scan_id)
    return flow.server.get(f"/v1/scans/{scan_id}")["result"]["results"][0]


def _provenance_shown(page) -> list[list[str]]:
    return page.eval_on_selector_all("#provenance dt", "ds => ds.map(d => [d.textContent, d.nextElementSibling.textContent])")


def test_c2pa_provenance_is_shown_apart_from_the_probability(flow, c2pa_sign, astronaut, tmp_path):
    """Issue 16: a C2PA-signed upload (signed here with a throwaway CA); the page's provenance block lists
    the signer, the validation state and the declared AI generation, as the API's JSON holds them."""
    from facetrust.report.provenance import provenance_rows

    page = flow.page
    r = _upload_and_show(flow, c2pa_sign(astronaut, tmp_path / "c2pa_signed.jpg"), "image/jpeg")
    c2 = r["provenance"]["c2pa"]
    assert c2["present"] and c2["valid"] and c2["ai_generated"] and c2["signer"] == "facetrust test signer"
    shown = _provenance_shown(page)
    assert shown == [list(row) for row in provenance_rows(r["provenance"])]
    rows = dict(shown)
    assert rows["C2PA signer"] == "facetrust test signer (issuer facetrust test CA org)"
    assert rows["C2PA validation"].startswith("Valid: ") and rows["C2PA AI generation"] == "declared"
    assert "No camera, editing or generator metadata" not in page.text_content("#provenance-block")
    assert page.text_content("#explanation") == r["explanation"]
    assert "The manifest declares the file was generated by an AI model" in r["explanation"]
    assert flow.errors == []


def test_exif_xmp_and_generator_metadata_are_shown(flow, astronaut, tmp_path):
    """A JPEG with camera EXIF and an XMP edit history, and a PNG with generator parameters: the page lists
    each declared field as the API's JSON holds it."""
    from PIL import PngImagePlugin

    from facetrust.report.provenance import provenance_rows

    exif = Image.Exif()
    exif[0x010F], exif[0x0110] = "Canon", "Canon EOS R5"
    xmp = ('<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
           '<rdf:Description xmlns:xmp="http://ns.adobe.com/xap/1.0/" xmp:CreatorTool="Adobe Photoshop 25.0"/>'
           "</rdf:RDF></x:xmpmeta>")
    jpeg = tmp_path / "camera_edited.jpg"
    Image.fromarray(astronaut).save(jpeg, exif=exif, xmp=xmp.encode(), quality=92)
    info = PngImagePlugin.PngInfo()
    info.add_text("parameters", "a portrait\nSteps: 20, Sampler: Euler a, Seed: 7")
    png = tmp_path / "generated.png"
    Image.fromarray(astronaut).save(png, pnginfo=info)
    expected = {jpeg: {"EXIF Make": "Canon", "EXIF Model": "Canon EOS R5", "XMP CreatorTool": "Adobe Photoshop 25.0"},
                png: {"PNG text parameters": "a portrait Steps: 20, Sampler: Euler a, Seed: 7"}}
    for path, mime in ((jpeg, "image/jpeg"), (png, "image/png")):
        r = _upload_and_show(flow, path, mime)
        shown = _provenance_shown(flow.page)
        assert shown == [list(row) for row in provenance_rows(r["provenance"])]
        assert expected[path].items() <= dict(shown).items()
        assert "No camera, editing or generator metadata" not in flow.page.text_content("#provenance-block")
