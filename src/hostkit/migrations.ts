import type { Knex } from 'knex';
import { Migration, runScript } from '../db';

/**
 * Tables of the hosts shipped with the module (reference host and OpenID Connect host). A real ENT has its own;
 * these stand for them. Prefixed `host_`, with their own migrations table.
 */
export const hostMigrations: Migration[] = [
  {
    name: '20261123_0001_host_directory',
    async up(knex: Knex) {
      await runScript(knex, `
        CREATE TABLE IF NOT EXISTS host_structures (
          id text PRIMARY KEY,
          name text NOT NULL,
          created_at timestamptz NOT NULL DEFAULT now()
        );
        CREATE TABLE IF NOT EXISTS host_users (
          id text PRIMARY KEY,
          login text NOT NULL,
          display_name text NOT NULL,
          profile text NOT NULL CHECK (profile IN ('Teacher', 'Personnel', 'Student', 'Relative')),
          email text,
          language text,
          -- A functional (shared) account belongs to one structure and cannot sign in; its delegates act for it.
          functional_structure_id text REFERENCES host_structures(id),
          created_at timestamptz NOT NULL DEFAULT now(),
          updated_at timestamptz NOT NULL DEFAULT now()
        );
        -- Personal logins are unique; a functional login (service.informatique) is unique per structure.
        CREATE UNIQUE INDEX IF NOT EXISTS host_users_login_uq ON host_users (login) WHERE functional_structure_id IS NULL;
        CREATE UNIQUE INDEX IF NOT EXISTS host_users_functional_uq ON host_users (functional_structure_id, login) WHERE functional_structure_id IS NOT NULL;
        CREATE TABLE IF NOT EXISTS host_user_structures (
          user_id text NOT NULL REFERENCES host_users(id) ON DELETE CASCADE,
          structure_id text NOT NULL REFERENCES host_structures(id) ON DELETE CASCADE,
          is_admin boolean NOT NULL DEFAULT false,
          PRIMARY KEY (user_id, structure_id)
        );
        CREATE INDEX IF NOT EXISTS host_user_structures_structure ON host_user_structures (structure_id);
        CREATE TABLE IF NOT EXISTS host_groups (
          id text PRIMARY KEY,
          structure_id text NOT NULL REFERENCES host_structures(id) ON DELETE CASCADE,
          name text NOT NULL
        );
        CREATE TABLE IF NOT EXISTS host_group_members (
          group_id text NOT NULL REFERENCES host_groups(id) ON DELETE CASCADE,
          user_id text NOT NULL REFERENCES host_users(id) ON DELETE CASCADE,
          PRIMARY KEY (group_id, user_id)
        );
        CREATE INDEX IF NOT EXISTS host_group_members_user ON host_group_members (user_id);
        CREATE TABLE IF NOT EXISTS host_functional_delegates (
          account_id text NOT NULL REFERENCES host_users(id) ON DELETE CASCADE,
          user_id text NOT NULL REFERENCES host_users(id) ON DELETE CASCADE,
          PRIMARY KEY (account_id, user_id)
        );
        CREATE INDEX IF NOT EXISTS host_functional_delegates_user ON host_functional_delegates (user_id);
        CREATE TABLE IF NOT EXISTS host_sessions (
          -- sha256 of the cookie value: a leaked table does not give usable cookies.
          id text PRIMARY KEY,
          user_id text NOT NULL REFERENCES host_users(id) ON DELETE CASCADE,
          data jsonb NOT NULL DEFAULT '{}'::jsonb,
          created_at timestamptz NOT NULL DEFAULT now(),
          expires_at timestamptz NOT NULL
        );
        CREATE INDEX IF NOT EXISTS host_sessions_expires ON host_sessions (expires_at);
        CREATE TABLE IF NOT EXISTS host_actions (
          name text PRIMARY KEY,
          label_key text NOT NULL,
          default_profiles jsonb NOT NULL,
          default_delegates jsonb NOT NULL DEFAULT '[]'::jsonb,
          cross_structure boolean NOT NULL DEFAULT false
        );
        CREATE TABLE IF NOT EXISTS host_grants (
          structure_id text NOT NULL REFERENCES host_structures(id) ON DELETE CASCADE,
          action text NOT NULL,
          subject_kind text NOT NULL CHECK (subject_kind IN ('profile', 'group', 'delegates')),
          subject_id text NOT NULL,
          PRIMARY KEY (structure_id, action, subject_kind, subject_id)
        );
        -- Default grants are applied once per structure and action; an admin's later removal is kept.
        CREATE TABLE IF NOT EXISTS host_grant_defaults (
          structure_id text NOT NULL REFERENCES host_structures(id) ON DELETE CASCADE,
          action text NOT NULL,
          PRIMARY KEY (structure_id, action)
        );
        CREATE TABLE IF NOT EXISTS host_mails (
          id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
          envelope_from text,
          envelope_to jsonb NOT NULL,
          subject text,
          text_body text,
          html_body text,
          headers jsonb NOT NULL DEFAULT '{}'::jsonb,
          raw text NOT NULL,
          received_at timestamptz NOT NULL DEFAULT now()
        );
      `);
    },
  },
  {
    name: '20261123_0002_host_timeline',
    async up(knex: Knex) {
      // In-app notifications: the reference host offers the hook API's optional timeline.
      await runScript(knex, `
        CREATE TABLE IF NOT EXISTS host_timeline (
          id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
          user_id text NOT NULL REFERENCES host_users(id) ON DELETE CASCADE,
          message_key text NOT NULL,
          params jsonb NOT NULL DEFAULT '{}'::jsonb,
          url text NOT NULL,
          read_at timestamptz,
          created_at timestamptz NOT NULL DEFAULT now()
        );
        CREATE INDEX IF NOT EXISTS host_timeline_user ON host_timeline (user_id, id DESC);
      `);
    },
  },
];
