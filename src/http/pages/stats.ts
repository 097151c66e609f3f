import { DateTime } from 'luxon';
import { page, PageRoute, RouteContext } from '../route';
import { actionsOf } from '../request';
import { AppError, ValidationError } from '../../errors';
import { errorBody } from '../errors';
import type { T } from '../../i18n';
import { previousSchoolYear, RANKING_KEYS, RankingKey } from '../../domain/stats';
import { crossSchoolStats, DEFAULT_STATS_ZONE, schoolStats } from '../../services/stats';
import { presentCrossStats, presentSchoolStats, PresentedCrossStats, PresentedSchoolStats, weekdayName } from '../stats-present';
import { barChart, ChartModel, columnChart, lineChart } from '../charts';
import { crossStatsQuery, STATS_ACROSS, STATS_READERS, STATS_VIEW, statsQuery } from '../api/stats';

/** Number formats of the user's language, for the pages (the JSON keeps plain numbers). */
export function formats(lang: string, t: T) {
  const number = new Intl.NumberFormat(lang, { maximumFractionDigits: 1 });
  const pct = new Intl.NumberFormat(lang, { style: 'percent', maximumFractionDigits: 1 });
  return {
    number: (n: number | null) => (n === null ? '—' : number.format(n)),
    hours: (n: number | null) => (n === null ? '—' : t('stats:hours', { value: number.format(n) })),
    percent: (n: number | null) => (n === null ? '—' : pct.format(n)),
    date: (iso: string) => DateTime.fromISO(iso).setLocale(lang).toFormat('d LLL yyyy'),
    shortDate: (iso: string) => DateTime.fromISO(iso).setLocale(lang).toFormat('d LLL'),
  };
}

/** A chart's summary for screen readers: its largest value, or "nothing in this period". */
function describeMax(t: T, items: Array<{ label: string; value: number }>, shown: (n: number) => string): string {
  const top = items.reduce<{ label: string; value: number } | null>((best, i) => (i.value > (best?.value ?? 0) ? i : best), null);
  if (!top) return t('stats:chart.empty');
  return t('stats:chart.descMax', { label: top.label, value: shown(top.value) });
}

/** The charts of the incident figures, shared by the school dashboard, the report and the cross-school view. */
export function incidentCharts(f: PresentedSchoolStats['incidents'] | PresentedCrossStats['total']['incidents'], t: T, lang: string, options: { equipmentTop: number; withSchool?: boolean }) {
  const fmt = formats(lang, t);
  const bars = (id: string, title: string, labelHeader: string, items: Array<{ label: string; value: number }>) =>
    barChart({ id, title, desc: describeMax(t, items, fmt.number), items: items.map((i) => ({ ...i, valueLabel: fmt.number(i.value) })), labelHeader, valueHeader: t('stats:measure.declared') });
  const series = (rows: Array<{ declared: number; taken: number; resolved: number }>) => [
    { name: t('stats:measure.declared'), cls: 's1', values: rows.map((r) => r.declared) },
    { name: t('stats:measure.taken'), cls: 's2', values: rows.map((r) => r.taken) },
    { name: t('stats:measure.resolved'), cls: 's3', values: rows.map((r) => r.resolved) },
  ];
  const equipment = f.byEquipment.slice(0, options.equipmentTop).map((e) => ({
    label: options.withSchool && 'structureName' in e ? `${e.name} (${e.structureName})` : e.name,
    value: e.count,
  }));
  const weekLabels = f.byWeek.map((w) => t('stats:weekOf', { date: fmt.date(w.weekStart) }));
  const weekday = f.byWeekday.map((d) => ({ label: d.label, value: d.declared }));
  return {
    status: bars('chart-status', t('stats:section.byStatus'), t('stats:field.status'), f.byStatus.map((s) => ({ label: s.label, value: s.count }))),
    type: bars('chart-type', t('stats:section.byType'), t('stats:field.type'), f.byType.map((v) => ({ label: v.label, value: v.count }))),
    severity: bars('chart-severity', t('stats:section.bySeverity'), t('stats:field.severity'), f.bySeverity.map((v) => ({ label: v.label, value: v.count }))),
    equipment: bars('chart-equipment', t('stats:section.byEquipment'), t('stats:field.equipment'), equipment),
    weekday: columnChart({
      id: 'chart-weekday',
      title: t('stats:section.byWeekday'),
      desc: describeMax(t, weekday, fmt.number),
      categories: f.byWeekday.map((d) => d.label),
      axisLabels: f.byWeekday.map((d) => weekdayName(d.weekday, lang, 'short')),
      series: series(f.byWeekday),
      categoryHeader: t('stats:field.weekday'),
    }),
    hour: columnChart({
      id: 'chart-hour',
      title: t('stats:section.byHour'),
      desc: describeMax(t, f.byHour.map((h) => ({ label: t('stats:hourRange', { from: h.hour, to: h.hour + 1 }), value: h.declared })), fmt.number),
      categories: f.byHour.map((h) => t('stats:hourRange', { from: h.hour, to: h.hour + 1 })),
      axisLabels: f.byHour.map((h) => `${h.hour}`),
      series: series(f.byHour),
      categoryHeader: t('stats:field.hour'),
    }),
    week: columnChart({
      id: 'chart-week',
      title: t('stats:section.byWeek'),
      desc: describeMax(t, f.byWeek.map((w, i) => ({ label: weekLabels[i]!, value: w.declared })), fmt.number),
      categories: weekLabels,
      axisLabels: f.byWeek.map((w) => fmt.shortDate(w.weekStart)),
      series: series(f.byWeek),
      categoryHeader: t('stats:field.week'),
    }),
    backlog: lineChart({
      id: 'chart-backlog',
      title: t('stats:section.backlog'),
      desc: describeMax(t, f.byWeek.map((w, i) => ({ label: weekLabels[i]!, value: w.backlog ?? 0 })), fmt.number),
      categories: weekLabels,
      axisLabels: f.byWeek.map((w) => fmt.shortDate(w.weekStart)),
      series: [{ name: t('stats:measure.backlog'), cls: 's4', values: f.byWeek.map((w) => w.backlog) }],
      categoryHeader: t('stats:field.week'),
    }),
  };
}

