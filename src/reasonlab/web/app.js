// reasonlab web page: chat with a strategy picker; the reasoning unfolds live from the SSE stream of
// POST /v1/chat/completions (chunks carry a `reasonlab` field with the run's events).
// Plain JS, no build step, nothing fetched from outside this server. Model text is only ever set as
// textContent (never parsed as HTML).
"use strict";

const STORE_KEY = "reasonlab.conversations";
const $ = (sel) => document.querySelector(sel);

const state = {
  models: [],
  strategies: {},
  defaultStrategy: "zero-shot-cot",
  conversations: [],
  current: null,
  controller: null,
};

// ---------------------------------------------------------------- small DOM helpers
function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === null || v === undefined || v === false) continue;
    if (k === "class") node.className = v;
    else if (k === "text") node.textContent = v;
    else if (k.startsWith("on")) node.addEventListener(k.slice(2), v);
    else node.setAttribute(k, v === true ? "" : String(v));
  }
  for (const c of children.flat()) {
    if (c === null || c === undefined || c === false) continue;
    node.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return node;
}
const SVG_NS = "http://www.w3.org/2000/svg";
function svg(tag, attrs, ...children) {
  const node = document.createElementNS(SVG_NS, tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (k === "text") node.textContent = v;
    else node.setAttribute(k, String(v));
  }
  for (const c of children.flat()) if (c) node.append(c);
  return node;
}
function short(text, n) {
  const s = String(text ?? "");
  return s.length > n ? s.slice(0, n - 1) + "…" : s;
}
function fmt(v) {
  if (v === null || v === undefined) return "—";
  if (typeof v === "number") return Number.isInteger(v) ? String(v) : v.toFixed(3);
  if (typeof v === "string") return v;
  return JSON.stringify(v);
}
function badge(status) {
  const s = String(status ?? "");
  return el("span", { class: `badge ${s.toLowerCase()}`, text: s });
}

// ---------------------------------------------------------------- generic rendering
// Anything without a dedicated view is shown by shape: tables for lists of records, key/value
// lists for objects, preformatted blocks for long text.
function renderValue(v, depth = 0) {
  if (v === null || v === undefined) return el("span", { class: "meta", text: "—" });
  if (typeof v === "string") {
    return v.length > 80 || v.includes("\n") ? el("pre", { class: "block", text: v }) : el("span", { text: v });
  }
  if (typeof v !== "object") return el("span", { text: fmt(v) });
  if (depth > 3) return el("pre", { class: "block", text: JSON.stringify(v, null, 2) });
  if (Array.isArray(v)) {
    if (v.length === 0) return el("span", { class: "meta", text: "(none)" });
    if (v.every((x) => x === null || typeof x !== "object")) return el("span", { text: v.map(fmt).join(", ") });
    if (v.every((x) => x && typeof x === "object" && !Array.isArray(x))) return recordTable(v.slice(0, 100), depth);
    return el("ol", {}, v.slice(0, 100).map((x) => el("li", {}, renderValue(x, depth + 1))));
  }
  const dl = el("dl", { class: "kv" });
  for (const [k, x] of Object.entries(v)) dl.append(el("dt", { text: k }), el("dd", {}, renderValue(x, depth + 1)));
  return dl;
}
function recordTable(rows, depth) {
  const keys = [];
  for (const r of rows) for (const k of Object.keys(r)) if (!keys.includes(k)) keys.push(k);
  const table = el("table", {}, el("tr", {}, keys.map((k) => el("th", { text: k }))));
  for (const r of rows) table.append(el("tr", {}, keys.map((k) => el("td", {}, renderValue(r[k], depth + 1)))));
  return el("div", { class: "table-wrap" }, table);
}

