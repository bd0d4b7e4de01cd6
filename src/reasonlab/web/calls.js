// The model-call cards of one answer: a card appears at `call_start`, grows with `delta` events
// (text streamed token by token, where the engine sends them) and is completed by `call`
// (with its prompt, tokens, time and finish reason: stopped at the token limit, looping, cancelled).

import { el, pre, plural, badge } from "./dom.js";

const FINISH = {
  length: ["warn", "stopped: token limit", "The model was cut off at the token limit; the text is incomplete."],
  repetition: ["warn", "stopped: looping", "The model repeated itself; the engine stopped it."],
  low_confidence: ["warn", "stopped: low confidence", "The sample's token confidence fell below the floor its warm-up samples set (online stop); it does not vote."],
  cancelled: ["bad", "cancelled", "The call was cancelled."],
};

export class CallList {
  constructor() {
    this.root = el("div", { class: "calls" });
    this.pending = [];  // running cards, oldest first
    this.count = 0;
    this.cached = 0;
    this.tokens = 0;
    this.cachedTokens = 0;
  }

  start(d) {
    const n = Number(d.n || 1);
    const card = el("div", { class: "call running" },
      el("div", { class: "head" }, el("b", { text: d.label || "call" }), el("span", { text: `${plural(n, "sample")} · running…` })));
    card.dataset.label = d.label || "";
    card.dataset.left = String(n);
    card.streams = {};
    this.root.append(card);
    this.pending.push(card);
  }

  delta(d) {
    const card = this.pending.find((c) => c.dataset.label === (d.label || "")) || this.pending[this.pending.length - 1];
    if (!card) return;
    const key = String(d.index ?? d.sample_index ?? 0);
    let box = card.streams[key];
    if (!box) {
      box = pre("", "stream");
      const multi = Number(card.dataset.left) > 1;
      card.streams[key] = el("div", { class: "stream-wrap" }, multi ? el("div", { class: "muted small", text: `sample ${key}` }) : null, box);
      card.append(card.streams[key]);
    } else box = box.lastChild;
    box.textContent += d.text || "";
  }

  done(d) {
    const idx = this.pending.findIndex((c) => c.dataset.label === (d.label || ""));
    let anchor = null;
    if (idx >= 0) {
      const ph = this.pending[idx];
      const key = String(d.sample_index ?? 0);
      if (ph.streams[key]) { ph.streams[key].remove(); delete ph.streams[key]; }
      ph.dataset.left = String(Number(ph.dataset.left) - 1);
      anchor = ph;
      if (Number(ph.dataset.left) <= 0) { this.pending.splice(idx, 1); anchor = ph.nextSibling; ph.remove(); }
    }
    this.add(d, anchor);
  }

  add(d, before = null) {
    const tokens = (d.prompt_tokens || 0) + (d.completion_tokens || 0);
    if (d.cached) { this.cached += 1; this.cachedTokens += tokens; } else { this.count += 1; this.tokens += tokens; }
    const finish = FINISH[d.finish_reason];
    const prompt = el("details", {}, el("summary", { text: `prompt (${plural((d.messages || []).length, "message")})` }),
      (d.messages || []).map((m) => el("div", {}, el("div", { class: "msg-role", text: m.role }), pre(m.content, ""))));
    const card = el("div", { class: `call${d.cached ? " cached" : ""}${finish ? " " + finish[0] : ""}`, "data-label": d.label || "" },
      el("div", { class: "head" },
        el("b", { text: `#${d.id ?? "?"} ${d.label || "call"}` }),
        d.sample_index ? el("span", { text: `sample ${d.sample_index}` }) : null,
        el("span", { text: `${d.prompt_tokens ?? 0} + ${d.completion_tokens ?? 0} tokens` }),
        el("span", { text: d.cached ? "from cache" : `${Number(d.seconds || 0).toFixed(2)} s` }),
        d.kind && d.kind !== "generate" ? el("span", { text: d.kind }) : null,
        finish ? badge(finish[0], finish[1]) : null),
      finish ? el("div", { class: "muted small", text: finish[2] }) : null,
      prompt, pre(d.output || "", ""));
    if (before && before.parentNode === this.root) this.root.insertBefore(card, before);
    else if (this.pending[0]) this.root.insertBefore(card, this.pending[0]);
    else this.root.append(card);
  }

  clearPending() {
    for (const p of this.pending) p.remove();
    this.pending = [];
  }

  summary() {
    const parts = [plural(this.count, "model call")];
    if (this.cached) parts.push(`${this.cached} from cache`);
    parts.push(`${this.tokens} tokens`);
    return parts.join(" · ");
  }
}
