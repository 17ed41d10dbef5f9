import { call, ListOf } from "../api";
import { errorBox, field, h, localTime, replace, table } from "../dom";

export interface FileObject {
  id: string;
  filename: string;
  bytes: number;
  created_at: number;
  format: string | null;
  examples: number | null;
  tokens: number | null;
  status: "uploaded" | "processed" | "error";
  status_details: string | null;
}

interface Preview {
  total_examples: number;
  data: { line: number | null; messages: { role: string; content: string }[] }[];
}

interface Summary { total: number; min: number | null; max: number | null; mean: number | null; p50: number | null; p90: number | null }

interface Stats {
  examples: number;
  unit: string;
  length: Summary;
  histogram: { start: number; end: number; count: number }[];
  messages_per_example: Summary;
  with_system_prompt: number;
}

/** The column names of a CSV file's header row (quoted names allowed). */
function csvHeader(text: string): string[] {
  const line = text.split(/\r?\n/, 1)[0] ?? "";
  const names: string[] = [];
  let cell = "";
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    const c = line[i];
    if (quoted && c === '"' && line[i + 1] === '"') { cell += '"'; i++; }
    else if (c === '"') quoted = !quoted;
    else if (c === "," && !quoted) { names.push(cell.trim()); cell = ""; }
    else cell += c;
  }
  names.push(cell.trim());
  return names.filter((name) => name.length > 0);
}

/** CSV: ask which columns are the prompt and the answer, then upload with that mapping. */
async function mapColumns(file: File, status: HTMLElement, after: () => void): Promise<void> {
  const columns = csvHeader(await file.slice(0, 64 * 1024).text());
  const choose = (id: string, preselect: number) => {
    const control = h("select", { id }, ...columns.map((c) => h("option", { value: c }, c)));
    control.selectedIndex = Math.min(preselect, columns.length - 1);
    return control;
  };
  const prompt = choose("csv-prompt", 0);
  const answer = choose("csv-completion", 1);
  const system = h("input", { id: "csv-system", placeholder: "optional", size: 30 });
  const go = h("button", { type: "submit", id: "csv-upload" }, "Convert and upload");
  const form = h("form", { class: "row", id: "csv-mapping" },
    field("Prompt column", prompt), field("Answer column", answer), field("System prompt", system), go);
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    void upload(file, status, after, { prompt_column: prompt.value, completion_column: answer.value, system: system.value });
  });
  replace(status, h("p", {}, `${file.name} is CSV: each row becomes a chat. Which columns?`), form);
}

async function upload(file: File, status: HTMLElement, after: () => void, mapping?: Record<string, string>): Promise<void> {
  if (file.name.toLowerCase().endsWith(".csv") && !mapping) return mapColumns(file, status, after);
  const form = new FormData();
  form.append("purpose", "fine-tune");
  for (const [name, value] of Object.entries(mapping ?? {})) if (value) form.append(name, value);
  form.append("file", file, file.name);
  replace(status, h("p", { class: "muted" }, `Uploading and checking ${file.name}…`));
  try {
    const stored = await call<FileObject>("/v1/files", { method: "POST", form });
    const outcome = stored.status === "uploaded"
      ? ": it is large, so it is checked now, after the upload; its page shows the result."
      : `: ${stored.examples} examples (${stored.format}).`;
    replace(status, h("p", { class: "notice", id: "upload-ok" }, `${stored.filename} is stored as `,
      h("a", { href: `#/datasets/${stored.id}` }, stored.id), outcome));
    after();
  } catch (error) {
    replace(status, h("div", { id: "upload-error" }, errorBox(error)));
  }
}

function dropZone(status: HTMLElement, after: () => void): HTMLElement {
  const input = h("input", { type: "file", id: "upload-input", accept: ".jsonl,.json,.csv" });
  input.addEventListener("change", () => {
    if (input.files?.[0]) void upload(input.files[0], status, after);
    input.value = "";
  });
  const zone = h("div", { class: "drop", id: "drop-zone" },
    h("p", {}, "Drop a dataset here (JSONL or JSON: OpenAI messages, ChatGLM3, Alpaca or ShareGPT; or CSV, with a column mapping), or choose one: "),
    input);
  zone.addEventListener("dragover", (event) => { event.preventDefault(); zone.classList.add("over"); });
  zone.addEventListener("dragleave", () => zone.classList.remove("over"));
  zone.addEventListener("drop", (event) => {
    event.preventDefault();
    zone.classList.remove("over");
    const file = event.dataTransfer?.files?.[0];
    if (file) void upload(file, status, after);
  });
  return zone;
}

