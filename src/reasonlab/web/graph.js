// Sub-question graphs and flowcharts as SVG: layered top to bottom, branches as diamonds, labelled
// edges, loop-backs drawn on the right, edges that skip a layer routed around the boxes in their
// way. Nodes are clickable (the caller shows their prompt and output); a node the validator
// complained about is outlined in red with the message under it.

import { el, svg, short, fmt, badge } from "./dom.js";

const W = 220, H = 64, GX = 28, GY = 50, PAD = 14, LOOP = 26;

export function graphFrom(data) {
  // Accepts {nodes, edges} in the shapes strategies use: nodes as a list or an id→node map; edges as
  // {from,to}, {source,target} or [a, b]; or nodes that list their parents (deps / after / …).
  if (!data || typeof data !== "object") return null;
  const fromSpec = Boolean(data.spec && data.spec.nodes && !data.nodes);
  const src = fromSpec ? data.spec : data;
  let nodes = src.nodes;
  if (nodes && !Array.isArray(nodes) && typeof nodes === "object") {
    nodes = Object.entries(nodes).map(([id, n]) => ({ id, ...(n && typeof n === "object" ? n : { title: n }) }));
  }
  if (!Array.isArray(nodes) || nodes.length === 0) return null;
  const titles = {};
  for (const n of (src.structure && src.structure.nodes) || []) titles[n.id] = n;
  const list = nodes.map((n, i) => {
    const o = n && typeof n === "object" ? n : { id: String(n) };
    const id = String(o.id ?? o.name ?? i);
    const s = titles[id] || {};
    const deps = o.deps || o.depends_on || o.after || o.parents || s.after || [];
    return {
      id, status: o.status || o.state || "pending", answer: fromSpec ? undefined : o.answer, error: o.error,
      kind: o.kind || s.kind || o.type || "", raw: o.raw ?? o.output, prompt: o.prompt, seconds: o.seconds,
      title: o.title || s.title || o.label || o.question || o.asked || o.ask || o.text || o.prompt_template || "",
      deps: Array.isArray(deps) ? deps.map(String) : [String(deps)], problem: o.problem || null,
    };
  });
  let edges = [];
  for (const e of src.edges || []) {
    if (Array.isArray(e)) edges.push({ from: String(e[0]), to: String(e[1]), label: e[2] || "" });
    else if (e && typeof e === "object") edges.push({ from: String(e.from ?? e.source ?? e.src), to: String(e.to ?? e.target ?? e.dst), label: e.label || "" });
  }
  if (edges.length === 0) for (const n of list) for (const d of n.deps) edges.push({ from: d, to: n.id, label: "" });
  const ids = new Set(list.map((n) => n.id));
  edges = edges.filter((e) => ids.has(e.from) && ids.has(e.to));
  const g = { nodes: list, edges, mode: data.mode || src.mode || "", problems: [] };
  markProblems(g, data.issues || src.issues || data.problems || src.problems || []);
  return g;
}

