// A loss chart in plain SVG: train loss as a line, eval loss as a line with dots.

const SVG = "http://www.w3.org/2000/svg";
const WIDTH = 720;
const HEIGHT = 280;
const PAD = { left: 52, right: 12, top: 12, bottom: 28 };

export type Point = [number, number];

export interface Curves {
  train_loss: Point[];
  eval_loss: Point[];
}

function el(tag: string, attrs: Record<string, string | number>): SVGElement {
  const node = document.createElementNS(SVG, tag);
  for (const [name, value] of Object.entries(attrs)) node.setAttribute(name, String(value));
  return node;
}

function text(x: number, y: number, value: string, anchor: string): SVGElement {
  const node = el("text", { x, y, "font-size": 11, fill: "#667085", "text-anchor": anchor });
  node.textContent = value;
  return node;
}

/** Draw ``curves`` into ``host`` (replacing what was there); the counts of plotted points
 * are left in ``data-train-points`` / ``data-eval-points`` for tests and tools. */
export function drawLoss(host: HTMLElement, curves: Curves, totalSteps: number | null): void {
  const all = [...curves.train_loss, ...curves.eval_loss];
  host.dataset.trainPoints = String(curves.train_loss.length);
  host.dataset.evalPoints = String(curves.eval_loss.length);
  const svg = el("svg", { viewBox: `0 0 ${WIDTH} ${HEIGHT}`, role: "img" });
  svg.setAttribute("aria-label", "train and eval loss by step");
  if (all.length === 0) {
    svg.appendChild(text(WIDTH / 2, HEIGHT / 2, "no loss reported yet", "middle"));
    host.replaceChildren(svg);
    return;
  }
  let maxStep = totalSteps ?? 0;
  let low = Infinity;
  let high = -Infinity;
  for (const [step, loss] of all) {
    maxStep = Math.max(maxStep, step);
    low = Math.min(low, loss);
    high = Math.max(high, loss);
  }
  if (high - low < 1e-9) high = low + 1;
  const x = (step: number) => PAD.left + (step / Math.max(1, maxStep)) * (WIDTH - PAD.left - PAD.right);
  const y = (loss: number) => PAD.top + ((high - loss) / (high - low)) * (HEIGHT - PAD.top - PAD.bottom);
  svg.appendChild(el("line", { x1: PAD.left, y1: HEIGHT - PAD.bottom, x2: WIDTH - PAD.right, y2: HEIGHT - PAD.bottom, stroke: "#d8dde6" }));
  svg.appendChild(el("line", { x1: PAD.left, y1: PAD.top, x2: PAD.left, y2: HEIGHT - PAD.bottom, stroke: "#d8dde6" }));
  for (let i = 0; i <= 4; i++) {
    const loss = low + ((high - low) * i) / 4;
    svg.appendChild(text(PAD.left - 6, y(loss) + 4, loss.toFixed(3), "end"));
  }
  for (let i = 0; i <= 4; i++) {
    const step = Math.round((maxStep * i) / 4);
    svg.appendChild(text(x(step), HEIGHT - 8, String(step), "middle"));
  }
  const line = (points: Point[], colour: string) =>
    el("polyline", {
      points: points.map(([s, l]) => `${x(s).toFixed(1)},${y(l).toFixed(1)}`).join(" "),
      fill: "none",
      stroke: colour,
      "stroke-width": 1.5,
    });
  svg.appendChild(line(curves.train_loss, "#2f6fdb"));
  svg.appendChild(line(curves.eval_loss, "#d9480f"));
  for (const [s, l] of curves.eval_loss) {
    svg.appendChild(el("circle", { cx: x(s), cy: y(l), r: 3, fill: "#d9480f" }));
  }
  host.replaceChildren(svg);
}
