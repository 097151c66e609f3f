import { startTestHost, TestHost } from '../helpers/host';
import { bringTo, declare, schoolLists, SchoolLists } from '../helpers/incidents';
import { allowedMoves, INCIDENT_STATUSES } from '../../src/domain/workflow';

let h: TestHost;
let lists: SchoolLists;
beforeAll(async () => {
  h = await startTestHost();
  lists = await schoolLists(h);
});
afterAll(async () => {
  await h.stop();
});

const LABELS: Record<string, string> = { new: 'nouveau', taken: 'pris en charge', in_progress: 'en cours de résolution', dismissed: 'sans suite', closed: 'fermé' };

/** Every pair of statuses, through the API: the move succeeds exactly when the workflow table allows it. */
const PAIRS = INCIDENT_STATUSES.flatMap((from) => INCIDENT_STATUSES.map((to) => [from, to, allowedMoves(from).includes(to)] as const));

describe('the workflow through the API, for every pair of statuses', () => {
  it.each(PAIRS)('%s -> %s allowed: %s', async (from, to, allowed) => {
    const teacher = await h.as('enseignant');
    const referent = await h.as('referent1');
    const { id } = await declare(teacher, lists);
    await bringTo(referent, id, from);
    const before = await h.db.knex('rsv_incident_events').where({ incident_id: id, kind: 'status_changed' }).count('* as n');
    const res = await referent.post(`/incidents/${id}/transitions`, { to, comment: `vers ${to}` });
    const after = await h.db.knex('rsv_incident_events').where({ incident_id: id, kind: 'status_changed' }).count('* as n');
    const row = await h.db.knex('rsv_incidents').where({ id }).first();
    if (allowed) {
      expect(res.status).toBe(200);
      expect(res.body.status).toBe(to);
      expect(row.status).toBe(to);
      expect(Number(after[0]!.n)).toBe(Number(before[0]!.n) + 1);
      const last = await h.db.knex('rsv_incident_events').where({ incident_id: id, kind: 'status_changed' }).orderBy('id', 'desc').first();
      expect(last).toMatchObject({ from_status: from, to_status: to, actor_id: 'u-referent1', comment: `vers ${to}` });
      expect(row.resolved_at === null).toBe(!['closed', 'dismissed'].includes(to));
      expect(row.taken_at).not.toBeNull();
    } else {
      expect(res.status).toBe(422);
      expect(res.body.error).toBe('workflow_refused');
      expect(res.body.details).toEqual({ status: from, requested: to, allowed: [...allowedMoves(from)] });
      // The message names the current status and every allowed move, in the user's language.
      expect(res.body.message).toContain(`« ${LABELS[from]} »`);
      for (const a of allowedMoves(from)) expect(res.body.message).toContain(`« ${LABELS[a]} »`);
      expect(row.status).toBe(from);
      expect(Number(after[0]!.n)).toBe(Number(before[0]!.n));
    }
  });

  it('the refusal speaks English to an English reader', async () => {
    const teacher = await h.as('enseignant');
    const referent = await h.as('referent1');
    const { id } = await declare(teacher, lists);
    await bringTo(referent, id, 'closed');
    const res = await referent.post(`/incidents/${id}/transitions?lang=en`, { to: 'taken' });
    expect(res.status).toBe(422);
    expect(res.body.message).toBe('An incident cannot go from “closed” to “taken in charge”. From “closed” it can go to: “being resolved”.');
  });

  it('an unknown status is a 400 naming "to"', async () => {
    const teacher = await h.as('enseignant');
    const referent = await h.as('referent1');
    const { id } = await declare(teacher, lists);
    const res = await referent.post(`/incidents/${id}/transitions`, { to: 'solved' });
    expect(res.status).toBe(400);
    expect(res.body.details.fields[0].field).toBe('to');
  });
});

describe('two referents moving the same incident at the same moment', () => {
  it('one wins, the other gets 409, and the history has one status change', async () => {
    const teacher = await h.as('enseignant');
    const [r1, r2] = await Promise.all([h.as('referent1'), h.as('referent2')]);
    for (let round = 0; round < 5; round++) {
      const { id, version } = await declare(teacher, lists);
      const [a, b] = await Promise.all([
        r1.post(`/incidents/${id}/transitions`, { to: 'taken', version }),
        r2.post(`/incidents/${id}/transitions`, { to: 'in_progress', version }),
      ]);
      expect([a.status, b.status].sort()).toEqual([200, 409]);
      const loser = a.status === 409 ? a : b;
      expect(loser.body.error).toBe('conflict');
      const winner = a.status === 200 ? a : b;
      const events = await h.db.knex('rsv_incident_events').where({ incident_id: id, kind: 'status_changed' });
      expect(events).toHaveLength(1);
      const row = await h.db.knex('rsv_incidents').where({ id }).first();
      expect(row.status).toBe(winner.body.status);
      expect(row.version).toBe(version + 1);
    }
  });

  it('without the version, racing moves never lose one: one 200, the others 409 or 422, one event', async () => {
    const teacher = await h.as('enseignant');
    const referents = await Promise.all([h.as('referent1'), h.as('referent2'), h.as('referent1'), h.as('referent2')]);
    for (let round = 0; round < 5; round++) {
      const { id } = await declare(teacher, lists);
      const results = await Promise.all(referents.map((r) => r.post(`/incidents/${id}/transitions`, { to: 'taken' })));
      const statuses = results.map((r) => r.status);
      expect(statuses.filter((s) => s === 200)).toHaveLength(1);
      expect(statuses.every((s) => [200, 409, 422].includes(s))).toBe(true);
      expect(await h.db.knex('rsv_incident_events').where({ incident_id: id, kind: 'status_changed' })).toHaveLength(1);
      expect(await h.db.knex('rsv_incident_events').where({ incident_id: id, kind: 'assigned' })).toHaveLength(1);
    }
  });

  it('a stale version is a 409 for assignment and escalation too, and nothing changes', async () => {
    const teacher = await h.as('enseignant');
    const referent = await h.as('referent1');
    const { id, version } = await declare(teacher, lists);
    await referent.post(`/incidents/${id}/transitions`, { to: 'taken' });
    const assign = await referent.post(`/incidents/${id}/assign`, { assigneeId: 'u-referent2', version });
    expect(assign.status).toBe(409);
    const escalate = await referent.post(`/incidents/${id}/escalate`, { level: 1, domain: 'technical', version });
    expect(escalate.status).toBe(409);
    const row = await h.db.knex('rsv_incidents').where({ id }).first();
    expect(row).toMatchObject({ assignee_id: 'u-referent1', level: 0 });
  });
});

describe('every change writes its event in the same transaction', () => {
  it('a failing event insert rolls the change back (no change without its event)', async () => {
    const teacher = await h.as('enseignant');
    const referent = await h.as('referent1');
    const { id } = await declare(teacher, lists);
    // Make the next status_changed event fail to insert: the status change must roll back with it.
    await h.db.knex.raw(`ALTER TABLE rsv_incident_events ADD CONSTRAINT test_no_status_events CHECK (kind <> 'status_changed') NOT VALID`);
    try {
      const res = await referent.post(`/incidents/${id}/transitions`, { to: 'taken' });
      expect(res.status).toBe(500);
      const row = await h.db.knex('rsv_incidents').where({ id }).first();
      expect(row).toMatchObject({ status: 'new', version: 1, assignee_id: null });
    } finally {
      await h.db.knex.raw('ALTER TABLE rsv_incident_events DROP CONSTRAINT test_no_status_events');
    }
  });
});
