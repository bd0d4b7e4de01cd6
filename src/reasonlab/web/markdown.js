// A small, safe Markdown renderer for model text: it builds DOM nodes (never HTML strings), so
// whatever the model writes ends up as text. Supports paragraphs, line breaks, headings, lists,
// block quotes, fenced and indented code, rules, tables, `code`, **bold**, *italic*, ~~strike~~
// and http(s) links (shown with their address, opened without a referrer).

import { el } from "./dom.js";

const FENCE = /^\s{0,3}(`{3,}|~{3,})\s*([\w+#.-]*)\s*$/;
const HEADING = /^\s{0,3}(#{1,6})\s+(.*?)\s*#*\s*$/;
const BULLET = /^(\s*)([-*+])\s+(.*)$/;
const NUMBERED = /^(\s*)(\d{1,9})[.)]\s+(.*)$/;
const RULE = /^\s{0,3}([-*_])(\s*\1){2,}\s*$/;
const QUOTE = /^\s{0,3}>\s?(.*)$/;
const TABLE_SEP = /^\s*\|?\s*:?-{2,}:?\s*(\|\s*:?-{2,}:?\s*)*\|?\s*$/;

export function renderMarkdown(text) {
  const root = el("div", { class: "md" });
  const lines = String(text ?? "").replace(/\r\n?/g, "\n").split("\n");
  blocks(lines, root, 0);
  return root;
}

function blocks(lines, parent, depth) {
  let i = 0;
  let para = [];
  const flush = () => {
    if (para.length) parent.append(paragraph(para));
    para = [];
  };
  while (i < lines.length) {
    const line = lines[i];
    let m;
    if (!line.trim()) { flush(); i++; continue; }
    if ((m = line.match(FENCE))) {
      flush();
      const close = m[1];
      const body = [];
      for (i++; i < lines.length && !lines[i].trim().startsWith(close); i++) body.push(lines[i]);
      i++;
      parent.append(codeBlock(body.join("\n"), m[2]));
      continue;
    }
    if (/^( {4}|\t)/.test(line) && !para.length) {
      const body = [];
      for (; i < lines.length && (/^( {4}|\t)/.test(lines[i]) || !lines[i].trim()); i++) body.push(lines[i].replace(/^( {4}|\t)/, ""));
      while (body.length && !body[body.length - 1].trim()) body.pop();
      parent.append(codeBlock(body.join("\n"), ""));
      continue;
    }
    if ((m = line.match(HEADING))) {
      flush();
      parent.append(el(`h${Math.min(6, m[1].length + 2)}`, {}, inline(m[2])));
      i++;
      continue;
    }
    if (RULE.test(line)) {
      flush();
      parent.append(el("hr"));
      i++;
      continue;
    }
    if (QUOTE.test(line) && depth < 4) {
      flush();
      const body = [];
      for (; i < lines.length && (m = lines[i].match(QUOTE)); i++) body.push(m[1]);
      const q = el("blockquote");
      blocks(body, q, depth + 1);
      parent.append(q);
      continue;
    }
    if (BULLET.test(line) || NUMBERED.test(line)) {
      flush();
      i = list(lines, i, parent, depth);
      continue;
    }
    if (line.includes("|") && i + 1 < lines.length && TABLE_SEP.test(lines[i + 1])) {
      flush();
      i = table(lines, i, parent);
      continue;
    }
    para.push(line);
    i++;
  }
  flush();
}

function list(lines, start, parent, depth) {
  const first = lines[start].match(BULLET) || lines[start].match(NUMBERED);
  const ordered = !lines[start].match(BULLET);
  const indent = first[1].length;
  const node = ordered ? el("ol", { start: Number(first[2]) !== 1 ? Number(first[2]) : null }) : el("ul");
  let i = start;
  while (i < lines.length) {
    const m = ordered ? lines[i].match(NUMBERED) : lines[i].match(BULLET);
    if (!m || m[1].length !== indent) break;
    const item = [m[3]];
    for (i++; i < lines.length; i++) {
      const l = lines[i];
      if (!l.trim()) {
        if (i + 1 < lines.length && /^\s+/.test(lines[i + 1]) && lines[i + 1].search(/\S/) > indent) { item.push(""); continue; }
        break;
      }
      const sub = l.match(BULLET) || l.match(NUMBERED);
      if (sub && sub[1].length <= indent) break;
      item.push(l.slice(Math.min(l.search(/\S/), indent + 2)));
    }
    const li = el("li");
    if (item.length === 1 || depth > 3) li.append(...inline(item.join("\n")));
    else blocks(item, li, depth + 1);
    node.append(li);
    while (i < lines.length && !lines[i].trim()) {
      const next = lines[i + 1] || "";
      const again = ordered ? next.match(NUMBERED) : next.match(BULLET);
      if (again && again[1].length === indent) i++;
      else break;
    }
  }
  parent.append(node);
  return i;
}

function cells(line) {
  return line.trim().replace(/^\|/, "").replace(/\|$/, "").split("|").map((c) => c.trim());
}

function table(lines, start, parent) {
  const head = cells(lines[start]);
  const t = el("table", {}, el("thead", {}, el("tr", {}, head.map((h) => el("th", {}, inline(h))))));
  const body = el("tbody");
  let i = start + 2;
  for (; i < lines.length && lines[i].includes("|") && lines[i].trim(); i++) {
    body.append(el("tr", {}, cells(lines[i]).map((c) => el("td", {}, inline(c)))));
  }
  t.append(body);
  parent.append(el("div", { class: "table-wrap" }, t));
  return i;
}

function codeBlock(text, lang) {
  return el("pre", { class: "block code", "data-lang": lang || null }, el("code", { text }));
}

function paragraph(lines) {
  const p = el("p");
  lines.forEach((l, k) => {
    if (k) p.append(el("br"));
    p.append(...inline(l.replace(/\s+$/, "")));
  });
  return p;
}

// Inline spans: first match wins, scanned left to right; everything else is text.
const INLINE = [
  [/`([^`]+)`/, (m) => el("code", { text: m[1] })],
  [/\*\*(?=\S)([\s\S]*?\S)\*\*/, (m) => el("strong", {}, inline(m[1]))],
  [/__(?=\S)([\s\S]*?\S)__/, (m) => el("strong", {}, inline(m[1]))],
  [/~~(?=\S)([\s\S]*?\S)~~/, (m) => el("del", {}, inline(m[1]))],
  [/(^|[^\w*])\*(?=[^\s*])([^*]*?[^\s*])\*(?!\w)/, (m) => [m[1], el("em", {}, inline(m[2]))]],
  [/(^|[^\w])_(?=[^\s_])([^_]*?[^\s_])_(?!\w)/, (m) => [m[1], el("em", {}, inline(m[2]))]],
  [/\[([^\]\n]{1,200})\]\((https?:\/\/[^\s)]{1,500})\)/, (m) => link(m[1], m[2])],
  [/\bhttps?:\/\/[^\s<>()"']{1,500}[^\s<>()"'.,;:!?]/, (m) => link(m[0], m[0])],
];

function link(text, href) {
  return el("a", { href, target: "_blank", rel: "noopener noreferrer nofollow", title: href }, inline(text));
}

export function inline(text) {
  const out = [];
  let rest = String(text);
  while (rest) {
    let best = null;
    for (const [re, make] of INLINE) {
      const m = rest.match(re);
      if (m && (best === null || m.index < best.m.index)) best = { m, make };
    }
    if (!best) { out.push(rest); break; }
    if (best.m.index > 0) out.push(rest.slice(0, best.m.index));
    out.push(...[best.make(best.m)].flat());
    rest = rest.slice(best.m.index + best.m[0].length);
  }
  return out;
}
