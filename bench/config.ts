/**
 * What `npm run bench` does, read once from the environment.
 *
 *   BENCH_DATABASE_URL   the dedicated database (default postgres://postgres@127.0.0.1:5432/bench); created if absent,
 *                        dropped and re-seeded unless BENCH_REUSE=1.
 *   BENCH_QUICK=1        small data and a few seconds per scenario (CI).
 *   BENCH_DURATION       seconds per measured run (default 10, quick 1).
 *   BENCH_WARMUP         seconds of unmeasured load before each run (default 2, quick 0.25).
 *   BENCH_CONNECTIONS    concurrency levels, comma-separated (default 1,8).
 *   BENCH_ONLY           scenario names to run, comma-separated (default all).
 *   BENCH_OUT            where the JSON goes (default bench-results.json).
 */
export interface Sizes {
  schools: number;
  teachersPerSchool: number;
  equipmentPerSchool: number;
  roomsPerSchool: number;
  incidents: number;
  bookings: number;
  /** Share of all incidents that go to school 1, the big one the deep inbox pages walk. */
  bigSchoolShare: number;
  /** Schools whose users the scenarios sign in (random requests spread over them). */
  activeSchools: number;
}

export interface BenchConfig {
  quick: boolean;
  databaseUrl: string;
  reuse: boolean;
  durationSeconds: number;
  warmupSeconds: number;
  connections: number[];
  only: string[] | null;
  out: string;
  sizes: Sizes;
  /** Incidents and bookings are spread from this many days ago to now (two school years). */
  historyDays: number;
}

export function benchConfig(env: NodeJS.ProcessEnv = process.env): BenchConfig {
  const quick = env.BENCH_QUICK === '1';
  const sizes: Sizes = quick
    ? { schools: 20, teachersPerSchool: 5, equipmentPerSchool: 40, roomsPerSchool: 20, incidents: 20_000, bookings: 20_000, bigSchoolShare: 0.1, activeSchools: 8 }
    : { schools: 1000, teachersPerSchool: 20, equipmentPerSchool: 40, roomsPerSchool: 20, incidents: 1_000_000, bookings: 2_000_000, bigSchoolShare: 0.1, activeSchools: 50 };
  for (const key of Object.keys(sizes) as Array<keyof Sizes>) {
    const value = env[`BENCH_${key.replace(/[A-Z]/g, (c) => `_${c}`).toUpperCase()}`];
    if (value) sizes[key] = Number(value);
  }
  return {
    quick,
    databaseUrl: env.BENCH_DATABASE_URL || 'postgres://postgres@127.0.0.1:5432/bench',
    reuse: env.BENCH_REUSE === '1',
    durationSeconds: Number(env.BENCH_DURATION || (quick ? 1 : 10)),
    warmupSeconds: Number(env.BENCH_WARMUP || (quick ? 0.25 : 2)),
    connections: (env.BENCH_CONNECTIONS || '1,8').split(',').map(Number).filter((n) => n > 0),
    only: env.BENCH_ONLY ? env.BENCH_ONLY.split(',').map((s) => s.trim()).filter(Boolean) : null,
    out: env.BENCH_OUT || 'bench-results.json',
    sizes,
    historyDays: 730,
  };
}
