import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pino from 'pino';
import request from 'supertest';
import type { Response } from 'supertest';
import { startReferenceHost, StartedReferenceHost, StartReferenceHostOptions } from '../../src/devhost/start';
import { createTestDatabase } from './db';

export const API = '/reservations/api/v1';

export interface TestHost extends StartedReferenceHost {
  app: StartedReferenceHost['referenceHost']['app'];
  /** Signs a demo account in and returns a client that sends its cookie (and CSRF token on mutations). */
  as(login: string): Promise<Client>;
  anonymous(): Client;
  stop(): Promise<void>;
}

export interface Client {
  login: string | null;
  cookie: string;
  csrf: string;
  userId: string;
  get(path: string, accept?: string): Promise<Response>;
  post(path: string, body?: unknown): Promise<Response>;
  put(path: string, body?: unknown): Promise<Response>;
  delete(path: string): Promise<Response>;
  /** A mutation without the CSRF header. */
  postWithoutCsrf(path: string, body?: unknown): Promise<Response>;
}

function makeClient(app: TestHost['app'], login: string | null, cookie: string, csrf: string, userId: string): Client {
  const withAuth = (r: request.Test, csrfHeader = true) => {
    if (cookie) r.set('Cookie', cookie);
    if (csrfHeader && csrf) r.set('X-CSRF-Token', csrf);
    return r;
  };
  const api = (path: string) => (path.startsWith('/') && !path.startsWith('/reservations') && !path.startsWith('/mail') && !path.startsWith('/login') && !path.startsWith('/timeline') ? `${API}${path}` : path);
  return {
    login,
    cookie,
    csrf,
    userId,
    get: (path, accept = 'application/json') => withAuth(request(app).get(api(path)).set('Accept', accept), false),
    post: (path, body) => withAuth(request(app).post(api(path)).send(body as object)),
    put: (path, body) => withAuth(request(app).put(api(path)).send(body as object)),
    delete: (path) => withAuth(request(app).delete(api(path))),
    postWithoutCsrf: (path, body) => withAuth(request(app).post(api(path)).send(body as object), false),
  };
}

/** Starts the reference host on an isolated database, with the demo data, for one test file. */
export async function startTestHost(options: Partial<StartReferenceHostOptions> = {}): Promise<TestHost> {
  const db = await createTestDatabase();
  // Attached files go to a folder of this host's own, removed when it stops (unless the test chose one).
  const ownFilesDir = options.config?.filesDir ? null : fs.mkdtempSync(path.join(os.tmpdir(), 'rsv-files-'));
  const started = await startReferenceHost({
    db,
    httpLog: false,
    logger: pino({ level: process.env.TEST_LOG_LEVEL ?? 'silent' }),
    publicUrl: 'http://127.0.0.1:3000',
    ...options,
    // Quick retries and polling, so that tests of a mail server that is down take seconds, not minutes.
    config: { mailRetryDelaySeconds: 1, workerPollingSeconds: 0.5, ...(ownFilesDir ? { filesDir: ownFilesDir } : {}), ...options.config },
  });
  const app = started.referenceHost.app;
  const host: TestHost = {
    ...started,
    app,
    async as(login: string) {
      const res = await request(app).post('/login').type('form').send({ login });
      if (res.status !== 303) throw new Error(`sign-in of ${login} failed: ${res.status}`);
      const setCookie = res.headers['set-cookie'] as unknown as string[];
      const cookie = setCookie.map((c) => c.split(';')[0]).filter((c) => !c.endsWith('=')).join('; ');
      const session = await request(app).get(`${API}/session`).set('Cookie', cookie).set('Accept', 'application/json');
      return makeClient(app, login, cookie, session.body.csrfToken, session.body.user.id);
    },
    anonymous() {
      return makeClient(app, null, '', '', '');
    },
    async stop() {
      await started.close();
      await db.dropAll();
      if (ownFilesDir) fs.rmSync(ownFilesDir, { recursive: true, force: true });
    },
  };
  return host;
}