// ---------------------------------------------------------------- graph drawing
function graphFrom(data) {
  // Accepts {nodes, edges} in the shapes strategies use: nodes as a list or an id→node map; edges as
  // {from,to}, {source,target} or [a, b]; or nodes that list their parents (deps / depends_on / after).
  if (!data || typeof data !== "object") return null;
  const fromSpec = Boolean(data.spec && data.spec.nodes && !data.nodes); // a drawn graph before it runs
  if (fromSpec) data = data.spec;
  let nodes = data.nodes;
  if (nodes && !Array.isArray(nodes) && typeof nodes === "object") {
    nodes = Object.entries(nodes).map(([id, n]) => ({ id, ...(typeof n === "object" ? n : { title: n }) }));
  }
  if (!Array.isArray(nodes) || nodes.length === 0) return null;
  const titles = {};
  for (const n of (data.structure && data.structure.nodes) || []) titles[n.id] = n.title;
  const list = nodes.map((n, i) => {
    const o = typeof n === "object" && n ? n : { id: String(n) };
    const id = String(o.id ?? o.name ?? i);
    return {
      id, status: o.status || o.state || "pending", answer: fromSpec ? undefined : o.answer, error: o.error, kind: o.kind,
      title: o.title || titles[id] || o.label || o.question || o.asked || o.ask || o.text || "",
      deps: o.deps || o.depends_on || o.after || o.parents || [],
    };
  });
  let edges = [];
  for (const e of data.edges || []) {
    if (Array.isArray(e)) edges.push({ from: String(e[0]), to: String(e[1]), label: e[2] || "" });
    else if (e && typeof e === "object") edges.push({ from: String(e.from ?? e.source ?? e.src), to: String(e.to ?? e.target ?? e.dst), label: e.label || "" });
  }
  if (edges.length === 0) for (const n of list) for (const d of n.deps) edges.push({ from: String(d), to: n.id, label: "" });
  const ids = new Set(list.map((n) => n.id));
  edges = edges.filter((e) => ids.has(e.from) && ids.has(e.to));
  return { nodes: list, edges };
}

function wrapLines(text, width, maxLines) {
  // Greedy word wrap for SVG text (no automatic wrapping there); the last line gets an ellipsis.
  const words = String(text).split(/\s+/);
  const lines = [""];
  for (const w of words) {
    const cur = lines[lines.length - 1];
    if (!cur) lines[lines.length - 1] = w;
    else if ((cur + " " + w).length <= width) lines[lines.length - 1] = cur + " " + w;
    else lines.push(w);
  }
  const out = lines.slice(0, maxLines).map((l) => short(l, width));
  if (lines.length > maxLines) out[maxLines - 1] = short(out[maxLines - 1] + " …", width);
  return out;
}

function layoutLevels(g) {
  // Longest-path layering, robust to cycles (back edges are ignored after |V| relaxations).
  const level = Object.fromEntries(g.nodes.map((n) => [n.id, 0]));
  for (let i = 0; i < g.nodes.length; i++) {
    let changed = false;
    for (const e of g.edges) {
      if (e.from !== e.to && level[e.to] < level[e.from] + 1 && level[e.from] + 1 < g.nodes.length) {
        level[e.to] = level[e.from] + 1;
        changed = true;
      }
    }
    if (!changed) break;
  }
  return level;
}

