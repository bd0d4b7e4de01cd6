// The vote of self-consistency and DiVeRSe (and of PAL with several programs): one row per answer
// with a bar, the verifier's summed weights where the vote is weighted, each path's confidence
// where the engine measured one, and the winner marked.

import { el, fmt, plural, badge } from "./dom.js";

export function votesView(d) {
  const counts = d.counts || d.votes || {};
  const weights = d.weights && Object.keys(d.weights).length ? d.weights : null;
  const paths = Array.isArray(d.paths) ? d.paths : [];
  const hasConf = paths.some((p) => p.confidence !== null && p.confidence !== undefined);
  const score = (k) => Number((weights || counts)[k] || 0);
  const total = Object.keys(counts).reduce((a, k) => a + score(k), 0) || 1;
  const conf = {};
  for (const p of paths) if (p.key !== null && p.key !== undefined && p.confidence !== null && p.confidence !== undefined) (conf[p.key] = conf[p.key] || []).push(Number(p.confidence));
  const head = el("tr", {}, el("th", { text: "answer" }), el("th", { text: "votes" }),
    weights ? el("th", { text: "verifier weight" }) : null, hasConf ? el("th", { text: "mean confidence" }) : null);
  const table = el("table", { class: "vote-table" }, head);
  for (const ans of Object.keys(counts).sort((a, b) => score(b) - score(a))) {
    const bar = el("span", { class: "bar" });
    bar.style.width = `${Math.max(3, Math.round((80 * score(ans)) / total))}px`;
    const c = conf[ans];
    table.append(el("tr", { class: String(ans) === String(d.winner) ? "winner" : "" },
      el("td", { text: ans }), el("td", {}, bar, String(counts[ans])),
      weights ? el("td", { text: fmt(weights[ans]) }) : null,
      hasConf ? el("td", { text: c ? fmt(c.reduce((a, b) => a + b, 0) / c.length) : "—" }) : null));
  }
  const drawn = d.drawn ?? d.samples ?? (paths.length || null);
  const unanswered = paths.filter((p) => p.key === null || p.key === undefined).length;
  const parts = [];
  if (d.winner !== undefined && d.winner !== null) parts.push(`winner: ${fmt(d.winner)}`);
  if (drawn) parts.push(`${plural(drawn, "sample")} drawn${d.of && d.of !== drawn ? ` of ${d.of}` : ""}`);
  if (d.share !== undefined && d.share !== null) parts.push(`winner's share ${Math.round(100 * d.share)} %`);
  if (unanswered) parts.push(`${unanswered} without an answer`);
  const explain = weights
    ? "Each sampled path votes for its answer with the weight the verifier gave it; the heaviest answer wins."
    : "Each sampled reasoning path votes for the answer it reached; the most frequent answer wins.";
  const out = [el("div", { class: "table-wrap" }, table), el("div", { class: "meta", text: parts.join(" · ") }),
    el("p", { class: "explain", text: explain })];
  if (d.verifier && d.verifier.enabled !== undefined) {
    out.push(el("div", { class: "meta", text: d.verifier.enabled
      ? `verifier: ${d.verifier.mode || "on"}${d.verifier.fallback ? ` (fell back: ${d.verifier.fallback})` : ""}` : "verifier: off (plain majority vote)" }));
  }
  if (paths.length) out.push(pathsTable(paths, Boolean(weights), hasConf));
  return out;
}

function pathsTable(paths, weighted, hasConf) {
  const variants = new Set(paths.map((p) => p.variant)).size > 1;
  const table = el("table", {}, el("tr", {}, el("th", { text: "path" }), variants ? el("th", { text: "prompt" }) : null,
    el("th", { text: "answer" }), weighted ? el("th", { text: "weight" }) : null,
    hasConf ? el("th", { text: "confidence" }) : null, el("th", { text: "ended" })));
  for (const p of paths) {
    table.append(el("tr", { class: p.kept === false ? "dropped" : "" },
      el("td", { text: `#${p.index}` }), variants ? el("td", { text: `v${p.variant}` }) : null,
      el("td", { text: p.answer ?? "—" }), weighted ? el("td", { text: fmt(p.weight) }) : null,
      hasConf ? el("td", {}, fmt(p.confidence), p.kept === false ? " (dropped)" : "") : null,
      el("td", {}, p.finish && p.finish !== "stop" ? badge("warn", p.finish === "repetition" ? "looped" : p.finish === "low_confidence" ? "cut: low confidence" : p.finish) : "normally")));
  }
  return el("details", { class: "paths" }, el("summary", { text: `every path (${paths.length})` }), el("div", { class: "table-wrap" }, table));
}
