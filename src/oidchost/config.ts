import fs from 'node:fs';
import { z } from 'zod';

/**
 * The OpenID Connect host's configuration, read from the environment once at start and validated with zod, so that a
 * wrong or missing variable stops the process with a message naming it (API.md, "Production host").
 */

/** What each variable is, for the error message an IT team reads when the process refuses to start. */
export const VARIABLES: Record<string, string> = {
  PUBLIC_URL: "the module's external base URL, an origin such as https://reservations.college.example.fr",
  DATABASE_URL: 'the PostgreSQL URL, e.g. postgres://reservations:password@127.0.0.1:5432/reservations',
  DATABASE_SCHEMA: 'the PostgreSQL schema of the tables (default public)',
  SESSION_SECRET: 'a random secret of at least 32 characters, the same for every process (e.g. `openssl rand -base64 48`)',
  OIDC_ISSUER: "the identity provider's issuer URL (https), as its /.well-known/openid-configuration says",
  OIDC_CLIENT_ID: 'the client id registered at the identity provider',
  OIDC_CLIENT_SECRET: 'the client secret registered at the identity provider',
  OIDC_SCOPES: 'the scopes asked for, space separated, including openid (default "openid profile email")',
  OIDC_TOKEN_AUTH: 'how the client authenticates at the token endpoint: client_secret_basic (default) or client_secret_post',
  OIDC_CLAIM_STRUCTURES: 'the claim listing the user\'s schools: an array of {id, name} or of ids (default "structures")',
  OIDC_CLAIM_PROFILE: 'the claim giving the profile: Teacher, Personnel, Student or Relative (default "profile")',
  OIDC_CLAIM_ADMIN_STRUCTURES: 'the claim listing the schools the user administers (default "admin_structures")',
  OIDC_CLAIM_LANGUAGE: 'the claim giving the language (default "locale")',
  OIDC_CLAIM_LOGIN: 'the claim giving the login (default "preferred_username", else the subject)',
  OIDC_CA_FILE: 'a PEM file of extra certificate authorities to trust for the identity provider (optional)',
  BOOTSTRAP_ADMINS: 'logins that are school admins of their schools, separated by commas or spaces (optional)',
  ENT_URL: "the ENT's URL, for the link back to it in the page header (optional)",
  SMTP_URL: 'the outgoing mail server, e.g. smtp://relay.example.fr:25 (optional: without it mail waits in the outbox)',
  TRUST_PROXY: "express 'trust proxy': true, false, a hop count, loopback, or a list of addresses (default false)",
  PORT: 'the port to listen on (default 8080)',
  HOST: 'the address to listen on (default 127.0.0.1)',
};

const blankToUndefined = (value: unknown) => (typeof value === 'string' && value.trim() === '' ? undefined : value);
const optionalString = z.preprocess(blankToUndefined, z.string().trim().optional());

function httpUrl(value: string): URL | null {
  try {
    const url = new URL(value);
    return url.protocol === 'http:' || url.protocol === 'https:' ? url : null;
  } catch {
    return null;
  }
}

function claimName(def: string) {
  return z.preprocess(blankToUndefined, z.string().trim().max(200).default(def));
}

