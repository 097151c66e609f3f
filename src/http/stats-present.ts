import { Info } from 'luxon';
import type { T } from '../i18n';
import { labelOf } from './presenters';
import type { CrossSchoolStats, EquipmentCount, IncidentFigures, RoomFigures, SchoolStats, SchoolSummary, ValueCount } from '../services/stats';
import type { IncidentStatus } from '../domain/workflow';

/**
 * Whitelists of the statistics that leave the server (JSON API, pages and CSV alike), with their labels in the user's
 * language. Codes stay beside the labels so that a program never has to parse a label.
 */

export function statusLabel(t: T, status: IncidentStatus): string {
  return t(`stats:status.${status}`);
}

export function weekdayName(weekday: number, lang: string, length: 'long' | 'short' = 'long'): string {
  return Info.weekdays(length, { locale: lang })[weekday - 1] ?? String(weekday);
}

function presentValues(values: ValueCount[], t: T) {
  return values.map((v) => ({ id: v.id, label: labelOf({ label: v.label, label_key: v.labelKey }, t), retired: v.retired, count: v.count }));
}

function presentEquipment(e: EquipmentCount, structureNames?: Map<string, string>) {
  return {
    id: e.id,
    name: e.name,
    location: e.location,
    count: e.count,
    open: e.open,
    ...(structureNames ? { structureId: e.structureId, structureName: structureNames.get(e.structureId) ?? e.structureId } : {}),
  };
}

function presentIncidentFigures(f: IncidentFigures, t: T, lang: string, structureNames?: Map<string, string>) {
  return {
    total: f.total,
    byStatus: f.byStatus.map((s) => ({ status: s.status, label: statusLabel(t, s.status), count: s.count })),
    byType: presentValues(f.byType, t),
    bySeverity: presentValues(f.bySeverity, t),
    byEquipment: f.byEquipment.map((e) => presentEquipment(e, structureNames)),
    byWeekday: f.byWeekday.map((d) => ({ weekday: d.weekday, label: weekdayName(d.weekday, lang), declared: d.declared, taken: d.taken, resolved: d.resolved })),
    byHour: f.byHour.map((h) => ({ hour: h.hour, declared: h.declared, taken: h.taken, resolved: h.resolved })),
    byWeek: f.byWeek.map((w) => ({ weekStart: w.weekStart, declared: w.declared, taken: w.taken, resolved: w.resolved, backlog: w.backlog })),
    takeInChargeHours: { ...f.takeInChargeHours },
    resolveHours: { ...f.resolveHours },
    backlogAtEnd: f.backlogAtEnd,
  };
}

function presentRoom(r: RoomFigures) {
  return { id: r.id, name: r.name, typeId: r.typeId, bookedHours: r.bookedHours, openingHours: r.openingHours, occupancyRate: r.rate };
}

export function presentSchoolStats(s: SchoolStats, t: T, lang: string) {
  return {
    structure: { id: s.structure.id, name: s.structure.name },
    period: { from: s.period.from, to: s.period.to, timeZone: s.period.timeZone },
    incidents: presentIncidentFigures(s.incidents, t, lang),
    bookings: {
      rooms: s.bookings.rooms,
      bookedHours: s.bookings.bookedHours,
      capacityHours: s.bookings.capacityHours,
      occupancyRate: s.bookings.occupancyRate,
      byWeek: s.bookings.byWeek.map((w) => ({ ...w })),
      byRoom: s.bookings.byRoom.map(presentRoom),
      mostUsed: s.bookings.mostUsed.map(presentRoom),
      leastUsed: s.bookings.leastUsed.map(presentRoom),
    },
    // The service clock (issue 11): times in school hours beside the raw ones, the reporters' confirmations.
    serviceClock: {
      takeInChargeSchoolHours: { ...s.serviceClock.takeInChargeSchoolHours },
      resolveSchoolHours: { ...s.serviceClock.resolveSchoolHours },
      confirmations: { ...s.serviceClock.confirmations },
      overdue: s.serviceClock.overdue,
    },
  };
}
export type PresentedSchoolStats = ReturnType<typeof presentSchoolStats>;

function presentSummary(s: SchoolSummary) {
  return {
    id: s.id,
    name: s.name,
    timeZone: s.timeZone,
    rank: s.rank,
    incidents: {
      total: s.incidents.total,
      byStatus: { ...s.incidents.statusCounts },
      takeInChargeHours: { ...s.incidents.takeInChargeHours },
      resolveHours: { ...s.incidents.resolveHours },
      backlogAtEnd: s.incidents.backlogAtEnd,
      topEquipment: s.incidents.topEquipment.map((e) => presentEquipment(e)),
    },
    bookings: { ...s.bookings },
  };
}

export function presentCrossStats(c: CrossSchoolStats, t: T, lang: string) {
  const names = new Map(c.structures.map((s) => [s.id, s.name]));
  return {
    period: { from: c.period.from, to: c.period.to },
    sort: c.sort,
    source: c.source,
    computedAt: c.computedAt ? new Date(c.computedAt).toISOString() : null,
    structures: c.structures.map(presentSummary),
    total: {
      structures: c.total.structures,
      incidents: presentIncidentFigures(c.total.incidents, t, lang, names),
      bookings: {
        rooms: c.total.bookings.rooms,
        bookedHours: c.total.bookings.bookedHours,
        capacityHours: c.total.bookings.capacityHours,
        occupancyRate: c.total.bookings.occupancyRate,
        byWeek: c.total.bookings.byWeek.map((w) => ({ ...w })),
      },
    },
  };
}
export type PresentedCrossStats = ReturnType<typeof presentCrossStats>;
