// reasonlab web page: chat with a strategy picker; the reasoning unfolds live from the SSE stream of
// POST /v1/chat/completions (chunks carry a `reasonlab` field with the run's events). ES modules,
// no build step, nothing fetched from outside this server.

import { $, el } from "./dom.js";
import { store } from "./conversations.js";
import { loadCatalogue, setPicker, getPicker, renderOptions } from "./options.js";
import { TurnView } from "./turn.js";

const EMPTY_TEXT = "Ask a question. The page shows each model call as it happens and the strategy's own view: " +
  "the samples and their vote, the program and what the sandbox printed, the sub-question graph, plan rounds " +
  "with the validator's critiques, tool calls.";
let controller = null;

function renderConversationList() {
  $("#conversations").replaceChildren(...store.list.map((c) => el("li", { class: c === store.current ? "active" : "" },
    el("button", { class: "open", type: "button", text: c.title, onclick: () => select(c) }),
    el("button", { class: "delete", type: "button", "aria-label": `Delete conversation ${c.title}`, text: "×", onclick: () => remove(c) }))));
}

function select(c) {
  if (controller) return;  // finish (or stop) the running answer first
  store.current = c;
  setPicker(c);
  renderConversationList();
  renderMessages();
  closeSidebar();
}

function remove(c) {
  store.remove(c);
  if (!store.current) store.fresh(getPicker());
  setPicker(store.current);
  renderConversationList();
  renderMessages();
}

function renderMessages() {
  const box = $("#messages");
  box.replaceChildren();
  const msgs = store.current ? store.current.messages : [];
  if (msgs.length === 0) box.append(el("div", { id: "empty", class: "empty" }, el("p", { text: EMPTY_TEXT })));
  msgs.forEach((m, i) => {
    if (m.role === "user") box.append(el("div", { class: "turn user" }, el("div", { class: "bubble", text: m.content })));
    else {
      const last = i === msgs.length - 1;
      const view = new TurnView(box, { onRegenerate: last ? regenerate : null, model: m.model });
      view.finish(m.content, m.reasonlab);
    }
  });
  box.scrollTop = box.scrollHeight;
}

function regenerate() {
  const conv = store.current;
  if (!conv || controller) return;
  while (conv.messages.length && conv.messages[conv.messages.length - 1].role === "assistant") conv.messages.pop();
  const question = conv.messages.pop();
  if (!question) return;
  renderMessages();
  send(question.content);
}

async function send(text) {
  const picker = getPicker();
  const conv = store.current || store.fresh(picker);
  Object.assign(conv, picker);
  const empty = document.getElementById("empty");
  if (empty) empty.remove();
  conv.messages.push({ role: "user", content: text });
  store.titleFrom(conv, text);
  renderConversationList();
  const box = $("#messages");
  for (const b of box.querySelectorAll("button.regenerate")) b.remove();  // only the last answer regenerates
  box.append(el("div", { class: "turn user" }, el("div", { class: "bubble", text })));
  const view = new TurnView(box, { onRegenerate: regenerate, model: picker.model });
  box.scrollTop = box.scrollHeight;
  const body = {
    model: picker.model, stream: true,
    messages: conv.messages.map((m) => ({ role: m.role, content: m.content })),
    reasonlab: { strategy: picker.strategy, options: picker.options },
    user: clientId(),  // each tab is its own client for the server's round-robin queue
  };
  sessionStorage.setItem("reasonlab.picker", JSON.stringify(picker));
  setBusy(true);
  controller = new AbortController();
  let content = "";
  let rl = null;
  try {
    const r = await fetch("/v1/chat/completions", { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body), signal: controller.signal });
    if (!r.ok) {
      let msg = `${r.status} ${r.statusText}`;
      try { const b = await r.json(); if (b.error) msg = b.error.message; } catch { /* not JSON */ }
      if (r.status === 429) msg += ` (retry after ${r.headers.get("Retry-After") || "?"} s)`;
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
    conv.messages.push({ role: "assistant", content, reasonlab: rl, model: picker.model });
  } catch (e) {
    view.fail(e.name === "AbortError" ? "(stopped)" : `error: ${e.message}`);
    conv.messages.pop();  // the question goes back into the box; the conversation stays consistent
    $("#input").value = text;
  } finally {
    setBusy(false);
    controller = null;
    store.save();
    renderConversationList();
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
  $("#error").textContent = msg;
  $("#error").hidden = !msg;
}
function closeSidebar() { $("#app").classList.remove("sidebar-open"); }

function remember() {
  const picker = getPicker();
  sessionStorage.setItem("reasonlab.picker", JSON.stringify(picker));
  if (store.current && store.current.messages.length === 0) { Object.assign(store.current, picker); store.save(); }
}

async function init() {
  store.load();
  $("#new-chat").addEventListener("click", () => {
    if (controller) return;
    store.fresh(getPicker());
    renderConversationList();
    renderMessages();
    closeSidebar();
    $("#input").focus();
  });
  $("#toggle-sidebar").addEventListener("click", () => $("#app").classList.toggle("sidebar-open"));
  $("#toggle-options").addEventListener("click", () => {
    const panel = $("#options-panel");
    panel.hidden = !panel.hidden;
    $("#toggle-options").setAttribute("aria-expanded", String(!panel.hidden));
  });
  $("#strategy").addEventListener("change", () => { renderOptions({}); remember(); });
  $("#model").addEventListener("change", remember);
  $("#options-form").addEventListener("change", remember);
  $("#reset-options").addEventListener("click", () => { renderOptions({}); remember(); });
  $("#composer").addEventListener("submit", (e) => {
    e.preventDefault();
    const text = $("#input").value.trim();
    if (!text || controller) return;
    $("#input").value = "";
    send(text);
  });
  $("#input").addEventListener("keydown", (e) => {
    if (e.key === "Enter" && !e.shiftKey && !e.isComposing) { e.preventDefault(); $("#composer").requestSubmit(); }
  });
  $("#stop").addEventListener("click", () => { if (controller) controller.abort(); });
  try {
    await loadCatalogue();
    showError("");
  } catch (e) {
    showError(`cannot reach the server: ${e.message}`);
  }
  const saved = JSON.parse(sessionStorage.getItem("reasonlab.picker") || "{}");
  if (!store.current) store.fresh(saved);
  setPicker(store.current.strategy ? store.current : saved);
  renderConversationList();
  renderMessages();
}

init();
