import fs from 'node:fs';
import path from 'node:path';
import {
  allowedMoves,
  canMove,
  INCIDENT_STATUSES,
  IncidentStatus,
  isOpen,
  isReopening,
  isResolved,
  MOVES,
  OPEN_STATUSES,
  RESOLVED_STATUSES,
  timestampsOfMove,
  EXPERTISE_DOMAINS,
} from '../../src/domain/workflow';

/** The table of DESIGN.md, written out once more by hand: the test's own expectation, pair by pair. */
const DESIGN: Record<IncidentStatus, IncidentStatus[]> = {
  new: ['taken', 'in_progress', 'dismissed', 'closed'],
  taken: ['in_progress', 'dismissed', 'closed'],
  in_progress: ['dismissed', 'closed'],
  dismissed: ['in_progress'],
  closed: ['in_progress'],
};

const PAIRS = INCIDENT_STATUSES.flatMap((from) => INCIDENT_STATUSES.map((to) => [from, to, DESIGN[from].includes(to)] as const));

describe('the incident workflow', () => {
  it('knows exactly the five statuses of DESIGN.md', () => {
    expect([...INCIDENT_STATUSES]).toEqual(['new', 'taken', 'in_progress', 'dismissed', 'closed']);
    expect(Object.keys(MOVES).sort()).toEqual([...INCIDENT_STATUSES].sort());
  });

  it.each(PAIRS)('%s -> %s is allowed: %s', (from, to, allowed) => {
    expect(canMove(from, to)).toBe(allowed);
    expect(allowedMoves(from).includes(to)).toBe(allowed);
  });

  it('never allows staying in the same status nor going back to new', () => {
    for (const s of INCIDENT_STATUSES) {
      expect(canMove(s, s)).toBe(false);
      expect(canMove(s, 'new')).toBe(false);
    }
  });

  it('splits statuses into open and resolved, with nothing in both', () => {
    expect([...OPEN_STATUSES, ...RESOLVED_STATUSES].sort()).toEqual([...INCIDENT_STATUSES].sort());
    for (const s of INCIDENT_STATUSES) expect(isOpen(s)).toBe(!isResolved(s));
  });

  it.each(PAIRS.filter(([, , allowed]) => allowed))('%s -> %s sets the right timestamps', (from, to) => {
    const effects = timestampsOfMove(from, to);
    expect(effects.setTakenAt).toBe(from === 'new');
    expect(effects.resolvedAt).toBe(isResolved(to) ? 'set' : isResolved(from) ? 'clear' : 'keep');
    expect(isReopening(from, to)).toBe(isResolved(from));
  });

  it('agrees with the CHECK constraints of the migration (frozen copies of the lists)', () => {
    const sql = fs.readFileSync(path.join(__dirname, '../../migrations/20261123_0003_incidents.ts'), 'utf8');
    const quoted = (list: readonly string[]) => list.map((s) => `'${s}'`).join(', ');
    expect(sql).toContain(`status IN (${quoted(INCIDENT_STATUSES)})`);
    expect(sql).toContain(`domain IN (${quoted(EXPERTISE_DOMAINS)})`);
    expect(sql).toContain(`WHERE status IN (${quoted(OPEN_STATUSES)})`);
  });
});
