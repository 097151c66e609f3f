import { Client } from 'pg';

/**
 * The limit beside each HTTP figure: the same SQL statements, on the same database, at the same concurrency, straight
 * through node-postgres (one connection per worker, each running its next transaction as soon as the previous
 * committed, as pgbench does). No HTTP, no session or rights lookups, no validation.
 *
 * A transaction returns an outcome label ('ok', 'conflict'...); an error is rolled back and counted.
 */
export type RawTransaction = (client: Client, worker: number) => Promise<string>;

export interface RawRun {
  connections: number;
  seconds: number;
  transactions: number;
  throughput: number;
  latencies: number[];
  outcomes: Record<string, number>;
  errors: number;
  errorSample?: string;
}

export async function runRaw(
  databaseUrl: string,
  options: { connections: number; seconds: number; warmupSeconds: number; tx: RawTransaction; amount?: number },
): Promise<RawRun> {
  const clients = await Promise.all(
    Array.from({ length: options.connections }, async () => {
      const client = new Client({ connectionString: databaseUrl });
      await client.connect();
      return client;
    }),
  );
  const latencies: number[] = [];
  const outcomes: Record<string, number> = {};
  let errors = 0;
  let errorSample: string | undefined;
  let started = 0;
  const loop = async (client: Client, worker: number, until: number, record: boolean) => {
    // With `amount`: that many transactions in all (the slow scenarios), else as many as fit before `until`.
    while (record && options.amount ? started++ < options.amount : Date.now() < until) {
      const t0 = process.hrtime.bigint();
      let outcome: string;
      try {
        outcome = await options.tx(client, worker);
      } catch (error) {
        await client.query('ROLLBACK').catch(() => undefined);
        errors += record ? 1 : 0;
        errorSample ??= (error as Error).message;
        outcome = 'error';
      }
      if (!record) continue;
      latencies.push(Number(process.hrtime.bigint() - t0) / 1e6);
      outcomes[outcome] = (outcomes[outcome] ?? 0) + 1;
    }
  };
  try {
    if (options.warmupSeconds > 0 && !options.amount) {
      const until = Date.now() + options.warmupSeconds * 1000;
      await Promise.all(clients.map((c, i) => loop(c, i, until, false)));
    }
    const started = process.hrtime.bigint();
    const until = Date.now() + options.seconds * 1000;
    await Promise.all(clients.map((c, i) => loop(c, i, until, true)));
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    return { connections: options.connections, seconds, transactions: latencies.length, throughput: latencies.length / seconds, latencies, outcomes, errors, errorSample };
  } finally {
    await Promise.all(clients.map((c) => c.end().catch(() => undefined)));
  }
}

/** BEGIN, the statements, COMMIT: one transaction as the services write it. */
export async function inTransaction<T>(client: Client, work: () => Promise<T>): Promise<T> {
  await client.query('BEGIN');
  try {
    const result = await work();
    await client.query('COMMIT');
    return result;
  } catch (error) {
    await client.query('ROLLBACK');
    throw error;
  }
}
