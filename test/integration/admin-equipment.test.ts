import { startTestHost, TestHost } from '../helpers/host';

let h: TestHost;
let roomsTypeId: string;
beforeAll(async () => {
  h = await startTestHost();
  roomsTypeId = String((await h.db.knex('rsv_resource_types').where({ structure_id: 'college-a', seed_code: 'rooms' }).first()).id);
});
afterAll(async () => {
  await h.stop();
});

describe('the school admin keeps the equipment lists', () => {
  it('adds a room, which service.informatique is responsible for, and teachers can book it', async () => {
    const admin = await h.as('direction');
    const res = await admin.post('/structures/college-a/equipment', { name: 'Salle 21', typeId: roomsTypeId, location: 'Bâtiment D' });
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({ name: 'Salle 21', purpose: 'booking', responsible: { login: 'service.informatique' } });
    const teacher = await h.as('enseignant');
    const list = await teacher.get('/structures/college-a/equipment?purpose=booking');
    expect(list.body.map((e: { name: string }) => e.name)).toContain('Salle 21');
    expect((await admin.post('/structures/college-a/equipment', { name: 'salle 21', typeId: roomsTypeId })).status).toBe(409);
  });

  it('a teacher may not configure (403); another school answers 404', async () => {
    const teacher = await h.as('enseignant');
    expect((await teacher.post('/structures/college-a/equipment', { name: 'X', typeId: roomsTypeId })).status).toBe(403);
    const adminB = await h.as('direction-b');
    expect((await adminB.post('/structures/college-a/equipment', { name: 'X', typeId: roomsTypeId })).status).toBe(404);
    const room = await h.db.knex('rsv_equipment').where({ structure_id: 'college-a', seed_code: 'demo-room-12' }).first();
    expect((await adminB.put(`/equipment/${room.id}`, { name: 'pirate' })).status).toBe(404);
  });

  it('creates, edits, reorders and retires a resource type; a retired type is no longer offered', async () => {
    const admin = await h.as('direction');
    const created = await admin.post('/structures/college-a/resource-types', { name: 'Salles de sciences', purpose: 'booking', color: '#7a3e9d', maxLengthMinutes: 120 });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ name: 'Salles de sciences', purpose: 'booking', maxLengthMinutes: 120 });
    const edited = await admin.put(`/resource-types/${created.body.id}`, { color: '#1e7a34' });
    expect(edited.body.color).toBe('#1e7a34');
    const all = await admin.get('/structures/college-a/resource-types');
    const ids = all.body.map((t: { id: string }) => t.id).reverse();
    expect((await admin.post('/structures/college-a/resource-types/order', { ids })).status).toBe(204);
    expect((await admin.get('/structures/college-a/resource-types')).body[0].id).toBe(ids[0]);
    expect((await admin.post(`/resource-types/${created.body.id}/retire`, {})).status).toBe(200);
    const after = await admin.get('/structures/college-a/resource-types');
    expect(after.body.map((t: { id: string }) => t.id)).not.toContain(created.body.id);
    expect((await admin.put(`/resource-types/${created.body.id}`, { color: 'red' })).status).toBe(400);
  });

  it('retires a used room instead of deleting it, and deletes a mistake', async () => {
    const admin = await h.as('direction');
    const room = await h.db.knex('rsv_equipment').where({ structure_id: 'college-a', seed_code: 'demo-room-poly' }).first();
    await h.db.knex('rsv_bookings').insert({ structure_id: 'college-a', equipment_id: room.id, owner_id: 'u-enseignant', starts_at: '2030-01-08T09:00:00Z', ends_at: '2030-01-08T10:00:00Z' });
    const refused = await admin.delete(`/equipment/${room.id}`);
    expect(refused.status).toBe(409);
    expect(refused.body.message).toContain('retirez-le');
    expect((await admin.post(`/equipment/${room.id}/retire`, {})).body.retired).toBe(true);
    const mistake = await admin.post('/structures/college-a/equipment', { name: 'Salle 99', typeId: roomsTypeId });
    expect((await admin.delete(`/equipment/${mistake.body.id}`)).status).toBe(204);
  });

  it('imports an equipment CSV: preview, bad lines reported by number, nothing half-applied, then apply', async () => {
    const admin = await h.as('direction');
    const bad = '\uFEFFnom;type;emplacement;description\nSalle 31;1. Réserver une salle;Bâtiment D;\n;1. Réserver une salle;;\nImprimante 2;Type inconnu;CDI;\n';
    const before = await h.db.knex('rsv_equipment').where({ structure_id: 'college-a' }).count({ n: '*' });
    const preview = await admin.post('/structures/college-a/equipment/import', { csv: bad, apply: true });
    expect(preview.status).toBe(422);
    expect(preview.body.error).toBe('import_refused');
    expect(preview.body.message).toContain('2 ligne(s)');
    const lines = preview.body.details.lines;
    expect(lines.filter((l: { errors: string[] }) => l.errors.length).map((l: { line: number }) => l.line)).toEqual([3, 4]);
    expect(lines[2].errors).toEqual(['type inconnu']);
    const dry = await admin.post('/structures/college-a/equipment/import', { csv: bad });
    expect(dry.status).toBe(200);
    expect(dry.body.applied).toBe(false);
    const after = await h.db.knex('rsv_equipment').where({ structure_id: 'college-a' }).count({ n: '*' });
    expect(after[0].n).toBe(before[0].n);
    const good = 'nom,type,emplacement\n"Salle 32, labo",1. Réserver une salle,Bâtiment D\nTNI salle 32,2. Demande maintenance,Salle 32\n';
    const ok = await admin.post('/structures/college-a/equipment/import', { csv: good, apply: true });
    expect(ok.status).toBe(200);
    expect(ok.body.created).toBe(2);
    const names = (await admin.get('/structures/college-a/equipment')).body.map((e: { name: string }) => e.name);
    expect(names).toEqual(expect.arrayContaining(['Salle 32, labo', 'TNI salle 32']));
  });
});

describe('settings', () => {
  it('the admin sets holidays and opening hours; bad values are named', async () => {
    const admin = await h.as('direction');
    const res = await admin.put('/structures/college-a/settings', {
      holidays: [{ from: '2027-02-13', to: '2027-03-01', label: "Vacances d'hiver" }],
      openingHours: { mon: [['08:00', '17:30']], tue: [['08:00', '17:30']] },
    });
    expect(res.status).toBe(200);
    expect(res.body.holidays).toEqual([{ from: '2027-02-13', to: '2027-03-01', label: "Vacances d'hiver" }]);
    expect(res.body.openingHours.wed).toEqual([]);
    const bad = await admin.put('/structures/college-a/settings', { timeZone: 'Mars/Olympus', holidays: [{ from: '2027-03-01', to: '2027-02-13', label: 'x' }] });
    expect(bad.status).toBe(400);
    expect(bad.body.details.fields.map((f: { field: string }) => f.field).sort()).toEqual(['holidays.0.to', 'timeZone']);
    const teacher = await h.as('enseignant');
    expect((await teacher.get('/structures/college-a/settings')).status).toBe(403);
  });

  it('switching Planning off answers 404 at once, and back on', async () => {
    const admin = await h.as('direction');
    const teacher = await h.as('enseignant');
    expect((await admin.put('/structures/college-a/settings', { services: { planning: false, incidents: true } })).status).toBe(200);
    expect((await teacher.get('/structures/college-a/bookings')).status).toBe(404);
    expect((await admin.put('/structures/college-a/settings', { services: { planning: true, incidents: true } })).status).toBe(200);
    expect((await teacher.get('/structures/college-a/bookings')).status).toBe(200);
  });
});