function drawGraph(g) {
  const level = layoutLevels(g);
  const rows = [];
  for (const n of g.nodes) (rows[level[n.id]] = rows[level[n.id]] || []).push(n);
  const W = 220, H = 62, GX = 24, GY = 46, PAD = 12;
  const widest = Math.max(...rows.map((r) => (r ? r.length : 0)));
  const width = PAD * 2 + widest * W + (widest - 1) * GX;
  const height = PAD * 2 + rows.length * H + (rows.length - 1) * GY;
  const pos = {};
  rows.forEach((row, r) => {
    if (!row) return;
    const rowWidth = row.length * W + (row.length - 1) * GX;
    const x0 = (width - rowWidth) / 2;
    row.forEach((n, i) => { pos[n.id] = { x: x0 + i * (W + GX), y: PAD + r * (H + GY) }; });
  });
  const root = svg("svg", { viewBox: `0 0 ${width} ${height}`, role: "img", "aria-label": "reasoning graph" });
  root.style.maxWidth = `${width}px`; // natural size on wide screens, shrinks to fit on phones
  root.append(svg("defs", {}, svg("marker", { id: "arrow", viewBox: "0 0 10 10", refX: 9, refY: 5, markerWidth: 7, markerHeight: 7, orient: "auto-start-reverse" },
    svg("path", { d: "M 0 0 L 10 5 L 0 10 z", fill: "#999" }))));
  for (const e of g.edges) {
    const a = pos[e.from], b = pos[e.to];
    if (!a || !b) continue;
    let d;
    if (b.y > a.y) d = `M ${a.x + W / 2} ${a.y + H} C ${a.x + W / 2} ${a.y + H + GY / 2}, ${b.x + W / 2} ${b.y - GY / 2}, ${b.x + W / 2} ${b.y}`;
    else d = `M ${a.x + W} ${a.y + H / 2} C ${a.x + W + 40} ${a.y + H / 2}, ${b.x + W + 40} ${b.y + H / 2}, ${b.x + W} ${b.y + H / 2}`; // back edge (loop)
    root.append(svg("path", { class: "edge", d, "marker-end": "url(#arrow)" }));
    if (e.label) root.append(svg("text", { class: "edge-label", x: (a.x + b.x) / 2 + W / 2 + 4, y: (a.y + H + b.y) / 2, text: e.label }));
  }
  for (const n of g.nodes) {
    const p = pos[n.id];
    const sub = n.status === "error" ? `error: ${n.error || ""}` : n.answer !== undefined && n.answer !== null ? `= ${fmt(n.answer)}` : n.status;
    const group = svg("g", { class: `node ${n.status}`, transform: `translate(${p.x},${p.y})` },
      svg("title", { text: `${n.id}${n.title ? ": " + n.title : ""}\nstatus: ${n.status}${n.answer !== undefined && n.answer !== null ? "\nanswer: " + fmt(n.answer) : ""}${n.error ? "\nerror: " + n.error : ""}` }),
      svg("rect", { width: W, height: H, rx: 6 }),
      ...wrapLines(`${n.id}${n.title ? " · " + n.title : ""}`, 32, 2).map((line, i) => svg("text", { x: 8, y: 17 + 14 * i, text: line })),
      svg("text", { class: "sub", x: 8, y: 52, text: short(sub, 36) }));
    root.append(group);
  }
  const legend = el("div", { class: "legend" }, ["pending", "running", "done", "error", "skipped"].map((s) => badge(s)));
  return el("div", { class: "graph" }, root, legend);
}

// ---------------------------------------------------------------- one assistant turn, live
class TurnView {
  constructor(container) {
    this.root = el("div", { class: "turn assistant" });
    this.bubble = el("div", { class: "bubble" });
    this.answer = el("div", { class: "answer pending", text: "thinking…" });
    this.meta = el("div", { class: "meta" });
    this.details = el("details", { class: "reasoning", open: true });
    this.summary = el("summary", { text: "reasoning" });
    this.calls = el("div", { class: "panel calls" });
    this.panels = el("div", { class: "panels" });
    this.details.append(this.summary, this.panels, el("div", { class: "panel" }, el("h3", { text: "model calls" }), this.calls));
    this.bubble.append(this.answer, this.meta, this.details);
    this.root.append(this.bubble);
    container.append(this.root);
    this.pending = [];
    this.sections = {};
    this.graph = null; // {nodes, edges} being drawn
    this.nCalls = 0;
    this.tokens = 0;
    this.events = []; // kept to re-render a stored conversation
  }

  section(name, title) {
    if (!this.sections[name]) {
      const body = el("div");
      const box = el("div", { class: `panel ${name}` }, el("h3", { text: title }), body);
      this.panels.append(box);
      this.sections[name] = body;
    }
    return this.sections[name];
  }

  status(text) { this.summary.textContent = text; }

  event(name, data) {
    this.events.push([name, data]);
    const handler = {
      queued: () => this.status(`reasoning · ${data.strategy} on ${data.model}`),
      call_start: () => this.callStart(data),
      call: () => this.call(data),
      vote: () => this.vote(data),
      verify: () => this.verify(data),
      node: () => this.node(data),
      graph: () => this.setGraph(data),
      graph_done: () => this.status(`graph ${data.status}${data.error ? ": " + data.error : ""}`),
      subquestion: () => this.subquestion(data),
      program: () => this.program(data),
      plan_round: () => this.planRound(data),
    }[name];
    if (handler) handler();
    else this.generic(name, data);
    this.scroll();
  }

  scroll() {
    const box = $("#messages");
    if (box.scrollHeight - box.scrollTop - box.clientHeight < 200) box.scrollTop = box.scrollHeight;
  }

  callStart(d) {
    const card = el("div", { class: "call running" },
      el("div", { class: "head" }, el("b", { text: d.label || "call" }), el("span", { text: `${d.n || 1} sample(s) · running…` })));
    card.dataset.label = d.label || "";
    card.dataset.left = String(d.n || 1);
    this.calls.append(card);
    this.pending.push(card);
    this.status(`reasoning · ${this.nCalls} calls done, ${d.label || "call"} running`);
  }

