import crypto from 'node:crypto';
import { Client } from 'pg';
import { openDatabase, Database } from '../../src/db';

/** An isolated database for one test file: its own schema on PostgreSQL, its own in-memory PGlite otherwise. */
export async function createTestDatabase(): Promise<Database & { dropAll(): Promise<void> }> {
  const target = process.env.RSV_TEST_DB ?? 'pglite';
  if (target === 'pglite') {
    const db = await openDatabase({});
    return { ...db, dropAll: () => db.close() };
  }
  const schema = `t_${crypto.randomBytes(6).toString('hex')}`;
  const db = await openDatabase({ url: target, schema, poolMax: 12 });
  return {
    ...db,
    dropAll: async () => {
      await db.close();
      const client = new Client({ connectionString: target });
      await client.connect();
      await client.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
      await client.query(`DROP SCHEMA IF EXISTS ${schema}_pgboss CASCADE`);
      await client.end();
    },
  };
}

export function testDatabaseKind(): 'postgres' | 'pglite' {
  return (process.env.RSV_TEST_DB ?? 'pglite') === 'pglite' ? 'pglite' : 'postgres';
}