/** Attaches validator messages ([{node, message}] or strings naming "node 'x'") to their nodes. */
export function markProblems(g, problems) {
  for (const p of problems || []) {
    const message = typeof p === "string" ? p : p.message || p.error || JSON.stringify(p);
    let id = typeof p === "object" && p ? p.node ?? p.id : null;
    if (id === null || id === undefined) {
      const m = String(message).match(/node ['"“]?([\w.-]+)['"”]?/);
      id = m ? m[1] : null;
    }
    const node = id !== null ? g.nodes.find((n) => n.id === String(id)) : null;
    if (node) node.problem = node.problem ? `${node.problem}; ${message}` : message;
    g.problems.push({ node: node ? node.id : null, message });
  }
}

function wrapLines(text, width, maxLines) {
  const words = String(text).replace(/\s+/g, " ").trim().split(" ");
  const lines = [""];
  for (const w of words) {
    const cur = lines[lines.length - 1];
    if (!cur) lines[lines.length - 1] = w;
    else if ((cur + " " + w).length <= width) lines[lines.length - 1] = cur + " " + w;
    else lines.push(w);
  }
  const out = lines.slice(0, maxLines).map((l) => short(l, width));
  if (lines.length > maxLines) out[maxLines - 1] = short(out[maxLines - 1] + " " + lines[maxLines], width - 1).replace(/…?$/, "…");
  return out;
}

function backEdges(g) {
  // Edges closing a cycle in a depth-first walk from the sources (loops drawn on the side).
  const out = Object.fromEntries(g.nodes.map((n) => [n.id, []]));
  g.edges.forEach((e, i) => out[e.from].push([e.to, i]));
  const state = {}, back = new Set();
  const visit = (id) => {
    state[id] = 1;
    for (const [to, i] of out[id]) {
      if (state[to] === 1) back.add(i);
      else if (!state[to]) visit(to);
    }
    state[id] = 2;
  };
  const hasIn = new Set(g.edges.map((e) => e.to));
  for (const n of g.nodes) if (!hasIn.has(n.id) && !state[n.id]) visit(n.id);
  for (const n of g.nodes) if (!state[n.id]) visit(n.id);
  return back;
}

function layout(g) {
  const back = backEdges(g);
  const level = Object.fromEntries(g.nodes.map((n) => [n.id, 0]));
  for (let k = 0; k <= g.nodes.length; k++) {
    let changed = false;
    g.edges.forEach((e, i) => {
      if (!back.has(i) && e.from !== e.to && level[e.to] < level[e.from] + 1) { level[e.to] = level[e.from] + 1; changed = true; }
    });
    if (!changed) break;
  }
  const rows = [];
  for (const n of g.nodes) (rows[level[n.id]] = rows[level[n.id]] || []).push(n);
  const widest = Math.max(1, ...rows.map((r) => (r ? r.length : 0)));
  const inner = widest * W + (widest - 1) * GX;
  const pos = {};
  rows.forEach((row, r) => {
    if (!row) return;
    const x0 = PAD + (inner - (row.length * W + (row.length - 1) * GX)) / 2;
    row.forEach((n, i) => { pos[n.id] = { x: x0 + i * (W + GX), y: PAD + r * (H + GY), level: r }; });
  });
  return { pos, back, rows, inner, height: PAD * 2 + rows.length * H + (rows.length - 1) * GY };
}

function edgePath(a, b, isBack, lane, rightX, blocked) {
  if (isBack || b.y <= a.y) {  // loop back: out of the right side, up the lane, into the target's right side
    const x = rightX + lane;
    return { d: `M ${a.x + W} ${a.y + H / 2} C ${x} ${a.y + H / 2}, ${x} ${a.y + H / 2}, ${x} ${(a.y + b.y + H) / 2} S ${x} ${b.y + H / 2}, ${b.x + W} ${b.y + H / 2}`, lx: x + 3, ly: (a.y + b.y + H) / 2 };
  }
  const x1 = a.x + W / 2, y1 = a.y + H, x2 = b.x + W / 2, y2 = b.y;
  if (blocked) {  // skips a layer with a box in the way: around the right of the drawing
    const x = rightX + lane;
    return { d: `M ${a.x + W} ${a.y + H * 0.7} C ${x} ${a.y + H * 0.7}, ${x} ${a.y + H}, ${x} ${(y1 + y2) / 2} S ${x} ${b.y + H * 0.3}, ${b.x + W} ${b.y + H * 0.3}`, lx: x + 3, ly: (y1 + y2) / 2 };
  }
  return { d: `M ${x1} ${y1} C ${x1} ${y1 + GY / 2}, ${x2} ${y2 - GY / 2}, ${x2} ${y2}`, lx: (x1 + x2) / 2, ly: (y1 + y2) / 2 };
}

function crosses(a, b, rows) {
  // Does the straight drop from a to b pass through a box on a layer in between?
  for (let r = a.level + 1; r < b.level; r++) {
    for (const n of rows[r] || []) {
      const t = (r - a.level) / (b.level - a.level);
      const x = a.x + W / 2 + t * (b.x - a.x);
      if (n && x > n.x - 4 && x < n.x + W + 4) return true;
    }
  }
  return false;
}

function nodeShape(n) {
  if (n.kind === "branch") return svg("polygon", { class: "shape", points: `${W / 2},0 ${W},${H / 2} ${W / 2},${H} 0,${H / 2}` });
  if (n.kind === "output" || n.kind === "input") return svg("rect", { class: "shape", width: W, height: H, rx: H / 2 });
  return svg("rect", { class: "shape", width: W, height: H, rx: 6 });
}

function subline(n) {
  if (n.problem) return `✗ ${n.problem}`;
  if (n.status === "error") return `error: ${n.error || ""}`;
  if (n.answer !== undefined && n.answer !== null) return `= ${fmt(n.answer)}`;
  return n.status;
}

/** The graph drawing; `onNode(node)` is called when a node is clicked (or Enter is pressed on it). */
export function drawGraph(g, onNode) {
  const { pos, back, rows, inner, height } = layout(g);
  const side = g.edges.some((e, i) => back.has(i) || (pos[e.to] && pos[e.from] && crosses(pos[e.from], pos[e.to], rowsPos(rows, pos))));
  const width = PAD * 2 + inner + (side ? LOOP * 3 : 0);
  const root = svg("svg", { viewBox: `0 0 ${width} ${height}`, role: "group", "aria-label": "reasoning graph" });
  root.style.maxWidth = `${width}px`;
  root.append(svg("defs", {}, svg("marker", { id: "arrow", viewBox: "0 0 10 10", refX: 9, refY: 5, markerWidth: 7, markerHeight: 7, orient: "auto-start-reverse" },
    svg("path", { d: "M 0 0 L 10 5 L 0 10 z", fill: "#888" }))));
  const labels = [];
  let lane = 0;
  const rp = rowsPos(rows, pos);
  g.edges.forEach((e, i) => {
    const a = pos[e.from], b = pos[e.to];
    if (!a || !b) return;
    const isBack = back.has(i) || b.y <= a.y;
    const blocked = !isBack && crosses(a, b, rp);
    const p = edgePath(a, b, isBack, isBack || blocked ? LOOP * (1 + (lane++ % 3)) * 0.9 : 0, PAD + inner, blocked);
    root.append(svg("path", { class: `edge${isBack ? " back" : ""}`, d: p.d, "marker-end": "url(#arrow)" }));
    if (e.label) labels.push(svg("text", { class: "edge-label", x: p.lx + 2, y: p.ly + 4, text: short(e.label, 16) }));
  });
  for (const n of g.nodes) {
    const p = pos[n.id];
    const cls = `node ${n.status}${n.problem ? " invalid" : ""}${n.kind ? " kind-" + n.kind : ""}`;
    const diamond = n.kind === "branch";
    const inset = diamond ? W / 2 : 8;
    const chars = diamond ? 22 : 29;
    const anchor = diamond ? "middle" : null;
    const lines = wrapLines(`${n.id}${n.title ? " · " + n.title : ""}`, chars, diamond ? 1 : 2);
    const group = svg("g", { class: cls, transform: `translate(${p.x},${p.y})`, tabindex: 0, role: "button",
      "data-id": n.id, "aria-label": `node ${n.id}: ${n.title || ""}` },
    svg("title", { text: `${n.id}${n.title ? ": " + n.title : ""}\nstatus: ${n.status}${n.problem ? "\nproblem: " + n.problem : ""}` }),
    nodeShape(n),
    ...lines.map((line, k) => svg("text", { x: inset, y: (diamond ? 30 : 18) + 14 * k, "text-anchor": anchor, text: line })),
    svg("text", { class: `sub${n.problem ? " problem" : ""}`, x: inset, y: diamond ? 45 : 54, "text-anchor": anchor,
      text: short(subline(n), diamond ? 18 : chars + 4) }));
    if (onNode) {
      group.addEventListener("click", () => onNode(n));
      group.addEventListener("keydown", (ev) => { if (ev.key === "Enter" || ev.key === " ") { ev.preventDefault(); onNode(n); } });
    }
    root.append(group);
  }
  root.append(...labels);  // labels last: above edges and boxes, on a halo
  const states = ["pending", "running", "done", "error", "skipped", ...(g.problems.length ? ["invalid"] : [])];
  const legend = el("div", { class: "legend" }, states.map((s) => badge(s)),
    el("span", { text: onNode ? "Click a node to see its prompt and output." : "" }));
  const problems = g.problems.length
    ? el("ul", { class: "problems" }, g.problems.map((p) => el("li", {}, p.node ? el("b", { text: `${p.node}: ` }) : null, p.message)))
    : null;
  return el("div", { class: "graph" }, el("div", { class: "graph-scroll" }, root), legend, problems);
}

function rowsPos(rows, pos) {
  return rows.map((row) => (row || []).map((n) => pos[n.id]));
}
