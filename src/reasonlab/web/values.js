// Generic rendering by shape, for anything without a dedicated view: tables for lists of records,
// key/value lists for objects, preformatted blocks for long text.

import { el, fmt, pre } from "./dom.js";

export function renderValue(v, depth = 0) {
  if (v === null || v === undefined) return el("span", { class: "muted", text: "—" });
  if (typeof v === "string") return v.length > 80 || v.includes("\n") ? pre(v) : el("span", { text: v });
  if (typeof v !== "object") return el("span", { text: fmt(v) });
  if (depth > 3) return pre(JSON.stringify(v, null, 2));
  if (Array.isArray(v)) {
    if (v.length === 0) return el("span", { class: "muted", text: "(none)" });
    if (v.every((x) => x === null || typeof x !== "object")) return el("span", { text: v.map(fmt).join(", ") });
    if (v.every((x) => x && typeof x === "object" && !Array.isArray(x))) return recordTable(v.slice(0, 100), depth);
    return el("ol", {}, v.slice(0, 100).map((x) => el("li", {}, renderValue(x, depth + 1))));
  }
  const dl = el("dl", { class: "kv" });
  for (const [k, x] of Object.entries(v)) dl.append(el("dt", { text: k }), el("dd", {}, renderValue(x, depth + 1)));
  return dl;
}

export function recordTable(rows, depth = 0) {
  const keys = [];
  for (const r of rows) for (const k of Object.keys(r)) if (!keys.includes(k)) keys.push(k);
  const table = el("table", {}, el("tr", {}, keys.map((k) => el("th", { text: k }))));
  for (const r of rows) table.append(el("tr", {}, keys.map((k) => el("td", {}, renderValue(r[k], depth + 1)))));
  return el("div", { class: "table-wrap" }, table);
}

/** A label and its value on one line ("answer: 21"), never run together. */
export function field(label, value, cls = "") {
  return el("div", { class: `field ${cls}` }, el("span", { class: "label", text: label }),
    value instanceof Node ? value : el("span", { class: "value", text: fmt(value) }));
}
