// Small DOM helpers. Every piece of text goes in as a text node or textContent: model output
// (hostile input) is never parsed as HTML.

export const $ = (sel, root = document) => root.querySelector(sel);

export function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === null || v === undefined || v === false) continue;
    if (k === "class") node.className = v;
    else if (k === "text") node.textContent = v;
    else if (k.startsWith("on")) node.addEventListener(k.slice(2), v);
    else node.setAttribute(k, v === true ? "" : String(v));
  }
  append(node, children);
  return node;
}

export function append(node, children) {
  for (const c of [children].flat(Infinity)) {
    if (c === null || c === undefined || c === false) continue;
    node.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return node;
}

const SVG_NS = "http://www.w3.org/2000/svg";
export function svg(tag, attrs, ...children) {
  const node = document.createElementNS(SVG_NS, tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === null || v === undefined) continue;
    if (k === "text") node.textContent = v;
    else if (k.startsWith("on")) node.addEventListener(k.slice(2), v);
    else node.setAttribute(k, String(v));
  }
  for (const c of children.flat()) if (c) node.append(c);
  return node;
}

/** The text cut to n characters at a word boundary where one is near, with an ellipsis. */
export function short(text, n) {
  const s = String(text ?? "").replace(/\s+/g, " ").trim();
  if (s.length <= n) return s;
  const cut = s.slice(0, n - 1);
  const space = cut.lastIndexOf(" ");
  return (space > n * 0.6 ? cut.slice(0, space) : cut).replace(/[\s,;:.]+$/, "") + "…";
}

export function fmt(v) {
  if (v === null || v === undefined) return "—";
  if (typeof v === "number") return Number.isInteger(v) ? String(v) : String(Number(v.toFixed(3)));
  if (typeof v === "string") return v;
  return JSON.stringify(v);
}

/** "1 call", "3 calls", "1 sample", "0 samples". */
export function plural(n, one, many) {
  return `${n} ${Number(n) === 1 ? one : many || one + "s"}`;
}

export function seconds(s) {
  const v = Number(s || 0);
  return v < 10 ? `${v.toFixed(1)} s` : v < 120 ? `${Math.round(v)} s` : `${Math.floor(v / 60)} min ${Math.round(v % 60)} s`;
}

export function badge(status, text) {
  const s = String(status ?? "");
  return el("span", { class: `badge ${s.toLowerCase().replace(/[^a-z_-]/g, "")}`, text: text ?? s });
}

/** A titled panel (h3 + body); `open` false makes it a collapsed <details>. */
export function panel(cls, title, body, open = true) {
  if (open) return el("div", { class: `panel ${cls}` }, el("h3", { text: title }), body);
  return el("details", { class: `panel ${cls}` }, el("summary", { text: title }), body);
}

export function pre(text, cls = "block") {
  return el("pre", { class: cls, text: String(text ?? "") });
}

/** Copies text to the clipboard (falls back to a hidden textarea where the API is missing). */
export async function copyText(text) {
  try {
    await navigator.clipboard.writeText(text);
    return true;
  } catch {
    const area = el("textarea", { class: "offscreen", "aria-hidden": "true" });
    area.value = text;
    document.body.append(area);
    area.select();
    let ok = false;
    try { ok = document.execCommand("copy"); } catch { ok = false; }
    area.remove();
    return ok;
  }
}