export function occupancyWeekChart(weeks: Array<{ weekStart: string; occupancyRate: number | null }>, t: T, lang: string): ChartModel {
  const fmt = formats(lang, t);
  const labels = weeks.map((w) => t('stats:weekOf', { date: fmt.date(w.weekStart) }));
  return lineChart({
    id: 'chart-occupancy-week',
    title: t('stats:section.occupancyByWeek'),
    desc: describeMax(t, weeks.map((w, i) => ({ label: labels[i]!, value: w.occupancyRate ?? 0 })), fmt.percent),
    categories: labels,
    axisLabels: weeks.map((w) => fmt.shortDate(w.weekStart)),
    series: [{ name: t('stats:measure.rate'), cls: 's1', values: weeks.map((w) => w.occupancyRate) }],
    categoryHeader: t('stats:field.week'),
    max: 1,
    format: fmt.percent,
  });
}

function roomChart(rooms: PresentedSchoolStats['bookings']['byRoom'], t: T, lang: string): ChartModel {
  const fmt = formats(lang, t);
  const items = rooms.map((r) => ({ label: r.name, value: r.occupancyRate ?? 0, valueLabel: fmt.percent(r.occupancyRate) }));
  return barChart({
    id: 'chart-occupancy-room',
    title: t('stats:section.occupancyByRoom'),
    desc: describeMax(t, items, fmt.percent),
    items,
    labelHeader: t('stats:field.room'),
    valueHeader: t('stats:measure.rate'),
    max: 1,
    cls: 's2',
  });
}

/** A query string for the same period (and more), for links to exports and shortcuts. */
function query(params: { [key: string]: string | undefined } | { from: string; to: string }): string {
  const q = new URLSearchParams(Object.entries(params as Record<string, string | undefined>).filter(([, v]) => v) as Array<[string, string]>).toString();
  return q ? `?${q}` : '';
}

/** A refused period re-renders the page for the default period with the error said, rather than an error page. */
async function withPeriodFallback<R>(c: RouteContext<unknown, unknown>, run: (input: { from?: string; to?: string }) => Promise<R>, input: { from?: string; to?: string }) {
  try {
    return { result: await run(input), errors: null };
  } catch (error) {
    if (!(error instanceof ValidationError)) throw error;
    const body = errorBody(error as AppError, c.state.t);
    const details = (body.details ?? {}) as { fields?: Array<{ field: string; message: string }> };
    return { result: await run({}), errors: { message: body.message, fields: details.fields ?? [] } };
  }
}

