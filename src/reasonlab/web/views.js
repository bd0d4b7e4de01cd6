// Which view a finished run gets, from its trace: each strategy its own (votes, program, graph or
// flowchart, plan rounds, tool calls, search tree); details no view used go to "more details".

import { el, pre, fmt, plural } from "./dom.js";
import { renderMarkdown } from "./markdown.js";
import { drawGraph, graphFrom, markProblems } from "./graph.js";
import { votesView } from "./view_votes.js";
import { programView } from "./view_program.js";
import { planView, isPlanRound } from "./view_plan.js";
import { toolsView, treeView } from "./view_steps.js";

const PROGRAM_STRATEGIES = new Set(["pal", "pot"]);

function section(cls, title, children) {
  return el("section", { class: `panel ${cls}` }, el("h3", { text: title }), el("div", { class: "panel-body" }, children));
}

export function finalViews(trace, turn) {
  const d = { ...(trace.details || {}) };
  const views = [];
  let showReasoning = true;
  let reasoningNote = "";
  let panelsFirst = false;
  const take = (...keys) => keys.forEach((k) => delete d[k]);
  const rounds = Array.isArray(d.rounds) ? d.rounds : [];
  const isProgram = PROGRAM_STRATEGIES.has(trace.strategy) || (d.program !== undefined && rounds.every((r) => r && ("code" in r || "reply" in r)));
  if (d.tree) {
    views.push(section("tree", "search tree", treeView(d.tree)));
    take("tree", "complete");
    showReasoning = false;  // the reasoning is the chosen path, in bold in the tree
  }
  if (isProgram) {
    views.push(section("program", "program and sandbox output", programView(d)));
    showReasoning = false;  // the reasoning *is* the program, shown above
    take("program", "entry", "rounds", "repairs", "samples");
  }
  if (d.votes && Object.keys(d.votes).length) {
    views.push(section("votes", "vote", votesView({ ...d, counts: d.votes })));
    take("votes", "weights", "winner", "share", "samples", "answered", "tie", "paths", "verifier", "early_stop");
    reasoningNote = "The first sampled path that reached the winning answer:";
    panelsFirst = true;
  }
  if (d.graph && typeof d.graph === "object") {
    views.push(...graphViews(d.graph, turn));
    if (d.graph.valid !== false && d.graph.nodes) {
      reasoningNote = "The output node's reply:";
      panelsFirst = true;  // the graph is the reasoning; the output node's reply follows it
    }
    take("graph");
  }
  if (!isProgram && rounds.length && rounds.some(isPlanRound)) {
    views.push(section("plans", "plan rounds", planView(d)));
    take("rounds", "rounds_used", "valid", "status", "plan", "plan_words", "last_attempt", "last_critique", "guided", "guided_steps");
    showReasoning = false;  // the last round's reply is in the rounds
  }
  if (Array.isArray(d.steps) && d.steps.some((s) => s && "tool" in s)) {
    views.push(section("tools", "tool calls", toolsView(d)));
    take("steps", "protocol", "tool_calls", "budget_exhausted");
  } else if (Array.isArray(d.subquestions) && Array.isArray(d.steps)) {
    views.push(section("graph", "sub-questions, answered in order", chainView(d.steps, turn)));
    take("subquestions", "steps");
    reasoningNote = "The reply to the question itself, after the sub-questions:";
    panelsFirst = true;
  }
  return { views, rest: d, showReasoning, reasoningNote, panelsFirst };
}

// -- graphs -------------------------------------------------------------------------------------
function graphViews(gd, turn) {
  const out = [];
  const attempts = Array.isArray(gd.attempts) ? gd.attempts : [];
  // gd.valid === false: the top-level nodes are the last drawing the validator rejected
  const ran = gd.valid === false ? null : graphFrom(gd.nodes ? gd : null);
  if (ran) out.push(section("graph", gd.mode === "flow" ? "flowchart" : "sub-question graph", liveGraph.draw(ran, turn)));
  const rejected = attempts.filter((a) => a && a.error);
  if (!rejected.length && gd.valid === false) rejected.push({ label: gd.attempt, drawing: gd, issues: gd.issues, error: gd.fallback });
  for (const a of rejected) {
    const g = invalidDrawing(a, gd.mode);
    const what = gd.mode === "flow" ? "flowchart" : "graph";
    const title = `${a.label === "repair" ? "repaired " + what : "drawn " + what} rejected by the validator`;
    const body = g ? [liveGraph.draw(g, turn)] : [el("div", { class: "critique", text: a.error })];
    if (a.reply) body.push(el("details", {}, el("summary", { text: "the model's reply" }), pre(a.reply)));
    out.push(section("graph invalid-drawing", title, body));
  }
  return out;
}

