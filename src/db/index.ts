import path from 'node:path';
import fs from 'node:fs';
import knexFactory, { Knex } from 'knex';

/**
 * One way to open the database for the module, the hosts, the tests and the benchmark.
 * PostgreSQL (knex + pg) when a URL is given; otherwise embedded PGlite, so that `npm start` needs no server.
 * The same migrations run on both.
 */
export interface Database {
  knex: Knex;
  kind: 'postgres' | 'pglite';
  /** The schema our tables live in (first in the search path). */
  schema: string;
  close(): Promise<void>;
}

export interface OpenDatabaseOptions {
  /** postgres://... ; when absent, PGlite is used. */
  url?: string;
  /** PGlite data folder; absent means in memory. */
  dataDir?: string;
  /** Schema for our tables (a host may give us one); default `public`. */
  schema?: string;
  poolMax?: number;
}

export async function openDatabase(options: OpenDatabaseOptions): Promise<Database> {
  const schema = options.schema ?? 'public';
  if (!/^[a-z_][a-z0-9_]{0,62}$/.test(schema)) throw new Error(`Invalid database schema name: ${schema}`);
  const searchPath = schema === 'public' ? ['public'] : [schema, 'public'];
  if (options.url) {
    const knex = knexFactory({
      client: 'pg',
      connection: options.url,
      searchPath,
      pool: { min: 0, max: options.poolMax ?? 10 },
    });
    if (schema !== 'public') await knex.raw('CREATE SCHEMA IF NOT EXISTS ??', [schema]);
    return { knex, kind: 'postgres', schema, close: () => knex.destroy() };
  }
  // Loaded lazily: a production install on PostgreSQL never needs the WebAssembly build.
  const { PGlite } = await import('@electric-sql/pglite');
  const { btree_gist } = await import('@electric-sql/pglite/contrib/btree_gist');
  const ClientPgLite = (await import('knex-pglite')).default;
  if (options.dataDir) fs.mkdirSync(path.resolve(options.dataDir), { recursive: true });
  const pglite = new PGlite(options.dataDir ? path.resolve(options.dataDir) : undefined, { extensions: { btree_gist } });
  await pglite.waitReady;
  if (schema !== 'public') await pglite.exec(`CREATE SCHEMA IF NOT EXISTS ${schema}`);
  const knex = knexFactory({
    client: ClientPgLite as unknown as typeof knexFactory.Client,
    dialect: 'postgres',
    connection: () => ({ pglite }) as unknown as Knex.StaticConnectionConfig,
    searchPath,
  } as Knex.Config);
  return {
    knex,
    kind: 'pglite',
    schema,
    close: async () => {
      await knex.destroy();
      if (!pglite.closed) await pglite.close();
    },
  };
}

export interface Migration {
  name: string;
  up(knex: Knex): Promise<void>;
}

/**
 * Runs forward-only migrations from an in-code list (no directory scanning, so they run the same under tsx, jest and
 * the compiled build). Each owner keeps its own migrations table, as a plugin sharing a host's database should.
 */
export async function migrate(knex: Knex, tableName: string, migrations: Migration[]): Promise<string[]> {
  const [, applied] = await knex.migrate.latest({
    tableName,
    migrationSource: {
      getMigrations: async () => migrations,
      getMigrationName: (m: Migration) => m.name,
      getMigration: async (m: Migration) => ({ up: m.up, down: async () => { throw new Error('Migrations are forward-only'); } }),
    },
  });
  return applied as string[];
}

/**
 * Runs a migration script statement by statement: PGlite's extended protocol takes one statement per query.
 * Statements end with `;` at the end of a line; dollar-quoted bodies ($$ ... $$) are kept whole.
 */
export async function runScript(knex: Knex, script: string): Promise<void> {
  const statements: string[] = [];
  let current = '';
  let inDollar = false;
  for (const line of script.split('\n')) {
    if (/^\s*--/.test(line) && !inDollar) continue;
    current += line + '\n';
    const dollars = line.match(/\$\$/g)?.length ?? 0;
    if (dollars % 2 === 1) inDollar = !inDollar;
    if (!inDollar && /;\s*$/.test(line)) {
      statements.push(current.trim());
      current = '';
    }
  }
  if (current.trim()) statements.push(current.trim());
  for (const statement of statements) await knex.raw(statement);
}
