// Conversations kept in this tab's sessionStorage. Each remembers the model, strategy and options
// it was last asked with, so the picker follows the selected conversation. There is never more than
// one empty conversation.

import { short } from "./dom.js";

const STORE_KEY = "reasonlab.conversations";

export const store = {
  list: [],
  current: null,

  load() {
    try { this.list = JSON.parse(sessionStorage.getItem(STORE_KEY) || "[]"); } catch { this.list = []; }
    if (!Array.isArray(this.list)) this.list = [];
    this.list = this.list.filter((c) => c && Array.isArray(c.messages));
    // empty conversations left by older pages: keep one at most
    const empty = this.list.filter((c) => c.messages.length === 0);
    this.list = this.list.filter((c) => c.messages.length > 0 || c === empty[0]);
    this.current = this.list[0] || null;
  },

  save() {
    try { sessionStorage.setItem(STORE_KEY, JSON.stringify(this.list)); return; } catch { /* over quota */ }
    for (const c of this.list) for (const m of c.messages) if (c !== this.current && m.reasonlab) delete m.reasonlab.trace;
    try { sessionStorage.setItem(STORE_KEY, JSON.stringify(this.list)); } catch { /* keep working without persistence */ }
  },

  /** The empty conversation if there is one (moved to the top), else a new one. */
  fresh(picker) {
    let c = this.list.find((x) => x.messages.length === 0);
    if (c) this.list = [c, ...this.list.filter((x) => x !== c)];
    else {
      c = { id: `c${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}`, title: "New chat", messages: [] };
      this.list.unshift(c);
    }
    Object.assign(c, picker || {});
    this.current = c;
    this.save();
    return c;
  },

  remove(c) {
    this.list = this.list.filter((x) => x !== c);
    if (this.current === c) this.current = this.list[0] || null;
    this.save();
  },

  titleFrom(c, text) {
    if (c.title === "New chat") c.title = short(text, 48);
  },
};
