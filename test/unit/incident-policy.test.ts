import {
  decideConfirmation,
  decideEscalation,
  decideMove,
  IncidentFacts,
  levelsOffered,
  mayComment,
  mayFollow,
  movesOffered,
  reopenDeadline,
} from '../../src/domain/incident-policy';
import { allowedMoves, INCIDENT_STATUSES, IncidentStatus } from '../../src/domain/workflow';

const DAY = 24 * 3600 * 1000;
const now = new Date('2026-11-23T10:00:00Z');
const referent = { id: 'u-referent1', actions: ['incident.declare', 'incident.manage'] };
const teacher = { id: 'u-enseignant', actions: ['incident.declare'] };
const colleague = { id: 'u-other', actions: ['incident.declare'] };

function incident(status: IncidentStatus, extra: Partial<IncidentFacts> = {}): IncidentFacts {
  return { status, reporterId: teacher.id, resolvedAt: status === 'closed' || status === 'dismissed' ? new Date(now.getTime() - 2 * DAY) : null, level: 0, domain: null, ...extra };
}
const opts = { now, reopenDays: 30 };

describe('who may move an incident', () => {
  const pairs = INCIDENT_STATUSES.flatMap((from) => INCIDENT_STATUSES.map((to) => [from, to] as const));

  it.each(pairs)('a referent: %s -> %s follows the workflow table', (from, to) => {
    const decision = decideMove(referent, incident(from), to, opts);
    if (allowedMoves(from).includes(to)) expect(decision).toEqual({ ok: true });
    else expect(decision).toEqual({ ok: false, reason: 'refused', status: from, allowed: allowedMoves(from) });
  });

  it.each(pairs)('the reporter without incident.manage: %s -> %s only reopens a closed incident', (from, to) => {
    const decision = decideMove(teacher, incident(from), to, opts);
    expect(decision.ok).toBe(from === 'closed' && to === 'in_progress');
    if (!decision.ok) expect(decision.reason).toBe('forbidden');
  });

  it.each(pairs)('another teacher: %s -> %s is forbidden', (from, to) => {
    expect(decideMove(colleague, incident(from), to, opts)).toEqual({ ok: false, reason: 'forbidden' });
  });

  it.each([
    [29, true],
    [30, true],
    [31, false],
  ])('the reporter reopens %i days after closing: %s (window of 30 days)', (days, ok) => {
    const closed = incident('closed', { resolvedAt: new Date(now.getTime() - days * DAY) });
    const decision = decideMove(teacher, closed, 'in_progress', opts);
    expect(decision.ok).toBe(ok);
    if (!ok) expect(decision).toEqual({ ok: false, reason: 'reopen_window_passed', reopenDays: 30 });
    // The window is the school's setting.
    expect(decideMove(teacher, closed, 'in_progress', { now, reopenDays: 365 }).ok).toBe(true);
    // A referent reopens whenever needed.
    expect(decideMove(referent, closed, 'in_progress', opts).ok).toBe(true);
  });

  it('a dismissed incident is not the reporter\'s to reopen', () => {
    expect(decideMove(teacher, incident('dismissed'), 'in_progress', opts)).toEqual({ ok: false, reason: 'forbidden' });
  });

  it('offers each actor only the moves it may make', () => {
    expect(movesOffered(referent, incident('new'), opts)).toEqual(['taken', 'in_progress', 'dismissed', 'closed']);
    expect(movesOffered(teacher, incident('new'), opts)).toEqual([]);
    expect(movesOffered(teacher, incident('closed'), opts)).toEqual(['in_progress']);
    expect(movesOffered(colleague, incident('closed'), opts)).toEqual([]);
    expect(reopenDeadline(incident('closed', { resolvedAt: now }), 30)).toEqual(new Date(now.getTime() + 30 * DAY));
    expect(reopenDeadline(incident('taken'), 30)).toBeNull();
  });
});

describe('comments, followers and escalation', () => {
  it.each([
    ['a referent', referent, false, true],
    ['the reporter', teacher, false, true],
    ['a follower', colleague, true, true],
    ['another teacher', colleague, false, false],
  ] as const)('%s may comment: %s', (_who, actor, follower, ok) => {
    expect(mayComment(actor, incident('taken'), follower)).toBe(ok);
  });

  it.each(INCIDENT_STATUSES.map((s) => [s, s === 'new' || s === 'taken' || s === 'in_progress'] as const))('"me too" on a %s incident: %s', (status, ok) => {
    expect(mayFollow(incident(status))).toBe(ok);
  });

  it.each([
    // current level, current domain, target level, given domain, expected
    [0, null, 1, 'technical', { ok: true, level: 1, domain: 'technical' }],
    [0, null, 3, 'functional', { ok: true, level: 3, domain: 'functional' }],
    [0, null, 1, undefined, { ok: false, reason: 'domain_required' }],
    [1, 'technical', 2, undefined, { ok: true, level: 2, domain: 'technical' }],
    [1, 'technical', 2, 'pedagogical', { ok: true, level: 2, domain: 'pedagogical' }],
    [2, 'technical', 2, 'technical', { ok: false, reason: 'not_higher', currentLevel: 2 }],
    [3, 'technical', 1, 'technical', { ok: false, reason: 'not_higher', currentLevel: 3 }],
    [0, null, 4, 'technical', { ok: false, reason: 'not_higher', currentLevel: 0 }],
  ] as const)('from level %i (%s) to %i with domain %s', (level, domain, target, given, expected) => {
    expect(decideEscalation(incident('taken', { level, domain }), target, given)).toEqual(expected);
  });

  it('a resolved incident is not escalated', () => {
    expect(decideEscalation(incident('closed'), 1, 'technical')).toEqual({ ok: false, reason: 'resolved' });
    expect(levelsOffered(incident('closed'))).toEqual([]);
    expect(levelsOffered(incident('new', { level: 1, domain: 'technical' }))).toEqual([2, 3]);
  });
});

describe("the reporter's confirmation of a closed incident", () => {
  it.each(INCIDENT_STATUSES.flatMap((status) => [true, false].map((fixed) => [status, fixed] as const)))('the reporter, %s, fixed=%s', (status, fixed) => {
    const decision = decideConfirmation(teacher, incident(status), fixed, opts);
    if (status === 'closed') expect(decision).toEqual({ ok: true, reopens: !fixed });
    else expect(decision).toEqual({ ok: false, reason: 'not_closed', status });
  });

  it.each([
    ['another teacher', colleague],
    ['a referent', referent],
  ])('%s may not answer for the reporter', (_who, actor) => {
    expect(decideConfirmation(actor, incident('closed'), true, opts)).toEqual({ ok: false, reason: 'not_reporter' });
    expect(decideConfirmation(actor, incident('new'), false, opts)).toEqual({ ok: false, reason: 'not_reporter' });
  });

  it.each([
    [30, true, { ok: true, reopens: false }],
    [31, true, { ok: true, reopens: false }],
    [30, false, { ok: true, reopens: true }],
    [31, false, { ok: false, reason: 'reopen_window_passed', reopenDays: 30 }],
  ])('%i days after closing, fixed=%s', (days, fixed, expected) => {
    const closed = incident('closed', { resolvedAt: new Date(now.getTime() - days * DAY) });
    expect(decideConfirmation(teacher, closed, fixed, opts)).toEqual(expected);
  });
});