  call(d) {
    const idx = this.pending.findIndex((c) => c.dataset.label === (d.label || ""));
    if (idx >= 0) {
      const ph = this.pending[idx];
      ph.dataset.left = String(Number(ph.dataset.left) - 1);
      if (Number(ph.dataset.left) <= 0) { ph.remove(); this.pending.splice(idx, 1); }
    }
    this.nCalls += 1;
    this.tokens += (d.prompt_tokens || 0) + (d.completion_tokens || 0);
    const prompt = el("details", {}, el("summary", { text: `prompt (${(d.messages || []).length} messages)` }),
      (d.messages || []).map((m) => el("div", {}, el("div", { class: "msg-role", text: m.role }), el("pre", { text: m.content }))));
    const card = el("div", { class: `call${d.cached ? " cached" : ""}` },
      el("div", { class: "head" },
        el("b", { text: `#${d.id} ${d.label || "call"}` }),
        el("span", { text: `sample ${d.sample_index}` }),
        el("span", { text: `${d.prompt_tokens}+${d.completion_tokens} tokens` }),
        el("span", { text: d.cached ? "cached" : `${Number(d.seconds || 0).toFixed(2)}s` }),
        d.kind && d.kind !== "generate" ? el("span", { text: d.kind }) : null),
      prompt, el("pre", { text: d.output || "" }));
    const firstPending = this.pending[0];
    if (firstPending) this.calls.insertBefore(card, firstPending); else this.calls.append(card);
    this.status(`reasoning · ${this.nCalls} calls, ${this.tokens} tokens`);
  }

  vote(d) {
    const counts = d.counts || d.votes || {};
    const weights = d.weights || null;
    const total = Object.values(weights || counts).reduce((a, b) => a + Number(b || 0), 0) || 1;
    const rows = Object.entries(counts).sort((a, b) => Number((weights || counts)[b[0]]) - Number((weights || counts)[a[0]]));
    const table = el("table", {}, el("tr", {}, el("th", { text: "answer" }), el("th", { text: "votes" }), weights ? el("th", { text: "weight" }) : null));
    for (const [ans, c] of rows) {
      const w = weights ? weights[ans] : c;
      const bar = el("span", { class: "bar" });
      bar.style.width = `${Math.max(2, Math.round((100 * Number(w || 0)) / total))}px`;
      table.append(el("tr", { class: String(ans) === String(d.winner) ? "winner" : "" },
        el("td", { text: ans }), el("td", {}, bar, String(c)), weights ? el("td", { text: fmt(w) }) : null));
    }
    const body = this.section("votes", "vote");
    body.replaceChildren(el("div", { class: "table-wrap" }, table),
      el("div", { class: "meta", text: `winner: ${fmt(d.winner)}${d.drawn ? ` · ${d.drawn}${d.of ? "/" + d.of : ""} samples drawn` : ""}` }));
  }

  verify(d) {
    const body = this.section("verify", "verifier scores");
    body.append(el("div", { class: "meta", text: `path ${fmt(d.index)}: answer ${fmt(d.answer)}, score ${fmt(d.score)}` }));
  }

  setGraph(data) {
    const g = graphFrom(data);
    if (!g) return false;
    if (this.graph) {  // keep live states seen so far when the structure arrives late
      const old = Object.fromEntries(this.graph.nodes.map((n) => [n.id, n]));
      for (const n of g.nodes) {
        const o = old[n.id];
        if (!o) continue;
        if (!n.status || n.status === "pending") n.status = o.status;
        if (n.answer === undefined || n.answer === null) n.answer = o.answer;
        if (!n.title) n.title = o.title;
      }
    }
    this.graph = g;
    this.section("graph", "sub-question graph").replaceChildren(drawGraph(g));
    return true;
  }

  node(d) {
    if (!this.graph) this.graph = { nodes: [], edges: [] };
    let n = this.graph.nodes.find((x) => x.id === String(d.id));
    if (!n) {
      n = { id: String(d.id), status: "pending", title: d.title || d.asked || "", deps: [] };
      this.graph.nodes.push(n);
    }
    n.status = d.status || n.status;
    if (d.answer !== undefined) n.answer = d.answer;
    if (d.error) n.error = d.error;
    this.section("graph", "sub-question graph").replaceChildren(drawGraph(this.graph));
  }

