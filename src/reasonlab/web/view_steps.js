// ReAct tool calls (thought → tool(arguments) → observation) and search trees (tree of thoughts:
// candidate thoughts with their scores, the kept ones and the chosen path).

import { el, pre, badge, fmt, short, plural } from "./dom.js";
import { renderMarkdown, inline } from "./markdown.js";

/** One tool call (also used live, from `tool` events). */
export function toolCard(s) {
  const args = s.arguments === undefined ? "" : typeof s.arguments === "string" ? s.arguments : JSON.stringify(s.arguments);
  return el("div", { class: `card tool${s.error ? " failed" : ""}` },
    el("div", { class: "head" }, el("b", { text: `step ${Number(s.step ?? 0) + 1}` }),
      s.tool ? el("code", { text: `${s.tool}(${short(args, 120)})` }) : el("span", { class: "muted", text: "thinking (no tool)" }),
      s.error ? badge("error", "tool failed") : null),
    s.thought ? el("details", { class: "thought" }, el("summary", { text: "thought" }), renderMarkdown(s.thought)) : null,
    s.observation !== null && s.observation !== undefined ? el("div", { class: "observation" }, el("span", { class: "label", text: "result: " }), pre(s.observation, "inline")) : null);
}

export function toolsView(d) {
  const steps = Array.isArray(d.steps) ? d.steps : [];
  const used = steps.filter((s) => s.tool).length;
  return [
    el("p", { class: "explain", text: `The model called tools; each result went back into the conversation (${used} tool ${used === 1 ? "call" : "calls"}, ${d.protocol || "text"} protocol).` }),
    ...steps.map(toolCard),
    d.budget_exhausted ? el("div", { class: "critique", text: "The step budget ran out; the answer was demanded." }) : null,
  ];
}

// -- trees ---------------------------------------------------------------------------------------
function asForest(nodes) {
  // A nested {children: […]} node, a list of such nodes, or a flat list with id/parent.
  if (Array.isArray(nodes) && nodes.some((n) => n && ("parent" in n || "parent_id" in n))) {
    const byId = new Map(nodes.map((n) => [String(n.id), { ...n, children: [] }]));
    const roots = [];
    for (const n of byId.values()) {
      const p = n.parent ?? n.parent_id;
      if (p !== null && p !== undefined && byId.has(String(p))) byId.get(String(p)).children.push(n);
      else roots.push(n);
    }
    return roots;
  }
  return Array.isArray(nodes) ? nodes : [nodes];
}

function treeItems(n, depth, best, code) {
  // One list item per node; a node's only child continues the same list (no indent for chains).
  if (!n || typeof n !== "object") return [el("li", { text: fmt(n) })];
  const text = n.step ?? n.thought ?? n.text ?? n.state ?? n.label ?? "";
  const chosen = best.has(String(n.id)) || n.chosen || n.best || n.on_path;
  const pruned = n.pruned || n.kept === false || n.status === "pruned";
  const flags = [];
  if (n.answer !== null && n.answer !== undefined) flags.push(badge("done", `answer ${fmt(n.answer)}`));
  if (pruned) flags.push(badge("skipped", "pruned"));
  if (n.status === "failed" || (n.error && !pruned)) flags.push(badge("error", "failed"));
  if (n.status === "open") flags.push(badge("pending", "open"));
  const score = n.score ?? n.value;
  const kids = Array.isArray(n.children) ? n.children : [];
  const label = text ? short(text, 160) : depth === 0 ? "the question" : `node ${n.id ?? ""}`;
  const li = el("li", { class: `tree-node${chosen ? " chosen" : ""}${pruned ? " pruned" : ""}` },
    el("div", { class: "tree-head" }, score !== undefined && score !== null ? el("span", { class: "score", title: "score", text: fmt(score) }) : null,
      el("span", { class: "tree-text" }, code && text ? el("code", { text: label }) : inline(label)), ...flags));
  if (String(text).length > 160) li.append(el("details", {}, el("summary", { text: "full text" }), renderMarkdown(text)));
  if (n.error) li.append(el("div", { class: "critique", text: n.error }));
  if (depth > 200) return [li];
  if (kids.length === 1) return [li, ...treeItems(kids[0], depth + 1, best, code)];
  if (kids.length) li.append(el("ul", {}, kids.flatMap((k) => treeItems(k, depth + 1, best, code))));
  return [li];
}

export function treeView(tree) {
  const t = tree && !Array.isArray(tree) && Array.isArray(tree.nodes) ? tree : { nodes: tree };
  const best = new Set((t.best || []).map(String));
  const info = [t.mode ? `${t.mode} steps` : "", t.scoring ? `scored by ${t.scoring}` : "",
    t.budget && t.budget.calls !== undefined ? `${plural(t.budget.calls, "call")} used${t.budget.call_budget ?? t.budget.max_calls ? ` of ${t.budget.call_budget ?? t.budget.max_calls}` : ""}` : ""].filter(Boolean);
  return [
    el("p", { class: "explain", text: "The search expanded candidate steps, scored each (the number) and kept the best; the path to the answer is in bold, pruned branches are grey." }),
    info.length ? el("div", { class: "meta", text: info.join(" · ") }) : null,
    el("ul", { class: "tree" }, asForest(t.nodes).flatMap((n) => treeItems(n, 0, best, t.mode === "code"))),
  ];
}
