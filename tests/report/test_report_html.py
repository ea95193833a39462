"""Self-contained HTML report: structure, escaping, overlays decoded back from the file."""

from __future__ import annotations

import base64
import copy
import re
from collections import Counter, defaultdict
from html.parser import HTMLParser

import cv2
import numpy as np
import pytest

from facetrust.report import FaceResult, MediaResult, ScanReport, explain, render_overlay, write_html


class _Doc(HTMLParser):
    """Collects <img> attributes, text and table rows per <article id=...>."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: Counter[str] = Counter()
        self.imgs: list[tuple[str | None, dict]] = []
        self.text: dict[str | None, list[str]] = defaultdict(list)
        self.rows: Counter[tuple[str | None, str | None]] = Counter()
        self.articles: dict[str, dict] = {}
        self._article: str | None = None
        self._table: str | None = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        self.tags[tag] += 1
        if tag == "article":
            self._article = a.get("id")
            self.articles[self._article] = a
        elif tag == "img":
            self.imgs.append((self._article, a))
        elif tag == "table":
            self._table = a.get("class")
        elif tag == "tr":
            self.rows[(self._article, self._table)] += 1

    def handle_endtag(self, tag):
        if tag == "article":
            self._article = None
        elif tag == "table":
            self._table = None

    def handle_data(self, data):
        self.text[self._article].append(data)

    def all_text(self, article: str | None = ...) -> str:
        if article is ...:
            return "".join("".join(v) for v in self.text.values())
        return "".join(self.text[article])

    def imgs_in(self, article: str, cls: str | None = None) -> list[dict]:
        return [a for art, a in self.imgs if art == article and (cls is None or a.get("class") == cls)]


def _render(report: ScanReport, tmp_path, **kw) -> tuple[str, _Doc]:
    path = write_html(report, tmp_path / "report.html", **kw)
    raw = path.read_text(encoding="utf-8")
    doc = _Doc()
    doc.feed(raw)
    doc.close()
    return raw, doc


def _decode(src: str) -> np.ndarray:
    m = re.fullmatch(r"data:image/(jpeg|png);base64,([A-Za-z0-9+/=]+)", src)
    assert m, src[:60]
    buf = np.frombuffer(base64.b64decode(m.group(2)), np.uint8)
    img = cv2.imdecode(buf, cv2.IMREAD_COLOR)
    assert img is not None
    return img[..., ::-1]


def _footprint(face: FaceResult, scale: float, shape) -> np.ndarray:
    """Crop square mapped into preview pixels, computed independently of the renderer."""
    a = np.vstack([np.asarray(face.align_matrix, float), [0, 0, 1]])
    inv = np.linalg.inv(a)
    s = face.crop_size
    corners = np.array([[0, 0, 1], [s, 0, 1], [s, s, 1], [0, s, 1]], float)
    pts = (corners @ inv.T)[:, :2] * scale
    mask = np.zeros(shape[:2], np.uint8)
    cv2.fillConvexPoly(mask, np.round(pts).astype(np.int32), 1)
    return mask.astype(bool)


def test_structure_counts_and_self_contained(tmp_path, report):
    raw, doc = _render(report, tmp_path)
    assert raw.startswith("<!DOCTYPE html>")
    assert [doc.articles[f"media-{i}"]["data-verdict"] for i in range(4)] == [
        r.verdict for r in report.results
    ]
    # image: preview + overlay; video: 2 preview frames (one with a heatmap) + timeline
    per_card = [len(doc.imgs_in(f"media-{i}")) for i in range(4)]
    assert per_card == [2, 4, 0, 0]
    assert doc.tags["img"] == 6
    assert all(a["src"].startswith("data:image/") for _, a in doc.imgs)
    assert doc.tags["script"] == 0 and doc.tags["link"] == 0
    assert re.search(r"https?://", raw) is None
    assert len(raw.encode()) < 1_500_000
    for i, r in enumerate(report.results):
        assert explain(r) in doc.all_text(f"media-{i}")
    summary = doc.all_text(None)
    assert "4 media" in summary and "facetrust 0.1.0" in summary and "2024-05-01T12:00:00+00:00" in summary
    # every face is tabulated, including those whose frame has no preview
    assert doc.rows[("media-1", "faces")] == 1 + len(report.results[1].faces)
    assert doc.rows[("media-1", "tracks")] == 1 + len(report.results[1].tracks)
    assert doc.rows[("media-0", "faces")] == 1 + 2


def test_overlay_changes_face_box_only_inside_crop_footprint(tmp_path, report):
    _, doc = _render(report, tmp_path)
    r = report.results[0]
    plain = _decode(doc.imgs_in("media-0", "preview")[0]["src"]).astype(int)
    over = _decode(doc.imgs_in("media-0", "overlay")[0]["src"]).astype(int)
    assert plain.shape == over.shape == r.previews[0].shape
    diff = np.abs(plain - over).sum(axis=2)

    face = r.faces[0]  # the one with a heatmap
    x0, y0, x1, y1 = (int(round(v * r.preview_scale)) for v in face.box)
    inner = diff[y0 + 25 : y1 - 6, x0 + 6 : x1 - 6]  # skip box lines and the label
    assert inner.mean() > 40

    foot = _footprint(face, r.preview_scale, plain.shape)
    near = cv2.dilate(foot.astype(np.uint8), np.ones((49, 49), np.uint8)).astype(bool)
    assert foot.sum() > 5000 and (~near).sum() > 100_000
    assert diff[~near].max() <= 2  # JPEG blocks away from the footprint decode identically
    # the second face has no heatmap: its box interior (outside face 0's footprint) is unchanged
    g = r.faces[1]
    gx0, gy0, gx1, gy1 = (int(round(v * r.preview_scale)) for v in g.box)
    assert diff[gy0 + 25 : gy1 - 6, gx0 + 6 : gx1 - 6].max() <= 2


def test_user_text_is_escaped(tmp_path, report):
    raw, doc = _render(report, tmp_path, title="<i>scan</i> & <script>x()</script>")
    assert "<script" not in raw.lower() and doc.tags["script"] == 0 and doc.tags["i"] == 0
    err = report.results[2]
    text = doc.all_text("media-2")
    assert err.path in text and err.error in text and "corrupt_media" in text
    assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt;" in raw
    assert "<b>user</b> &amp; co" not in raw and "&lt;b&gt;user&lt;/b&gt; &amp; co" in raw
    assert "<b>user</b> & co" in doc.all_text(None)
    assert 'photos/astronaut, &quot;team&quot;.png' in raw
    na = report.results[3]
    assert na.reason in doc.all_text("media-3")


def test_video_card_has_timeline_and_tracks(tmp_path, report):
    _, doc = _render(report, tmp_path)
    (tl,) = doc.imgs_in("media-1", "timeline")
    assert tl["src"].startswith("data:image/png;base64,")
    img = _decode(tl["src"])
    assert img.shape[0] >= 200 and img.shape[1] >= 600 and img.std() > 10
    assert not doc.imgs_in("media-0", "timeline")  # images get no timeline
    text = doc.all_text("media-1")
    seg = report.results[1].tracks[0].segments[0]
    assert f"{seg[0]:.2f}–{seg[1]:.2f} s" in text
    overlays = doc.imgs_in("media-1", "overlay")
    assert [a["data-frame"] for a in overlays] == ["45"]  # only frame 45 has a heatmap


def test_empty_report(tmp_path):
    raw, doc = _render(ScanReport(results=[]), tmp_path)
    assert doc.tags["img"] == 0 and doc.tags["article"] == 0
    assert "No media in this report." in doc.all_text(None)
    assert "0 media" in doc.all_text(None)


def test_bad_preview_does_not_break_report(tmp_path, image_result):
    r = copy.deepcopy(image_result)
    r.previews = {0: np.zeros((7,), np.uint8)}
    ok = MediaResult("b.png", "real", 0.1)
    _, doc = _render(ScanReport([r, ok]), tmp_path)
    assert "figures could not be rendered" in doc.all_text("media-0")
    assert "media-1" in doc.articles and doc.tags["img"] == 0


def test_large_preview_is_downscaled(tmp_path, image_result):
    r = copy.deepcopy(image_result)
    big = cv2.resize(r.previews[0], (2048, 2048), interpolation=cv2.INTER_LINEAR)
    r.previews = {0: big}
    r.preview_scale = 2.0  # 2048 px preview of the 1024 px frame
    _, doc = _render(ScanReport([r]), tmp_path, max_preview_side=512)
    plain = _decode(doc.imgs_in("media-0", "preview")[0]["src"])
    over = _decode(doc.imgs_in("media-0", "overlay")[0]["src"])
    assert plain.shape == (512, 512, 3)
    # boxes are rescaled too: the heatmap still lands inside face 0's box
    d = np.abs(plain.astype(int) - over.astype(int)).sum(axis=2)
    x0, y0, x1, y1 = (int(round(v * 0.5)) for v in r.faces[0].box)
    assert d[y0 + 25 : y1 - 6, x0 + 6 : x1 - 6].mean() > 40


def test_render_overlay_places_heatmap_through_the_inverse_affine(image_result):
    r = image_result
    face = copy.deepcopy(r.faces[0])
    preview = r.previews[0]
    s = r.preview_scale
    # a hot 8x8 square at crop pixel (150, 70) of a 224 crop, given at half resolution (112x112)
    heat = np.zeros((112, 112), np.float32)
    heat[31:39, 71:79] = 1.0
    face.heatmap = heat
    cold = copy.deepcopy(face)
    cold.heatmap = np.zeros_like(heat)
    hot_img = render_overlay(preview, face, s).astype(int)
    cold_img = render_overlay(preview, cold, s).astype(int)
    d = np.abs(hot_img - cold_img).sum(axis=2)
    ys, xs = np.nonzero(d > 60)
    assert len(xs) > 10
    a = np.vstack([np.asarray(face.align_matrix), [0, 0, 1]])
    expect = (np.linalg.inv(a) @ [150.0, 70.0, 1.0])[:2] * s  # crop -> frame -> preview
    assert abs(xs.mean() - expect[0]) < 2.0 and abs(ys.mean() - expect[1]) < 2.0

    # outside the crop footprint the preview is returned bit-exact; inside, it is tinted
    foot = _footprint(face, s, preview.shape)
    ring = cv2.dilate(foot.astype(np.uint8), np.ones((5, 5), np.uint8)).astype(bool)
    assert np.array_equal(hot_img[~ring], preview[~ring].astype(int))
    core = cv2.erode(foot.astype(np.uint8), np.ones((5, 5), np.uint8)).astype(bool)
    assert (np.abs(cold_img - preview.astype(int)).sum(axis=2)[core] > 0).mean() > 0.95
    assert render_overlay(preview, face, s) is not preview


def test_render_overlay_without_heatmap_is_identity(image_result):
    face = image_result.faces[1]
    assert face.heatmap is None
    out = render_overlay(image_result.previews[0], face, image_result.preview_scale)
    assert np.array_equal(out, image_result.previews[0])
    with pytest.raises(ValueError):
        f0 = image_result.faces[0]
        render_overlay(image_result.previews[0], f0, 0.0)


def _faces_rows(raw: str, article: str) -> list[list[str]]:
    """The faces table of one card as lists of cell texts (header first)."""
    card = raw.split(f'id="{article}"', 1)[1].split("</article>", 1)[0]
    table = card.split('<table class="faces">', 1)[1].split("</table>", 1)[0]
    rows = []
    for tr in re.findall(r"<tr[^>]*>(.*?)</tr>", table, re.S):
        cells = re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", tr, re.S)
        rows.append([re.sub(r"<[^>]+>", "", c).strip() for c in cells])
    return rows


def test_labels_name_the_fake_probability_number_faces_from_one_and_gate(tmp_path, image_result):
    # Issue 16: the bar read "0.83" next to "fake probability" and faces were numbered from 0.
    r = image_result
    r.faces[1].decisive, r.faces[1].quality = False, {"failed": ["sharpness"], "passed": False}
    r.faces[1].family, r.faces[1].family_probabilities = "faceswap", {"faceswap": 0.9}  # a real face
    raw, doc = _render(ScanReport([r]), tmp_path)
    text = doc.all_text("media-0")
    assert "fake probability 83.0 %" in text and "(threshold 50.0 %)" in text
    bar = re.search(r'<div class="fill" style="width:([\d.]+)%;background:(#[0-9a-f]+)"', raw)
    assert float(bar.group(1)) == pytest.approx(83.0) and bar.group(2) == "#c0392b"  # fake: red
    head, *rows = _faces_rows(raw, "media-0")
    col = {name: i for i, name in enumerate(head)}
    assert [row[col["face"]] for row in rows] == ["1", "2"]
    assert [row[col["p(fake)"]] for row in rows] == ["83.0 %", "12.0 %"]
    assert rows[0][col["forgery family"]] == "faceswap (70.0 %)"
    assert rows[1][col["forgery family"]] == ""  # judged real: no family, whatever the head says
    assert rows[0][col["deciding"]] == "yes" and rows[1][col["deciding"]] == "not deciding (sharpness)"


def test_real_verdict_bar_is_green_and_family_below_floor_is_unknown(tmp_path, image_result):
    real = copy.deepcopy(image_result)
    real.verdict, real.threshold = "real", 0.9
    for f in real.faces:
        f.verdict = "real"
    fake = copy.deepcopy(image_result)
    fake.faces[0].family_probabilities = {"faceswap": 0.3, "synthesis": 0.2}
    fake.notes = ["face cap reached: only the 16 largest faces per frame were scored (25 found)"]
    raw, doc = _render(ScanReport([real, fake]), tmp_path)
    fills = re.findall(r'<div class="fill" style="width:[\d.]+%;background:(#[0-9a-f]+)"', raw)
    assert fills == ["#1e8449", "#c0392b"]  # the colour follows the verdict, not the number
    assert _faces_rows(raw, "media-0")[1][9] == ""  # a real face: no family
    assert _faces_rows(raw, "media-1")[1][9] == "unknown method"
    assert "face cap reached" in doc.all_text("media-1")
