/**
 * `npm run bench`: seeds a dedicated PostgreSQL database at scale, starts the reference host in production mode as a
 * child process, drives it over HTTP with autocannon at 1 and 8 connections, runs the same SQL straight against the
 * database at the same concurrency, and prints http req/s beside raw db tx/s. See README.md, "Performance".
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Client } from 'pg';
import { DateTime } from 'luxon';
import { benchConfig } from './config';
import { openDatabase } from '../src/db';
import { COLLECTIVITE_LOGIN, dataCounts, prepareDatabase, referentLogin, runMigrations, schoolId, seed, teacherLogin, TIME_ZONE } from './seed';
import { buildHost, startHost, HostProcess } from './host-process';
import { once, runHttp, signIn, Session } from './http';
import { runRaw } from './raw';
import { BenchContext, declareScenario, doubleBookings, lastTwoSchoolYears, loadSchools, Scenario, SCENARIOS } from './scenarios';
import { startSmtpSink } from './smtp-sink';
import { formatTable, ResultRow, rowOf, statusSummary, targets } from './report';

const log = (message: string) => console.log(`[bench] ${message}`);
const root = path.resolve(__dirname, '..');

/** The messages of the module's "no such route" 404 (a 404 for a missing record is a real answer, not a missing route). */
function routeMissingMessages(): string[] {
  return ['fr', 'en'].map((lang) => {
    try {
      return JSON.parse(fs.readFileSync(path.join(root, 'locales', lang, 'errors.json'), 'utf8')).routeNotFound as string;
    } catch {
      return '';
    }
  });
}

function routeMissing(status: number, body: string): boolean {
  if (status !== 404) return false;
  try {
    const parsed = JSON.parse(body) as { message?: string };
    return routeMissingMessages().includes(parsed.message ?? '');
  } catch {
    return true;
  }
}

async function signInAll(baseUrl: string, ctx: Pick<BenchContext, 'activeIdxs' | 'bookingIdxs' | 'bigIdx'>, teachersPerSchool: number) {
  const teachers = new Map<number, Session[]>();
  const referents = new Map<number, Session>();
  const teacherSchools = [...new Set([...ctx.activeIdxs, ...ctx.bookingIdxs])];
  await Promise.all(
    teacherSchools.map(async (idx) => {
      const logins = [1, 2].filter((t) => t <= teachersPerSchool).map((t) => teacherLogin(idx, t));
      teachers.set(idx, await Promise.all(logins.map((l) => signIn(baseUrl, l))));
    }),
  );
  await Promise.all([ctx.bigIdx, ...ctx.activeIdxs].map(async (idx) => referents.set(idx, await signIn(baseUrl, referentLogin(idx, 1)))));
  const collectivite = await signIn(baseUrl, COLLECTIVITE_LOGIN);
  return { teachers, referents, collectivite };
}

/** Waits until the outbox has no notification to expand nor mail to send (or the time is up). */
async function drainOutbox(admin: Client, maxSeconds: number): Promise<{ seconds: number; left: number }> {
  const t0 = Date.now();
  for (;;) {
    const { rows } = await admin.query(
      `SELECT (SELECT count(*) FROM rsv_notifications WHERE expanded_at IS NULL) + (SELECT count(*) FROM rsv_deliveries WHERE status = 'pending') AS n`,
    );
    const left = Number(rows[0].n);
    const seconds = (Date.now() - t0) / 1000;
    if (left === 0 || seconds > maxSeconds) return { seconds, left };
    await new Promise((r) => setTimeout(r, 250));
  }
}

