/**
 * Server-rendered SVG charts, as plain geometry: rectangles, lines, polylines and texts with classes. The partial
 * views/partials/chart.ejs draws them with <%= %> (so every label, including a school's equipment names, is escaped),
 * inside <svg role="img"> with a <title> and a <desc>, and puts the numbers in a table behind the chart.
 *
 * No style attribute anywhere (the CSP forbids inline styles): colours come from classes in public/module.css, sizes
 * from SVG presentation attributes (x, y, width, height), which the CSP allows.
 */

export interface ChartTable {
  caption: string;
  /** Column headers; the first one heads the row labels. */
  head: string[];
  rows: Array<{ head: string; cells: string[] }>;
}

export interface ChartModel {
  id: string;
  title: string;
  desc: string;
  width: number;
  height: number;
  rects: Array<{ x: number; y: number; width: number; height: number; cls: string; tip: string }>;
  lines: Array<{ x1: number; y1: number; x2: number; y2: number; cls: string }>;
  polylines: Array<{ points: string; cls: string }>;
  dots: Array<{ cx: number; cy: number; cls: string; tip: string }>;
  texts: Array<{ x: number; y: number; text: string; anchor: 'start' | 'middle' | 'end'; cls: string }>;
  legend: Array<{ label: string; cls: string }>;
  table: ChartTable;
}

const WIDTH = 640;
const round = (n: number) => Math.round(n * 10) / 10;

/** A round axis maximum and its step (1, 2 or 5 times a power of ten), about four gridlines. */
export function niceScale(max: number): { max: number; step: number } {
  if (!(max > 0)) return { max: 1, step: 1 };
  const rough = max / 4;
  const power = 10 ** Math.floor(Math.log10(rough));
  const step = [1, 2, 5, 10].map((m) => m * power).find((s) => s >= rough)!;
  return { max: Math.ceil(max / step) * step, step };
}

/** Shortens a label drawn in the chart (the table keeps it whole). */
export function shorten(label: string, max: number): string {
  return label.length <= max ? label : `${label.slice(0, max - 1)}…`;
}

export interface BarItem {
  label: string;
  value: number;
  /** The value as shown (e.g. "42 %"); default: the number. */
  valueLabel?: string;
}

/** Horizontal bars, one per category (statuses, types, equipment, rooms): long labels read well on the left. */
export function barChart(input: { id: string; title: string; desc: string; items: BarItem[]; labelHeader: string; valueHeader: string; max?: number; cls?: string }): ChartModel {
  const rowHeight = 26;
  const labelWidth = 200;
  const valueWidth = 70;
  const height = Math.max(1, input.items.length) * rowHeight + 8;
  const max = input.max ?? Math.max(0, ...input.items.map((i) => i.value));
  const plot = WIDTH - labelWidth - valueWidth;
  const model = empty(input.id, input.title, input.desc, height, { caption: input.title, head: [input.labelHeader, input.valueHeader], rows: [] });
  input.items.forEach((item, index) => {
    const y = 4 + index * rowHeight;
    const w = max > 0 ? (item.value / max) * plot : 0;
    const shown = item.valueLabel ?? String(item.value);
    model.texts.push({ x: labelWidth - 8, y: y + 17, text: shorten(item.label, 28), anchor: 'end', cls: 'chart-label' });
    model.rects.push({ x: labelWidth, y: y + 4, width: round(Math.max(w, item.value > 0 ? 2 : 0)), height: rowHeight - 8, cls: input.cls ?? 's1', tip: `${item.label}: ${shown}` });
    model.texts.push({ x: round(labelWidth + w + 6), y: y + 17, text: shown, anchor: 'start', cls: 'chart-value' });
    model.table.rows.push({ head: item.label, cells: [shown] });
  });
  model.lines.push({ x1: labelWidth, y1: 0, x2: labelWidth, y2: height, cls: 'chart-axis' });
  return model;
}

export interface Series {
  name: string;
  cls: string;
  values: Array<number | null>;
}

const PLOT = { left: 48, right: 12, top: 12, bottom: 36 };

function yAxis(model: ChartModel, max: number, step: number, height: number, format: (n: number) => string) {
  const bottom = height - PLOT.bottom;
  const plotHeight = bottom - PLOT.top;
  for (let v = 0; v <= max + step / 2; v += step) {
    const y = round(bottom - (v / max) * plotHeight);
    model.lines.push({ x1: PLOT.left, y1: y, x2: WIDTH - PLOT.right, y2: y, cls: v === 0 ? 'chart-axis' : 'chart-gridline' });
    model.texts.push({ x: PLOT.left - 6, y: y + 4, text: format(v), anchor: 'end', cls: 'chart-tick' });
  }
  return { bottom, plotHeight };
}

/** Which category labels to draw under the axis: all of them when they fit, else every n-th. */
function labelEvery(count: number, width: number, minSpacing: number): number {
  return Math.max(1, Math.ceil((count * minSpacing) / width));
}