  subquestion(d) {
    // least-to-most: a chain of sub-questions, each answered in order, the last one final.
    if (!this.graph) this.graph = { nodes: [], edges: [] };
    const id = d.final ? "final" : `Q${Number(d.index) + 1}`;
    const prev = this.graph.nodes[this.graph.nodes.length - 1];
    if (!this.graph.nodes.find((n) => n.id === id)) {
      this.graph.nodes.push({ id, title: d.question || "", status: "done", answer: d.answer, deps: [] });
      if (prev) this.graph.edges.push({ from: prev.id, to: id, label: "" });
    }
    this.section("graph", "sub-question graph").replaceChildren(drawGraph(this.graph));
  }

  program(d) {
    const body = this.section("programs", "programs");
    const code = d.code ?? d.program ?? d.source ?? "";
    const ok = d.ok ?? ("error" in d ? !d.error : d.exit_code !== undefined ? d.exit_code === 0 : undefined);
    const out = [];
    for (const k of ["answer", "stdout", "output", "result", "value", "stderr", "error", "limit", "timeout", "exit_code"]) {
      if (d[k] !== undefined && d[k] !== null && d[k] !== "") out.push(el("div", {}, el("span", { class: "msg-role", text: k }), renderValue(d[k], 2)));
    }
    const rest = Object.fromEntries(Object.entries(d).filter(([k]) => !["code", "program", "source", "answer", "stdout", "output", "result", "value", "stderr", "error", "limit", "timeout", "exit_code", "ok", "attempt", "round", "sample"].includes(k)));
    body.append(el("div", { class: "card" },
      el("div", { class: "head" }, el("b", { text: `program${d.sample !== undefined ? " · sample " + d.sample : ""}${d.attempt !== undefined ? " · attempt " + d.attempt : d.round !== undefined ? " · round " + d.round : ""}` }),
        ok === undefined ? null : badge(ok ? "ok" : "error")),
      el("pre", { class: "block", text: code }), out, Object.keys(rest).length ? renderValue(rest, 2) : null));
  }

  planRound(d) {
    const body = this.section("plans", "plan rounds");
    const actions = d.parsed && d.parsed.actions;
    const verdict = d.verdict || {};
    body.append(el("div", { class: "card" },
      el("div", { class: "head" }, el("b", { text: `round ${fmt(d.round)}` }), badge(d.valid ? "valid" : "invalid"),
        el("span", { class: "meta", text: `${fmt(d.prompt_tokens)}+${fmt(d.completion_tokens)} tokens` })),
      actions && actions.length ? el("ol", {}, actions.map((a) => el("li", { text: typeof a === "string" ? a : JSON.stringify(a) }))) : el("pre", { class: "block", text: d.output || "" }),
      d.critique ? el("div", { class: "critique", text: d.critique }) : null,
      Object.keys(verdict).length ? el("details", {}, el("summary", { text: "verifier verdict" }), renderValue(verdict, 2)) : null));
  }

  generic(name, data) {
    if (data && typeof data === "object" && data.nodes && this.setGraph(data)) return;
    const body = this.section("events", "other events");
    body.append(el("div", { class: "card" }, el("div", { class: "head" }, el("b", { text: name })), renderValue(data, 1)));
  }

  // -- the end of a run ---------------------------------------------------------------------
  finish(content, rl) {
    for (const p of this.pending) p.remove();
    this.pending = [];
    this.answer.classList.remove("pending");
    this.answer.textContent = content;
    const trace = rl && rl.trace;
    const usage = trace && trace.usage;
    this.meta.replaceChildren(
      `${rl ? rl.strategy : ""}${rl && rl.status && rl.status !== "ok" ? " · " + rl.status : ""}`,
      usage ? ` · ${usage.calls} calls${usage.cached_calls ? ` (+${usage.cached_calls} cached)` : ""} · ${usage.prompt_tokens}+${usage.completion_tokens} tokens · ${Number(usage.seconds).toFixed(2)}s` : "",
      rl && rl.trace_url ? " · " : "", rl && rl.trace_url ? el("a", { href: rl.trace_url, target: "_blank", rel: "noopener", text: "trace JSON" }) : "");
    if (rl && rl.note) this.meta.append(el("div", { text: `note: ${rl.note}` }));
    if (trace) this.renderDetails(trace);
    this.status(`reasoning · ${usage ? usage.calls : this.nCalls} calls`);
    this.details.open = false;
  }

