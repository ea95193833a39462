// facetrust web page: sign in with the API token, upload media, follow the scan, show the result.
// Plain browser JavaScript, no build step, no third-party code. Every piece of data from the
// server is inserted with textContent or SVG attributes, never as HTML.
"use strict";

(() => {
  const TOKEN_KEY = "facetrust.token";
  const POLL_MS = 500;
  const HISTORY_PAGE = 20;
  const MAX_FACES_IMAGE = 24;
  const MAX_FACES_VIDEO = 8;
  const SVG_NS = "http://www.w3.org/2000/svg";
  const VERDICT_WORDS = { real: "real", fake: "fake", not_applicable: "not applicable", error: "error", failed: "failed" };

  const $ = (id) => document.getElementById(id);

  class AuthError extends Error {}
  class ApiError extends Error {
    constructor(status, code, message) {
      super(message);
      this.status = status;
      this.code = code;
    }
  }

  // `generation` invalidates in-flight polls and renders when the user moves to another scan.
  const state = { generation: 0, scanId: null, scan: null, nextCursor: null, urls: [], reportUrls: [] };

  // ------------------------------------------------------------------ helpers

  const L = window.FacetrustLabels; // labels.js: the shown words and numbers (same rules as the HTML report)
  const pct = L.pct;
  const clamp01 = (x) => Math.min(1, Math.max(0, x));
  const verdictWord = (v) => VERDICT_WORDS[v] || (v ? String(v) : "pending");

  function el(tag, attrs, text) {
    const node = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) node.setAttribute(k, v);
    if (text !== undefined && text !== null) node.textContent = String(text);
    return node;
  }

  function svg(tag, attrs, text) {
    const node = document.createElementNS(SVG_NS, tag);
    for (const [k, v] of Object.entries(attrs || {})) node.setAttribute(k, String(v));
    if (text !== undefined && text !== null) node.textContent = String(text);
    return node;
  }

  function formatTime(iso) {
    if (!iso) return "";
    const d = new Date(iso);
    return isNaN(d.getTime()) ? String(iso) : d.toLocaleString();
  }

  // Artifact URLs come from the server; the token is only ever sent to this origin's paths.
  function sameOriginPath(path) {
    return typeof path === "string" && path.startsWith("/") && !path.startsWith("//");
  }

  function setStatus(text, kind) {
    const m = $("status-message");
    m.textContent = text || "";
    m.className = "message" + (kind ? " " + kind : "");
  }

  function revokeUrls() {
    for (const u of state.urls) URL.revokeObjectURL(u);
    state.urls = [];
  }

  // ------------------------------------------------------------------ token and API

  const token = () => sessionStorage.getItem(TOKEN_KEY);

  function showLogin(message, kind) {
    $("login").hidden = false;
    $("app").hidden = true;
    $("session").hidden = true;
    const m = $("auth-message");
    m.textContent = message || "";
    m.className = "message " + (kind || "error");
    m.hidden = !message;
    const input = $("token-input");
    input.value = "";
    input.focus();
  }

  function showApp() {
    $("login").hidden = true;
    $("app").hidden = false;
    $("session").hidden = false;
    $("auth-message").hidden = true;
  }

  function unauthorized() {
    sessionStorage.removeItem(TOKEN_KEY);
    state.generation++; // stops polling with the rejected token
    showLogin("Unauthorized (401): the server rejected the token. Please enter it again.");
  }

  async function errorFrom(resp) {
    let code = "http_" + resp.status;
    let message = resp.statusText || "HTTP " + resp.status;
    try {
      const body = await resp.json();
      if (body && body.error) {
        code = body.error.code || code;
        message = body.error.message || message;
      }
    } catch (_) {
      // not JSON: keep the status line
    }
    return new ApiError(resp.status, code, message);
  }

  async function api(path) {
    const t = token();
    if (!t) {
      unauthorized();
      throw new AuthError("no token");
    }
    if (!sameOriginPath(path)) throw new ApiError(0, "bad_url", "refusing to send the token to " + path);
    const resp = await fetch(path, { headers: { Authorization: "Bearer " + t }, cache: "no-store" });
    if (resp.status === 401) {
      unauthorized();
      throw new AuthError("unauthorized");
    }
    if (!resp.ok) throw await errorFrom(resp);
    return resp;
  }

  const apiJson = async (path) => (await api(path)).json();

  // <img> and links cannot send the Authorization header: fetch, then hand over an object URL.
  async function apiObjectUrl(path, list) {
    const blob = await (await api(path)).blob();
    const url = URL.createObjectURL(blob);
    (list || state.urls).push(url);
    return url;
  }

  function reportError(err, prefix) {
    if (err instanceof AuthError) return; // the login form already says so
    const what = err instanceof ApiError ? `${err.message} (${err.code})` : err && err.message ? err.message : String(err);
    setStatus((prefix ? prefix + ": " : "") + what, "error");
  }

  // ------------------------------------------------------------------ upload and progress

  function setUploadProgress(fraction) {
    $("upload-progress").value = clamp01(fraction);
    $("upload-text").textContent = Math.round(clamp01(fraction) * 100) + "%";
  }

  function setScanProgress(scan) {
    const bar = $("scan-progress");
    const text = $("scan-text");
    if (!scan) {
      bar.removeAttribute("value"); // indeterminate while an image is scanned inside the request
      text.textContent = "scanning…";
      return;
    }
    const p = typeof scan.progress === "number" ? clamp01(scan.progress) : 0;
    bar.value = scan.status === "done" ? 1 : p;
    let label = `${scan.status} · ${Math.round((scan.status === "done" ? 1 : p) * 100)}%`;
    if (scan.frames_total) label += ` · frames ${scan.frames_done || 0}/${scan.frames_total}`;
    text.textContent = label;
  }

  function resetProgress() {
    $("progress-area").hidden = false;
    setUploadProgress(0);
    $("scan-progress").value = 0;
    $("scan-text").textContent = "waiting for the upload";
  }

  function optionalFields(form) {
    const thr = $("threshold-input").value.trim();
    const frames = $("frames-input").value.trim();
    if (thr !== "") form.append("threshold", thr);
    if (frames !== "") form.append("frames", frames);
  }

  function upload(file) {
    const t = token();
    if (!t) return unauthorized();
    const gen = ++state.generation;
    const form = new FormData();
    form.append("file", file, file.name);
    optionalFields(form);
    resetProgress();
    setStatus(`Uploading ${file.name}…`);

    // XMLHttpRequest rather than fetch: it reports upload progress.
    const xhr = new XMLHttpRequest();
    xhr.open("POST", "/v1/scans");
    xhr.setRequestHeader("Authorization", "Bearer " + t);
    xhr.setRequestHeader("Accept", "application/json");
    xhr.responseType = "json";
    xhr.upload.onprogress = (e) => {
      if (e.lengthComputable && gen === state.generation) setUploadProgress(e.loaded / e.total);
    };
    xhr.upload.onload = () => {
      if (gen !== state.generation) return;
      setUploadProgress(1);
      setScanProgress(null);
      setStatus(`Uploaded ${file.name}; scanning…`);
    };
    xhr.onerror = () => {
      if (gen === state.generation) setStatus(`Upload of ${file.name} failed: the server could not be reached.`, "error");
    };
    xhr.onload = () => {
      if (xhr.status === 401) return unauthorized();
      const body = xhr.response;
      if (gen !== state.generation) {
        // The user moved on to another scan meanwhile: only list the new one.
        if (body && body.id) loadHistory(false).catch((err) => reportError(err, "History"));
        return;
      }
      if (xhr.status >= 400 || !body || !body.id) {
        const e = body && body.error ? body.error : { code: "http_" + xhr.status, message: xhr.statusText || "no answer" };
        let msg = `Upload of ${file.name} refused: ${e.message} (${e.code})`;
        const retry = xhr.getResponseHeader("Retry-After");
        if (xhr.status === 429 && retry) msg += ` — try again in ${retry} s`;
        $("scan-text").textContent = "not started";
        $("scan-progress").value = 0;
        return setStatus(msg, "error");
      }
      setUploadProgress(1);
      follow(body, gen);
      loadHistory(false).catch((err) => reportError(err, "History"));
    };
    xhr.send(form);
  }

  // Show the scan's state; poll while it is queued or running; render once it is finished.
  function follow(scan, gen) {
    if (gen !== state.generation) return;
    state.scanId = scan.id;
    markSelected();
    $("progress-area").hidden = false;
    setScanProgress(scan);
    if (scan.status === "queued" || scan.status === "running") {
      setStatus(`Scan of ${scan.filename || scan.id} is ${scan.status}…`);
      setTimeout(() => poll(scan.id, gen), POLL_MS);
      return;
    }
    setStatus(scan.status === "failed" ? "Scan failed." : "Scan finished.", scan.status === "failed" ? "error" : "");
    renderResult(scan, gen).catch((err) => reportError(err, "Showing the result"));
    if (scan.status === "done" || scan.status === "failed") updateHistoryItem(scan);
  }

  async function poll(id, gen) {
    if (gen !== state.generation) return;
    try {
      follow(await apiJson(`/v1/scans/${encodeURIComponent(id)}`), gen);
    } catch (err) {
      if (gen !== state.generation || err instanceof AuthError) return;
      reportError(err, "Polling the scan");
      if (err instanceof ApiError && err.status === 404) return; // gone: nothing left to follow
      setTimeout(() => poll(id, gen), POLL_MS * 4); // a transient failure: keep following, more slowly
    }
  }

  async function openScan(id) {
    const gen = ++state.generation;
    state.scanId = id;
    markSelected();
    setStatus("Loading scan…");
    try {
      const scan = await apiJson(`/v1/scans/${encodeURIComponent(id)}`);
      follow(scan, gen);
    } catch (err) {
      if (gen === state.generation) reportError(err, "Loading the scan");
    }
  }

  // ------------------------------------------------------------------ result view

  function firstResult(scan) {
    const results = scan.result && Array.isArray(scan.result.results) ? scan.result.results : [];
    return results[0] || null;
  }

  function renderVerdict(scan, r) {
    const box = $("verdict");
    const v = scan.status === "failed" ? "failed" : scan.verdict || (r && r.verdict) || null;
    box.replaceChildren();
    box.dataset.verdict = v || "";
    box.className = "verdict verdict-" + (v || "pending");
    box.appendChild(el("span", { class: "verdict-word" }, verdictWord(v)));
    const p = scan.fake_probability;
    box.appendChild(el("span", { class: "verdict-prob" },
      L.fakeProbabilityText(p)));
  }

  function renderNotice(scan, r) {
    const n = $("notice");
    let text = "";
    let kind = "info";
    if (scan.status === "failed") {
      const e = scan.error || {};
      text = `Scan failed${e.code ? " (" + e.code + ")" : ""}: ${e.message || "no reason given"}`;
      kind = "error";
    } else if (r && r.verdict === "not_applicable") {
      text = "Not applicable: " + (r.reason || "no reason given");
    } else if (r && r.verdict === "error") {
      text = `Analysis error${r.error_type ? " (" + r.error_type + ")" : ""}: ${r.error || "no reason given"}`;
      kind = "error";
    } else if (r && Array.isArray(r.notes) && r.notes.length) {
      text = "Warning: " + r.notes.join("; "); // e.g. the face cap was reached
      kind = "warning";
    }
    n.textContent = text;
    n.className = "message " + kind;
    n.hidden = !text;
    return r && (r.reason || r.error);
  }

  function renderMeta(scan, r) {
    const parts = [scan.filename || scan.id, scan.kind];
    if (r && r.width && r.height) parts.push(`${r.width}×${r.height}`);
    if (r && typeof r.duration_s === "number") parts.push(`${r.duration_s.toFixed(1)} s`);
    if (r && scan.kind === "video" && Array.isArray(r.frames)) parts.push(`${r.frames.length} frames analysed`);
    if (r && typeof r.threshold === "number") parts.push("threshold " + pct(r.threshold));
    if (scan.created_at) parts.push(formatTime(scan.created_at));
    $("result-meta").textContent = parts.filter(Boolean).join(" · ");
  }

  async function renderResult(scan, gen) {
    revokeUrls();
    state.scan = scan;
    const r = firstResult(scan);
    $("result").hidden = false;
    renderVerdict(scan, r);
    renderMeta(scan, r);
    const reason = renderNotice(scan, r);
    const explanation = (r && r.explanation) || "";
    $("explanation").textContent = explanation;
    // For "not applicable" and "error" the explanation mostly restates the notice: say it once.
    $("explanation").hidden = !explanation || (!!reason && explanation.includes(reason));
    renderFaces(scan, r);
    renderProvenance(r);
    renderTimeline(scan, r);
    const artifacts = scan.artifacts || {};
    $("report-button").hidden = !artifacts.report;
    $("report-download").hidden = !artifacts.report;
    const visual = !!(artifacts.preview && artifacts.preview.url) || !$("timeline-block").hidden;
    $("result-body").classList.toggle("no-visual", !visual);
    revealResult();
    await renderPreview(scan, r, artifacts, gen);
  }

  // Bring a freshly shown result into view unless its top is already on screen.
  function revealResult() {
    const top = $("result").getBoundingClientRect().top;
    if (top < 0 || top > window.innerHeight * 0.6) $("result").scrollIntoView({ block: "start" });
  }

  async function renderPreview(scan, r, artifacts, gen) {
    const block = $("preview-block");
    const img = $("preview-image");
    const layer = $("overlay-layer");
    const toggle = $("overlay-toggle");
    const preview = artifacts.preview;
    $("boxes").replaceChildren();
    img.removeAttribute("src");
    layer.removeAttribute("src");
    if (!preview || !preview.url) {
      block.hidden = true;
      return;
    }
    block.hidden = false;
    const caption = scan.kind === "video"
      ? `Frame ${preview.frame_index} (the most suspicious analysed frame)` : "";
    $("preview-caption").textContent = caption;
    const [imgUrl, overlayUrl] = await Promise.all([
      apiObjectUrl(preview.url),
      artifacts.overlay ? apiObjectUrl(artifacts.overlay) : Promise.resolve(null),
    ]);
    if (gen !== state.generation) return;
    await new Promise((resolve) => {
      img.onload = resolve;
      img.onerror = resolve;
      img.src = imgUrl;
    });
    if (gen !== state.generation) return;
    img.alt = `Preview of ${scan.filename || "the scanned media"}`;
    toggle.disabled = !overlayUrl;
    $("overlay-note").textContent = overlayUrl ? "" : "(no heatmap for this scan)";
    if (overlayUrl) layer.src = overlayUrl;
    applyOverlay();
    drawBoxes(r, preview, img);
  }

  function applyOverlay() {
    const on = $("overlay-toggle").checked && !$("overlay-toggle").disabled;
    $("overlay-layer").hidden = !on || !$("overlay-layer").getAttribute("src");
  }

  function drawBoxes(r, preview, img) {
    const layer = $("boxes");
    layer.replaceChildren();
    const w = preview.width || img.naturalWidth;
    const h = preview.height || img.naturalHeight;
    if (!r || !w || !h) return;
    const scale = typeof preview.scale === "number" ? preview.scale : 1;
    layer.setAttribute("viewBox", `0 0 ${w} ${h}`);
    layer.setAttribute("preserveAspectRatio", "none");
    const font = Math.max(12, Math.round(Math.min(w, h) / 28));
    const stroke = Math.max(2, Math.round(Math.min(w, h) / 200));
    const faces = (r.faces || []).filter((f) => f.frame_index === preview.frame_index);
    for (const f of faces) {
      if (!Array.isArray(f.box) || f.box.length < 4 || !f.box.every((v) => typeof v === "number" && isFinite(v))) continue;
      const [x0, y0, x1, y1] = f.box.map((v) => v * scale);
      const cls = "v-" + (f.verdict || "none");
      const g = svg("g", { class: "face-box " + cls });
      g.appendChild(svg("title", {}, `${L.faceName(f)}: ${verdictWord(f.verdict)}, ${L.fakeProbabilityText(f.fake_probability)}`));
      g.appendChild(svg("rect", { x: x0, y: y0, width: Math.max(1, x1 - x0), height: Math.max(1, y1 - y0), "stroke-width": stroke }));
      const ty = y0 - font * 0.35 > font ? y0 - font * 0.35 : y1 + font;
      g.appendChild(svg("text", { x: x0, y: ty, "font-size": font }, L.boxText(f, verdictWord(f.verdict))));
      layer.appendChild(g);
    }
  }

  function faceLabel(f, kind) {
    const n = L.faceName(f);
    if (kind !== "video") return n[0].toUpperCase() + n.slice(1);
    const t = typeof f.time_s === "number" ? ` (t=${f.time_s.toFixed(2)} s)` : "";
    return `Frame ${f.frame_index}${t}, ${n}` + (f.track_id !== null && f.track_id !== undefined ? `, track ${f.track_id}` : "");
  }

  function probBar(p, threshold, verdict, label) {
    const bar = el("div", { class: "prob-bar v-" + (verdict || "none"), role: "meter", "aria-valuemin": "0", "aria-valuemax": "100", "aria-label": label });
    if (typeof p === "number" && isFinite(p)) {
      bar.setAttribute("aria-valuenow", (p * 100).toFixed(1));
      const fill = el("div", { class: "prob-fill" });
      fill.style.width = (clamp01(p) * 100).toFixed(1) + "%";
      bar.appendChild(fill);
    }
    if (typeof threshold === "number" && isFinite(threshold)) {
      const thr = el("div", { class: "prob-thr", title: "threshold " + pct(threshold) });
      thr.style.left = (clamp01(threshold) * 100).toFixed(1) + "%";
      bar.appendChild(thr);
    }
    bar.appendChild(el("span", { class: "prob-text" }, L.pFake(p)));
    return bar;
  }

  // What the file declares about itself, apart from the detector's probability.
  function renderProvenance(r) {
    const block = $("provenance-block");
    const list = $("provenance");
    list.replaceChildren();
    const prov = r && r.provenance;
    block.hidden = !prov;
    if (!prov) return;
    const rows = L.provenanceRows(prov);
    if (L.declaresNothing(prov)) list.appendChild(el("p", { class: "muted" }, L.NO_METADATA));
    for (const [k, v] of rows) {
      list.appendChild(el("dt", {}, k));
      list.appendChild(el("dd", {}, v));
    }
  }

  function renderFaces(scan, r) {
    const list = $("faces");
    list.replaceChildren();
    const faces = r && Array.isArray(r.faces) ? r.faces.slice() : [];
    $("faces-block").hidden = faces.length === 0;
    const video = scan.kind === "video";
    if (video) faces.sort((a, b) => (b.fake_probability ?? -1) - (a.fake_probability ?? -1));
    const limit = video ? MAX_FACES_VIDEO : MAX_FACES_IMAGE;
    for (const f of faces.slice(0, limit)) {
      const li = el("li", { class: "face" });
      const head = el("div", { class: "face-head" });
      const label = faceLabel(f, scan.kind);
      head.appendChild(el("span", { class: "face-name" }, label));
      head.appendChild(el("span", { class: "tag v-" + (f.verdict || "none") }, verdictWord(f.verdict)));
      if (!L.deciding(f)) head.appendChild(el("span", { class: "tag not-deciding", title: "below the face-quality gate: reported, not deciding the verdict" }, L.NOT_DECIDING));
      const family = L.familyText(f); // only for a face judged fake; "unknown method" below the floor
      if (family) head.appendChild(el("span", { class: "family" }, "forgery family: " + family));
      li.appendChild(head);
      li.appendChild(probBar(f.fake_probability, r.threshold, f.verdict, label + " fake probability"));
      list.appendChild(li);
    }
    const notes = [];
    if (faces.length > limit) notes.push(`${faces.length - limit} more face detections not listed (the HTML report has them all).`);
    if (video && faces.length > 1) notes.push("Sorted by fake probability, highest first.");
    $("faces-more").textContent = notes.join(" ");
    $("faces-more").hidden = notes.length === 0;
  }

  // ------------------------------------------------------------------ video timeline

  function renderTimeline(scan, r) {
    const holder = $("timeline");
    holder.replaceChildren();
    const frames = r && Array.isArray(r.frames) ? r.frames : [];
    const show = scan.kind === "video" && frames.length > 0;
    $("timeline-block").hidden = !show;
    if (!show) return;
    const useTime = frames.every((f) => typeof f.time_s === "number");
    const xOf = (f) => (useTime ? f.time_s : f.index);
    const segs = [];
    // Segments are in seconds: without frame times there is nothing to place them on.
    if (useTime) {
      for (const t of r.tracks || []) for (const s of t.segments || []) if (s.length >= 2) segs.push([t.track_id, s[0], s[1]]);
    }
    let tMax = Math.max(...frames.map(xOf), useTime && typeof r.duration_s === "number" ? r.duration_s : 0,
      ...segs.map((s) => s[2]));
    if (!(tMax > 0)) tMax = 1;
    const W = 540, H = 200, L = 44, R = 22, T = 12, B = 34;
    const X = (v) => L + (v / tMax) * (W - L - R);
    const Y = (p) => T + (1 - clamp01(p)) * (H - T - B);
    const thr = typeof r.threshold === "number" ? r.threshold : null;
    const probs = frames.filter((f) => typeof f.fake_probability === "number");
    const best = probs.reduce((a, f) => (!a || f.fake_probability > a.fake_probability ? f : a), null);
    const unit = useTime ? " s" : "";
    const summary = [
      `Fake probability of ${frames.length} analysed frames over ${useTime ? tMax.toFixed(1) + " s" : tMax + " frames"}`,
      best ? `maximum ${pct(best.fake_probability)} at ${useTime ? best.time_s.toFixed(2) + " s" : "frame " + best.index}` : "no probabilities",
      thr !== null ? `threshold ${pct(thr)}` : "",
      `${segs.length} segment${segs.length === 1 ? "" : "s"} above the threshold`,
    ].filter(Boolean).join("; ");
    const root = svg("svg", { id: "timeline-svg", viewBox: `0 0 ${W} ${H}`, role: "img", "aria-label": summary, class: "timeline" });
    root.appendChild(svg("title", {}, summary));
    root.appendChild(svg("rect", { x: L, y: T, width: W - L - R, height: H - T - B, class: "plot-bg" }));
    for (const [track, s, e] of segs) {
      const x0 = X(s), x1 = X(e);
      const seg = svg("rect", { x: x0, y: T, width: Math.max(2, x1 - x0), height: H - T - B, class: "seg" });
      seg.appendChild(svg("title", {}, `track ${track}: ${s.toFixed(2)}–${e.toFixed(2)} s above the threshold`));
      root.appendChild(seg);
    }
    for (const p of [0, 0.5, 1]) {
      root.appendChild(svg("line", { x1: L, x2: W - R, y1: Y(p), y2: Y(p), class: "grid" }));
      root.appendChild(svg("text", { x: L - 6, y: Y(p) + 4, class: "axis", "text-anchor": "end" }, Math.round(p * 100) + "%"));
    }
    for (const v of [0, tMax / 2, tMax]) {
      const anchor = v === 0 ? "start" : v === tMax ? "end" : "middle";
      root.appendChild(svg("text", { x: X(v), y: H - B + 16, class: "axis", "text-anchor": anchor },
        (useTime ? v.toFixed(1) : Math.round(v)) + unit));
    }
    root.appendChild(svg("text", { x: (L + W - R) / 2, y: H - 4, class: "axis", "text-anchor": "middle" }, useTime ? "time" : "frame"));
    if (thr !== null) {
      root.appendChild(svg("line", { x1: L, x2: W - R, y1: Y(thr), y2: Y(thr), class: "thr", id: "timeline-threshold" }));
      // Above the line, or below it when the line is near the top of the plot.
      const ly = Y(thr) - T < 16 ? Y(thr) + 14 : Y(thr) - 5;
      root.appendChild(svg("text", { x: L + 6, y: ly, class: "axis thr-label", "text-anchor": "start" }, "threshold " + pct(thr)));
    }
    // One polyline per run of frames with a probability (frames without a face leave a gap).
    const sorted = frames.slice().sort((a, b) => xOf(a) - xOf(b));
    let run = [];
    const flush = () => {
      if (run.length > 1) root.appendChild(svg("polyline", { points: run.join(" "), class: "line" }));
      run = [];
    };
    for (const f of sorted) {
      if (typeof f.fake_probability !== "number") { flush(); continue; }
      run.push(`${X(xOf(f)).toFixed(1)},${Y(f.fake_probability).toFixed(1)}`);
    }
    flush();
    for (const f of sorted) {
      if (typeof f.fake_probability !== "number") continue;
      const above = thr !== null && f.fake_probability >= thr;
      const dot = svg("circle", { cx: X(xOf(f)), cy: Y(f.fake_probability), r: above ? 4.5 : 3.5, class: "dot " + (above ? "above" : "below") });
      dot.appendChild(svg("title", {}, `frame ${f.index}${useTime ? " at " + f.time_s.toFixed(2) + " s" : ""}: ${pct(f.fake_probability)}`));
      root.appendChild(dot);
    }
    holder.appendChild(root);
  }

  // ------------------------------------------------------------------ report

  async function reportUrl() {
    const scan = state.scan;
    if (!scan || !scan.artifacts || !scan.artifacts.report) return null;
    return { scan, url: await apiObjectUrl(scan.artifacts.report, state.reportUrls) };
  }

  function download(url, name) {
    const a = el("a", { href: url, download: name });
    document.body.appendChild(a);
    a.click();
    a.remove();
  }

  async function openReport() {
    // Open the window inside the click so pop-up blockers allow it; fill it once the report arrives.
    const win = window.open("", "_blank");
    try {
      const got = await reportUrl();
      if (!got) return win && win.close();
      if (win) {
        win.location.href = got.url;
      } else {
        download(got.url, `facetrust-report-${got.scan.id}.html`);
        setStatus("The pop-up was blocked: the report was downloaded instead.");
      }
    } catch (err) {
      if (win) win.close();
      reportError(err, "Opening the report");
    }
  }

  async function downloadReport() {
    try {
      const got = await reportUrl();
      if (got) download(got.url, `facetrust-report-${got.scan.id}.html`);
    } catch (err) {
      reportError(err, "Downloading the report");
    }
  }

  // ------------------------------------------------------------------ history

  function historyItem(scan) {
    const li = el("li", { class: "history-entry" });
    const btn = el("button", { type: "button", class: "history-item", "data-scan-id": scan.id });
    btn.appendChild(el("span", { class: "h-name" }, scan.filename || scan.id));
    const v = scan.status === "done" ? scan.verdict : scan.status === "failed" ? "failed" : null;
    const tag = el("span", { class: "tag v-" + (v || scan.status) }, v ? verdictWord(v) : scan.status);
    const line = el("span", { class: "h-meta" });
    line.appendChild(tag);
    if (typeof scan.fake_probability === "number") line.appendChild(el("span", { class: "h-prob" }, pct(scan.fake_probability)));
    line.appendChild(el("span", { class: "h-kind" }, `${scan.kind} · ${formatTime(scan.created_at)}`));
    btn.appendChild(line);
    btn.addEventListener("click", () => openScan(scan.id));
    li.appendChild(btn);
    return li;
  }

  function markSelected() {
    for (const b of document.querySelectorAll(".history-item")) {
      if (b.dataset.scanId === state.scanId) b.setAttribute("aria-current", "true");
      else b.removeAttribute("aria-current");
    }
  }

  function updateHistoryItem(scan) {
    for (const b of document.querySelectorAll(".history-item")) {
      if (b.dataset.scanId === scan.id) b.parentElement.replaceWith(historyItem(scan));
    }
    markSelected();
  }

  async function loadHistory(append) {
    const params = new URLSearchParams({ limit: String(HISTORY_PAGE) });
    if (append && state.nextCursor) params.set("cursor", state.nextCursor);
    const page = await apiJson("/v1/scans?" + params.toString());
    const list = $("history-list");
    if (!append) list.replaceChildren();
    for (const scan of page.items || []) list.appendChild(historyItem(scan));
    state.nextCursor = page.next_cursor || null;
    $("more-button").hidden = !state.nextCursor;
    $("history-empty").hidden = list.children.length > 0;
    markSelected();
  }

  // ------------------------------------------------------------------ wiring

  function clearResult() {
    revokeUrls();
    state.scan = null;
    state.scanId = null;
    $("result").hidden = true;
    $("progress-area").hidden = true;
    $("history-list").replaceChildren();
    setStatus("");
  }

  async function signIn(ev) {
    ev.preventDefault();
    const t = $("token-input").value.trim();
    if (!t) return;
    sessionStorage.setItem(TOKEN_KEY, t);
    $("login-button").disabled = true;
    try {
      await loadHistory(false); // doubles as the token check
      showApp();
      $("file-input").focus();
    } catch (err) {
      if (!(err instanceof AuthError)) {
        showApp();
        reportError(err, "Loading the history");
      }
    } finally {
      $("login-button").disabled = false;
    }
  }

  function forget() {
    sessionStorage.removeItem(TOKEN_KEY);
    state.generation++;
    for (const u of state.reportUrls) URL.revokeObjectURL(u);
    state.reportUrls = [];
    clearResult();
    showLogin("Token forgotten. Enter it again to continue.", "info");
  }

  function wireDropZone() {
    const zone = $("drop-zone");
    const input = $("file-input");
    input.addEventListener("change", () => {
      if (input.files && input.files[0]) upload(input.files[0]);
      input.value = ""; // so picking the same file again still uploads
    });
    for (const type of ["dragenter", "dragover"]) {
      zone.addEventListener(type, (e) => {
        e.preventDefault();
        zone.classList.add("dragging");
      });
    }
    for (const type of ["dragleave", "drop"]) zone.addEventListener(type, () => zone.classList.remove("dragging"));
    zone.addEventListener("drop", (e) => {
      e.preventDefault();
      const files = e.dataTransfer && e.dataTransfer.files;
      if (files && files.length) upload(files[0]);
      if (files && files.length > 1) setStatus("Only the first dropped file is scanned.");
    });
    // A file dropped beside the zone must not make the browser navigate away from the page.
    for (const type of ["dragover", "drop"]) window.addEventListener(type, (e) => e.preventDefault());
  }

  function init() {
    $("login-form").addEventListener("submit", signIn);
    $("forget-button").addEventListener("click", forget);
    $("overlay-toggle").addEventListener("change", applyOverlay);
    $("report-button").addEventListener("click", openReport);
    $("report-download").addEventListener("click", downloadReport);
    $("more-button").addEventListener("click", () => loadHistory(true).catch((err) => reportError(err, "History")));
    $("refresh-button").addEventListener("click", () => loadHistory(false).catch((err) => reportError(err, "History")));
    wireDropZone();
    if (token()) {
      showApp();
      loadHistory(false).catch((err) => reportError(err, "Loading the history"));
    } else {
      showLogin("");
    }
  }

  init();
})();
