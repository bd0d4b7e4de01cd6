// One assistant turn: "thought for N s", the reasoning (Markdown), the strategy's own view (votes,
// program, graph, plan rounds, tool calls, search tree), the written answer with how it was read,
// copy / regenerate, and the model calls. Live events build it up; the final trace settles it.

import { $, el, badge, copyText, plural, seconds } from "./dom.js";
import { renderMarkdown } from "./markdown.js";
import { CallList } from "./calls.js";
import { finalViews, liveGraph } from "./views.js";
import { votesView } from "./view_votes.js";
import { attemptView } from "./view_program.js";
import { roundView } from "./view_plan.js";
import { toolCard, treeView } from "./view_steps.js";
import { renderValue } from "./values.js";

export class TurnView {
  constructor(container, { onRegenerate, model } = {}) {
    this.onRegenerate = onRegenerate;
    this.model = model;
    this.started = performance.now();
    this.root = el("div", { class: "turn assistant" });
    this.thought = el("div", { class: "thought", text: "thinking…" });
    this.reasoning = el("div", { class: "reasoning" });
    this.panels = el("div", { class: "panels" });
    this.answer = el("div", { class: "answer pending" });
    this.note = el("div", { class: "note", hidden: true });
    this.actions = el("div", { class: "actions" });
    this.calls = new CallList();
    this.callsBox = el("details", { class: "calls-box", open: true }, el("summary", { text: "model calls" }), this.calls.root);
    this.more = el("div", { class: "more" });
    this.bubble = el("div", { class: "bubble" }, this.thought, this.note, this.reasoning, this.panels, this.answer,
      this.actions, this.callsBox, this.more);
    this.root.append(this.bubble);
    container.append(this.root);
    this.sections = {};
    this.graph = null;
    this.callData = [];
    this.timer = setInterval(() => this.tick(), 250);
  }

  tick() {
    this.thought.textContent = `thinking… ${seconds((performance.now() - this.started) / 1000)}`;
  }

  section(name, title, explain) {
    if (!this.sections[name]) {
      const body = el("div", { class: "panel-body" });
      const box = el("section", { class: `panel ${name}` }, el("h3", { text: title }), explain ? el("p", { class: "explain", text: explain }) : null, body);
      this.panels.append(box);
      this.sections[name] = body;
    }
    return this.sections[name];
  }

  event(name, data) {
    const d = data || {};
    const handlers = {
      queued: () => { this.strategy = d.strategy; this.model = d.model; },
      call_start: () => this.calls.start(d),
      delta: () => this.calls.delta(d),
      call: () => { this.callData.push(d); this.calls.done(d); this.callsSummary(); },
      vote: () => this.section("votes", "vote").replaceChildren(...votesView(d)),
      verify: () => this.section("verify", "verifier scores").append(el("div", { class: "meta", text: `path #${d.index}: answer ${d.answer ?? "—"}, score ${d.score}` })),
      node: () => this.liveNode(d),
      graph: () => this.setGraph(liveGraph.fromSpec(d)),
      graph_invalid: () => this.section("graph-invalid", "drawn graph rejected").append(el("div", { class: "critique", text: `attempt ${Number(d.attempt ?? 0) + 1}: ${d.error}` })),
      graph_done: () => {},
      subquestion: () => this.setGraph(liveGraph.subquestion(this.graph, d)),
      program: () => this.section("program", "programs").append(attemptView(d, false)),
      plan_round: () => this.section("plans", "plan rounds").append(roundView(d)),
      tool: () => this.section("tools", "tool calls").append(toolCard(d)),
      tree: () => this.section("tree", "search tree").replaceChildren(...treeView(d.tree || d)),
      fallback: () => this.showNote(`fell back to zero-shot CoT: ${d.reason}`),
    };
    const h = handlers[name];
    if (h) h();
    else this.section("events", "other events").append(el("div", { class: "card" }, el("div", { class: "head" }, el("b", { text: name })), renderValue(d, 1)));
    this.scroll();
  }

  liveNode(d) {
    this.graph = liveGraph.node(this.graph, d);
    this.setGraph(this.graph);
  }

  setGraph(g) {
    if (!g) return;
    this.graph = g;
    this.section("graph", "sub-question graph").replaceChildren(liveGraph.draw(g, this));
  }

  callsSummary() {
    this.callsBox.firstChild.textContent = this.calls.summary();
  }

  showNote(text) {
    this.note.hidden = !text;
    this.note.textContent = text || "";
  }

  scroll() {
    const box = $("#messages");
    if (box && box.scrollHeight - box.scrollTop - box.clientHeight < 200) box.scrollTop = box.scrollHeight;
  }

  stopTimer() {
    clearInterval(this.timer);
  }

