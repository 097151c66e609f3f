import type { T } from '../i18n';
import { mayNameInReport } from '../domain/incident-policy';
import type { IncidentReportData } from '../services/incident-report';
import type { IncidentEventRow } from '../store/incident-events';
import { labelOf } from './presenters';
import { statusLabel } from './incident-presenters';

/** A person as the editor's report shows them: a staff member by name and profile, a pupil or parent by profile only. */
interface ReportPerson {
  profile: string;
  name?: string;
}

function person(data: IncidentReportData, t: T, id: string | null | undefined): ReportPerson | null {
  if (!id) return null;
  const user = data.users.get(id);
  if (!user) return { profile: t('incident:report.unknownPerson') };
  const profile = t(`incident:report.profile.${user.profile}`);
  return mayNameInReport(user.profile) ? { profile, name: user.displayName } : { profile };
}

function eventDetails(data: IncidentReportData, t: T, e: IncidentEventRow): Record<string, unknown> {
  const d = e.data ?? {};
  if (e.kind === 'assigned') return { from: person(data, t, d.fromAssigneeId as string | null), to: person(data, t, d.toAssigneeId as string | null) };
  if (e.kind === 'escalated') return { fromLevel: d.fromLevel ?? null, toLevel: d.toLevel ?? null, fromDomain: d.fromDomain ?? null, toDomain: d.toDomain ?? null };
  return {};
}

/** The level-3 report: built from whitelisted fields only (no id of a person, no login, no mail address). */
export function buildIncidentReport(data: IncidentReportData, t: T) {
  const i = data.incident;
  return {
    report: 'reservations-incident/editor-report',
    version: 1,
    generatedAt: data.generatedAt.toISOString(),
    structure: { id: data.structure.id, name: data.structure.name },
    incident: {
      number: String(i.id),
      status: i.status,
      statusLabel: statusLabel(t, i.status),
      level: i.level,
      domain: i.domain,
      domainLabel: i.domain ? t(`incident:domain.${i.domain}`) : null,
      equipment: { name: i.equipment_name, type: labelOf({ name: i.equipment_type_name, name_key: i.equipment_type_name_key }, t) },
      type: labelOf({ label: i.type_label, label_key: i.type_label_key }, t),
      severity: labelOf({ label: i.severity_label, label_key: i.severity_label_key }, t),
      description: i.description,
      reporter: person(data, t, i.reporter_id),
      assignee: person(data, t, i.assignee_id),
      followers: data.followers,
      createdAt: i.created_at.toISOString(),
      takenAt: i.taken_at ? i.taken_at.toISOString() : null,
      resolvedAt: i.resolved_at ? i.resolved_at.toISOString() : null,
    },
    history: data.events.map((e) => ({
      at: e.created_at.toISOString(),
      kind: e.kind,
      actor: person(data, t, e.actor_id),
      fromStatus: e.from_status,
      toStatus: e.to_status,
      comment: e.comment,
      details: eventDetails(data, t, e),
    })),
  };
}

export type IncidentReport = ReturnType<typeof buildIncidentReport>;

function who(p: ReportPerson | null, t: T): string {
  if (!p) return t('incident:report.nobody');
  return p.name ? `${p.name} (${p.profile})` : p.profile;
}

/** The same report as plain text, for a mail body or a ticket of the editor's support. */
export function reportAsText(report: IncidentReport, t: T): string {
  const i = report.incident;
  const lines = [
    t('incident:report.title', { number: i.number, school: report.structure.name }),
    '='.repeat(60),
    `${t('incident:report.generatedAt')}: ${report.generatedAt}`,
    `${t('incident:field.status')}: ${i.statusLabel}`,
    `${t('incident:field.level')}: ${t(`incident:level.${i.level}`)}`,
    `${t('incident:field.domain')}: ${i.domainLabel ?? '—'}`,
    `${t('incident:field.equipment')}: ${i.equipment.name} (${i.equipment.type})`,
    `${t('incident:field.type')}: ${i.type}`,
    `${t('incident:field.severity')}: ${i.severity}`,
    `${t('incident:field.reporter')}: ${who(i.reporter, t)}`,
    `${t('incident:field.assignee')}: ${who(i.assignee, t)}`,
    `${t('incident:field.createdAt')}: ${i.createdAt}`,
    `${t('incident:field.takenAt')}: ${i.takenAt ?? '—'}`,
    `${t('incident:field.resolvedAt')}: ${i.resolvedAt ?? '—'}`,
    '',
    `${t('incident:field.description')}:`,
    i.description,
    '',
    t('incident:report.history'),
    '-'.repeat(60),
  ];
  for (const e of report.history) {
    let line = `${e.at}  ${who(e.actor, t)} — ${t(`incident:report.kind.${e.kind}`, { defaultValue: e.kind })}`;
    if (e.fromStatus || e.toStatus) line += `: ${e.fromStatus ? t(`incident:status.${e.fromStatus}`) : '—'} → ${e.toStatus ? t(`incident:status.${e.toStatus}`) : '—'}`;
    if (e.kind === 'assigned') line += `: ${who((e.details.to as ReportPerson | null) ?? null, t)}`;
    if (e.kind === 'escalated') line += `: ${t(`incident:level.${e.details.toLevel}`)} (${t(`incident:domain.${e.details.toDomain}`)})`;
    lines.push(line);
    if (e.comment) lines.push(...e.comment.split('\n').map((l) => `    ${l}`));
  }
  return lines.join('\n') + '\n';
}
