// PAL / program-of-thoughts: the program that gave the answer, shown once, with what the sandbox
// printed and the value read from it; earlier attempts (errors fed back for repair) folded away.

import { el, pre, plural, badge, fmt } from "./dom.js";
import { field } from "./values.js";

/** From a finished run's details: {program, entry, rounds: [attempt…], repairs, samples?}. */
export function programView(d) {
  const attempts = Array.isArray(d.rounds) ? d.rounds : [];
  const final = attempts[attempts.length - 1] || { code: d.program, entry: d.entry };
  const out = [attemptView(final, true)];
  const earlier = attempts.slice(0, -1);
  if (earlier.length) {
    out.push(el("details", { class: "attempts" },
      el("summary", { text: `${plural(earlier.length, "earlier attempt")}: the error went back to the model, which rewrote the program` }),
      earlier.map((a) => attemptView(a, false))));
  }
  if (Array.isArray(d.samples) && d.samples.length > 1) {
    const table = el("table", {}, el("tr", {}, el("th", { text: "program" }), el("th", { text: "answer" }), el("th", { text: "attempts" })));
    for (const s of d.samples) table.append(el("tr", {}, el("td", { text: `#${s.index}` }), el("td", { text: s.answer ?? "—" }), el("td", { text: String((s.rounds || []).length) })));
    out.push(el("details", { class: "samples" }, el("summary", { text: `all ${d.samples.length} programs` }), el("div", { class: "table-wrap" }, table)));
  }
  return out;
}

/** One program run (also used live, from `program` events). */
export function attemptView(a, main) {
  const code = a.code ?? a.program ?? a.source ?? null;
  const ok = !a.error;
  const head = el("div", { class: "head" },
    el("b", { text: main ? "program" : `attempt ${Number(a.round ?? 0) + 1}` }),
    a.sample !== undefined && a.sample !== null ? el("span", { class: "muted", text: `sample ${a.sample}` }) : null,
    badge(ok ? "ok" : "error", ok ? "ran" : "failed"),
    a.seconds ? el("span", { class: "muted", text: `${Number(a.seconds).toFixed(2)} s in the sandbox` }) : null);
  const body = [head];
  body.push(code ? pre(code, "block code") : el("div", { class: "muted", text: "(no program in the reply)" }));
  if (!code && a.reply && !main) body.push(el("details", {}, el("summary", { text: "the reply" }), pre(a.reply)));
  const run = el("div", { class: "sandbox" });
  if (a.stdout) run.append(field("printed", pre(a.stdout, "block out")));
  if (a.answer !== undefined && a.answer !== null) run.append(field("answer read", el("b", { text: fmt(a.answer) })));
  if (a.entry) run.append(field("read from", a.entry));
  if (a.error) run.append(field("error", pre(a.error, "block err")));
  else if (a.stderr) run.append(el("details", {}, el("summary", { text: "stderr" }), pre(a.stderr, "block err")));
  if (a.limit) run.append(field("limit hit", a.limit));
  if (run.childNodes.length) body.push(el("div", { class: "sandbox-title", text: "sandbox" }), run);
  return el("div", { class: `card program${main ? " final" : ""}` }, body);
}