const schema = z.object({
  PUBLIC_URL: z
    .string({ error: 'required' })
    .trim()
    .refine((v) => httpUrl(v) !== null, 'must be an http(s) URL')
    .refine((v) => {
      const url = httpUrl(v);
      return !url || ((url.pathname === '/' || url.pathname === '') && !url.search && !url.hash);
    }, 'must be an origin without a path (the module answers at /reservations and /auth of this origin)')
    .transform((v) => new URL(v).origin),
  DATABASE_URL: z
    .string({ error: 'required (the OpenID Connect host runs on PostgreSQL)' })
    .trim()
    .refine((v) => /^postgres(ql)?:\/\//.test(v), 'must be a postgres:// URL'),
  DATABASE_SCHEMA: z.preprocess(blankToUndefined, z.string().regex(/^[a-z_][a-z0-9_]{0,62}$/, 'must be a plain lower-case schema name').default('public')),
  SESSION_SECRET: z.string({ error: 'required' }).min(32, 'must be at least 32 characters'),
  OIDC_ISSUER: z
    .string({ error: 'required' })
    .trim()
    .refine((v) => httpUrl(v)?.protocol === 'https:', 'must be an https URL (openid-client refuses plain http)'),
  OIDC_CLIENT_ID: z.string({ error: 'required' }).trim().min(1, 'required'),
  OIDC_CLIENT_SECRET: z.string({ error: 'required' }).min(1, 'required'),
  OIDC_SCOPES: z.preprocess(
    blankToUndefined,
    z
      .string()
      .default('openid profile email')
      .transform((v) => v.split(/[\s,]+/).filter(Boolean))
      .refine((scopes) => scopes.includes('openid'), 'must include openid'),
  ),
  OIDC_TOKEN_AUTH: z.preprocess(blankToUndefined, z.enum(['client_secret_basic', 'client_secret_post']).default('client_secret_basic')),
  OIDC_CLAIM_STRUCTURES: claimName('structures'),
  OIDC_CLAIM_PROFILE: claimName('profile'),
  OIDC_CLAIM_ADMIN_STRUCTURES: claimName('admin_structures'),
  OIDC_CLAIM_LANGUAGE: claimName('locale'),
  OIDC_CLAIM_LOGIN: claimName('preferred_username'),
  OIDC_CA_FILE: optionalString.refine((v) => v === undefined || fs.existsSync(v), 'file not found'),
  BOOTSTRAP_ADMINS: z.preprocess(
    blankToUndefined,
    z
      .string()
      .default('')
      .transform((v) => v.split(/[\s,;]+/).filter(Boolean)),
  ),
  ENT_URL: optionalString.refine((v) => v === undefined || httpUrl(v) !== null, 'must be an http(s) URL'),
  SMTP_URL: optionalString.refine((v) => v === undefined || /^smtps?:\/\//.test(v), 'must be an smtp:// or smtps:// URL'),
  TRUST_PROXY: z.preprocess(blankToUndefined, z.string().trim().max(500).optional()),
  PORT: z.preprocess(blankToUndefined, z.coerce.number().int().min(1).max(65535).default(8080)),
  HOST: z.preprocess(blankToUndefined, z.string().default('127.0.0.1')),
});

export type OidcHostEnv = z.infer<typeof schema>;

export interface OidcHostConfig {
  publicUrl: string;
  databaseUrl: string;
  databaseSchema: string;
  sessionSecret: string;
  issuer: string;
  clientId: string;
  clientSecret: string;
  scopes: string[];
  tokenAuth: 'client_secret_basic' | 'client_secret_post';
  claims: { structures: string; profile: string; adminStructures: string; language: string; login: string };
  caFile?: string;
  bootstrapAdmins: string[];
  entUrl?: string;
  smtpUrl?: string;
  trustProxy: boolean | number | string;
  port: number;
  host: string;
}

export class OidcConfigError extends Error {
  constructor(readonly problems: Array<{ variable: string; message: string }>) {
    super(
      'The OpenID Connect host (HOST_ADAPTER=oidc) cannot start, its configuration is wrong:\n' +
        problems.map((p) => `  - ${p.variable}: ${p.message}${VARIABLES[p.variable] ? ` (${VARIABLES[p.variable]})` : ''}`).join('\n'),
    );
    this.name = 'OidcConfigError';
  }
}

/** express `trust proxy`: a boolean, a hop count, or names/addresses as express takes them. */
export function parseTrustProxy(value: string | undefined): boolean | number | string {
  if (value === undefined) return false;
  if (/^(true|yes|on)$/i.test(value)) return true;
  if (/^(false|no|off|0)$/i.test(value)) return false;
  if (/^[1-9][0-9]?$/.test(value)) return Number(value);
  return value;
}

export function oidcConfigFromEnv(env: NodeJS.ProcessEnv = process.env): OidcHostConfig {
  const parsed = schema.safeParse(env);
  if (!parsed.success) {
    throw new OidcConfigError(parsed.error.issues.map((issue) => ({ variable: String(issue.path[0] ?? '(environment)'), message: issue.message })));
  }
  const e = parsed.data;
  return {
    publicUrl: e.PUBLIC_URL,
    databaseUrl: e.DATABASE_URL,
    databaseSchema: e.DATABASE_SCHEMA,
    sessionSecret: e.SESSION_SECRET,
    issuer: e.OIDC_ISSUER,
    clientId: e.OIDC_CLIENT_ID,
    clientSecret: e.OIDC_CLIENT_SECRET,
    scopes: e.OIDC_SCOPES,
    tokenAuth: e.OIDC_TOKEN_AUTH,
    claims: {
      structures: e.OIDC_CLAIM_STRUCTURES,
      profile: e.OIDC_CLAIM_PROFILE,
      adminStructures: e.OIDC_CLAIM_ADMIN_STRUCTURES,
      language: e.OIDC_CLAIM_LANGUAGE,
      login: e.OIDC_CLAIM_LOGIN,
    },
    caFile: e.OIDC_CA_FILE,
    bootstrapAdmins: e.BOOTSTRAP_ADMINS,
    entUrl: e.ENT_URL,
    smtpUrl: e.SMTP_URL,
    trustProxy: parseTrustProxy(e.TRUST_PROXY),
    port: e.PORT,
    host: e.HOST,
  };
}
