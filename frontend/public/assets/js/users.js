// Users: table newest first, "Load more" through the Link header, create form with the
// API's validation messages next to the fields, delete with a confirmation dialog.

import { api, describeError } from "./api.js";

export const PAGE_SIZE = 10;

const $ = (id) => document.getElementById(id);
const timeFormat = new Intl.DateTimeFormat(undefined, { timeStyle: "short" });
const dateFormat = new Intl.DateTimeFormat(undefined, { dateStyle: "medium" });
const fullFormat = new Intl.DateTimeFormat(undefined, { dateStyle: "full", timeStyle: "long" });

/** Today's rows show the time, older ones the date; the full timestamp is in the tooltip. */
function formatDate(d) {
  const today = new Date();
  return d.toDateString() === today.toDateString() ? timeFormat.format(d) : dateFormat.format(d);
}

function servedNote(r) {
  const bits = [];
  if (r.servedBy) bits.push(`served by ${r.servedBy}`);
  if (r.cache) bits.push(`cache ${r.cache.toLowerCase()}`);
  return bits.join(" · ");
}

export class Users {
  constructor({ onUnavailable = () => {} } = {}) {
    this.onUnavailable = onUnavailable;
    this.ids = new Set();
    this.next = "";
    this.busy = false;
    this.body = $("users-body");
    this.form = $("user-form");
    this.dialog = $("confirm-dialog");
    this.pendingDelete = null;

    this.form.addEventListener("submit", (e) => {
      e.preventDefault();
      this.create();
    });
    for (const name of ["name", "email"]) {
      this.input(name).addEventListener("input", () => this.setFieldError(name, ""));
    }
    $("load-more").addEventListener("click", () => this.loadMore());
    $("refresh-users").addEventListener("click", () => this.reload());
    this.body.addEventListener("click", (e) => {
      const btn = e.target.closest("button[data-delete]");
      if (btn) this.confirmDelete(btn.closest("tr"));
    });
    this.dialog.addEventListener("close", () => this.onDialogClose());
  }

  input(name) {
    return $(`user-${name}`);
  }

  setFieldError(name, message) {
    const input = this.input(name);
    $(`user-${name}-error`).textContent = message;
    if (message) input.setAttribute("aria-invalid", "true");
    else input.removeAttribute("aria-invalid");
  }

  setMessage(text, kind = "") {
    const el = $("user-form-message");
    el.textContent = text;
    el.dataset.kind = kind;
  }

  setMeta(text) {
    $("users-meta").textContent = text;
  }

  updateChrome() {
    const count = this.ids.size;
    $("users-count").textContent = `${count}${this.next ? "+" : ""} shown`;
    $("users-empty").hidden = count > 0;
    $("load-more").hidden = !this.next;
  }

  row(user) {
    const tr = document.createElement("tr");
    tr.setAttribute("role", "row");
    tr.dataset.id = String(user.id);
    const cell = (cls, text) => {
      const td = document.createElement("td");
      td.setAttribute("role", "cell");
      td.className = cls;
      td.textContent = text;
      tr.append(td);
      return td;
    };
    cell("col-id", String(user.id));
    cell("col-name", user.name).title = user.name;
    cell("col-email", user.email).title = user.email;
    const created = cell("col-created", "");
    const time = document.createElement("time");
    time.dateTime = user.created_at;
    const created_at = new Date(user.created_at);
    if (Number.isNaN(created_at.getTime())) {
      time.textContent = String(user.created_at);
    } else {
      time.textContent = formatDate(created_at);
      time.title = fullFormat.format(created_at);
    }
    created.append(time);
    const actions = cell("col-actions", "");
    const del = document.createElement("button");
    del.type = "button";
    del.className = "btn btn-danger btn-small";
    del.dataset.delete = String(user.id);
    del.textContent = "Delete";
    del.setAttribute("aria-label", `Delete user ${user.name} (${user.email})`);
    actions.append(del);
    tr.userData = user;
    return tr;
  }

  append(users) {
    let added = 0;
    for (const u of users) {
      if (!u || this.ids.has(u.id)) continue;
      this.ids.add(u.id);
      this.body.append(this.row(u));
      added++;
    }
    return added;
  }

