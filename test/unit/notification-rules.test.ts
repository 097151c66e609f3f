import { bookingRecipients, incidentRecipients, IncidentPeople, isDeliverableAddress, Preferences } from '../../src/domain/notification-rules';

const P = (id: string, language: string | null = null) => ({ id, email: `${id}@school.test`, language });
const base = (over: Partial<IncidentPeople> = {}): IncidentPeople => ({
  actorId: 'referent',
  reporter: P('teacher'),
  followers: [],
  assignee: null,
  mailbox: { email: 'service.informatique@school.test', delegates: [P('referent'), P('referent2')] },
  extraMailbox: null,
  preferences: new Map(),
  ...over,
});
const addresses = (list: Array<{ address: string }>) => list.map((r) => r.address).sort();

describe('who is told of an incident', () => {
  it.each([
    ['created (by the teacher)', 'created', { actorId: 'teacher' }, ['service.informatique@school.test', 'teacher@school.test']],
    ['a status change', 'status_changed', {}, ['service.informatique@school.test', 'teacher@school.test']],
    ['a comment', 'comment', {}, ['service.informatique@school.test', 'teacher@school.test']],
    ['a comment by the teacher', 'comment', { actorId: 'teacher' }, ['service.informatique@school.test']],
    ['with followers and an assignee', 'status_changed', { followers: [P('colleague')], assignee: P('referent2') }, ['colleague@school.test', 'referent2@school.test', 'service.informatique@school.test', 'teacher@school.test']],
    ['without a shared address: each referent but the actor', 'status_changed', { mailbox: { email: null, delegates: [P('referent'), P('referent2')] } }, ['referent2@school.test', 'teacher@school.test']],
    ['a second address for the shared mailbox', 'status_changed', { extraMailbox: 'dane@academie.test' }, ['dane@academie.test', 'service.informatique@school.test', 'teacher@school.test']],
    ['assigned: only the one in charge', 'assigned', { assignee: P('referent2') }, ['referent2@school.test']],
    ['assigned to oneself: nobody', 'assigned', { assignee: P('referent') }, []],
    ['a follower joining: nobody', 'follower_added', {}, []],
  ] as const)('%s', (_label, kind, over, expected) => {
    expect(addresses(incidentRecipients(kind, base(over as Partial<IncidentPeople>)))).toEqual(expected);
  });

  it('comments can be turned off, status changes cannot', () => {
    const preferences = new Map<string, Preferences>([['teacher', { mailComments: false, mailOwnChanges: false }]]);
    expect(addresses(incidentRecipients('comment', base({ preferences })))).toEqual(['service.informatique@school.test']);
    expect(addresses(incidentRecipients('status_changed', base({ preferences })))).toContain('teacher@school.test');
  });

  it('one may ask for mails about one\'s own changes', () => {
    const preferences = new Map<string, Preferences>([['teacher', { mailComments: true, mailOwnChanges: true }]]);
    expect(addresses(incidentRecipients('comment', base({ actorId: 'teacher', preferences })))).toContain('teacher@school.test');
  });

  it('level 3 goes to the editor too, once per address, in each one\'s language', () => {
    const list = incidentRecipients('escalated', { ...base({ editorEmail: 'support@editeur.test', reporter: P('teacher', 'en') }) }, { level: 3 });
    expect(addresses(list)).toEqual(['service.informatique@school.test', 'support@editeur.test', 'teacher@school.test']);
    expect(list.find((r) => r.address === 'teacher@school.test')!.language).toBe('en');
    expect(addresses(incidentRecipients('escalated', base({ editorEmail: 'support@editeur.test' }), { level: 2 }))).not.toContain('support@editeur.test');
  });
});

describe('who is told of a booking', () => {
  const people = { actorId: 'teacher', owner: P('teacher'), validators: { email: 'service.informatique@school.test', delegates: [] } };
  it.each([
    ['requested', 'teacher', ['service.informatique@school.test', 'teacher@school.test']],
    ['booked', 'teacher', []],
    ['validated', 'referent', ['teacher@school.test']],
    ['refused', 'referent', ['teacher@school.test']],
    ['cancelled', 'teacher', []],
    ['cancelled', 'referent', ['teacher@school.test']],
    ['out_of_service', 'colleague', ['teacher@school.test']],
  ] as const)('%s by %s', (kind, actorId, expected) => {
    expect(addresses(bookingRecipients(kind, { ...people, actorId }))).toEqual(expected);
  });
});

describe('addresses', () => {
  it.each([
    ['a@b.fr', true],
    ['a@b.fr\r\nBcc: x@y.z', false],
    ['a@b.fr, x@y.z', false],
    ['"x" <a@b.fr>', false],
    ['nobody', false],
    ['', false],
  ])('%j deliverable: %s', (address, ok) => {
    expect(isDeliverableAddress(address)).toBe(ok);
  });
});