  renderDetails(trace) {
    // Calls seen live are already listed; fill in what the stream may not have carried.
    if (this.nCalls === 0 && Array.isArray(trace.calls)) for (const c of trace.calls) this.call(c);
    const d = trace.details || {};
    const shown = new Set();
    if (d.votes && !this.sections.votes) { this.vote({ counts: d.votes, weights: d.weights, winner: d.winner, drawn: d.samples }); }
    if (d.votes) ["votes", "weights", "winner"].forEach((k) => shown.add(k));
    if (d.graph && this.setGraph(d.graph)) shown.add("graph");
    for (const key of ["rounds", "plan_rounds"]) {
      const rounds = d[key] || (d.modulo && d.modulo[key]);
      if (Array.isArray(rounds) && rounds.length && rounds[0] && rounds[0].round !== undefined) {
        if (!this.sections.plans) rounds.forEach((r) => this.planRound(r));
        shown.add(key);
      }
    }
    if (Array.isArray(d.programs)) { if (!this.sections.programs) d.programs.forEach((p) => this.program(p)); shown.add("programs"); }
    const rest = Object.fromEntries(Object.entries(d).filter(([k]) => !shown.has(k)));
    if (trace.reasoning) this.section("reasoning-text", "reasoning").replaceChildren(el("pre", { class: "block", text: trace.reasoning }));
    if (Object.keys(rest).length) this.section("details", "details").replaceChildren(renderValue(rest, 0));
  }

  fail(message) {
    for (const p of this.pending) p.remove();
    this.answer.classList.remove("pending");
    this.answer.classList.add("error");
    this.answer.textContent = message;
    this.status("reasoning (stopped)");
  }
}

// ---------------------------------------------------------------- conversations (sessionStorage)
function loadConversations() {
  try { state.conversations = JSON.parse(sessionStorage.getItem(STORE_KEY) || "[]"); } catch { state.conversations = []; }
}
function saveConversations() {
  let data = JSON.stringify(state.conversations);
  try { sessionStorage.setItem(STORE_KEY, data); return; } catch { /* over quota: drop old traces */ }
  for (const c of state.conversations) for (const m of c.messages) { delete m.events; if (c !== state.current) delete m.reasonlab; }
  data = JSON.stringify(state.conversations);
  try { sessionStorage.setItem(STORE_KEY, data); } catch { /* keep working without persistence */ }
}
function newConversation() {
  const c = { id: `c${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}`, title: "New chat", messages: [] };
  state.conversations.unshift(c);
  state.current = c;
  saveConversations();
  renderConversationList();
  renderMessages();
}
function renderConversationList() {
  const ul = $("#conversations");
  ul.replaceChildren(...state.conversations.map((c) => el("li", { class: c === state.current ? "active" : "" },
    el("button", { class: "open", type: "button", title: c.title, text: c.title, onclick: () => { state.current = c; renderConversationList(); renderMessages(); closeSidebar(); } }),
    el("button", { class: "delete", type: "button", title: "Delete", "aria-label": "Delete conversation", text: "×", onclick: () => deleteConversation(c) }))));
}
function deleteConversation(c) {
  state.conversations = state.conversations.filter((x) => x !== c);
  if (state.current === c) state.current = state.conversations[0] || null;
  if (!state.current) { newConversation(); return; }
  saveConversations();
  renderConversationList();
  renderMessages();
}
function renderMessages() {
  const box = $("#messages");
  box.replaceChildren();
  const msgs = state.current ? state.current.messages : [];
  if (msgs.length === 0) box.append(el("div", { id: "empty", class: "empty" }, el("p", { text: "Ask a question. The page shows each model call as it happens, the samples and their vote, sub-question graphs, programs and their sandbox output, and plan rounds with critiques." })));
  for (const m of msgs) {
    if (m.role === "user") box.append(el("div", { class: "turn user" }, el("div", { class: "bubble", text: m.content })));
    else {
      const view = new TurnView(box);
      for (const [name, data] of m.events || []) view.event(name, data);
      if (m.error) view.fail(m.error); else view.finish(m.content, m.reasonlab);
    }
  }
  box.scrollTop = box.scrollHeight;
}