  async reload() {
    const r = await api(`/api/users?limit=${PAGE_SIZE}`);
    if (!r.ok || !Array.isArray(r.data)) {
      this.failed(r, "Could not load users");
      return;
    }
    this.ids.clear();
    this.body.replaceChildren();
    this.append(r.data);
    this.next = r.links.next || "";
    this.updateChrome();
    this.setMeta(servedNote(r));
  }

  async loadMore() {
    if (!this.next || this.busy) return;
    this.busy = true;
    const btn = $("load-more");
    btn.disabled = true;
    try {
      const r = await api(this.next);
      if (!r.ok || !Array.isArray(r.data)) {
        this.failed(r, "Could not load more users");
        return;
      }
      const added = this.append(r.data);
      this.next = r.links.next || "";
      this.updateChrome();
      this.setMeta(`${added} more · ${servedNote(r)}`);
    } finally {
      btn.disabled = false;
      this.busy = false;
    }
  }

  failed(r, what) {
    if (r.unavailable) this.onUnavailable(r);
    this.setMeta(`${what}: ${describeError(r)}`);
  }

  async create() {
    const name = this.input("name").value;
    const email = this.input("email").value;
    this.setFieldError("name", "");
    this.setFieldError("email", "");
    this.setMessage("Creating…");
    const btn = $("create-user");
    btn.disabled = true;
    let r;
    try {
      r = await api("/api/users", { method: "POST", body: { name, email } });
    } finally {
      btn.disabled = false;
    }
    if (r.status === 201 && r.data && r.data.id !== undefined) {
      const u = r.data;
      if (!this.ids.has(u.id)) {
        this.ids.add(u.id);
        const tr = this.row(u);
        tr.classList.add("is-new");
        this.body.prepend(tr);
      }
      this.updateChrome();
      this.form.reset();
      this.setMessage(`Created user #${u.id} · ${servedNote(r)}`, "ok");
      this.input("name").focus();
      return;
    }
    if (r.unavailable) {
      this.onUnavailable(r);
      this.setMessage(`Not created: the backend is unavailable. ${describeError(r)}`, "error");
      return;
    }
    // Validation (400, with "field") and conflicts (409: the email is taken) belong next to
    // the field they are about; anything else is a form-level message.
    const field = r.field || (r.status === 409 ? "email" : "");
    if (field === "name" || field === "email") {
      this.setFieldError(field, r.error);
      this.setMessage(`Not created (HTTP ${r.status}).`, "error");
      this.input(field).focus();
    } else {
      this.setMessage(`Not created: ${describeError(r)}`, "error");
    }
  }

  confirmDelete(tr) {
    if (!tr || !tr.userData) return;
    const u = tr.userData;
    this.pendingDelete = tr;
    $("confirm-text").textContent = `User #${u.id} ${u.name} <${u.email}> will be deleted. This cannot be undone.`;
    this.dialog.returnValue = "";
    this.dialog.showModal();
  }

  async onDialogClose() {
    const tr = this.pendingDelete;
    this.pendingDelete = null;
    if (!tr || this.dialog.returnValue !== "delete") {
      if (tr) tr.querySelector("button[data-delete]").focus();
      return;
    }
    const u = tr.userData;
    const r = await api(`/api/users/${encodeURIComponent(u.id)}`, { method: "DELETE" });
    if (r.status === 204 || r.status === 404) {
      const focusNext = tr.nextElementSibling || tr.previousElementSibling;
      tr.remove();
      this.ids.delete(u.id);
      this.updateChrome();
      const what = r.status === 204 ? "Deleted" : "Already gone:";
      this.setMessage(`${what} user #${u.id} · ${servedNote(r)}`, "ok");
      const target = focusNext && focusNext.querySelector("button[data-delete]");
      if (target) target.focus();
      else $("users-title").focus();
      return;
    }
    if (r.unavailable) this.onUnavailable(r);
    this.setMessage(`Not deleted: ${describeError(r)}`, "error");
    tr.querySelector("button[data-delete]").focus();
  }
}
