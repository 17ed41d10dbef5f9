import { call, ListOf } from "../api";
import { badge, errorBox, h, isoTime, localTime, replace, table } from "../dom";
import { isAdmin } from "../session";
import { Job } from "./jobs";

export interface PublicStatus {
  status: string;
  mode: string;
  message: string;
  since: string | null;
  upstreams: { name: string; healthy: boolean; breaker: string }[];
  engines?: { name: string; healthy: boolean; running: number; waiting: number; kv_cache_usage: number; adapters_registered: number; max_loras: number }[];
}

export interface Summary {
  requests: number;
  errors: number;
  window_s: number;
  p50_seconds: number | null;
  by_status: Record<string, number>;
  recent_errors: { created_at: number; endpoint: string; model: string; adapter: string | null; status: string; seconds: number }[];
}

export function summaryCard(summary: Summary): HTMLElement {
  const statuses = Object.entries(summary.by_status).map(([s, n]) => `${s}: ${n}`).join(", ") || "none";
  return h(
    "section",
    { class: "card", id: "summary" },
    h("h2", {}, `Requests in the last ${Math.round(summary.window_s / 60)} min (this gateway process)`),
    h("p", {}, `${summary.requests} requests, ${summary.errors} errors; by status: ${statuses}; median ${summary.p50_seconds === null ? "—" : (summary.p50_seconds * 1000).toFixed(0) + " ms"}`),
    summary.recent_errors.length
      ? table(["When", "Endpoint", "Model", "Status", "Seconds"], summary.recent_errors.map((e) => [
          localTime(e.created_at), e.endpoint, e.adapter ?? e.model, e.status, e.seconds.toFixed(3),
        ]))
      : h("p", { class: "muted" }, "No recent errors."),
  );
}

export function overviewPage(main: HTMLElement): () => void {
  const body = h("div", {}, h("p", { class: "muted" }, "Loading…"));
  replace(main, h("h1", {}, "Overview"), body);
  let stopped = false;
  const load = async () => {
    try {
      const [status, jobs, config] = await Promise.all([
        call<PublicStatus>("/v1/status"),
        call<ListOf<Job>>("/v1/fine_tunes?limit=100"),
        call<{ grafana_url: string | null }>("/ui/config.json"),
      ]);
      const summary = isAdmin() ? await call<Summary>("/admin/summary") : null;
      if (stopped) return;
      const active = jobs.data.filter((j) => ["queued", "running", "validating_files"].includes(j.status));
      replace(
        body,
        h(
          "section",
          { class: "card", id: "service-status" },
          h("h2", {}, "Service ", badge(status.status)),
          h("p", {}, `Mode: ${status.mode}. `, status.message, status.since ? ` (since ${isoTime(status.since)})` : ""),
          table(["Upstream", "Healthy", "Breaker"], status.upstreams.map((u) => [u.name, u.healthy ? "yes" : "no", u.breaker])),
          status.engines?.length
            ? table(["Engine", "Running", "Waiting", "KV cache", "Adapters / LoRA slots"], status.engines.map((e) => [
                e.name, e.running, e.waiting, `${Math.round(e.kv_cache_usage * 100)}%`, `${e.adapters_registered} / ${e.max_loras}`,
              ]))
            : null,
        ),
        h(
          "section",
          { class: "card" },
          h("h2", {}, `Jobs running or queued: ${active.length}`),
          active.length
            ? table(["Job", "Status", "Created"], active.map((j) => [h("a", { href: `#/jobs/${j.id}` }, j.id), badge(j.status), localTime(j.created_at)]))
            : h("p", { class: "muted" }, "None."),
        ),
        summary ? summaryCard(summary) : null,
        h(
          "section",
          { class: "card" },
          h("h2", {}, "Dashboards"),
          config.grafana_url
            ? h("p", {}, h("a", { href: config.grafana_url, target: "_blank", rel: "noopener" }, "Grafana dashboards"))
            : h("p", { class: "muted" }, "No Grafana URL is set (LORAGATE_CONSOLE__GRAFANA_URL). Metrics: ", h("a", { href: "/metrics" }, "/metrics")),
        ),
      );
    } catch (error) {
      if (!stopped) replace(body, errorBox(error));
    }
  };
  void load();
  const timer = window.setInterval(load, 5000);
  return () => {
    stopped = true;
    window.clearInterval(timer);
  };
}
