import { stringify } from 'csv-stringify/sync';
import { DateTime } from 'luxon';
import type { T } from '../i18n';
import { spreadsheetNumber } from '../domain/stats';
import type { IncidentExportRow } from '../store/stats';
import { labelOf } from './presenters';
import { RawResponse } from './route';
import { PresentedCrossStats, PresentedSchoolStats, statusLabel } from './stats-present';

/**
 * CSV exports that a French spreadsheet opens right: UTF-8 with a BOM (else accents break), `;` between fields (the
 * comma is the decimal separator in French), CRLF between records, and csv-stringify's quoting of fields holding
 * `;`, quotes or line breaks. Cells that would start a formula (=, +, -, @) are prefixed with ' (CSV injection).
 */
export function toCsv(rows: Array<Array<string | number | null>>): string {
  return stringify(rows, { delimiter: ';', bom: true, record_delimiter: 'windows', quote_record_delimiter: true, escape_formulas: true });
}

/** The answer of an export route: a download named after the school and the period. */
export function csvResponse(body: string, name: string): RawResponse {
  const safe = name.toLowerCase().replace(/[^a-z0-9._-]+/g, '-').slice(0, 120);
  return new RawResponse('text/csv; charset=utf-8', body, { 'Content-Disposition': `attachment; filename="${safe}.csv"`, 'Cache-Control': 'private, no-store' });
}

const percent = (rate: number | null) => (rate === null ? null : rate * 100);

/** The figures of one school, one per line: section; item; measure; value (a pivot table reads it as is). */
export function schoolFiguresCsv(s: PresentedSchoolStats, t: T, lang: string): string {
  const n = (v: number | null) => spreadsheetNumber(v, lang);
  const rows: Array<Array<string | number | null>> = [[t('stats:csv.section'), t('stats:csv.item'), t('stats:csv.measure'), t('stats:csv.value')]];
  const add = (section: string, item: string, measure: string, value: number | string | null) => rows.push([section, item, measure, typeof value === 'number' || value === null ? n(value) : value]);
  const period = t('stats:csv.period');
  add(period, s.structure.name, t('stats:csv.from'), s.period.from);
  add(period, s.structure.name, t('stats:csv.to'), s.period.to);
  add(period, s.structure.name, t('stats:csv.timeZone'), s.period.timeZone);
  const inc = s.incidents;
  const declared = t('stats:measure.declared');
  add(t('stats:section.summary'), t('stats:figure.incidents'), declared, inc.total);
  add(t('stats:section.summary'), t('stats:figure.backlogAtEnd'), t('stats:measure.open'), inc.backlogAtEnd);
  for (const [key, d] of [['takeInCharge', inc.takeInChargeHours], ['resolve', inc.resolveHours]] as const) {
    const section = t('stats:section.durations');
    add(section, t(`stats:figure.${key}`), t('stats:measure.medianHours'), d.median);
    add(section, t(`stats:figure.${key}`), t('stats:measure.p90Hours'), d.p90);
    add(section, t(`stats:figure.${key}`), t('stats:measure.measured'), d.count);
  }
  for (const x of inc.byStatus) add(t('stats:section.byStatus'), x.label, declared, x.count);
  for (const x of inc.byType) add(t('stats:section.byType'), x.label, declared, x.count);
  for (const x of inc.bySeverity) add(t('stats:section.bySeverity'), x.label, declared, x.count);
  for (const x of inc.byEquipment) {
    add(t('stats:section.byEquipment'), x.name, declared, x.count);
    add(t('stats:section.byEquipment'), x.name, t('stats:measure.open'), x.open);
  }
  const work = (section: string, item: string, b: { declared: number; taken: number; resolved: number }) => {
    add(section, item, declared, b.declared);
    add(section, item, t('stats:measure.taken'), b.taken);
    add(section, item, t('stats:measure.resolved'), b.resolved);
  };
  for (const x of inc.byWeekday) work(t('stats:section.byWeekday'), x.label, x);
  for (const x of inc.byHour) work(t('stats:section.byHour'), t('stats:hourRange', { from: x.hour, to: x.hour + 1 }), x);
  for (const x of inc.byWeek) {
    work(t('stats:section.byWeek'), x.weekStart, x);
    add(t('stats:section.byWeek'), x.weekStart, t('stats:measure.backlog'), x.backlog);
  }
  const b = s.bookings;
  add(t('stats:section.occupancy'), t('stats:figure.allRooms'), t('stats:measure.ratePercent'), percent(b.occupancyRate));
  add(t('stats:section.occupancy'), t('stats:figure.allRooms'), t('stats:measure.bookedHours'), b.bookedHours);
  add(t('stats:section.occupancy'), t('stats:figure.allRooms'), t('stats:measure.capacityHours'), b.capacityHours);
  for (const r of b.byRoom) {
    add(t('stats:section.occupancyByRoom'), r.name, t('stats:measure.ratePercent'), percent(r.occupancyRate));
    add(t('stats:section.occupancyByRoom'), r.name, t('stats:measure.bookedHours'), r.bookedHours);
    add(t('stats:section.occupancyByRoom'), r.name, t('stats:measure.openingHours'), r.openingHours);
  }
  for (const w of b.byWeek) {
    add(t('stats:section.occupancyByWeek'), w.weekStart, t('stats:measure.ratePercent'), percent(w.occupancyRate));
    add(t('stats:section.occupancyByWeek'), w.weekStart, t('stats:measure.bookedHours'), w.bookedHours);
  }
  return toCsv(rows);
}

