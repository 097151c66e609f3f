import type { HostUser } from '../host';
import type { T } from '../i18n';
import type { EquipmentRow, ResourceTypeRow } from '../store/equipment';

/**
 * Presenters are the only way data leaves the server: whitelists, so a new column never leaks by accident.
 */
export type PublicUser = { id: string; login: string; displayName: string };

export function presentUserRef(user: Pick<HostUser, 'id' | 'login' | 'displayName'> | undefined | null): PublicUser | null {
  return user ? { id: user.id, login: user.login, displayName: user.displayName } : null;
}

/** A seeded row shows its locale label until the school renames it. */
export function labelOf(row: { name?: string | null; name_key?: string | null; label?: string | null; label_key?: string | null }, t: T): string {
  const own = row.name ?? row.label;
  if (own) return own;
  const key = row.name_key ?? row.label_key;
  return key ? t(`common:${key}`) : '';
}

export function presentResourceType(row: ResourceTypeRow, t: T) {
  return {
    id: String(row.id),
    name: labelOf(row, t),
    purpose: row.purpose,
    color: row.color,
    needsValidation: row.needs_validation,
    minNoticeMinutes: row.min_notice_minutes,
    maxNoticeDays: row.max_notice_days,
    maxLengthMinutes: row.max_length_minutes,
    withinOpeningHours: row.within_opening_hours,
    position: row.position,
    retired: row.retired_at !== null,
  };
}

export function presentEquipment(row: EquipmentRow, t: T, responsible: PublicUser | null, extra: Record<string, unknown> = {}) {
  return {
    id: String(row.id),
    name: row.name,
    description: row.description,
    location: row.location,
    typeId: String(row.type_id),
    typeName: labelOf({ name: row.type_name, name_key: row.type_name_key }, t),
    purpose: row.purpose,
    color: row.color,
    position: row.position,
    retired: row.retired_at !== null,
    responsible,
    ...extra,
  };
}