async function schoolPageData(c: RouteContext<{ from?: string; to?: string }, unknown>) {
  const t = c.state.t;
  const lang = c.state.lang;
  const { result, errors } = await withPeriodFallback(c, (input) => schoolStats(c.module, c.structureId, input), { from: c.query.from, to: c.query.to });
  const stats = presentSchoolStats(result, t, lang);
  const actions = (await actionsOf(c.module, c.state))[c.structureId] ?? [];
  const period = { from: stats.period.from, to: stats.period.to };
  const previous = previousSchoolYear(period);
  const base = `/structures/${encodeURIComponent(c.structureId)}`;
  return {
    stats,
    errors,
    fmt: formats(lang, t),
    charts: { ...incidentCharts(stats.incidents, t, lang, { equipmentTop: 10 }), rooms: roomChart(stats.bookings.byRoom, t, lang), occupancyWeek: occupancyWeekChart(stats.bookings.byWeek, t, lang) },
    links: {
      self: `${base}/stats`,
      current: `${base}/stats`,
      previous: `${base}/stats${query(previous)}`,
      report: `${base}/stats/report${query(period)}`,
      figuresCsv: `/api/v1${base}/stats.csv${query(period)}`,
      incidentsCsv: actions.includes(STATS_VIEW) ? `/api/v1${base}/stats/incidents.csv${query(period)}` : null,
      json: `/api/v1${base}/stats${query(period)}`,
      across: actions.includes(STATS_ACROSS) ? `/stats${query(period)}` : null,
    },
  };
}

export const statsPages: PageRoute[] = [
  page({
    method: 'get',
    path: '/structures/:sid/stats',
    summary: "The school's statistics dashboard for a period: charts with their numbers, links to the exports and the printable report.",
    action: STATS_READERS,
    scope: { kind: 'structure' },
    query: statsQuery,
    async handler(c) {
      const data = await schoolPageData(c);
      return { view: 'pages/stats', title: c.state.t('stats:title', { school: data.stats.structure.name }), structureId: c.structureId, data };
    },
  }),
  page({
    method: 'get',
    path: '/structures/:sid/stats/report',
    summary: "A one-page printable report of the school's statistics (HTML with a print stylesheet).",
    action: STATS_READERS,
    scope: { kind: 'structure' },
    query: statsQuery,
    async handler(c) {
      const data = await schoolPageData(c);
      return {
        view: 'pages/stats-report',
        title: c.state.t('stats:report.title', { school: data.stats.structure.name }),
        structureId: c.structureId,
        data: { ...data, generatedAt: DateTime.now().setZone(data.stats.period.timeZone).setLocale(c.state.lang).toFormat('d LLLL yyyy HH:mm') },
      };
    },
  }),
  page({
    method: 'get',
    path: '/stats',
    summary: 'The cross-school view: the same figures per school and in total, with a table that ranks the schools.',
    // The schools where the user holds the action (403 when none), as for GET /api/v1/stats.
    action: STATS_ACROSS,
    scope: { kind: 'anyStructure' },
    query: crossStatsQuery,
    async handler(c) {
      const t = c.state.t;
      const lang = c.state.lang;
      const structures = c.structureIds;
      const sort: RankingKey = c.query.sort ?? 'incidents';
      const { result, errors } = await withPeriodFallback(c, (input) => crossSchoolStats(c.module, structures, { ...input, sort }), { from: c.query.from, to: c.query.to });
      const stats = presentCrossStats(result, t, lang);
      const fmt = formats(lang, t);
      const period = { from: stats.period.from, to: stats.period.to };
      const rights = await actionsOf(c.module, c.state);
      const perSchool = barChart({
        id: 'chart-schools',
        title: t('stats:cross.perSchool'),
        desc: describeMax(t, stats.structures.map((s) => ({ label: s.name, value: s.incidents.total })), fmt.number),
        items: stats.structures.slice(0, 30).map((s) => ({ label: s.name, value: s.incidents.total, valueLabel: fmt.number(s.incidents.total) })),
        labelHeader: t('stats:cross.school'),
        valueHeader: t('stats:measure.declared'),
      });
      return {
        view: 'pages/stats-cross',
        title: t('stats:cross.title'),
        data: {
          stats,
          errors,
          fmt,
          sort,
          sortKeys: Object.keys(RANKING_KEYS),
          period,
          previous: previousSchoolYear(period),
          charts: { ...incidentCharts(stats.total.incidents, t, lang, { equipmentTop: 10, withSchool: true }), occupancyWeek: occupancyWeekChart(stats.total.bookings.byWeek, t, lang), perSchool },
          schoolLinks: Object.fromEntries(stats.structures.map((s) => [s.id, (rights[s.id] ?? []).some((a) => STATS_READERS.includes(a))])),
          links: { csv: `/api/v1/stats.csv${query({ ...period, sort })}`, json: `/api/v1/stats${query({ ...period, sort })}` },
          asOf: stats.computedAt ? DateTime.fromISO(stats.computedAt).setZone(DEFAULT_STATS_ZONE).setLocale(lang).toFormat('d LLLL yyyy HH:mm') : '',
          query,
        },
      };
    },
  }),
];
