import { openDatabase, migrate } from '../../src/db';
import { moduleMigrations, MODULE_MIGRATIONS_TABLE } from '../../migrations';
import { hostMigrations } from '../../src/hostkit/migrations';
import { createTestDatabase, testDatabaseKind } from '../helpers/db';

async function tablesOf(knex: import('knex').Knex): Promise<string[]> {
  const { rows } = await knex.raw(`SELECT tablename FROM pg_tables WHERE schemaname = current_schema() ORDER BY tablename`);
  return rows.map((r: { tablename: string }) => r.tablename);
}

describe('migrations', () => {
  it('run on embedded PGlite, and a second run applies nothing', async () => {
    const db = await openDatabase({});
    try {
      await migrate(db.knex, 'knex_migrations_host', hostMigrations);
      const applied = await migrate(db.knex, MODULE_MIGRATIONS_TABLE, moduleMigrations);
      expect(applied).toHaveLength(moduleMigrations.length);
      expect(await migrate(db.knex, MODULE_MIGRATIONS_TABLE, moduleMigrations)).toEqual([]);
      const tables = await tablesOf(db.knex);
      expect(tables).toEqual(expect.arrayContaining(['rsv_equipment', 'rsv_structure_settings', 'host_users', 'knex_migrations_rsv']));
    } finally {
      await db.close();
    }
  });

  it(`run on the suite's database (${testDatabaseKind()}) and create the same tables as on PGlite`, async () => {
    const db = await createTestDatabase();
    const lite = await openDatabase({});
    try {
      for (const d of [db, lite]) {
        await migrate(d.knex, 'knex_migrations_host', hostMigrations);
        await migrate(d.knex, MODULE_MIGRATIONS_TABLE, moduleMigrations);
      }
      expect(await tablesOf(db.knex)).toEqual(await tablesOf(lite.knex));
      expect(await migrate(db.knex, MODULE_MIGRATIONS_TABLE, moduleMigrations)).toEqual([]);
    } finally {
      await lite.close();
      await db.dropAll();
    }
  });
});
