/**
 * Who is told of what. Pure: the worker gathers the people (from the incident, the booking and the host directory)
 * and these rules pick the recipients. Table-driven tests in test/unit/notification-rules.test.ts.
 */

export interface Person {
  id: string;
  email: string | null;
  language: string | null;
}

export interface Preferences {
  /** Mails for comments (a user may turn them off; status changes of their own incidents always come). */
  mailComments: boolean;
  /** Mails about one's own changes (off by default). */
  mailOwnChanges: boolean;
}

export const DEFAULT_PREFERENCES: Preferences = { mailComments: true, mailOwnChanges: false };

export interface Recipient {
  /** Host user id, or null for a bare address (the shared mailbox, the school's second address, the editor). */
  userId: string | null;
  address: string;
  language: string;
  /** Why: shown in the admin's outbox and used to pick the template's wording. */
  role: 'reporter' | 'follower' | 'assignee' | 'mailbox' | 'referent' | 'owner' | 'validator' | 'editor';
}

export interface IncidentPeople {
  actorId: string;
  reporter: Person | null;
  followers: Person[];
  assignee: Person | null;
  /** The service.informatique account: its own mailbox, else its delegates. */
  mailbox: { email: string | null; delegates: Person[] };
  /** A school may add a second address for the shared mailbox. */
  extraMailbox: string | null;
  /** Level-3 escalation: the ENT editor's address. */
  editorEmail?: string | null;
  preferences: Map<string, Preferences>;
}

export type IncidentNotificationKind = 'created' | 'status_changed' | 'comment' | 'assigned' | 'escalated' | 'follower_added' | 'confirmed' | 'reopened';

const EMAIL = /^[^\s@<>(),;:"\[\]\\]+@[^\s@<>(),;:"\[\]\\]+\.[^\s@<>(),;:"\[\]\\]+$/;

/** Only plain addresses: nothing a user typed can become a second recipient or a header. */
export function isDeliverableAddress(address: string | null | undefined): address is string {
  return typeof address === 'string' && address.length <= 254 && EMAIL.test(address);
}

class RecipientList {
  private readonly byAddress = new Map<string, Recipient>();
  add(person: Person | null, role: Recipient['role']): void {
    if (!person || !isDeliverableAddress(person.email)) return;
    const key = person.email.toLowerCase();
    if (!this.byAddress.has(key)) this.byAddress.set(key, { userId: person.id, address: person.email, language: person.language ?? 'fr', role });
  }
  addAddress(address: string | null | undefined, role: Recipient['role'], language = 'fr'): void {
    if (!isDeliverableAddress(address)) return;
    const key = address.toLowerCase();
    if (!this.byAddress.has(key)) this.byAddress.set(key, { userId: null, address, language, role });
  }
  list(): Recipient[] {
    return [...this.byAddress.values()];
  }
}

function prefs(people: { preferences: Map<string, Preferences> }, id: string): Preferences {
  return people.preferences.get(id) ?? DEFAULT_PREFERENCES;
}

export function incidentRecipients(kind: IncidentNotificationKind, p: IncidentPeople, opts: { level?: number } = {}): Recipient[] {
  const list = new RecipientList();
  if (kind === 'follower_added') return [];
  const notActor = (person: Person | null) => (person && (person.id !== p.actorId || prefs(p, person.id).mailOwnChanges) ? person : null);
  const wantsComments = (person: Person | null) => (person && (kind !== 'comment' || prefs(p, person.id).mailComments) ? person : null);

  if (kind === 'assigned') {
    // Only the one now in charge is told (taking an incident in charge also assigns it: no second mail to the others).
    list.add(notActor(p.assignee), 'assignee');
    return list.list();
  }
  if (kind === 'created') {
    // The declaration is confirmed to its reporter, who made it: a confirmation, not news of someone else's change.
    list.add(p.reporter, 'reporter');
  } else {
    list.add(wantsComments(notActor(p.reporter)), 'reporter');
    for (const f of p.followers) list.add(wantsComments(notActor(f)), 'follower');
    list.add(wantsComments(notActor(p.assignee)), 'assignee');
  }
  // The referents' shared mailbox hears of everything but their own act when there is no shared address.
  if (isDeliverableAddress(p.mailbox.email)) list.addAddress(p.mailbox.email, 'mailbox');
  else for (const d of p.mailbox.delegates) list.add(wantsComments(notActor(d)), 'referent');
  list.addAddress(p.extraMailbox, 'mailbox');
  if (kind === 'escalated' && opts.level === 3) list.addAddress(p.editorEmail, 'editor');
  return list.list();
}

export interface BookingPeople {
  actorId: string;
  owner: Person | null;
  /** The validators: the responsible account's mailbox, else its delegates. */
  validators: { email: string | null; delegates: Person[] };
}

export type BookingNotificationKind = 'requested' | 'booked' | 'validated' | 'refused' | 'cancelled' | 'out_of_service' | 'back_in_service' | 'unavailable';

export function bookingRecipients(kind: BookingNotificationKind, p: BookingPeople): Recipient[] {
  const list = new RecipientList();
  switch (kind) {
    case 'requested':
      list.add(p.owner, 'owner');
      if (isDeliverableAddress(p.validators.email)) list.addAddress(p.validators.email, 'validator');
      else for (const d of p.validators.delegates) if (d.id !== p.actorId) list.add(d, 'validator');
      break;
    case 'validated':
    case 'refused':
    case 'out_of_service':
    case 'back_in_service':
    case 'unavailable':
      if (p.owner && p.owner.id !== p.actorId) list.add(p.owner, 'owner');
      break;
    case 'cancelled':
      // Only when someone else cancelled it: the owner knows what they did.
      if (p.owner && p.owner.id !== p.actorId) list.add(p.owner, 'owner');
      break;
    case 'booked':
      break;
  }
  return list.list();
}