function invalidDrawing(a, mode) {
  // The drawing as the graphs package recorded it, else read leniently from the reply's JSON.
  let spec = a.drawing || null;
  if (!spec && a.reply) {
    const start = a.reply.indexOf("{"), end = a.reply.lastIndexOf("}");
    if (start >= 0 && end > start) { try { spec = JSON.parse(a.reply.slice(start, end + 1)); } catch { spec = null; } }
  }
  const nodes = spec && (spec.nodes || spec.steps);
  const g = graphFrom(nodes ? { nodes, edges: spec.edges, mode } : null);
  if (!g) return null;
  for (const n of g.nodes) if (n.status !== "invalid") n.status = "pending";
  markProblems(g, a.issues || a.problems || [a.error]);
  return g;
}

function chainView(steps, turn) {
  const g = { nodes: [], edges: [], problems: [] };
  steps.forEach((s, i) => {
    const id = i === steps.length - 1 ? "final" : `Q${i + 1}`;
    g.nodes.push({ id, title: s.question || "", status: "done", answer: s.answer, raw: s.reply, deps: [], kind: "" });
    if (i) g.edges.push({ from: g.nodes[i - 1].id, to: id, label: "" });
  });
  return liveGraph.draw(g, turn);
}

function nodeDetail(n, calls) {
  const call = [...calls].reverse().find((c) => c.label === `node:${n.id}` || (c.meta && String(c.meta.node) === n.id));
  const prompt = n.prompt || (call && call.messages && call.messages.map((m) => `${m.role}: ${m.content}`).join("\n\n"));
  const output = n.raw ?? (call ? call.output : undefined);
  return el("div", { class: "node-detail card" },
    el("div", { class: "head" }, el("b", { text: `node ${n.id}` }), el("span", { class: "muted", text: n.status }),
      n.seconds ? el("span", { class: "muted", text: `${Number(n.seconds).toFixed(2)} s` }) : null),
    n.title ? el("p", { text: n.title }) : null,
    n.problem ? el("div", { class: "critique", text: n.problem }) : null,
    n.error ? el("div", { class: "critique", text: n.error }) : null,
    prompt ? el("details", {}, el("summary", { text: "prompt" }), pre(prompt)) : el("div", { class: "muted", text: "No prompt recorded for this node." }),
    output !== undefined && output !== null ? el("div", {}, el("div", { class: "label", text: "output" }), renderMarkdown(output)) : null,
    n.answer !== undefined && n.answer !== null ? el("div", {}, el("span", { class: "label", text: "answer read: " }), el("b", { text: fmt(n.answer) })) : null);
}

/** Graph state kept while events arrive, and the drawing with its node inspector. */
export const liveGraph = {
  fromSpec(d) { return graphFrom(d && d.spec ? { ...d.spec, mode: d.mode } : d); },
  node(g, d) {
    g = g || { nodes: [], edges: [], problems: [] };
    let n = g.nodes.find((x) => x.id === String(d.id));
    if (!n) { n = { id: String(d.id), status: "pending", title: d.title || d.asked || "", deps: [], kind: d.kind || "" }; g.nodes.push(n); }
    n.status = d.status || n.status;
    if (d.answer !== undefined) n.answer = d.answer;
    if (d.error) n.error = d.error;
    return g;
  },
  subquestion(g, d) {
    g = g || { nodes: [], edges: [], problems: [] };
    const id = d.final ? "final" : `Q${Number(d.index) + 1}`;
    const prev = g.nodes[g.nodes.length - 1];
    if (!g.nodes.find((n) => n.id === id)) {
      g.nodes.push({ id, title: d.question || "", status: "done", answer: d.answer, deps: [], kind: "" });
      if (prev) g.edges.push({ from: prev.id, to: id, label: "" });
    }
    return g;
  },
  draw(g, turn) {
    const inspector = el("div", { class: "inspector" });
    const drawing = drawGraph(g, (n) => {
      inspector.replaceChildren(nodeDetail(n, (turn && turn.callData) || []));
      for (const node of drawing.querySelectorAll("g.node")) node.classList.toggle("selected", node.dataset.id === n.id);
    });
    const count = el("div", { class: "meta", text: `${plural(g.nodes.length, "node")}, ${plural(g.edges.length, "edge")}` });
    return el("div", {}, drawing, count, inspector);
  },
};
