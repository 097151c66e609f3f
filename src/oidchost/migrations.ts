import type { Knex } from 'knex';
import { Migration, runScript } from '../db';

export const OIDC_MIGRATIONS_TABLE = 'knex_migrations_oidchost';

/**
 * The OpenID Connect host's own tables, beside the shared `host_` directory tables (src/hostkit/migrations.ts).
 * Everything a sign-in needs lives in PostgreSQL, so that any process can answer any step of it.
 */
export const oidcHostMigrations: Migration[] = [
  {
    name: '20261124_0001_oidchost',
    async up(knex: Knex) {
      await runScript(knex, `
        -- A sign-in under way: created by GET /auth/login, consumed once by GET /auth/callback. Keyed by the sha256 of
        -- the state sent to the provider; bound to the browser that started it by the sha256 of a cookie. The nonce and
        -- the PKCE verifier never leave the server.
        CREATE TABLE IF NOT EXISTS host_oidc_logins (
          state_hash text PRIMARY KEY,
          browser_hash text NOT NULL,
          nonce text NOT NULL,
          code_verifier text NOT NULL,
          return_to text NOT NULL,
          created_at timestamptz NOT NULL DEFAULT now(),
          expires_at timestamptz NOT NULL
        );
        CREATE INDEX IF NOT EXISTS host_oidc_logins_expires ON host_oidc_logins (expires_at);
        -- Structures in which the module's install step has completed; a structure without a row gets it at the next
        -- sign-in of one of its users (the step is idempotent, so several sign-ins at once are safe).
        CREATE TABLE IF NOT EXISTS host_structure_installs (
          structure_id text PRIMARY KEY REFERENCES host_structures(id) ON DELETE CASCADE,
          installed_at timestamptz NOT NULL DEFAULT now()
        );
        -- The language a user chose with the frame's switch; it wins over the provider's claim at the next sign-ins.
        CREATE TABLE IF NOT EXISTS host_user_preferences (
          user_id text PRIMARY KEY REFERENCES host_users(id) ON DELETE CASCADE,
          language text,
          updated_at timestamptz NOT NULL DEFAULT now()
        );
      `);
    },
  },
];
