import { call, ListOf } from "../api";
import { errorBox, fmt, h, localTime, replace, table } from "../dom";
import { isAdmin } from "../session";

interface Adapter {
  id: string;
  base_model: string;
  owner: string | null;
  created_at: number;
  job_id: string | null;
  rank: number;
  alpha: number;
  metrics: Record<string, unknown>;
  engines: string[];
}

export function adaptersPage(main: HTMLElement): void {
  const list = h("section", { class: "card", id: "adapter-list" }, h("p", { class: "muted" }, "Loading…"));
  replace(main, h("h1", {}, "Adapters"), list);
  const refresh = async () => {
    try {
      const adapters = await call<ListOf<Adapter>>("/v1/adapters");
      const rows = adapters.data.map((a) => {
        const cells: (Node | string | number)[] = [
          h("code", {}, a.id), a.base_model, a.owner ?? "—", localTime(a.created_at), a.rank,
          a.job_id ? h("a", { href: `#/jobs/${a.job_id}` }, a.job_id) : "—",
          fmt(a.metrics.best_eval_loss as number | null),
          a.engines.join(", ") || "not loaded",
          h("a", { href: `#/playground?b=${encodeURIComponent(a.id)}` }, "try"),
        ];
        if (isAdmin()) {
          const remove = h("button", { class: "plain", type: "button" }, "Delete");
          remove.addEventListener("click", async () => {
            if (!confirm(`Delete ${a.id}? It is unloaded and its files removed.`)) return;
            try {
              await call(`/v1/models/${encodeURIComponent(a.id)}`, { method: "DELETE" });
              void refresh();
            } catch (error) {
              list.prepend(errorBox(error));
            }
          });
          cells.push(remove);
        }
        return cells;
      });
      const headings = ["Adapter", "Base", "Owner", "Created", "Rank", "Job", "Best eval loss", "Engines", ""];
      if (isAdmin()) headings.push("");
      replace(list, rows.length ? table(headings, rows) : h("p", { class: "muted" }, "No adapters yet."));
    } catch (error) {
      replace(list, errorBox(error));
    }
  };
  void refresh();
}
