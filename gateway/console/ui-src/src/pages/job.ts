import { call, ListOf } from "../api";
import { drawLoss, Point } from "../chart";
import { badge, errorBox, fmt, h, localTime, replace, table } from "../dom";
import { Job, jobDuration } from "./jobs";

const TERMINAL = ["succeeded", "failed", "cancelled"];
const POLL_MS = 1000;
const MAX_POINTS = 500;

interface Curve { total_points: number; points: Point[] }

interface JobMetrics {
  job: Job;
  latest: Record<string, number | null>;
  curves: { train_loss: Curve; eval_loss: Curve };
  recent_events: { created_at: number; level: string; message: string }[];
}

interface Checkpoint { id: string; step_number: number; created_at: number; metrics: Record<string, number | null> }

function resultCard(job: Job): HTMLElement | null {
  const result = job.result as Record<string, unknown> | null;
  if (!result) return null;
  const rows: (string | number)[][] = [];
  for (const who of ["base", "adapter"]) {
    const scores = result[who] as Record<string, number> | undefined;
    if (scores) rows.push([who, fmt(scores.exact_match, 3), fmt(scores.mean_loss)]);
  }
  return h("section", { class: "card", id: "result" },
    h("h2", {}, "Before / after"),
    h("p", {}, `${result.steps} steps; best eval loss ${fmt(result.best_eval_loss as number)} at step ${result.best_step}; ${result.train_seconds} s of training.`),
    rows.length ? table(["Model", "Exact match (test)", "Mean loss (test)"], rows) : h("p", { class: "muted" }, "No test split was evaluated."));
}

function checkpointsCard(checkpoints: Checkpoint[]): HTMLElement {
  let best: Checkpoint | null = null;
  for (const c of checkpoints) {
    const loss = c.metrics.eval_loss;
    if (loss !== null && loss !== undefined && (best === null || loss < (best.metrics.eval_loss ?? Infinity))) best = c;
  }
  return h("section", { class: "card", id: "checkpoints" }, h("h2", {}, "Checkpoints"),
    checkpoints.length
      ? table(["Step", "Eval loss", "Train loss", "Saved", ""], checkpoints.map((c) => [
          c.step_number, fmt(c.metrics.eval_loss), fmt(c.metrics.train_loss), localTime(c.created_at), c === best ? badge("best") : "",
        ]))
      : h("p", { class: "muted" }, "None yet."));
}

function header(job: Job, latest: Record<string, number | null>, onCancel: () => void): HTMLElement {
  const actions = h("div", { class: "row" });
  if (!TERMINAL.includes(job.status)) {
    const cancel = h("button", { class: "danger", type: "button", id: "job-cancel" }, "Cancel");
    cancel.addEventListener("click", onCancel);
    actions.appendChild(cancel);
  }
  if (job.fine_tuned_model) {
    const href = `#/playground?a=${encodeURIComponent(job.model)}&b=${encodeURIComponent(job.fine_tuned_model)}`;
    actions.appendChild(h("a", { href, id: "try-it" }, "Try it in the playground →"));
  }
  const progress = latest.step ? `step ${latest.step}/${latest.total_steps}` : "";
  return h("section", { class: "card" },
    h("p", {}, "Status: ", h("span", { id: "job-status" }, badge(job.status)), ` ${progress} · duration ${jobDuration(job)} · base ${job.model}`),
    job.fine_tuned_model ? h("p", {}, "Adapter: ", h("code", {}, job.fine_tuned_model)) : null,
    job.error ? errorBox(job.error.message) : null,
    actions);
}

export function jobPage(main: HTMLElement, [id]: string[]): () => void {
  const top = h("div", {}, h("p", { class: "muted" }, "Loading…"));
  const chart = h("div", { class: "chart", id: "loss-chart" });
  const legend = h("div", { class: "legend" });
  const events = h("pre", { class: "log", id: "events" });
  const checkpoints = h("div", {});
  const result = h("div", {});
  const lossCard = h("section", { class: "card" }, h("h2", {}, "Loss"), chart, legend);
  replace(main, h("h1", {}, "Fine-tune ", id), top);
  let timer = 0;
  let evals = -1;
  let stopped = false;
  const cancel = async () => {
    try { await call(`/v1/fine_tunes/${encodeURIComponent(id)}/cancel`, { method: "POST" }); } catch (error) { top.prepend(errorBox(error)); }
  };
  const poll = async () => {
    try {
      const m = await call<JobMetrics>(`/v1/fine_tunes/${encodeURIComponent(id)}/metrics?max_points=${MAX_POINTS}`);
      if (stopped) return;
      if (!main.contains(lossCard)) main.append(lossCard, checkpoints, result, h("section", { class: "card" }, h("h2", {}, "Events"), events));
      replace(top, header(m.job, m.latest, cancel));
      drawLoss(chart, { train_loss: m.curves.train_loss.points, eval_loss: m.curves.eval_loss.points }, m.latest.total_steps ?? null);
      replace(legend, h("span", { class: "train" }, `— train loss (${m.curves.train_loss.total_points} points)`),
        h("span", { class: "eval" }, `● eval loss (${m.curves.eval_loss.total_points} points)`));
      replace(events, m.recent_events.map((e) => `${localTime(e.created_at)}  ${e.level}  ${e.message}`).join("\n"));
      const ended = TERMINAL.includes(m.job.status);
      if (m.curves.eval_loss.total_points !== evals || ended) {
        evals = m.curves.eval_loss.total_points;
        const page = await call<ListOf<Checkpoint>>(`/v1/fine_tunes/${encodeURIComponent(id)}/checkpoints?limit=100`);
        replace(checkpoints, checkpointsCard(page.data));
      }
      replace(result, resultCard(m.job));
      if (!ended && !stopped) timer = window.setTimeout(poll, POLL_MS);
    } catch (error) {
      if (!stopped) replace(top, errorBox(error));
    }
  };
  void poll();
  return () => {
    stopped = true;
    window.clearTimeout(timer);
  };
}
