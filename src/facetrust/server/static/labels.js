// The words and numbers the page shows for a scan result: the same rules as facetrust.report.labels
// (Python), which writes them into each face's `labels`; the fallbacks below apply those rules to a
// result stored before `labels` existed. Pure functions, no DOM: tests/server/test_page_labels.py
// runs them under Node against the Python labels.
"use strict";

(function (root) {
  const FAMILY_MIN_CONFIDENCE = 0.5; // report.labels.FAMILY_MIN_CONFIDENCE, for results without `labels`
  const UNKNOWN_METHOD = "unknown method";
  const NOT_DECIDING = "not deciding";

  const finite = (x) => typeof x === "number" && isFinite(x);
  // 0.904 -> "90.4 %": always the fake probability, and always named so by the callers below.
  const pct = (p) => (finite(p) ? (p * 100).toFixed(1) + " %" : "n/a");
  const pFake = (p) => "p(fake) " + pct(p);
  const fakeProbabilityText = (p) => (finite(p) ? "fake probability " + pct(p) : "no fake probability");
  const faceNumber = (f) => (f.labels && finite(f.labels.number) ? f.labels.number : (f.face_index || 0) + 1);
  const faceName = (f) => "face " + faceNumber(f);
  const deciding = (f) => (f.labels && typeof f.labels.deciding === "boolean" ? f.labels.deciding : f.decisive !== false);

  // A family only for a face judged fake; "unknown method" below the floor; "" otherwise.
  function familyText(f) {
    if (f.labels && "family" in f.labels) return f.labels.family || "";
    if (f.verdict !== "fake" || !f.family) return "";
    const fp = f.family_probabilities && f.family_probabilities[f.family];
    return finite(fp) && fp >= FAMILY_MIN_CONFIDENCE ? `${f.family} (${pct(fp)})` : UNKNOWN_METHOD;
  }

  // The text drawn next to a face's box: "1: fake · p(fake) 90.4 %".
  const boxText = (f, verdictWord) => `${faceNumber(f)}: ${verdictWord} · ${pFake(f.fake_probability)}`;

  // What the file declares (result.provenance), as [label, value] rows: report.provenance.provenance_rows.
  function provenanceRows(prov) {
    if (!prov) return [];
    const rows = [];
    for (const [group, name] of [["exif", "EXIF"], ["xmp", "XMP"], ["text", "PNG text"]]) {
      for (const [k, v] of Object.entries(prov[group] || {})) {
        const value = Array.isArray(v) ? v.map((h) => [h.action, h.softwareAgent].filter(Boolean).join(" ")).join("; ") : String(v);
        rows.push([`${name} ${k}`, value]);
      }
    }
    if (prov.icc_profile) rows.push(["ICC profile", String(prov.icc_profile)]);
    if (prov.error) rows.push(["error", String(prov.error)]);
    return rows.concat(c2paRows(prov.c2pa));
  }
  const shortSourceType = (s) => String(s || "").replace(/\/+$/, "").split("/").pop();

  // The C2PA section (provenance.c2pa): report.provenance.c2pa_rows.
  function c2paRows(c) {
    if (!c) return [];
    if (!c.checked) return [["C2PA", String(c.note || "not checked")]];
    if (c.error) return [["C2PA", String(c.error)]];
    if (!c.present) return [["C2PA", "no manifest"]];
    const rows = [["C2PA claim generator", String(c.claim_generator || "not named")]];
    rows.push(["C2PA signer", String(c.signer || "not named") + (c.issuer ? ` (issuer ${c.issuer})` : "")]);
    const state = String(c.validation_state || "unknown");
    if (c.valid) {
      rows.push(["C2PA validation", `${state}: signature and hashes check out; ` +
                 (c.trusted ? "signer on the trust list" : "signer on no trust list")]);
    } else {
      rows.push(["C2PA validation", `${state}: ${(c.validation_failures || []).join(", ") || "no code"}`]);
    }
    for (const a of c.actions || []) {
      rows.push(["C2PA action", [a.action, shortSourceType(a.digitalSourceType), a.softwareAgent].filter(Boolean).join(" · ")]);
    }
    rows.push(["C2PA AI generation", c.ai_generated ? "declared" : "not declared"]);
    return rows;
  }
  const NO_METADATA = "No camera, editing or generator metadata: common (it is often stripped) and no evidence either way.";
  // The NO_METADATA line shows for a file that declares nothing (its C2PA status row may still follow).
  // A video (scope "c2pa") has only C2PA read: its "C2PA" row says what there is.
  const declaresNothing = (prov) => !!prov && (prov.empty === true || (prov.empty === undefined && provenanceRows(prov).length === 0))
    && !prov.error && prov.scope !== "c2pa";

  const api = { provenanceRows, c2paRows, declaresNothing, NO_METADATA, FAMILY_MIN_CONFIDENCE, UNKNOWN_METHOD, NOT_DECIDING, pct, pFake, fakeProbabilityText, faceNumber,
                faceName, deciding, familyText, boxText };
  if (typeof module !== "undefined" && module.exports) module.exports = api;
  else root.FacetrustLabels = api;
})(typeof self !== "undefined" ? self : this);
