/**
 * The host hook API: everything the module asks of a host ENT, and nothing more.
 *
 * A host (the reference host in src/devhost, the OpenID Connect host in src/oidchost, or a real ENT written in Node)
 * implements `Host` once and calls `install(host, options)` from src/index.ts. The module never reaches the host's
 * users, sessions, structures or page frame any other way.
 *
 * Version: HOOK_API_VERSION below. module.json names the version it needs (`hookApi`); a host refuses a module whose
 * major version differs.
 */
import type { Request, Response, Router } from 'express';
import type { Knex } from 'knex';

export const HOOK_API_VERSION = '1.0';

/** Host profiles, as Open ENT NG names them. A school admin is a Personnel (or Teacher) who is local admin of a structure. */
export const PROFILES = ['Teacher', 'Personnel', 'Student', 'Relative'] as const;
export type Profile = (typeof PROFILES)[number];

/** A pseudo-profile for grants: the host's local admins of the structure (director, AdminLocal). */
export const ADMIN_LOCAL = 'AdminLocal';

export interface HostUser {
  /** The host's id, stable and opaque to the module. */
  id: string;
  login: string;
  displayName: string;
  profile: Profile;
  /** Ids of the structures (schools) the user belongs to. */
  structures: string[];
  /** Structures where the user is the host's local admin. */
  adminStructures: string[];
  /** Ids of the host groups the user belongs to. */
  groups: string[];
  email: string | null;
  /** `fr` or `en` (or any BCP 47 tag; the module falls back to French). */
  language: string | null;
  /** True for a functional (shared) account such as service.informatique. */
  functional?: boolean;
}

export interface HostStructure {
  id: string;
  name: string;
}

export interface HostGroup {
  id: string;
  structureId: string;
  name: string;
}

/** What the module asks of a host for its shared account (one per structure). */
export interface FunctionalAccountSpec {
  structureId: string;
  /** e.g. `service.informatique` */
  login: string;
  displayName: string;
  /** The shared mailbox, if the host knows one. */
  email?: string | null;
  /** Delegates to set when the account is created; an existing account keeps its delegates. */
  initialDelegateIds?: string[];
}

export interface FunctionalAccount {
  id: string;
  structureId: string;
  login: string;
  displayName: string;
  email: string | null;
  delegates: Array<Pick<HostUser, 'id' | 'login' | 'displayName' | 'email' | 'language'>>;
}

/** A secured action of the module, with the profiles (and the local-admin pseudo-profile) it is granted to by default. */
export interface SecuredAction {
  name: string;
  /** i18n key of its label in the module's `admin` namespace. */
  labelKey: string;
  defaultProfiles: string[];
  /** Granted to the delegates of this functional account login by default (e.g. the referents). */
  defaultFunctionalDelegates?: string[];
  /** True when the action spans structures (e.g. statistics across schools). */
  crossStructure?: boolean;
}

/** A grantee: a profile (`Teacher`, ..., `AdminLocal`) or a host group, or the delegates of a functional account. */
export type GrantSubject =
  | { kind: 'profile'; id: string }
  | { kind: 'group'; id: string }
  | { kind: 'delegates'; id: string };

export interface Grant {
  structureId: string;
  action: string;
  subject: GrantSubject;
}

export interface MenuEntry {
  id: string;
  /** i18n key, resolved with the module's `common` namespace. */
  labelKey: string;
  /** A short icon name the host's theme knows (the reference host maps it to an inline SVG). */
  icon: string;
  /** Path under the host, e.g. `/reservations`. */
  href: string;
  /** The entry is shown to a user who has this action in at least one structure... */
  right: string;
  /** ...and for whom the module says so (a school may have the module switched off). */
  isVisible?: (user: HostUser) => Promise<boolean>;
}

