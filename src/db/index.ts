import path from 'node:path';
import fs from 'node:fs';
import crypto from 'node:crypto';
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

interface QueryConfig {
  text?: unknown;
  values?: unknown[];
  name?: string;
}
interface PreparingConnection {
  query: (config: unknown, ...rest: unknown[]) => unknown;
}

/** Distinct statements prepared per connection; beyond this, statements run unnamed (memory stays bounded). */
const MAX_PREPARED_PER_CONNECTION = 300;
/** `select *`, `returning *`, `t.*`: a prepared statement whose result columns could change under a migration run by
 * another process (PostgreSQL then refuses it: "cached plan must not change result type"); those stay unnamed. */
const STAR_PROJECTION = /(?:select\s+(?:distinct\s+)?|returning\s+|,\s*|\.)\*/i;
const PREPARABLE = /^\s*(?:select|insert|update|delete|with)\b/i;

/**
 * Named (prepared) statements for the queries knex sends with bindings: PostgreSQL parses and plans a statement once
 * per connection (and may keep a generic plan) instead of at every execution. Measured with `npm run bench`: a 20-row
 * inbox page 0.64 -> 0.19 ms, a primary-key lookup 0.13 -> 0.10 ms. pg-boss and scripts without bindings are untouched.
 */
function prepareStatements(connection: PreparingConnection): void {
  const names = new Map<string, string>();
  const query = connection.query.bind(connection);
  connection.query = (config: unknown, ...rest: unknown[]) => {
    const c = config as QueryConfig | null;
    if (c && typeof c === 'object' && !c.name && typeof c.text === 'string' && c.values?.length && PREPARABLE.test(c.text) && !STAR_PROJECTION.test(c.text)) {
      let name = names.get(c.text);
      if (!name && names.size < MAX_PREPARED_PER_CONNECTION) {
        name = `k${crypto.createHash('sha1').update(c.text).digest('base64url')}`;
        names.set(c.text, name);
      }
      if (name) return query({ ...c, name }, ...rest);
    }
    return query(config, ...rest);
  };
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
      pool: {
        min: 0,
        max: options.poolMax ?? 10,
        afterCreate: (connection: PreparingConnection, done: (error: Error | null, connection: unknown) => void) => {
          // DB_PREPARED_STATEMENTS=0: all unnamed (e.g. behind a pooler in transaction mode that cannot keep them).
          if (process.env.DB_PREPARED_STATEMENTS !== '0') prepareStatements(connection);
          done(null, connection);
        },
      },
    });
    if (schema !== 'public') await knex.raw('CREATE SCHEMA IF NOT EXISTS ??', [schema]);
    return { knex, kind: 'postgres', schema, close: () => knex.destroy() };
  }
  // Loaded lazily: a production install on PostgreSQL never needs the WebAssembly build.
  const { PGlite } = await import('@electric-sql/pglite');
  const { btree_gist } = await import('@electric-sql/pglite/contrib/btree_gist');
  const ClientPgLite = (await import('knex-pglite')).default;
  if (options.dataDir) fs.mkdirSync(path.resolve(options.dataDir), { recursive: true });
  // `new PGlite(undefined, options)` ignores the options: an in-memory database takes them as the only argument.
  // bigint (int8) as a string, as node-postgres gives it: ids then compare and print the same on both databases.
  const pgliteOptions = { extensions: { btree_gist }, parsers: { 20: (value: string) => value } };
  const pglite = options.dataDir ? new PGlite(path.resolve(options.dataDir), pgliteOptions) : new PGlite(pgliteOptions);
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
