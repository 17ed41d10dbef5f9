import { ApiError, call, ListOf } from "../api";
import { badge, duration, errorBox, field, h, localTime, replace, table } from "../dom";
import { FileObject } from "./datasets";

export interface Job {
  id: string;
  model: string;
  status: string;
  created_at: number;
  finished_at: number | null;
  fine_tuned_model: string | null;
  training_file: string;
  validation_file: string | null;
  user_provided_suffix: string | null;
  hyperparameters: Record<string, unknown>;
  lora: Record<string, unknown>;
  error: { message: string } | null;
  result: Record<string, Record<string, number> | number | string> | null;
  trained_tokens: number | null;
  estimated_finish: number | null;
}

export function jobDuration(job: Job): string {
  const end = job.finished_at ?? Date.now() / 1000;
  return duration(end - job.created_at);
}

const NUMBERS: [string, string, string][] = [
  ["n_epochs", "Epochs", "hyperparameters"],
  ["batch_size", "Batch size", "hyperparameters"],
  ["learning_rate", "Learning rate", "hyperparameters"],
  ["eval_every_steps", "Eval every N steps", "hyperparameters"],
  ["r", "LoRA rank", "lora"],
  ["alpha", "LoRA alpha", "lora"],
  ["dropout", "LoRA dropout", "lora"],
  ["seed", "Seed", "top"],
];

function select(name: string, options: [string, string][], optional: boolean): HTMLSelectElement {
  const control = h("select", { name, id: `job-${name}` });
  if (optional) control.appendChild(h("option", { value: "" }, "(none)"));
  for (const [value, label] of options) control.appendChild(h("option", { value }, label));
  return control;
}

function body(form: HTMLFormElement): Record<string, unknown> {
  const data = new FormData(form);
  const text = (name: string) => String(data.get(name) ?? "").trim();
  const out: Record<string, unknown> = { model: text("model"), training_file: text("training_file") };
  const hyper: Record<string, unknown> = {};
  const lora: Record<string, unknown> = {};
  if (text("validation_file")) out.validation_file = text("validation_file");
  if (text("suffix")) out.suffix = text("suffix");
  for (const [name, , group] of NUMBERS) {
    if (!text(name)) continue;
    const value = Number(text(name));
    const target = group === "lora" ? lora : group === "top" ? out : hyper;
    target[name] = Number.isNaN(value) ? text(name) : value;  // the API says what is wrong
  }
  if (text("target_modules")) {
    const targets = text("target_modules");
    lora.target_modules = targets === "all-linear" ? targets : targets.split(",").map((t) => t.trim());
  }
  if (Object.keys(hyper).length) out.hyperparameters = hyper;
  if (Object.keys(lora).length) out.lora = lora;
  return out;
}

async function createForm(status: HTMLElement): Promise<HTMLElement> {
  const [models, files] = await Promise.all([
    call<ListOf<{ id: string; parent?: string | null }>>("/v1/models"),
    call<ListOf<FileObject>>("/v1/files"),
  ]);
  const bases = models.data.filter((m) => !m.parent).map((m): [string, string] => [m.id, m.id]);
  const usable = files.data.filter((f) => f.status !== "error");  // uploaded ones: the job waits
  const fileOptions = usable.map((f): [string, string] =>
    [f.id, `${f.filename} (${f.id})${f.status === "uploaded" ? ", being checked" : ""}`]);
  const form = h("form", { class: "grid", id: "job-form" },
    field("Base model", select("model", bases, false)),
    field("Training file", select("training_file", fileOptions, false)),
    field("Validation file (optional)", select("validation_file", fileOptions, true)),
    field("Suffix", h("input", { name: "suffix", id: "job-suffix", placeholder: "reviews" })),
    ...NUMBERS.map(([name, label]) => field(label, h("input", { name, id: `job-${name}`, inputmode: "decimal", placeholder: "default" }))),
    field("LoRA targets", h("input", { name: "target_modules", id: "job-target_modules", placeholder: "all-linear or q_proj,v_proj" })),
    h("div", { class: "row" }, h("button", { type: "submit", id: "job-create" }, "Start fine-tune")));
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    replace(status, h("p", { class: "muted" }, "Creating the job…"));
    try {
      const job = await call<Job>("/v1/fine_tunes", { method: "POST", json: body(form) });
      location.hash = `#/jobs/${job.id}`;
    } catch (error) {
      const where = error instanceof ApiError && error.param ? ` (field: ${error.param})` : "";
      replace(status, h("div", { id: "job-error" }, errorBox(`${(error as Error).message}${where}`)));
    }
  });
  return form;
}

export function jobsPage(main: HTMLElement): () => void {
  const status = h("div", { id: "job-form-status" });
  const formCard = h("section", { class: "card" }, h("h2", {}, "New fine-tune"), h("p", { class: "muted" }, "Loading…"), status);
  const list = h("section", { class: "card", id: "job-list" }, h("p", { class: "muted" }, "Loading…"));
  replace(main, h("h1", {}, "Fine-tunes"), formCard, list);
  createForm(status).then(
    (form) => replace(formCard, h("h2", {}, "New fine-tune"), form, status),
    (error) => replace(formCard, errorBox(error)),
  );
  const refresh = async () => {
    try {
      const jobs = await call<ListOf<Job>>("/v1/fine_tunes?limit=100");
      replace(list, jobs.data.length
        ? table(["Job", "Status", "Model", "Created", "Duration"], jobs.data.map((j) => [
            h("a", { href: `#/jobs/${j.id}` }, j.id), badge(j.status), j.fine_tuned_model ?? j.model, localTime(j.created_at), jobDuration(j),
          ]))
        : h("p", { class: "muted" }, "No fine-tunes yet."));
    } catch (error) {
      replace(list, errorBox(error));
    }
  };
  void refresh();
  const timer = window.setInterval(refresh, 5000);
  return () => window.clearInterval(timer);
}
