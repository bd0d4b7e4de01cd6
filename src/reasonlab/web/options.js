// The server's catalogue (models, strategies and their options) and the options form. Every
// option's explanation is visible text under its field (phones have no tooltips).

import { $, el } from "./dom.js";

export const catalogue = { models: [], strategies: {}, defaultStrategy: "zero-shot-cot" };

export async function api(path, init) {
  const r = await fetch(path, init);
  if (!r.ok) {
    let msg = `${r.status} ${r.statusText}`;
    try { const b = await r.json(); if (b.error) msg = b.error.message; } catch { /* not JSON */ }
    throw new Error(msg);
  }
  return r.json();
}

export async function loadCatalogue() {
  const [models, strategies] = await Promise.all([api("/v1/models"), api("/v1/strategies")]);
  catalogue.models = models.data.filter((m) => m.reasonlab && m.reasonlab.base);
  catalogue.strategies = strategies.strategies;
  catalogue.defaultStrategy = strategies.default;
  $("#model").replaceChildren(...catalogue.models.map((m) => el("option", { value: m.id, text: m.id })));
  $("#strategy").replaceChildren(...Object.keys(catalogue.strategies).map((name) => el("option", { value: name, text: name })));
}

/** Sets the picker (model, strategy, option values); unknown names fall back to the defaults. */
export function setPicker({ model, strategy, options } = {}) {
  if (model && catalogue.models.some((m) => m.id === model)) $("#model").value = model;
  const s = strategy && catalogue.strategies[strategy] ? strategy : catalogue.defaultStrategy;
  $("#strategy").value = s;
  renderOptions(strategy === s ? options || {} : {});
}

export function getPicker() {
  return { model: $("#model").value, strategy: $("#strategy").value, options: collectOptions() };
}

export function renderOptions(values) {
  const s = catalogue.strategies[$("#strategy").value];
  $("#strategy-description").textContent = s ? s.description : "";
  const form = $("#options-form");
  form.replaceChildren();
  for (const o of (s && s.options) || []) {
    const id = `opt-${o.name}`;
    const val = o.name in values ? values[o.name] : o.default;
    const help = el("small", { class: "help", id: `${id}-help`, text: o.help || "" });
    let input;
    if (typeof o.default === "boolean") {
      input = el("input", { type: "checkbox", id, name: o.name, checked: Boolean(val), "aria-describedby": help.id });
      form.append(el("div", { class: "option check" }, el("label", { for: id }, input, ` ${o.name}`), help));
      continue;
    }
    if (typeof o.default === "number") input = el("input", { type: "number", id, name: o.name, step: Number.isInteger(o.default) ? "1" : "any", value: val ?? "" });
    else input = el("input", { type: "text", id, name: o.name, value: val === null || val === undefined ? "" : typeof val === "object" ? JSON.stringify(val) : String(val), placeholder: o.default === null ? "(none)" : "" });
    input.setAttribute("aria-describedby", help.id);
    form.append(el("div", { class: "option" }, el("label", { for: id, text: o.name }), input, help));
  }
}

export function collectOptions() {
  const s = catalogue.strategies[$("#strategy").value];
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
