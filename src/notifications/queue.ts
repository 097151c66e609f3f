import PgBoss from 'pg-boss';
import knexFactory, { Knex } from 'knex';

/**
 * pg-boss, the PostgreSQL job queue, on the module's own database connection: through knex's pool, so that it runs
 * unchanged on PostgreSQL and on embedded PGlite (one connection, no LISTEN needed: pg-boss polls). Its tables live
 * in their own schema.
 */
export function bossSchemaFor(schema: string): string {
  return schema === 'public' ? 'rsv_pgboss' : `${schema}_pgboss`.slice(0, 63);
}

interface QueryableConnection {
  query(text: string, values?: unknown[]): Promise<{ rows: unknown[] }>;
  exec?: (text: string) => Promise<Array<{ rows: unknown[] }>>;
}

export function knexExecutor(knex: Knex): PgBoss.Db {
  const client = knex.client as unknown as { acquireConnection(): Promise<QueryableConnection>; releaseConnection(c: QueryableConnection): Promise<void> };
  return {
    async executeSql(text: string, values: unknown[]) {
      const connection = await client.acquireConnection();
      try {
        // PGlite's extended protocol takes one statement; pg-boss sends its migrations as one script without values.
        if ((!values || values.length === 0) && connection.exec) {
          const results = await connection.exec(text);
          return { rows: results.length ? results[results.length - 1]!.rows : [] };
        }
        const result = await connection.query(text, values ?? []);
        return { rows: result.rows };
      } finally {
        await client.releaseConnection(connection);
      }
    },
  };
}

/** Connections of the job queue's own pool (PostgreSQL): its polls, completions and maintenance. */
const QUEUE_POOL_SIZE = 2;

/**
 * On PostgreSQL the queue gets a small pool of its own, beside the requests' one: requests that hold every pooled
 * connection (a burst of department-wide statistics) must not starve the mail worker, and pg-boss 10 completes a
 * batch without awaiting it, so a completion that cannot get a connection in time is an unhandled rejection that ends
 * the process (seen in `npm run bench`). On PGlite there is one connection whatever the pool: the same knex.
 */
function queueKnex(knex: Knex): Knex | null {
  const config = knex.client.config as Knex.Config;
  // node-postgres under any of knex's names for it; PGlite's client is a class of its own (one connection).
  if (typeof config.client !== 'string' || !['pg', 'postgres', 'postgresql'].includes(config.client)) return null;
  return knexFactory({ ...config, pool: { ...config.pool, min: 0, max: QUEUE_POOL_SIZE } });
}

export function createBoss(knex: Knex, schema: string, options: { supervise: boolean; maintenanceSeconds: number }): PgBoss {
  const own = queueKnex(knex);
  const boss = new PgBoss({
    db: knexExecutor(own ?? knex),
    schema: bossSchemaFor(schema),
    supervise: options.supervise,
    schedule: options.supervise,
    migrate: true,
    maintenanceIntervalSeconds: options.maintenanceSeconds,
    monitorStateIntervalSeconds: Math.max(options.maintenanceSeconds, 1),
  });
  if (own) boss.once('stopped', () => void own.destroy());
  return boss;
}
