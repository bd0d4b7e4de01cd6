// ReAct tool calls (thought → tool(arguments) → observation) and search trees (tree of thoughts:
// candidate thoughts with their scores, the kept ones and the chosen path).

import { el, pre, badge, fmt, short } from "./dom.js";
import { renderMarkdown } from "./markdown.js";

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
function asForest(tree) {
  // A nested {children: […]} node, a list of such nodes, or a flat list with id/parent.
  if (Array.isArray(tree) && tree.some((n) => n && ("parent" in n || "parent_id" in n))) {
    const byId = new Map(tree.map((n) => [String(n.id), { ...n, children: [] }]));
    const roots = [];
    for (const n of byId.values()) {
      const p = n.parent ?? n.parent_id;
      if (p !== null && p !== undefined && byId.has(String(p))) byId.get(String(p)).children.push(n);
      else roots.push(n);
    }
    return roots;
  }
  return Array.isArray(tree) ? tree : [tree];
}

function treeNode(n, depth) {
  if (!n || typeof n !== "object") return el("li", { text: fmt(n) });
  const text = n.thought ?? n.text ?? n.state ?? n.step ?? n.label ?? "";
  const flags = [];
  if (n.chosen || n.best || n.selected || n.on_path) flags.push(badge("done", "chosen"));
  else if (n.kept === true) flags.push(badge("valid", "kept"));
  if (n.pruned || n.kept === false) flags.push(badge("skipped", "pruned"));
  const score = n.score ?? n.value;
  const kids = Array.isArray(n.children) ? n.children : [];
  const li = el("li", { class: `tree-node${n.chosen || n.best || n.on_path ? " chosen" : ""}${n.pruned || n.kept === false ? " pruned" : ""}` },
    el("div", { class: "tree-head" }, score !== undefined && score !== null ? el("span", { class: "score", text: fmt(score) }) : null,
      el("span", { class: "tree-text", text: short(text || (n.id !== undefined ? `node ${n.id}` : ""), 160) }), ...flags));
  if (String(text).length > 160) li.append(el("details", {}, el("summary", { text: "full text" }), pre(text)));
  if (kids.length && depth < 12) li.append(el("ul", {}, kids.map((k) => treeNode(k, depth + 1))));
  return li;
}

export function treeView(tree, d = {}) {
  const forest = asForest(tree);
  return [
    el("p", { class: "explain", text: "The search expanded candidate thoughts, scored them and kept the best; the chosen path is marked." }),
    d.search || d.method ? el("div", { class: "meta", text: `search: ${d.search || d.method}${d.breadth ? ` · breadth ${d.breadth}` : ""}${d.depth ? ` · depth ${d.depth}` : ""}` }) : null,
    el("ul", { class: "tree" }, forest.map((n) => treeNode(n, 0))),
  ];
}