/** Grouped vertical columns over ordered categories (weekdays, hours, weeks). */
export function columnChart(input: {
  id: string;
  title: string;
  desc: string;
  categories: string[];
  /** Shorter labels for the axis (e.g. "lun." for "lundi"); default: the categories. */
  axisLabels?: string[];
  series: Series[];
  categoryHeader: string;
  height?: number;
  format?: (n: number) => string;
}): ChartModel {
  const height = input.height ?? 240;
  const format = input.format ?? ((n: number) => String(n));
  const table: ChartTable = { caption: input.title, head: [input.categoryHeader, ...input.series.map((s) => s.name)], rows: [] };
  const model = empty(input.id, input.title, input.desc, height, table);
  const { max, step } = niceScale(Math.max(0, ...input.series.flatMap((s) => s.values.map((v) => v ?? 0))));
  const { bottom, plotHeight } = yAxis(model, max, step, height, format);
  const plotWidth = WIDTH - PLOT.left - PLOT.right;
  const slot = plotWidth / Math.max(1, input.categories.length);
  const barWidth = Math.max(1, (slot * 0.8) / Math.max(1, input.series.length));
  const every = labelEvery(input.categories.length, plotWidth, 56);
  input.categories.forEach((category, c) => {
    const x0 = PLOT.left + c * slot + slot * 0.1;
    input.series.forEach((s, k) => {
      const v = s.values[c] ?? 0;
      const h = (v / max) * plotHeight;
      model.rects.push({ x: round(x0 + k * barWidth), y: round(bottom - h), width: round(barWidth), height: round(h), cls: s.cls, tip: `${category} — ${s.name}: ${format(v)}` });
    });
    if (c % every === 0) model.texts.push({ x: round(PLOT.left + c * slot + slot / 2), y: bottom + 16, text: (input.axisLabels ?? input.categories)[c]!, anchor: 'middle', cls: 'chart-tick' });
    table.rows.push({ head: category, cells: input.series.map((s) => (s.values[c] === null ? '—' : format(s.values[c]!))) });
  });
  if (input.series.length > 1) model.legend = input.series.map((s) => ({ label: s.name, cls: s.cls }));
  return model;
}

/** Lines over ordered categories (the backlog, the occupancy week by week); a null value leaves a gap. */
export function lineChart(input: {
  id: string;
  title: string;
  desc: string;
  categories: string[];
  axisLabels?: string[];
  series: Series[];
  categoryHeader: string;
  height?: number;
  max?: number;
  format?: (n: number) => string;
}): ChartModel {
  const height = input.height ?? 220;
  const format = input.format ?? ((n: number) => String(n));
  const table: ChartTable = { caption: input.title, head: [input.categoryHeader, ...input.series.map((s) => s.name)], rows: [] };
  const model = empty(input.id, input.title, input.desc, height, table);
  const scale = input.max !== undefined ? { max: input.max, step: input.max / 4 } : niceScale(Math.max(0, ...input.series.flatMap((s) => s.values.map((v) => v ?? 0))));
  const { bottom, plotHeight } = yAxis(model, scale.max, scale.step, height, format);
  const plotWidth = WIDTH - PLOT.left - PLOT.right;
  const n = input.categories.length;
  const xOf = (c: number) => round(PLOT.left + (n <= 1 ? plotWidth / 2 : (c / (n - 1)) * plotWidth));
  const yOf = (v: number) => round(bottom - (Math.min(v, scale.max) / scale.max) * plotHeight);
  for (const s of input.series) {
    let segment: string[] = [];
    const flush = () => {
      if (segment.length > 1) model.polylines.push({ points: segment.join(' '), cls: s.cls });
      segment = [];
    };
    s.values.forEach((v, c) => {
      if (v === null) return flush();
      segment.push(`${xOf(c)},${yOf(v)}`);
      if (n <= 60) model.dots.push({ cx: xOf(c), cy: yOf(v), cls: s.cls, tip: `${input.categories[c]} — ${s.name}: ${format(v)}` });
    });
    flush();
  }
  const every = labelEvery(n, plotWidth, 56);
  input.categories.forEach((category, c) => {
    if (c % every === 0) model.texts.push({ x: xOf(c), y: bottom + 16, text: (input.axisLabels ?? input.categories)[c]!, anchor: 'middle', cls: 'chart-tick' });
    table.rows.push({ head: category, cells: input.series.map((s) => (s.values[c] === null || s.values[c] === undefined ? '—' : format(s.values[c]!))) });
  });
  if (input.series.length > 1) model.legend = input.series.map((s) => ({ label: s.name, cls: s.cls }));
  return model;
}

function empty(id: string, title: string, desc: string, height: number, table: ChartTable): ChartModel {
  return { id, title, desc, width: WIDTH, height, rects: [], lines: [], polylines: [], dots: [], texts: [], legend: [], table };
}