// ---------------------------------------------------------------- server catalogue and options
async function api(path, init) {
  const r = await fetch(path, init);
  if (!r.ok) {
    let msg = `${r.status} ${r.statusText}`;
    try { const b = await r.json(); if (b.error) msg = b.error.message; } catch { /* not JSON */ }
    throw new Error(msg);
  }
  return r.json();
}
async function loadCatalogue() {
  const [models, strategies] = await Promise.all([api("/v1/models"), api("/v1/strategies")]);
  state.models = models.data.filter((m) => m.reasonlab && m.reasonlab.base);
  state.strategies = strategies.strategies;
  state.defaultStrategy = strategies.default;
  $("#model").replaceChildren(...state.models.map((m) => el("option", { value: m.id, text: m.id })));
  $("#strategy").replaceChildren(...Object.entries(state.strategies).map(([name, s]) => el("option", { value: name, title: s.description, text: name })));
  const saved = JSON.parse(sessionStorage.getItem("reasonlab.picker") || "{}");
  if (saved.model && state.models.some((m) => m.id === saved.model)) $("#model").value = saved.model;
  $("#strategy").value = saved.strategy && state.strategies[saved.strategy] ? saved.strategy : state.defaultStrategy;
  renderOptions(saved.strategy === $("#strategy").value ? saved.options || {} : {});
}
function renderOptions(values) {
  const name = $("#strategy").value;
  const s = state.strategies[name];
  $("#strategy-description").textContent = s ? s.description : "";
  const form = $("#options-form");
  form.replaceChildren();
  for (const o of (s && s.options) || []) {
    const id = `opt-${o.name}`;
    const val = o.name in values ? values[o.name] : o.default;
    let input;
    if (typeof o.default === "boolean") {
      input = el("input", { type: "checkbox", id, name: o.name, checked: Boolean(val) });
      form.append(el("label", { class: "check", for: id, title: o.help }, input, o.name));
      continue;
    }
    if (typeof o.default === "number") input = el("input", { type: "number", id, name: o.name, step: Number.isInteger(o.default) ? "1" : "any", value: val ?? "" });
    else input = el("input", { type: "text", id, name: o.name, value: val === null || val === undefined ? "" : typeof val === "object" ? JSON.stringify(val) : String(val), placeholder: o.default === null ? "(none)" : "" });
    input.dataset.default = JSON.stringify(o.default);
    form.append(el("label", { for: id, title: o.help }, `${o.name}`, input));
  }
}
function collectOptions() {
  const name = $("#strategy").value;
  const s = state.strategies[name];
  const out = {};
  for (const o of (s && s.options) || []) {
    const input = document.getElementById(`opt-${o.name}`);
    if (!input) continue;
    let v;
    if (input.type === "checkbox") v = input.checked;
    else if (input.type === "number") v = input.value === "" ? null : Number(input.value);
    else if (o.default !== null && typeof o.default === "object") { try { v = JSON.parse(input.value || "null"); } catch { v = input.value; } }
    else v = input.value === "" ? null : input.value;
    if (JSON.stringify(v) !== JSON.stringify(o.default) && !(v === null && o.default === "")) out[o.name] = v;
  }
  return out;
}
function rememberPicker() {
  sessionStorage.setItem("reasonlab.picker", JSON.stringify({ model: $("#model").value, strategy: $("#strategy").value, options: collectOptions() }));
}

