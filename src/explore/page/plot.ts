/**
 * A small canvas plotter for the explorer page: one frame with labelled axes, and series drawn
 * as ticks (a value's position), lines, steps or bars. Log axes are the caller's business: it
 * passes log2 of its values and a tick label that says 2^k, so every axis here is linear.
 */

export interface Axis {
  readonly min: number;
  readonly max: number;
  readonly label: string;
  /** Tick positions; default: whole numbers between min and max, thinned to at most ~16. */
  readonly ticks?: readonly number[];
  readonly tickLabel?: (value: number) => string;
}

export interface Series {
  readonly label: string;
  readonly colour: string;
  /** ticks: a short vertical mark at each x inside the band [y, y2]; line; bars from y = axis min (width = x2 − x). */
  readonly kind: "ticks" | "line" | "bars";
  readonly points: readonly { readonly x: number; readonly y: number; readonly x2?: number; readonly y2?: number }[];
}

/** A shaded vertical band, e.g. a format's representable range over a histogram. */
export interface Band {
  readonly from: number;
  readonly to: number;
  readonly colour: string;
  readonly label: string;
}

export interface PlotSpec {
  readonly x: Axis;
  readonly y: Axis;
  readonly series: readonly Series[];
  readonly bands?: readonly Band[];
}

const MARGIN = { left: 64, right: 16, top: 26, bottom: 40 };

/** Draws `spec` into `canvas`, sized to its CSS box at the device's pixel ratio. */
export function drawPlot(canvas: HTMLCanvasElement, spec: PlotSpec): void {
  const ratio = window.devicePixelRatio || 1;
  const width = canvas.clientWidth || 600;
  const height = canvas.clientHeight || 240;
  canvas.width = Math.round(width * ratio);
  canvas.height = Math.round(height * ratio);
  const g = canvas.getContext("2d");
  if (g === null) return;
  g.setTransform(ratio, 0, 0, ratio, 0, 0);
  g.fillStyle = "#ffffff";
  g.fillRect(0, 0, width, height);

  const inner = { x: MARGIN.left, y: MARGIN.top, w: width - MARGIN.left - MARGIN.right, h: height - MARGIN.top - MARGIN.bottom };
  const span = (a: Axis) => (a.max > a.min ? a.max - a.min : 1);
  const px = (x: number) => inner.x + ((x - spec.x.min) / span(spec.x)) * inner.w;
  const py = (y: number) => inner.y + inner.h - ((y - spec.y.min) / span(spec.y)) * inner.h;
  const clampY = (y: number) => Math.min(Math.max(y, spec.y.min), spec.y.max);

  for (const band of spec.bands ?? []) {
    g.fillStyle = band.colour;
    const a = px(Math.max(band.from, spec.x.min));
    const b = px(Math.min(band.to, spec.x.max));
    if (b > a) g.fillRect(a, inner.y, b - a, inner.h);
  }

  drawAxes(g, spec, inner, px, py);

  g.save();
  g.beginPath();
  g.rect(inner.x, inner.y, inner.w, inner.h);
  g.clip();
  for (const s of spec.series) {
    g.strokeStyle = s.colour;
    g.fillStyle = s.colour;
    g.lineWidth = 1.5;
    if (s.kind === "ticks") {
      g.beginPath();
      for (const p of s.points) {
        const x = Math.round(px(p.x)) + 0.5;
        g.moveTo(x, py(p.y));
        g.lineTo(x, py(p.y2 ?? p.y));
      }
      g.lineWidth = 1;
      g.stroke();
    } else if (s.kind === "bars") {
      for (const p of s.points) {
        const a = px(p.x);
        const b = px(p.x2 ?? p.x + 1);
        const top = py(clampY(p.y));
        g.globalAlpha = 0.55;
        g.fillRect(a + 1, top, Math.max(1, b - a - 2), py(spec.y.min) - top);
        g.globalAlpha = 1;
      }
    } else {
      g.beginPath();
      let pen = false;
      for (const p of s.points) {
        if (!Number.isFinite(p.y)) {
          pen = false;
          continue;
        }
        const [x, y] = [px(p.x), py(clampY(p.y))];
        if (pen) g.lineTo(x, y);
        else g.moveTo(x, y);
        pen = true;
      }
      g.stroke();
    }
  }
  g.restore();
  drawLegend(g, spec, inner);
}

type Box = { x: number; y: number; w: number; h: number };

function defaultTicks(a: Axis): number[] {
  const lo = Math.ceil(a.min);
  const hi = Math.floor(a.max);
  const step = Math.max(1, Math.ceil((hi - lo + 1) / 16));
  const ticks: number[] = [];
  for (let t = lo; t <= hi; t += step) ticks.push(t);
  return ticks;
}

function drawAxes(g: CanvasRenderingContext2D, spec: PlotSpec, inner: Box, px: (x: number) => number, py: (y: number) => number): void {
  g.strokeStyle = "#c8c8c8";
  g.lineWidth = 1;
  g.fillStyle = "#333333";
  g.font = "11px system-ui, sans-serif";
  g.textAlign = "center";
  g.textBaseline = "top";
  for (const t of spec.x.ticks ?? defaultTicks(spec.x)) {
    const x = Math.round(px(t)) + 0.5;
    g.beginPath();
    g.moveTo(x, inner.y);
    g.lineTo(x, inner.y + inner.h);
    g.stroke();
    g.fillText((spec.x.tickLabel ?? String)(t), x, inner.y + inner.h + 4);
  }
  g.textAlign = "right";
  g.textBaseline = "middle";
  for (const t of spec.y.ticks ?? defaultTicks(spec.y)) {
    const y = Math.round(py(t)) + 0.5;
    g.beginPath();
    g.moveTo(inner.x, y);
    g.lineTo(inner.x + inner.w, y);
    g.stroke();
    g.fillText((spec.y.tickLabel ?? String)(t), inner.x - 4, y);
  }
  g.strokeStyle = "#555555";
  g.strokeRect(inner.x + 0.5, inner.y + 0.5, inner.w, inner.h);
  g.textAlign = "center";
  g.textBaseline = "bottom";
  g.fillText(spec.x.label, inner.x + inner.w / 2, inner.y + inner.h + 38);
  g.save();
  g.translate(14, inner.y + inner.h / 2);
  g.rotate(-Math.PI / 2);
  g.textBaseline = "middle";
  g.fillText(spec.y.label, 0, 0);
  g.restore();
}

function drawLegend(g: CanvasRenderingContext2D, spec: PlotSpec, inner: Box): void {
  const entries = [...spec.series.map((s) => ({ label: s.label, colour: s.colour })), ...(spec.bands ?? []).map((b) => ({ label: b.label, colour: b.colour }))];
  g.font = "12px system-ui, sans-serif";
  g.textAlign = "left";
  g.textBaseline = "middle";
  let x = inner.x;
  for (const e of entries) {
    g.fillStyle = e.colour;
    g.fillRect(x, 8, 12, 10);
    g.fillStyle = "#222222";
    g.fillText(e.label, x + 16, 13);
    x += 28 + g.measureText(e.label).width;
  }
}

/** "2^k" with a superscript-like caret, the label of a log2 axis tick. */
export const powerOfTwoLabel = (k: number): string => `2^${k}`;
