import { Client } from 'pg';

/**
 * Chooses the database of the whole run, once, and says which: TEST_DATABASE_URL, else DATABASE_URL, else the local
 * PostgreSQL (127.0.0.1:5432, user postgres, database test) when it answers, else embedded PGlite.
 * Each test file then gets its own schema (PostgreSQL) or its own in-memory database (PGlite).
 */
export default async function globalSetup(): Promise<void> {
  // TEST_DATABASE=pglite forces the embedded database (to check the suite as on a machine without PostgreSQL).
  const candidates = process.env.TEST_DATABASE === 'pglite' ? [] : ([process.env.TEST_DATABASE_URL, process.env.DATABASE_URL, 'postgres://postgres@127.0.0.1:5432/test'].filter(Boolean) as string[]);
  let chosen: string | null = null;
  for (const url of candidates) {
    const client = new Client({ connectionString: url, connectionTimeoutMillis: 3000 });
    try {
      await client.connect();
      // Extensions are per database: create btree_gist once here, so parallel files never race to create it.
      await client.query('CREATE EXTENSION IF NOT EXISTS btree_gist WITH SCHEMA public');
      chosen = url;
      break;
    } catch {
      // try the next one
    } finally {
      await client.end().catch(() => undefined);
    }
  }
  if (chosen) {
    process.env.RSV_TEST_DB = chosen;
    console.log(`\n[tests] database: PostgreSQL at ${chosen.replace(/\/\/[^@]*@/, '//')} (one schema per test file)`);
  } else {
    process.env.RSV_TEST_DB = 'pglite';
    console.log('\n[tests] database: embedded PGlite (no PostgreSQL answered; one in-memory database per test file)');
  }
}
