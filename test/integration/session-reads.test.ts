import { startTestHost, TestHost } from '../helpers/host';

/** A page asks for its user twice (the module's route chain, then the host's frame): the host reads it once. */
let h: TestHost;
beforeAll(async () => {
  h = await startTestHost();
});
afterAll(async () => {
  await h.stop();
});

it('a page reads its session, user and rights in one query, once', async () => {
  const teacher = await h.as('enseignant');
  const statements: string[] = [];
  const listen = (q: { sql: string }) => statements.push(q.sql);
  h.db.knex.on('query', listen);
  try {
    const page = await teacher.get('/reservations/incidents/mine', 'text/html');
    expect(page.status).toBe(200);
  } finally {
    h.db.knex.off('query', listen);
  }
  expect(statements.filter((sql) => sql.includes('FROM host_sessions')).length).toBe(1);
});
