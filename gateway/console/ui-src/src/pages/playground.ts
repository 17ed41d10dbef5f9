import { authHeaders, call, errorOf, ListOf } from "../api";
import { errorBox, field, h, replace } from "../dom";

interface Usage { prompt_tokens: number; completion_tokens: number }

interface Side { select: HTMLSelectElement; answer: HTMLElement; stats: HTMLElement }

/** Read an OpenAI chat stream, calling ``onText`` for each piece; the usage at the end. */
async function streamChat(body: unknown, onText: (text: string) => void): Promise<Usage | null> {
  const response = await fetch("/v1/chat/completions", {
    method: "POST",
    headers: { ...authHeaders(), "Content-Type": "application/json" },
    body: JSON.stringify(body),
  });
  if (!response.ok || !response.body) throw await errorOf(response);
  const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = "";
  let usage: Usage | null = null;
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    buffer += value;
    const events = buffer.split("\n\n");
    buffer = events.pop() ?? "";
    for (const event of events) {
      const data = event.replace(/^data: /, "").trim();
      if (!data || data === "[DONE]") continue;
      const chunk = JSON.parse(data);
      if (chunk.error) throw new Error(chunk.error.message ?? "the stream failed");
      const text = chunk.choices?.[0]?.delta?.content;
      if (text) onText(text);
      if (chunk.usage) usage = chunk.usage;
    }
  }
  return usage;
}

async function run(side: Side, messages: unknown[], temperature: number, maxTokens: number): Promise<void> {
  replace(side.answer);
  replace(side.stats, "streaming…");
  const started = performance.now();
  let first = 0;
  try {
    const usage = await streamChat(
      { model: side.select.value, messages, temperature, max_tokens: maxTokens, stream: true, stream_options: { include_usage: true } },
      (text) => {
        if (!first) first = performance.now();
        side.answer.append(text);
      },
    );
    const total = performance.now() - started;
    const tokens = usage ? `${usage.prompt_tokens} prompt + ${usage.completion_tokens} completion tokens · ` : "";
    replace(side.stats, `${tokens}first token ${first ? Math.round(first - started) : "—"} ms · total ${Math.round(total)} ms`);
  } catch (error) {
    replace(side.stats, errorBox(error));
  }
}

export function playgroundPage(main: HTMLElement, _: string[], query: URLSearchParams): void {
  const system = h("textarea", { id: "pg-system", placeholder: "System prompt (optional)" });
  const prompt = h("textarea", { id: "pg-prompt", placeholder: "Your message" });
  const temperature = h("input", { id: "pg-temperature", type: "number", step: "0.1", min: "0", max: "2", value: "0" });
  const maxTokens = h("input", { id: "pg-max-tokens", type: "number", min: "1", max: "4096", value: "64" });
  const send = h("button", { id: "pg-send", type: "submit" }, "Send to both");
  const sides: Side[] = ["a", "b"].map((name) => ({
    select: h("select", { id: `pg-model-${name}` }),
    answer: h("div", { class: "answer", id: `pg-answer-${name}` }),
    stats: h("div", { class: "muted", id: `pg-stats-${name}` }),
  }));
  const status = h("div", {});
  const form = h("form", {}, field("System prompt", system), field("Message", prompt),
    h("div", { class: "row" }, field("Temperature", temperature), field("Max tokens", maxTokens), send));
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const messages = [
      ...(system.value.trim() ? [{ role: "system", content: system.value }] : []),
      { role: "user", content: prompt.value },
    ];
    send.disabled = true;
    await Promise.all(sides.map((side) => run(side, messages, Number(temperature.value), Number(maxTokens.value))));
    send.disabled = false;
  });
  replace(main, h("h1", {}, "Playground"), h("section", { class: "card" }, form, status),
    h("div", { class: "pair" }, ...sides.map((side) => h("section", { class: "card" }, field("Model", side.select), side.answer, side.stats))));
  call<ListOf<{ id: string }>>("/v1/models").then((models) => {
    sides.forEach((side, index) => {
      for (const model of models.data) side.select.appendChild(h("option", { value: model.id }, model.id));
      const wanted = query.get(index === 0 ? "a" : "b");
      if (wanted) side.select.value = wanted;
      else if (index === 1 && models.data.length > 1) side.select.value = models.data[models.data.length - 1].id;
    });
  }, (error) => replace(status, errorBox(error)));
}
