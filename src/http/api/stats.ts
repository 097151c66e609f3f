import { z } from 'zod';
import { route, ApiRoute } from '../route';
import { RANKING_KEYS, RankingKey } from '../../domain/stats';
import { crossSchoolStats, incidentsExport, schoolStats } from '../../services/stats';
import { presentCrossStats, presentSchoolStats } from '../stats-present';
import { crossFiguresCsv, csvResponse, incidentsCsv, schoolFiguresCsv } from '../stats-csv';

export const STATS_VIEW = 'stats.view';
export const STATS_ACROSS = 'stats.viewAcrossStructures';
/** A school's figures: its direction and referents, and the local authority that sees it among its schools. */
export const STATS_READERS = [STATS_VIEW, STATS_ACROSS];

/** An empty form field (`from=`) means "not given". */
const day = z.preprocess((v) => (v === '' ? undefined : v), z.string().regex(/^\d{4}-\d{2}-\d{2}$/, 'a date YYYY-MM-DD').optional());

export const statsQuery = z.object({ from: day, to: day, lang: z.string().max(10).optional() }).strict();
export const crossStatsQuery = statsQuery
  .extend({ sort: z.preprocess((v) => (v === '' ? undefined : v), z.enum(Object.keys(RANKING_KEYS) as [RankingKey, ...RankingKey[]]).optional()) })
  .strict();

const periodName = (p: { from: string; to: string }) => `${p.from}_${p.to}`;

export const statsRoutes: ApiRoute[] = [
  route({
    method: 'get',
    path: '/structures/:sid/stats',
    summary:
      "A school's figures for a period (from, to: YYYY-MM-DD, both included; default the current school year, September to August, in the school's zone): incidents by status, type, severity, equipment, weekday, hour and week, median and p90 hours to take in charge and to resolve, open backlog per week; bookings: occupancy per room and per week.",
    action: STATS_READERS,
    scope: { kind: 'structure' },
    query: statsQuery,
    async handler(c) {
      return presentSchoolStats(await schoolStats(c.module, c.structureId, c.query), c.state.t, c.state.lang);
    },
  }),
  route({
    method: 'get',
    path: '/structures/:sid/stats.csv',
    summary: "The same figures as CSV for a spreadsheet (UTF-8 with BOM, ';'), one figure a line: section; item; measure; value.",
    action: STATS_READERS,
    scope: { kind: 'structure' },
    query: statsQuery,
    async handler(c) {
      const stats = presentSchoolStats(await schoolStats(c.module, c.structureId, c.query), c.state.t, c.state.lang);
      return csvResponse(schoolFiguresCsv(stats, c.state.t, c.state.lang), `${c.state.t('stats:csv.figuresFile')}-${c.structureId}-${periodName(stats.period)}`);
    },
  }),
  route({
    method: 'get',
    path: '/structures/:sid/stats/incidents.csv',
    summary: "The incidents declared in the period as CSV (UTF-8 with BOM, ';'), each with a summary of its history. For the school's own statistics readers only (descriptions may name people).",
    action: STATS_VIEW,
    scope: { kind: 'structure' },
    query: statsQuery,
    async handler(c) {
      const { period, rows } = await incidentsExport(c.module, c.structureId, c.query);
      return csvResponse(incidentsCsv(rows, c.state.t, c.state.lang, period.timeZone), `${c.state.t('stats:csv.incidentsFile')}-${c.structureId}-${periodName(period)}`);
    },
  }),
  /*
   * The cross-school figures: the chain's `anyStructure` scope gives the schools where the user holds
   * stats.viewAcrossStructures (403 when none); the SQL is then scoped to exactly that list, never to all schools.
   */
  route({
    method: 'get',
    path: '/stats',
    summary:
      'The same figures across the schools where the user holds stats.viewAcrossStructures (403 if none): a summary per school, ranked by sort (incidents, backlog, takeInCharge, resolve, occupancy), and the total. ' +
      'A whole school year (or the last two) is read from the summary at once; another period is computed live, one at a time per process with two waiting ' +
      '(identical requests share one): beyond that, 503 with Retry-After.',
    action: STATS_ACROSS,
    scope: { kind: 'anyStructure' },
    query: crossStatsQuery,
    async handler(c) {
      const structures = c.structureIds;
      return presentCrossStats(await crossSchoolStats(c.module, structures, c.query), c.state.t, c.state.lang);
    },
  }),
  route({
    method: 'get',
    path: '/stats.csv',
    summary: 'The cross-school table as CSV (UTF-8 with BOM, \';\'): one line per school in ranking order, and the total.',
    action: STATS_ACROSS,
    scope: { kind: 'anyStructure' },
    query: crossStatsQuery,
    async handler(c) {
      const structures = c.structureIds;
      const stats = presentCrossStats(await crossSchoolStats(c.module, structures, c.query), c.state.t, c.state.lang);
      return csvResponse(crossFiguresCsv(stats, c.state.t, c.state.lang), `${c.state.t('stats:csv.crossFile')}-${periodName(stats.period)}`);
    },
  }),
];
