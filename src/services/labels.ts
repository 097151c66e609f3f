import type { ModuleContext } from '../context';
import { listEquipment, EquipmentRow } from '../store/equipment';

/**
 * QR labels stuck on projectors and boards: each encodes the absolute declaration link of its equipment, built from
 * the host's public URL and the module's prefix, so that a phone's camera opens the form already filled in.
 */
export function declarationLink(ctx: Pick<ModuleContext, 'host' | 'manifest'>, equipmentId: string): string {
  const base = ctx.host.http.publicUrl().replace(/\/+$/, '');
  return `${base}${ctx.manifest.prefix}/incidents/new?equipment=${encodeURIComponent(equipmentId)}`;
}

/**
 * The QR code as SVG (the qrcode library: byte mode, error correction M so a scratched label still reads, a quiet zone
 * of 4 modules as the standard asks). Only paths and a viewBox: no script, no style, no size (the page sizes it).
 */
export async function qrSvg(text: string): Promise<string> {
  // Loaded with the first label (a few MB the web process needs only when labels are printed).
  const { default: QRCode } = await import('qrcode');
  return QRCode.toString(text, { type: 'svg', errorCorrectionLevel: 'M', margin: 4, color: { dark: '#000000ff', light: '#ffffffff' } });
}

export interface Label {
  id: string;
  name: string;
  location: string;
  typeName: string | null;
  typeNameKey: string | null;
  link: string;
  svg: string;
}

function normalize(s: string): string {
  return s.normalize('NFC').trim().toLocaleLowerCase('fr');
}

/** Does the equipment stand in that room: its location is the room, or it is the room itself (by name). */
export function inRoom(e: Pick<EquipmentRow, 'name' | 'location'>, room: string): boolean {
  const r = normalize(room);
  return normalize(e.location) === r || normalize(e.name) === r;
}

/** The rooms offered as filters: every location named by the school's equipment (`?room=` also takes a room's name). */
export function roomsOf(equipment: Array<Pick<EquipmentRow, 'location'>>): string[] {
  const rooms = new Map<string, string>();
  for (const e of equipment) {
    if (e.location.trim() && !rooms.has(normalize(e.location))) rooms.set(normalize(e.location), e.location.trim());
  }
  return [...rooms.values()].sort((a, b) => a.localeCompare(b, 'fr', { numeric: true }));
}

/** The labels of a school's equipment in use (or of one room), in the school's order. */
export async function labelsOf(ctx: ModuleContext, structureId: string, room?: string): Promise<{ labels: Label[]; rooms: string[] }> {
  const equipment = await listEquipment(ctx.knex, structureId);
  const chosen = room ? equipment.filter((e) => inRoom(e, room)) : equipment;
  const labels: Label[] = [];
  for (const e of chosen) {
    const link = declarationLink(ctx, String(e.id));
    labels.push({ id: String(e.id), name: e.name, location: e.location, typeName: e.type_name, typeNameKey: e.type_name_key, link, svg: await qrSvg(link) });
  }
  return { labels, rooms: roomsOf(equipment) };
}