async function main(): Promise<void> {
  const config = benchConfig();
  const startedAt = Date.now();
  const cpus = os.cpus();
  log(`${config.quick ? 'QUICK' : 'FULL'} run on ${cpus.length} x ${cpus[0]?.model ?? 'cpu'}, ${(os.totalmem() / 2 ** 30).toFixed(0)} GB, Node ${process.version}`);
  log(`load average before the run: ${os.loadavg().map((l) => l.toFixed(1)).join(' ')} (other processes on the machine skew every figure)`);
  log(`database ${config.databaseUrl.replace(/\/\/[^@]*@/, '//***@')}, ${config.durationSeconds} s per run, connections ${config.connections.join(' and ')}`);

  const fresh = await prepareDatabase(config);
  if (fresh) await seed(config);
  else await runMigrations(config.databaseUrl);

  const admin = new Client({ connectionString: config.databaseUrl });
  await admin.connect();
  const pgVersion = (await admin.query('SHOW server_version')).rows[0].server_version as string;
  const counts = await dataCounts(admin);
  log(`data: ${Object.entries(counts).map(([k, v]) => `${k} ${k === 'bytes' ? `${(v / 2 ** 20).toFixed(0)} MB` : v.toLocaleString('en')}`).join(', ')}; PostgreSQL ${pgVersion}`);

  const schoolCount = counts.schools!;
  const bigIdx = 1;
  const activeIdxs = Array.from({ length: Math.max(1, Math.min(config.sizes.activeSchools, schoolCount - 1)) }, (_, i) => Math.min(schoolCount, i + 2));
  // Each booking run books in schools of its own, so that every run starts from the same seeded future; several
  // schools per run, so that the slots stay mostly free for the HTTP and raw runs alike (a run that fills its slots
  // meets more conflicts, which are cheaper, and would not be comparable with the other side).
  const bookingRuns = config.connections.length * 2 + 1;
  const bookingSchoolsPerRun = Math.max(1, Math.min(4, Math.floor((schoolCount - 1 - activeIdxs.length) / bookingRuns)));
  const bookingIdxs = Array.from({ length: bookingRuns * bookingSchoolsPerRun }, (_, i) => Math.max(2, schoolCount - i));
  const allSchoolIds = (await admin.query(`SELECT id FROM host_structures WHERE id LIKE 'bench-%' ORDER BY id`)).rows.map((r) => r.id as string);
  const schools = await loadSchools(admin, [...new Set([bigIdx, ...activeIdxs, ...bookingIdxs])]);
  const deepIds = (
    await admin.query(
      `SELECT id::text FROM (SELECT id, row_number() OVER (ORDER BY id DESC) AS rn, count(*) OVER () AS n FROM rsv_incidents WHERE structure_id = $1) x
        WHERE rn > n / 2 AND rn % 7 = 0`,
      [schoolId(bigIdx)],
    )
  ).rows.map((r) => r.id as string);
  const today = DateTime.now().setZone(TIME_ZONE).startOf('day');
  const statsWindow = lastTwoSchoolYears(today.toISODate()!);
  const bookingMark = String((await admin.query(`SELECT coalesce(max(id), 0) + 1 AS id FROM rsv_bookings`)).rows[0].id);

  // The module's mails go to a sink that accepts and discards them, as a mail server would take them (the reference
  // host's own catcher would parse and store each one in the host's process, which no production host does).
  const sink = await startSmtpSink();
  // Production mode: the compiled build under NODE_ENV=production (BENCH_HOST=tsx runs the sources instead).
  let compiled = process.env.BENCH_HOST !== 'tsx';
  if (compiled) {
    const t0 = Date.now();
    const build = buildHost();
    if (build.ok) log(`npm run build (${((Date.now() - t0) / 1000).toFixed(1)} s): the host runs compiled, from dist/`);
    else {
      compiled = false;
      log(`npm run build failed, the host runs from the sources through tsx:\n${build.output.slice(0, 2000)}`);
    }
  }
  const hostLog = path.join(root, 'bench-host.log');
  fs.writeFileSync(hostLog, '');
  let host: HostProcess | null = null;
  const peaks: Record<string, number> = {};
  let hostEnvKey = '';
  const useHost = async (env: Record<string, string> | undefined) => {
    const key = JSON.stringify(env ?? {});
    if (host && key === hostEnvKey && host.alive()) return host;
    if (host) {
      peaks[hostEnvKey] = Math.max(peaks[hostEnvKey] ?? 0, host.peakRss());
      await host.stop();
    }
    const t0 = Date.now();
    host = await startHost({ databaseUrl: config.databaseUrl, env: { SMTP_URL: sink.url, ...env }, logFile: hostLog, compiled });
    hostEnvKey = key;
    log(`reference host pid ${host.pid} on ${host.baseUrl} ${key === '{}' ? '' : `with ${key} `}(ready in ${((Date.now() - t0) / 1000).toFixed(1)} s, RSS ${(host.rss() / 2 ** 20).toFixed(0)} MB)`);
    return host;
  };

  const firstHost = await useHost(undefined);
  const users = await signInAll(firstHost.baseUrl, { activeIdxs, bookingIdxs, bigIdx }, config.sizes.teachersPerSchool);
  const outbox = (await admin.query(`SELECT to_regclass('rsv_notifications') IS NOT NULL AS ok`)).rows[0].ok as boolean;
  if (outbox) {
    // Mails left unsent by an earlier run on this database are not sent now: they would load the host meanwhile.
    await admin.query(`UPDATE rsv_notifications SET expanded_at = now() WHERE expanded_at IS NULL`);
    await admin.query(`UPDATE rsv_deliveries SET status = 'sent', sent_at = now() WHERE status = 'pending'`);
  }
  const captureDb = await openDatabase({ url: config.databaseUrl, poolMax: 4 });
  const ctx: BenchContext = { config, databaseUrl: config.databaseUrl, admin, knex: captureDb.knex, schools, activeIdxs, bigIdx, bookingIdxs, bookingSchoolsPerRun, ...users, deepIds, statsWindow, allSchoolIds, bookingMark, outbox };

  // Issue 5's comparison: the same declaration with the host's notifications switched off.
  const all: Scenario[] = [...SCENARIOS, declareScenario(false)];
  const chosen = all.filter((s) => (config.only ? config.only.includes(s.name) : !(config.quick && s.fullOnly)));
  // Scenarios needing another host environment run last, so the host restarts once per environment.
  chosen.sort((a, b) => Number(Boolean(a.hostEnv)) - Number(Boolean(b.hostEnv)));

  const rows: ResultRow[] = [];
  const mailStats: Record<string, { delivered: number; seconds: number; undelivered: number }> = {};
  let failures = 0;
  for (const scenario of chosen) {
    try {
      await runScenario(scenario);
    } catch (error) {
      // A host that died under load (or any other failure) fails this scenario; the next one gets a new host.
      failures++;
      const died = host && !(host as HostProcess).alive() ? 'the host process died (see bench-host.log)' : String((error as Error).message ?? error).slice(0, 300);
      log(`${scenario.label}: FAILED: ${died}`);
      for (const connections of config.connections) {
        if (!rows.some((r) => r.scenario === scenario.name && r.connections === connections)) {
          rows.push({ scenario: scenario.name, label: scenario.label, connections, status: 'failed', note: died });
        }
      }
      for (const r of rows) if (r.scenario === scenario.name && r.status === 'measured') r.note = [r.note, died].filter(Boolean).join('; ');
    }
  }
  async function runScenario(scenario: Scenario): Promise<void> {
    const h = await useHost(scenario.hostEnv);
    const probe = await once(h.baseUrl, await scenario.probe(ctx));
    if (routeMissing(probe.status, probe.body)) {
      log(`${scenario.label}: skipped (route missing)`);
      for (const connections of config.connections) rows.push({ scenario: scenario.name, label: scenario.label, connections, status: 'skipped (route missing)' });
      return;
    }
    if (!scenario.expected.includes(probe.status)) log(`${scenario.label}: the probe answered ${probe.status} ${probe.body.slice(0, 300)}`);
    const verify = scenario.verify ? await scenario.verify(ctx) : null;
    const scenarioStarted = Date.now();
    const mailsBefore = sink.received();
    const firstRow = rows.length;
    for (const [run, connections] of config.connections.entries()) {
      const amount = scenario.amount?.(connections, config);
      const httpSide = await scenario.prepare(ctx, { mode: 'http', connections, run });
      if (config.warmupSeconds > 0) {
        await runHttp(h.baseUrl, { connections, seconds: config.warmupSeconds, next: httpSide.next!, expected: scenario.expected, amount: amount ? connections : undefined });
      }
      const cpu0 = h.cpuMs();
      const http = await runHttp(h.baseUrl, { connections, seconds: config.durationSeconds, next: httpSide.next!, expected: scenario.expected, amount });
      const hostCpuMs = h.alive() ? (h.cpuMs() - cpu0) / Math.max(1, http.requests) : NaN;
      // The mails of the HTTP run are delivered before the raw run starts: the host's worker would otherwise take CPU
      // from the raw side and flatter the ratio.
      if (outbox) await drainOutbox(admin, config.quick ? 1 : 60);
      const rawSide = await scenario.prepare(ctx, { mode: 'raw', connections, run: run + config.connections.length });
      const raw = await runRaw(config.databaseUrl, { connections, seconds: config.durationSeconds, warmupSeconds: config.warmupSeconds, tx: rawSide.tx!, amount });
      const row = rowOf(scenario.name, scenario.label, connections, http, raw);
      row.http!.hostCpuMs = hostCpuMs;
      const serverErrors = Object.entries(http.statuses).filter(([code]) => Number(code) >= 500).reduce((n, [, c]) => n + c, 0);
      const unexpected = Object.keys(http.statuses).filter((code) => !scenario.expected.includes(Number(code)));
      if (serverErrors || raw.errors || http.errors || unexpected.length) {
        failures++;
        row.note = 'UNEXPECTED ANSWERS';
        for (const [code, body] of Object.entries(http.samples)) log(`  ${scenario.label}: HTTP ${code}: ${body}`);
        if (raw.errorSample) log(`  ${scenario.label}: raw error: ${raw.errorSample}`);
      }
      rows.push(row);
      log(
        `${scenario.label} @${connections}: ${row.http!.throughput.toFixed(0)} req/s (p50 ${row.http!.p50.toFixed(2)} ms, p99 ${row.http!.p99.toFixed(2)} ms, host CPU ${hostCpuMs.toFixed(2)} ms/req) ` +
          `| raw ${row.raw!.throughput.toFixed(0)} tx/s (p50 ${row.raw!.p50.toFixed(2)} ms, p99 ${row.raw!.p99.toFixed(2)} ms) | ratio ${((row.ratio ?? 0) * 100).toFixed(0)}% | ${statusSummary(row)}`,
      );
    }
    // The mails the scenario caused are delivered before the next one starts (the worker runs in the host's process):
    // how long that takes is the mail throughput of the outbox.
    const drained = outbox ? await drainOutbox(admin, config.quick ? 1 : 60) : null;
    if (drained?.left) {
      // Not delivered in time: dropped, so that the next scenario does not run beside this one's mails.
      await admin.query(`UPDATE rsv_notifications SET expanded_at = now() WHERE expanded_at IS NULL`);
      await admin.query(`UPDATE rsv_deliveries SET status = 'sent', sent_at = now() WHERE status = 'pending'`);
    }
    if (!h.alive()) throw new Error('the host process died during the runs (see bench-host.log)');
    const problem = verify ? await verify() : null;
    if (problem) {
      log(`  ${problem}`);
      for (const row of rows.slice(firstRow)) row.note = [row.note, problem].filter(Boolean).join('; ');
    }
    const mails = sink.received() - mailsBefore;
    if (outbox && (mails || drained?.left)) {
      mailStats[scenario.name] = { delivered: mails, seconds: Math.round((Date.now() - scenarioStarted) / 100) / 10, undelivered: drained?.left ?? 0 };
    }
    log(
      `  host RSS ${(h.rss() / 2 ** 20).toFixed(0)} MB, peak ${(h.peakRss() / 2 ** 20).toFixed(0)} MB` +
        `${mails || drained?.left ? `; mails: ${mails} delivered during the runs and ${drained?.seconds.toFixed(0)} s after` : ''}` +
        `${drained?.left ? ` (${(mails / Math.max(1, (Date.now() - scenarioStarted) / 1000)).toFixed(1)} mails/s), ${drained.left} notifications and deliveries left undelivered and dropped` : ''}` +
        `; load average ${os.loadavg().map((l) => l.toFixed(1)).join(' ')}`,
    );
  }
  if (host) {
    const h = host as HostProcess;
    peaks[hostEnvKey] = Math.max(peaks[hostEnvKey] ?? 0, h.peakRss());
    await h.stop();
  }
  const peakRssBytes = Math.max(0, ...Object.values(peaks));
  await sink.stop();

  const booked = rows.some((r) => r.scenario === 'book' && r.status === 'measured');
  const doubles = booked ? await doubleBookings(admin, bookingMark) : null;
  if (doubles) failures++;
  await admin.end();
  await captureDb.close();

  console.log('');
  console.log(formatTable(rows));
  console.log('');
  const scenariosRaw = new Map(chosen.map((s) => [s.name, s.rawIs]));
  console.log('raw db = ' + [...scenariosRaw].map(([name, what]) => `${name}: ${what}`).join('; '));
  console.log(`double bookings (SQL check over the bench's bookings): ${doubles ?? 'not measured'}`);
  console.log(`reference host peak RSS (VmHWM): ${(peakRssBytes / 2 ** 20).toFixed(0)} MB${Object.keys(peaks).length > 1 ? ` (${Object.entries(peaks).map(([k, v]) => `${k === '{}' ? 'default' : k}: ${(v / 2 ** 20).toFixed(0)} MB`).join(', ')})` : ''}`);
  const goals = targets(rows, { doubleBookings: doubles, peakRssBytes });
  console.log(`\nissue 9 targets (8 connections${config.quick ? '; QUICK data: indicative only' : ''}):`);
  for (const g of goals) console.log(`  [${g.met === null ? ' - ' : g.met ? 'met' : 'NOT'}] ${g.name}: ${g.figure}`);

  const scenarios: Record<string, unknown> = {};
  for (const r of rows) {
    scenarios[`${r.scenario}@${r.connections}`] = {
      label: r.label,
      connections: r.connections,
      status: r.status,
      throughput: r.http?.throughput,
      p50: r.http?.p50,
      p99: r.http?.p99,
      rawThroughput: r.raw?.throughput,
      rawP50: r.raw?.p50,
      rawP99: r.raw?.p99,
      ratio: r.ratio,
      hostCpuMsPerRequest: r.http?.hostCpuMs,
      statuses: r.http?.statuses,
      rawOutcomes: r.raw?.outcomes,
      note: r.note,
    };
  }
  const results = {
    date: new Date().toISOString(),
    mode: config.quick ? 'quick' : 'full',
    machine: { cpus: cpus.length, cpuModel: cpus[0]?.model, memoryGb: Math.round(os.totalmem() / 2 ** 30), node: process.version, postgres: pgVersion, loadAverageAtEnd: os.loadavg() },
    secondsPerRun: config.durationSeconds,
    data: counts,
    scenarios,
    doubleBookings: doubles,
    /** Mails the host's worker delivered per scenario (runs and drain), and what was still in the outbox after it. */
    mail: mailStats,
    hostPeakRssMb: Math.round(peakRssBytes / 2 ** 20),
    targets: goals,
    totalSeconds: Math.round((Date.now() - startedAt) / 1000),
  };
  fs.writeFileSync(path.resolve(root, config.out), JSON.stringify(results, null, 2) + '\n');
  log(`results in ${config.out}; ${results.totalSeconds} s in all${failures ? `; ${failures} scenario(s) with unexpected answers or double bookings` : ''}`);
  if (failures) process.exitCode = 1;
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
