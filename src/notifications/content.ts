import path from 'node:path';
import ejs from 'ejs';
import { DateTime } from 'luxon';
import type { Knex } from 'knex';
import type { ModuleContext } from '../context';
import { tFor, normalizeLanguage, DEFAULT_LANGUAGE } from '../i18n';
import { labelOf } from '../http/presenters';
import { VIEWS_DIR } from '../http/render';
import { getSettings } from '../store/settings';

export interface MailContent {
  subject: string;
  text: string;
  html: string;
  /** The thread the mail belongs to: every mail of one incident (or booking) shares it. */
  threadId: string;
}

export interface NotificationRow {
  id: string;
  structure_id: string;
  kind: string;
  subject_type: 'incident' | 'booking' | 'equipment';
  subject_id: string;
  event_id: string | null;
  actor_id: string;
  data: Record<string, unknown>;
}

/** A header value from data a user typed: one line, no control characters, bounded. */
export function headerSafe(value: string, max = 120): string {
  const line = value.replace(/[\u0000-\u001F\u007F\u2028\u2029]+/g, ' ').replace(/\s+/g, ' ').trim();
  return line.length > max ? `${line.slice(0, max - 1)}…` : line;
}

export function mailDomain(publicUrl: string): string {
  try {
    return new URL(publicUrl).hostname || 'reservations.invalid';
  } catch {
    return 'reservations.invalid';
  }
}

async function render(view: string, data: Record<string, unknown>): Promise<string> {
  return ejs.renderFile(path.join(VIEWS_DIR, 'mail', `${view}.ejs`), data, { cache: process.env.NODE_ENV === 'production' });
}

async function incidentFacts(knex: Knex, n: NotificationRow) {
  const incident = await knex('rsv_incidents as i')
    .join('rsv_equipment as e', 'e.id', 'i.equipment_id')
    .join('rsv_incident_types as ty', 'ty.id', 'i.type_id')
    .join('rsv_severities as s', 's.id', 'i.severity_id')
    .where({ 'i.id': n.subject_id, 'i.structure_id': n.structure_id })
    .first('i.*', 'e.name as equipment_name', 'e.location as equipment_location', 'ty.label as type_label', 'ty.label_key as type_label_key', 's.label as severity_label', 's.label_key as severity_label_key');
  const event = n.event_id ? await knex('rsv_incident_events').where({ id: n.event_id, structure_id: n.structure_id }).first() : null;
  return { incident, event };
}

/**
 * Lookups shared by the contents of one batch of mails: the school, the actor and the school's time zone are the same
 * for many notifications of a batch, and read once.
 */
export class ContentLookups {
  private readonly loaded = new Map<string, Promise<unknown>>();
  once<T>(key: string, load: () => Promise<T>): Promise<T> {
    let value = this.loaded.get(key) as Promise<T> | undefined;
    if (!value) {
      value = load();
      this.loaded.set(key, value);
    }
    return value;
  }
}

/** Subject, text and HTML of one notification for one recipient language. */
export async function buildContent(ctx: ModuleContext, n: NotificationRow, language: string, lookups = new ContentLookups()): Promise<MailContent | null> {
  const lang = normalizeLanguage(language) ?? DEFAULT_LANGUAGE;
  const t = tFor(lang);
  const [[structure], [actor], settings] = await Promise.all([
    lookups.once(`structure:${n.structure_id}`, () => ctx.host.directory.getStructures([n.structure_id])),
    lookups.once(`user:${n.actor_id}`, () => ctx.host.directory.getUsers([n.actor_id])),
    lookups.once(`settings:${n.structure_id}`, () => getSettings(ctx.knex, n.structure_id)),
  ]);
  const base = `${ctx.host.http.publicUrl().replace(/\/$/, '')}${ctx.manifest.prefix}`;
  const common = { t, lang, school: structure?.name ?? n.structure_id, actor: actor?.displayName ?? '', data: n.data };
  const zone = settings?.time_zone ?? 'Europe/Paris';
  const when = (d: Date) => DateTime.fromJSDate(d, { zone }).setLocale(lang).toFormat('cccc d LLLL yyyy, HH:mm');

  if (n.subject_type === 'incident') {
    const { incident, event } = await incidentFacts(ctx.knex, n);
    if (!incident) return null;
    const kind = n.kind.split('.')[1]!;
    const status = (s: string | null | undefined) => (s ? t(`incident:status.${s}`) : '');
    const view = {
      ...common,
      kind,
      number: String(incident.id),
      equipment: incident.equipment_name,
      location: incident.equipment_location,
      type: labelOf({ label: incident.type_label, label_key: incident.type_label_key }, t),
      severity: labelOf({ label: incident.severity_label, label_key: incident.severity_label_key }, t),
      description: incident.description,
      status: status(incident.status),
      fromStatus: status(event?.from_status),
      toStatus: status(event?.to_status),
      comment: event?.comment ?? '',
      level: event?.data?.toLevel ?? incident.level,
      domain: event?.data?.toDomain ? t(`incident:domain.${event.data.toDomain}`) : '',
      link: `${base}/incidents/${incident.id}`,
      confirmLink: `${base}/incidents/${incident.id}/confirm`,
      when: when(event?.created_at ?? incident.created_at),
    };
    const subjectKey = `mail:incident.subject.${kind}`;
    const subject = headerSafe(`[#${incident.id}] ${t(subjectKey, { equipment: headerSafe(incident.equipment_name, 60), status: view.toStatus || view.status })}`, 150);
    return {
      subject,
      text: await render('incident.text', view),
      html: await render('incident.html', view),
      threadId: `rsv-incident-${incident.id}`,
    };
  }

  if (n.subject_type === 'booking') {
    const booking = await ctx.knex('rsv_bookings as b')
      .join('rsv_equipment as e', 'e.id', 'b.equipment_id')
      .where({ 'b.id': n.subject_id, 'b.structure_id': n.structure_id })
      .first('b.*', 'e.name as equipment_name', 'e.location as equipment_location', 'e.type_id');
    if (!booking) return null;
    const kind = n.kind.split('.')[1]!;
    const count = Number((n.data as { count?: number }).count ?? 1);
    const view = {
      ...common,
      kind,
      equipment: booking.equipment_name,
      location: booking.equipment_location,
      when: `${when(booking.starts_at)}–${DateTime.fromJSDate(booking.ends_at, { zone }).toFormat('HH:mm')}`,
      count,
      reason: booking.reason,
      decisionReason: booking.decision_reason ?? (n.data as { reason?: string }).reason ?? '',
      link: `${base}/bookings/mine`,
      pendingLink: `${base}/structures/${encodeURIComponent(n.structure_id)}/bookings/pending`,
      otherRoomsLink: `${base}/structures/${encodeURIComponent(n.structure_id)}/planning?typeId=${booking.type_id}`,
      bookings: ((n.data as { bookings?: Array<{ startsAt: string; endsAt: string }> }).bookings ?? []).map((b) => `${when(new Date(b.startsAt))}–${DateTime.fromISO(b.endsAt, { zone }).toFormat('HH:mm')}`),
    };
    const subject = headerSafe(t(`mail:booking.subject.${kind}`, { equipment: headerSafe(booking.equipment_name, 60), when: view.when }), 150);
    return { subject, text: await render('booking.text', view), html: await render('booking.html', view), threadId: `rsv-booking-${booking.series_id ? `series-${booking.series_id}` : booking.id}` };
  }
  return null;
}