/** The cross-school table: one line per school, in ranking order, and the total. */
export function crossFiguresCsv(c: PresentedCrossStats, t: T, lang: string): string {
  const n = (v: number | null) => spreadsheetNumber(v, lang);
  const statuses = c.total.incidents.byStatus;
  const rows: Array<Array<string | number | null>> = [
    [
      t('stats:cross.rank'),
      t('stats:cross.school'),
      t('stats:cross.schoolId'),
      t('stats:figure.incidents'),
      ...statuses.map((s) => s.label),
      t('stats:figure.backlogAtEnd'),
      `${t('stats:figure.takeInCharge')} — ${t('stats:measure.medianHours')}`,
      `${t('stats:figure.takeInCharge')} — ${t('stats:measure.p90Hours')}`,
      `${t('stats:figure.resolve')} — ${t('stats:measure.medianHours')}`,
      `${t('stats:figure.resolve')} — ${t('stats:measure.p90Hours')}`,
      t('stats:measure.ratePercent'),
      t('stats:measure.bookedHours'),
    ],
  ];
  for (const s of c.structures) {
    rows.push([
      s.rank === null ? '' : String(s.rank),
      s.name,
      s.id,
      n(s.incidents.total),
      ...statuses.map((x) => n(s.incidents.byStatus[x.status])),
      n(s.incidents.backlogAtEnd),
      n(s.incidents.takeInChargeHours.median),
      n(s.incidents.takeInChargeHours.p90),
      n(s.incidents.resolveHours.median),
      n(s.incidents.resolveHours.p90),
      n(percent(s.bookings.occupancyRate)),
      n(s.bookings.bookedHours),
    ]);
  }
  const total = c.total.incidents;
  rows.push([
    '',
    t('stats:cross.total'),
    '',
    n(total.total),
    ...statuses.map((x) => n(x.count)),
    n(total.backlogAtEnd),
    n(total.takeInChargeHours.median),
    n(total.takeInChargeHours.p90),
    n(total.resolveHours.median),
    n(total.resolveHours.p90),
    n(percent(c.total.bookings.occupancyRate)),
    n(c.total.bookings.bookedHours),
  ]);
  return toCsv(rows);
}

const hoursBetween = (a: Date, b: Date | null) => (b ? (new Date(b).getTime() - new Date(a).getTime()) / 3600000 : null);

/** The incidents of a school's period, one per line, with a summary of their history (one status change a line). */
export function incidentsCsv(rows: IncidentExportRow[], t: T, lang: string, zone: string): string {
  const n = (v: number | null) => spreadsheetNumber(v === null ? null : Math.round(v * 100) / 100, lang);
  const when = (d: Date | string | null) => (d ? DateTime.fromJSDate(new Date(d), { zone }).toFormat('yyyy-MM-dd HH:mm') : '');
  const head = [
    'number', 'declaredAt', 'equipment', 'location', 'type', 'severity', 'status', 'description', 'level', 'takenAt', 'takeInChargeHours',
    'resolvedAt', 'resolveHours', 'moves', 'reopenings', 'comments', 'history',
  ].map((k) => t(`stats:export.${k}`));
  const out: Array<Array<string | number | null>> = [head];
  for (const r of rows) {
    const history = r.moves
      .map((m) => `${when(m.at)} ${m.from ? statusLabel(t, m.from) : ''} → ${m.to ? statusLabel(t, m.to) : ''}`.replace(/\s+→/, ' →'))
      .join('\n');
    out.push([
      r.id,
      when(r.created_at),
      r.equipment_name,
      r.equipment_location,
      labelOf({ label: r.type_label, label_key: r.type_label_key }, t),
      labelOf({ label: r.severity_label, label_key: r.severity_label_key }, t),
      statusLabel(t, r.status),
      r.description,
      String(r.level),
      when(r.taken_at),
      n(hoursBetween(r.created_at, r.taken_at)),
      when(r.resolved_at),
      n(hoursBetween(r.created_at, r.resolved_at)),
      String(r.moves.length),
      String(r.reopenings),
      String(r.comments),
      history,
    ]);
  }
  return toCsv(out);
}