export function datasetsPage(main: HTMLElement): void {
  const status = h("div", { id: "upload-status" });
  const list = h("section", { class: "card", id: "file-list" }, h("p", { class: "muted" }, "Loading…"));
  const refresh = async () => {
    try {
      const files = await call<ListOf<FileObject>>("/v1/files");
      const rows = files.data.map((f) => {
        const remove = h("button", { class: "plain", type: "button" }, "Delete");
        remove.addEventListener("click", async () => {
          if (!confirm(`Delete ${f.filename} (${f.id})?`)) return;
          try {
            await call(`/v1/files/${f.id}`, { method: "DELETE" });
            void refresh();
          } catch (error) {
            replace(status, errorBox(error));
          }
        });
        return [h("a", { href: `#/datasets/${f.id}` }, f.filename), f.id, f.status, f.format ?? "—", f.examples ?? "—", f.tokens ?? "—", localTime(f.created_at), remove];
      });
      replace(list, rows.length
        ? table(["File", "Id", "Status", "Format", "Examples", "Tokens", "Uploaded", ""], rows)
        : h("p", { class: "muted" }, "No datasets yet."));
    } catch (error) {
      replace(list, errorBox(error));
    }
  };
  replace(main, h("h1", {}, "Datasets"), h("section", { class: "card" }, dropZone(status, refresh), status), list);
  void refresh();
}

function chats(preview: Preview): HTMLElement {
  return h("section", { class: "card", id: "preview" },
    h("h2", {}, `First ${preview.data.length} of ${preview.total_examples} examples`),
    ...preview.data.map((example) => h("div", { class: "chat" },
      h("div", { class: "muted" }, example.line ? `line ${example.line}` : ""),
      ...example.messages.map((m) => h("div", { class: "msg" }, h("b", {}, m.role), m.content)))));
}

function histogram(stats: Stats): SVGElement | HTMLElement {
  const most = Math.max(1, ...stats.histogram.map((b) => b.count));
  return h("div", {}, ...stats.histogram.map((b) => h("div", { class: "row" },
    h("span", { style: "min-width:8rem" }, `${b.start}–${b.end - 1}`),
    h("span", { style: `display:inline-block;height:.7rem;background:#2f6fdb;width:${(b.count / most) * 60}%` }),
    h("span", { class: "muted" }, String(b.count)))));
}

function statsCard(stats: Stats): HTMLElement {
  const l = stats.length;
  return h("section", { class: "card", id: "stats" },
    h("h2", {}, `Length in ${stats.unit}`),
    table(["Examples", "Total", "Min", "Median", "p90", "Max", "Mean", "With system prompt"],
      [[stats.examples, l.total, l.min, l.p50, l.p90, l.max, l.mean, stats.with_system_prompt]]),
    histogram(stats));
}

interface Finding { code: string; severity: string; message: string; lines: number[]; count: number }
interface Report { counts: Record<string, number>; findings: Finding[] }

const SEVERITY_BADGE: Record<string, string> = { error: "failed", warning: "running", info: "ok" };

function reportCard(report: Report): HTMLElement {
  const counts = Object.entries(report.counts).map(([severity, n]) => `${n} ${severity}`).join(", ");
  return h("section", { class: "card", id: "report" },
    h("h2", {}, "Quality report"),
    h("p", { class: "muted" }, counts),
    report.findings.length
      ? table(["", "Finding", "Lines"], report.findings.map((f) => [
          h("span", { class: `badge ${SEVERITY_BADGE[f.severity] ?? ""}` }, f.severity), f.message,
          f.lines.length ? `${f.lines.join(", ")}${f.count > f.lines.length ? ` and ${f.count - f.lines.length} more` : ""}` : "",
        ]))
      : h("p", {}, "Nothing to report."));
}

export function datasetPage(main: HTMLElement, [id]: string[]): void {
  const body = h("div", {}, h("p", { class: "muted" }, "Loading…"));
  replace(main, h("h1", {}, "Dataset ", id), body);
  void (async () => {
    try {
      const file = await call<FileObject>(`/v1/files/${encodeURIComponent(id)}`);
      if (file.status === "uploaded") {  // a large file, checked after its upload: look again
        replace(body, h("section", { class: "card", id: "checking" },
          h("p", { class: "muted" }, `${file.filename} (${file.bytes} bytes) is being checked…`)));
        setTimeout(() => { if (body.isConnected) datasetPage(main, [id]); }, 2000);
        return;
      }
      if (file.status === "error") {
        replace(body, h("section", { class: "card", id: "file-problems" },
          h("h2", {}, `${file.filename} is not usable`), h("pre", {}, file.status_details ?? "")));
        return;
      }
      const [stats, preview, report] = await Promise.all([
        call<Stats>(`/v1/files/${file.id}/stats`),
        call<Preview>(`/v1/files/${file.id}/preview?limit=5`),
        call<Report>(`/v1/files/${file.id}/report`).catch((error: unknown) => error),
      ]);
      replace(body,
        h("section", { class: "card" }, table(["File", "Format", "Examples", "Tokens", "Bytes", "Uploaded", "Validation"],
          [[file.filename, file.format, file.examples, file.tokens, file.bytes, localTime(file.created_at), "no problems: every line is usable"]])),
        report instanceof Error ? h("section", { class: "card" }, errorBox(report)) : reportCard(report as Report),
        statsCard(stats), chats(preview));
    } catch (error) {
      replace(body, errorBox(error));
    }
  })();
}
