import type { HttpRun } from './http';
import type { RawRun } from './raw';

export function percentile(values: number[], p: number): number {
  if (!values.length) return NaN;
  const sorted = Float64Array.from(values).sort();
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[rank]!;
}

export interface Figures {
  throughput: number;
  p50: number;
  p99: number;
  count: number;
}

export function figuresOf(run: { throughput: number; latencies: number[] }): Figures {
  return { throughput: run.throughput, p50: percentile(run.latencies, 50), p99: percentile(run.latencies, 99), count: run.latencies.length };
}

/** One line of the results: a scenario at one concurrency, over HTTP and straight to the database. */
export interface ResultRow {
  scenario: string;
  label: string;
  connections: number;
  status: 'measured' | 'skipped (route missing)' | 'failed';
  http?: Figures & { statuses: Record<string, number>; samples: Record<string, string>; errors: number; hostCpuMs?: number };
  raw?: Figures & { outcomes: Record<string, number>; errors: number; errorSample?: string };
  /** http throughput / raw throughput. */
  ratio?: number;
  note?: string;
}

export function rowOf(scenario: string, label: string, connections: number, http: HttpRun, raw: RawRun): ResultRow {
  const h = figuresOf(http);
  const r = figuresOf(raw);
  return {
    scenario,
    label,
    connections,
    status: 'measured',
    http: { ...h, statuses: http.statuses, samples: http.samples, errors: http.errors },
    raw: { ...r, outcomes: raw.outcomes, errors: raw.errors, errorSample: raw.errorSample },
    ratio: r.throughput > 0 ? h.throughput / r.throughput : undefined,
  };
}

const fmt = (n: number | undefined, digits = 0) => (n === undefined || Number.isNaN(n) ? '-' : n.toFixed(digits));
const ms = (n: number | undefined) => (n === undefined || Number.isNaN(n) ? '-' : n < 10 ? n.toFixed(2) : n < 100 ? n.toFixed(1) : n.toFixed(0));

export function statusSummary(row: ResultRow): string {
  if (!row.http) return row.note ?? '';
  const parts = Object.entries(row.http.statuses).map(([code, n]) => `${code}:${n}`);
  if (row.raw && Object.keys(row.raw.outcomes).length > 1) parts.push(`raw ${Object.entries(row.raw.outcomes).map(([k, n]) => `${k}:${n}`).join(' ')}`);
  if (row.http.errors) parts.push(`socket errors:${row.http.errors}`);
  if (row.raw?.errors) parts.push(`raw errors:${row.raw.errors}`);
  if (row.note) parts.push(row.note);
  return parts.join(' ');
}

export function formatTable(rows: ResultRow[]): string {
  const header = ['scenario', 'conn', 'http req/s', 'raw db tx/s', 'ratio', 'http p50 ms', 'http p99 ms', 'raw p50 ms', 'raw p99 ms', 'host CPU ms/req', 'responses'];
  const lines = rows.map((r) =>
    r.status !== 'measured'
      ? [r.label, String(r.connections), r.status, '', '', '', '', '', '', '', r.note ?? '']
      : [
          r.label,
          String(r.connections),
          fmt(r.http!.throughput, r.http!.throughput < 100 ? 1 : 0),
          fmt(r.raw!.throughput, r.raw!.throughput < 100 ? 1 : 0),
          r.ratio === undefined ? '-' : `${(r.ratio * 100).toFixed(0)}%`,
          ms(r.http!.p50),
          ms(r.http!.p99),
          ms(r.raw!.p50),
          ms(r.raw!.p99),
          ms(r.http!.hostCpuMs),
          statusSummary(r),
        ],
  );
  const widths = header.map((h, i) => Math.max(h.length, ...lines.map((l) => (l[i] ?? '').length)));
  const line = (cells: string[]) => cells.map((c, i) => (i === 0 || i === cells.length - 1 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ').trimEnd();
  return [line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...lines.map(line)].join('\n');
}

export interface Target {
  name: string;
  met: boolean | null;
  figure: string;
}

/** Issue 9's targets, read at 8 connections (null: not measured in this run). */
export function targets(rows: ResultRow[], extra: { doubleBookings: number | null; peakRssBytes: number }): Target[] {
  const at8 = (name: string) => rows.find((r) => r.scenario === name && r.connections === 8 && r.status === 'measured');
  const ratioTarget = (name: string, label: string): Target => {
    const r = at8(name);
    return { name: label, met: r?.ratio === undefined ? null : r.ratio >= 0.5, figure: r?.ratio === undefined ? 'not measured' : `${(r.ratio * 100).toFixed(0)}% of raw (${fmt(r.http!.throughput)} vs ${fmt(r.raw!.throughput)}/s)` };
  };
  const p99Target = (name: string, label: string, limit: number): Target => {
    const r = at8(name);
    return { name: label, met: r ? r.http!.p99 < limit : null, figure: r ? `p99 ${ms(r.http!.p99)} ms` : 'not measured' };
  };
  const book = ratioTarget('book', 'book a room: >= 50% of raw, 0 double bookings');
  if (book.met !== null) book.met = book.met && extra.doubleBookings === 0;
  book.figure += `, double bookings: ${extra.doubleBookings ?? '-'}`;
  return [
    ratioTarget('declare', 'declare an incident: >= 50% of raw'),
    book,
    p99Target('inbox-first', 'inbox first page: p99 < 20 ms', 20),
    p99Target('inbox-deep', 'inbox deep page: p99 < 20 ms', 20),
    p99Target('dashboard', 'school dashboard (current school year): p99 < 50 ms', 50),
    p99Target('stats-all', 'cross-school statistics (current school year): < 500 ms (p99)', 500),
    {
      name: 'reference host peak RSS < 300 MB',
      met: extra.peakRssBytes > 0 ? extra.peakRssBytes < 300 * 1024 * 1024 : null,
      figure: `${(extra.peakRssBytes / 1024 / 1024).toFixed(0)} MB`,
    },
  ];
}
