import { call } from "../api";
import { badge, errorBox, field, h, isoTime, localTime, replace, table } from "../dom";
import { isAdmin } from "../session";
import { PublicStatus, Summary, summaryCard } from "./overview";

interface ApiKey { id: string; name: string; role: string; rpm: number | null; tpm: number | null; hint: string; created_at: number; created_by: string | null; revoked_at: number | null }
interface Entry { mode: string; reason: string; actor: string; changed_at: string | null }
interface Degradation { current: Entry; history: Entry[] }

const MODES = ["normal", "base-only", "fallback", "maintenance"];

function keysCard(refresh: () => void, keys: ApiKey[], notices: HTMLElement): HTMLElement {
  const status = h("div", { id: "key-status" });
  const name = h("input", { name: "name", id: "key-name", placeholder: "alice" });
  const role = h("select", { name: "role", id: "key-role" }, h("option", { value: "user" }, "user"), h("option", { value: "admin" }, "admin"));
  const rpm = h("input", { name: "rpm", id: "key-rpm", inputmode: "numeric", placeholder: "default" });
  const tpm = h("input", { name: "tpm", id: "key-tpm", inputmode: "numeric", placeholder: "default" });
  const form = h("form", { class: "row", id: "key-form" }, field("Name (user)", name), field("Role", role),
    field("Requests/min", rpm), field("Tokens/min", tpm), h("button", { type: "submit" }, "Create key"));
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const body: Record<string, unknown> = { name: name.value.trim(), role: role.value };
    if (rpm.value.trim()) body.rpm = Number(rpm.value);
    if (tpm.value.trim()) body.tpm = Number(tpm.value);
    try {
      const made = await call<ApiKey & { key: string }>("/admin/keys", { method: "POST", json: body });
      replace(notices, h("div", { class: "notice" }, `Key for ${made.name} (shown once, copy it now): `, h("span", { class: "secret", id: "new-secret" }, made.key)));
      refresh();
    } catch (error) {
      replace(status, errorBox(error));
    }
  });
  const rows = keys.map((k) => {
    let action: Node | string = k.revoked_at ? `revoked ${localTime(k.revoked_at)}` : "";
    if (!k.revoked_at) {
      const revoke = h("button", { class: "plain", type: "button" }, "Revoke");
      revoke.addEventListener("click", async () => {
        if (!confirm(`Revoke ${k.hint} of ${k.name}?`)) return;
        try { await call(`/admin/keys/${k.id}`, { method: "DELETE" }); refresh(); } catch (error) { replace(status, errorBox(error)); }
      });
      action = revoke;
    }
    return [k.name, k.role, k.hint, k.rpm ?? "default", k.tpm ?? "default", localTime(k.created_at), k.created_by ?? "—", action];
  });
  return h("section", { class: "card", id: "keys" }, h("h2", {}, "API keys"), form, status,
    table(["User", "Role", "Key", "RPM", "TPM", "Created", "By", ""], rows));
}

function switchCard(refresh: () => void, view: Degradation): HTMLElement {
  const status = h("div", { id: "switch-status" });
  const mode = h("select", { id: "switch-mode" }, ...MODES.map((m) => h("option", { value: m }, m)));
  mode.value = view.current.mode;
  const reason = h("input", { id: "switch-reason", placeholder: "why (required unless normal)", size: 40 });
  const form = h("form", { class: "row", id: "switch-form" }, field("Mode", mode), field("Reason", reason), h("button", { type: "submit", id: "switch-set" }, "Set"));
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    if (mode.value !== "normal" && !reason.value.trim()) {
      replace(status, errorBox("A reason is required for every mode but normal: users see it."));
      return;
    }
    try {
      await call("/admin/degradation", { method: "PUT", json: { mode: mode.value, reason: reason.value } });
      refresh();
    } catch (error) {
      replace(status, errorBox(error));
    }
  });
  return h("section", { class: "card", id: "degradation" }, h("h2", {}, "Degradation switch: ", badge(view.current.mode)), form, status,
    table(["When", "Mode", "Who", "Why"], view.history.map((e) => [isoTime(e.changed_at), e.mode, e.actor, e.reason])));
}

export function adminPage(main: HTMLElement): void {
  if (!isAdmin()) {
    replace(main, h("h1", {}, "Admin"), h("div", { class: "error", id: "not-admin" }, "The admin pages need an admin key; yours is a user key."));
    return;
  }
  const body = h("div", {}, h("p", { class: "muted" }, "Loading…"));
  const notices = h("div", { id: "admin-notices" });
  replace(main, h("h1", {}, "Admin"), notices, body);
  const refresh = async () => {
    try {
      const [keys, view, status, summary] = await Promise.all([
        call<{ data: ApiKey[] }>("/admin/keys"),
        call<Degradation>("/admin/degradation"),
        call<PublicStatus>("/v1/status"),
        call<Summary>("/admin/summary"),
      ]);
      replace(body, switchCard(refresh, view),
        h("section", { class: "card", id: "breakers" }, h("h2", {}, "Engines and breakers"),
          table(["Upstream", "Healthy", "Breaker"], status.upstreams.map((u) => [u.name, u.healthy ? "yes" : "no", badge(u.breaker)]))),
        keysCard(refresh, keys.data, notices), summaryCard(summary));
    } catch (error) {
      replace(body, errorBox(error));
    }
  };
  void refresh();
}