// ---------------------------------------------------------------- sending and streaming
async function send(text) {
  if (!state.current) newConversation();
  const conv = state.current;
  const empty = document.getElementById("empty");
  if (empty) empty.remove();
  conv.messages.push({ role: "user", content: text });
  if (conv.title === "New chat") conv.title = short(text, 40);
  renderConversationList();
  const box = $("#messages");
  box.append(el("div", { class: "turn user" }, el("div", { class: "bubble", text: text })));
  const view = new TurnView(box);
  box.scrollTop = box.scrollHeight;
  const strategy = $("#strategy").value;
  const body = {
    model: $("#model").value,
    stream: true,
    messages: conv.messages.map((m) => ({ role: m.role, content: m.content })),
    reasonlab: { strategy, options: collectOptions() },
    user: clientId(), // each tab is its own client for the server's round-robin queue
  };
  rememberPicker();
  setBusy(true);
  const controller = new AbortController();
  state.controller = controller;
  let content = "";
  let rl = null;
  try {
    const r = await fetch("/v1/chat/completions", { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body), signal: controller.signal });
    if (!r.ok) {
      let msg = `${r.status} ${r.statusText}`;
      try { const b = await r.json(); if (b.error) msg = b.error.message; } catch { /* not JSON */ }
      if (r.status === 429) msg += ` (retry after ${r.headers.get("Retry-After") || "?"}s)`;
      throw new Error(msg);
    }
    for await (const data of sseData(r.body)) {
      if (data === "[DONE]") break;
      const chunk = JSON.parse(data);
      if (chunk.error) throw new Error(chunk.error.message);
      const choice = (chunk.choices || [])[0];
      if (choice && choice.delta && choice.delta.content) content += choice.delta.content;
      if (chunk.reasonlab && chunk.reasonlab.event) view.event(chunk.reasonlab.event, chunk.reasonlab.data);
      else if (chunk.reasonlab) rl = chunk.reasonlab;
    }
    view.finish(content, rl);
    conv.messages.push({ role: "assistant", content, reasonlab: rl, events: view.events });
  } catch (e) {
    const message = e.name === "AbortError" ? "(stopped)" : `error: ${e.message}`;
    view.fail(message);
    conv.messages.pop(); // the question goes back into the box; the conversation stays consistent
    $("#input").value = text;
  } finally {
    setBusy(false);
    state.controller = null;
    saveConversations();
  }
}

async function* sseData(stream) {
  // Minimal SSE reader: yields the data of each event (comment lines are keep-alive pings).
  const reader = stream.pipeThrough(new TextDecoderStream()).getReader();
  let buf = "";
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    buf += value;
    let cut;
    while ((cut = buf.search(/\r?\n\r?\n/)) >= 0) {
      const raw = buf.slice(0, cut);
      buf = buf.slice(cut).replace(/^\r?\n\r?\n/, "");
      const data = raw.split(/\r?\n/).filter((l) => l.startsWith("data:")).map((l) => l.slice(5).replace(/^ /, "")).join("\n");
      if (data) yield data;
    }
  }
}

function clientId() {
  let id = sessionStorage.getItem("reasonlab.client");
  if (!id) {
    id = `web-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}`;
    sessionStorage.setItem("reasonlab.client", id);
  }
  return id;
}

function setBusy(busy) {
  $("#send").disabled = busy;
  $("#stop").hidden = !busy;
  $("#input").disabled = busy;
}
function showError(msg) {
  const p = $("#error");
  p.textContent = msg;
  p.hidden = !msg;
}
function closeSidebar() { $("#app").classList.remove("sidebar-open"); }

// ---------------------------------------------------------------- wiring
function init() {
  loadConversations();
  state.current = state.conversations[0] || null;
  if (!state.current) newConversation(); else { renderConversationList(); renderMessages(); }
  $("#new-chat").addEventListener("click", () => { newConversation(); closeSidebar(); });
  $("#toggle-sidebar").addEventListener("click", () => $("#app").classList.toggle("sidebar-open"));
  $("#toggle-options").addEventListener("click", () => {
    const panel = $("#options-panel");
    panel.hidden = !panel.hidden;
    $("#toggle-options").setAttribute("aria-expanded", String(!panel.hidden));
  });
  $("#strategy").addEventListener("change", () => { renderOptions({}); rememberPicker(); });
  $("#model").addEventListener("change", rememberPicker);
  $("#options-form").addEventListener("change", rememberPicker);
  $("#reset-options").addEventListener("click", () => { renderOptions({}); rememberPicker(); });
  $("#composer").addEventListener("submit", (e) => {
    e.preventDefault();
    const text = $("#input").value.trim();
    if (!text || state.controller) return;
    $("#input").value = "";
    send(text);
  });
  $("#input").addEventListener("keydown", (e) => {
    if (e.key === "Enter" && !e.shiftKey && !e.isComposing) { e.preventDefault(); $("#composer").requestSubmit(); }
  });
  $("#stop").addEventListener("click", () => { if (state.controller) state.controller.abort(); });
  loadCatalogue().then(() => showError("")).catch((e) => showError(`cannot reach the server: ${e.message}`));
}

init();
