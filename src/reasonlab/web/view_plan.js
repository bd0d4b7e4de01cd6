// Planning (plan-modulo / plan-autonomous): each round's plan, the validator's verdict and the
// critique sent back to the model; guided steps (a step-by-step search the planner drives) where
// the trace has them.

import { el, pre, badge, fmt, plural } from "./dom.js";
import { renderValue } from "./values.js";

export function isPlanRound(r) {
  return Boolean(r && typeof r === "object" && ("critique" in r || "valid" in r || "verdict" in r) && !("code" in r));
}

export function planView(d) {
  const rounds = (d.rounds || []).filter(isPlanRound);
  const out = [];
  const used = d.rounds_used ?? rounds.length;
  out.push(el("div", { class: "meta" },
    d.valid === true ? badge("valid", "valid plan") : d.valid === false ? badge("invalid", "no valid plan") : null,
    ` ${plural(used, "round")}`, d.status && d.status !== "valid" && d.status !== "no_valid_plan" ? ` · ${d.status}` : ""));
  out.push(el("p", { class: "explain", text: "Every plan is checked by a sound PDDL validator; its critique goes back to the model for the next round. A plan is answered only when the validator accepts it." }));
  if (Array.isArray(d.plan_words) && d.plan_words.length) {
    out.push(el("div", { class: "card final" }, el("div", { class: "head" }, el("b", { text: "the validated plan" })), el("ol", {}, d.plan_words.map((w) => el("li", { text: w })))));
  }
  const base = rounds.some((r) => Number(r.round ?? r.index) === 0) ? 1 : 0;
  for (const r of rounds) out.push(roundView(r, base));
  const guided = d.guided || d.guided_steps;
  if (Array.isArray(guided) && guided.length) out.push(guidedView(guided));
  return out;
}

export function roundView(r, base = 0) {
  const actions = actionsOf(r);
  const verdict = r.verdict || {};
  const guided = r.guided || r.guided_steps;
  const candidates = Array.isArray(r.candidates) && r.candidates.length > 1 ? r.candidates : null;
  return el("div", { class: `card round ${r.valid ? "valid" : "invalid"}` },
    el("div", { class: "head" }, el("b", { text: `round ${Number(r.round ?? r.index ?? 0) + base}` }),
      badge(r.valid ? "valid" : "invalid"),
      candidates ? el("span", { class: "muted", text: `best of ${candidates.length} candidates` }) : null,
      r.prompt_tokens !== undefined ? el("span", { class: "muted", text: `${fmt(r.prompt_tokens)} + ${fmt(r.completion_tokens)} tokens` }) : null),
    actions && actions.length ? stepsList(actions, Array.isArray(r.prefix) ? r.prefix.length : 0) : pre(r.output || "(empty reply)"),
    Array.isArray(r.prefix) && r.prefix.length ? el("div", { class: "muted small", text: `Guided: the first ${plural(r.prefix.length, "step")} (grey) were kept from the last round, where they could be performed; the model wrote the rest.` }) : null,
    r.parsed && r.parsed.errors && r.parsed.errors.length ? el("div", { class: "muted small", text: `unreadable lines: ${r.parsed.errors.map(fmt).join("; ")}` }) : null,
    r.critique ? el("div", { class: r.valid ? "verdict-ok" : "critique" }, el("span", { class: "label", text: r.valid ? "validator: " : "critique sent back: " }), r.critique) : null,
    Array.isArray(guided) && guided.length ? guidedView(guided) : null,
    candidates ? el("details", { class: "candidates" }, el("summary", { text: `the ${candidates.length} candidates of this round` }),
      candidates.map((c, i) => el("div", { class: `card ${c.valid ? "valid" : "invalid"}` },
        el("div", { class: "head" }, el("b", { text: `candidate ${i + 1}` }), badge(c.valid ? "valid" : "invalid")),
        el("ol", { class: "actions-list" }, (actionsOf(c) || []).map((a) => el("li", { text: fmt(a) }))),
        c.critique && !c.valid ? el("div", { class: "critique", text: c.critique }) : null))) : null,
    Object.keys(verdict).length ? el("details", {}, el("summary", { text: "validator's verdict" }), renderValue(verdict, 2)) : null);
}

function actionsOf(r) {
  if (Array.isArray(r.attempt)) return r.attempt;
  return r.parsed && Array.isArray(r.parsed.actions) ? r.parsed.actions : null;
}

function stepsList(actions, kept) {
  return el("ol", { class: "actions-list" }, actions.map((a, i) => el("li", { class: i < kept ? "kept" : "", text: typeof a === "string" ? a : a.text || a.pddl || JSON.stringify(a) })));
}

function guidedView(steps) {
  return el("details", { class: "guided", open: true }, el("summary", { text: `guided steps (${steps.length})` }),
    el("ol", {}, steps.map((s) => {
      if (!s || typeof s !== "object") return el("li", { text: fmt(s) });
      const action = s.action ?? s.chosen ?? s.step ?? s.text;
      const ok = s.valid ?? s.ok ?? s.applicable;
      return el("li", {}, el("span", { text: fmt(action) }), ok === undefined ? null : badge(ok ? "valid" : "invalid", ok ? "ok" : "refused"),
        s.critique || s.reason || s.error ? el("div", { class: "critique", text: s.critique || s.reason || s.error }) : null,
        Array.isArray(s.options || s.candidates) ? el("div", { class: "muted small", text: `options: ${(s.options || s.candidates).map(fmt).join(", ")}` }) : null);
    })));
}