export interface PageOptions {
  /** Already translated page title. */
  title: string;
  /** The module's HTML for the main region; already escaped by the module's templates. */
  body: string;
  /** The structure the page is about, for the frame (school name, colours). */
  structureId?: string;
  /** Extra stylesheet URLs (same origin) the page needs. */
  stylesheets?: string[];
  /** Extra script URLs (same origin; never inline: the CSP forbids it). */
  scripts?: string[];
  status?: number;
}

export interface TimelineNotification {
  recipients: string[];
  /** i18n key and params, in the module's `mail` namespace. */
  messageKey: string;
  params: Record<string, unknown>;
  url: string;
}

export interface StoredFile {
  key: string;
  size: number;
}

export interface Host {
  /** The hook API version the host implements, e.g. `1.0`. */
  apiVersion: string;
  /** The host's name, for logs. */
  name: string;

  /** The module's database: the host's PostgreSQL (or a schema in it). The module keeps its own tables (`rsv_`). */
  database: { knex: Knex; kind: 'postgres' | 'pglite' };

  http: {
    /** Mount the module's router under its prefix. */
    mount(prefix: string, router: Router): void;
    /** The absolute URL of the host, e.g. `https://ent.example.fr` (for links in mails and QR codes). */
    publicUrl(): string;
  };

  auth: {
    /** The signed-in user of this request, or null. */
    currentUser(req: Request): Promise<HostUser | null>;
    /**
     * A stable, secret-free identifier of the user's session (used to bind CSRF tokens). Null when signed out.
     * It must change at each sign-in.
     */
    sessionId(req: Request): string | null;
    /** Where to send a signed-out browser. */
    loginUrl(returnTo: string): string;
  };

  directory: {
    getUsers(ids: string[]): Promise<HostUser[]>;
    getStructures(ids: string[]): Promise<HostStructure[]>;
    /** Every structure the host knows (to install the module in each). */
    listStructures(): Promise<HostStructure[]>;
    /** Users of a structure, optionally of some profiles (for assignment lists and the referents' choice). */
    usersOfStructure(structureId: string, filter?: { profiles?: Profile[]; query?: string; limit?: number }): Promise<HostUser[]>;
    groupsOfStructure(structureId: string): Promise<HostGroup[]>;
  };

  accounts: {
    /** Create or find the shared account of a structure. Idempotent, safe under concurrency. */
    ensureFunctionalAccount(spec: FunctionalAccountSpec): Promise<FunctionalAccount>;
    getFunctionalAccount(structureId: string, login: string): Promise<FunctionalAccount | null>;
    /** Replace the delegates (the users who act for the account). Every id must be a user of the structure. */
    setDelegates(structureId: string, login: string, userIds: string[]): Promise<FunctionalAccount>;
  };

  menu: {
    register(entry: MenuEntry): void;
  };

  rights: {
    /** The module's secured actions with their defaults; the host keeps the grants. */
    declare(actions: SecuredAction[]): Promise<void>;
    /** Give a structure the default grants of the declared actions, once (idempotent; an admin's changes stay). */
    ensureDefaultGrants(structureId: string): Promise<void>;
    can(user: HostUser, action: string, structureId: string): Promise<boolean>;
    /** Every declared action the user holds, per structure of the user (one query for the session endpoint). */
    actionsOf(user: HostUser): Promise<Record<string, string[]>>;
    grants(structureId: string): Promise<Grant[]>;
    /** Replace a structure's grants of the declared actions (the admin's matrix). */
    setGrants(structureId: string, grants: Array<Omit<Grant, 'structureId'>>): Promise<void>;
  };

  layout: {
    render(req: Request, res: Response, page: PageOptions): Promise<void>;
  };

  /** Optional: in-app notifications. */
  timeline?: {
    notify(notification: TimelineNotification): Promise<void>;
  };

  /** Optional: file storage (photos of incidents). Without it the module uses a folder. */
  storage?: {
    put(key: string, data: Buffer, contentType: string): Promise<StoredFile>;
    get(key: string): Promise<Buffer | null>;
    /** Deleting a key that holds nothing is not an error (a failed upload deletes what it may have written). */
    delete(key: string): Promise<void>;
  };
}