  // -- the end of a run ---------------------------------------------------------------------------
  finish(content, rl) {
    this.stopTimer();
    this.calls.clearPending();
    const trace = (rl && rl.trace) || null;
    const usage = trace && trace.usage;
    const secs = usage ? usage.seconds : (performance.now() - this.started) / 1000;
    const strategy = (rl && rl.strategy) || this.strategy || "";
    this.thought.replaceChildren(el("b", { text: `Thought for ${seconds(secs)}` }),
      el("span", { class: "muted", text: ` · ${strategy}${this.model ? " on " + this.model : ""}` }));
    if (trace) {
      if (this.callData.length === 0 && Array.isArray(trace.calls)) for (const c of trace.calls) { this.callData.push(c); this.calls.add(c); }
      const { views, rest, showReasoning, reasoningNote, panelsFirst } = finalViews(trace, this);
      if (panelsFirst) this.panels.after(this.reasoning);
      // final views replace the live panels of the same kind; live-only panels stay below them
      const covered = new Set(views.flatMap((v) => [...v.classList]));
      if (covered.has("votes")) covered.add("verify");
      if (covered.has("graph")) covered.add("graph-invalid");
      for (const [name, body] of Object.entries(this.sections)) if (covered.has(name)) body.parentNode.remove();
      this.panels.prepend(...views);
      const same = trace.reasoning && String(trace.reasoning).trim() === String(rl && rl.answer).trim();
      if (showReasoning && trace.reasoning && !same) {
        this.reasoning.replaceChildren(reasoningNote ? el("div", { class: "explain", text: reasoningNote }) : "", renderMarkdown(trace.reasoning));
      } else this.reasoning.replaceChildren();
      if (Object.keys(rest).length) this.more.replaceChildren(el("details", {}, el("summary", { text: "more details" }), renderValue(rest, 0)));
    }
    const cut = this.callData.filter((c) => c.finish_reason === "length").length;
    const looped = this.callData.filter((c) => c.finish_reason === "repetition").length;
    if (cut || looped) {
      this.reasoning.append(el("div", { class: "cutoff" },
        cut ? badge("warn", `${plural(cut, "call")} cut off at the token limit`) : null, " ",
        looped ? badge("warn", `${plural(looped, "call")} repeated itself and was stopped`) : null,
        el("span", { class: "muted small", text: cut ? " (raising max_tokens in Options gives it room; the calls are below)" : " (the calls are below)" })));
    }
    this.answerLine(content, rl);
    this.showNote(rl && rl.note ? `note: ${rl.note}` : "");
    this.callsBox.open = false;
    this.callsSummary();
    if (usage && usage.cached_calls) this.callsBox.firstChild.textContent += ` (${plural(usage.cached_calls, "call")} from the cache)`;
    this.actionButtons(content, rl);
  }

  answerLine(content, rl) {
    this.answer.classList.remove("pending");
    const answer = rl ? rl.answer : content;
    const strict = rl ? rl.strict_answer : null;
    if (rl && rl.status === "error") {
      this.answer.classList.add("error");
      this.answer.replaceChildren(el("b", { text: "No answer: " }), (rl.trace && rl.trace.error) || content || "the run failed");
      return;
    }
    if (answer === null || answer === undefined) {
      this.answer.replaceChildren(el("span", { class: "label", text: "No answer could be read. " }),
        el("span", { class: "muted", text: content ? "The model's reply is shown above." : "" }));
      return;
    }
    const isStrict = strict !== null && strict !== undefined && String(strict) === String(answer);
    this.answer.replaceChildren(el("span", { class: "label", text: "Answer: " }), el("b", { class: "value", text: String(answer) }), " ",
      rl ? (isStrict ? badge("valid", "strict") : badge("warn", "flexible")) : null,
      rl ? el("div", { class: "how", text: isStrict
        ? "Read strictly: the reasoning stated it explicitly (“the answer is …”, a final program value, a validated plan)."
        : "Read flexibly: no explicit answer statement, so the last answer-like value was taken." }) : null);
  }

  actionButtons(content, rl) {
    const copy = el("button", { type: "button", class: "copy", text: "Copy" });
    copy.addEventListener("click", async () => {
      const text = [rl && rl.answer !== undefined && rl.answer !== null ? `Answer: ${rl.answer}` : content,
        rl && rl.trace && rl.trace.reasoning ? `\n${rl.trace.reasoning}` : ""].join("\n");
      copy.textContent = (await copyText(text.trim())) ? "Copied" : "Copy failed";
      setTimeout(() => { copy.textContent = "Copy"; }, 1500);
    });
    const buttons = [copy];
    if (this.onRegenerate) buttons.push(el("button", { type: "button", class: "regenerate", text: "Regenerate", onclick: () => this.onRegenerate() }));
    if (rl && rl.trace_url) buttons.push(el("a", { href: rl.trace_url, target: "_blank", rel: "noopener", text: "trace JSON" }));
    this.actions.replaceChildren(...buttons);
  }

  fail(message) {
    this.stopTimer();
    this.calls.clearPending();
    this.thought.textContent = "stopped";
    this.answer.classList.remove("pending");
    this.answer.classList.add("error");
    this.answer.textContent = message;
  }
}
