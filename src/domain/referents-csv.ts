import { parse } from 'csv-parse/sync';

/**
 * Reading a list of referents from a CSV file, as a school exports it from a spreadsheet or from the ENT's
 * directory: one person per line, identified by a login or an e-mail in any column; `;`, `,` or tab separated; an
 * optional header line. Pure: the matching against the school's users is done by the caller.
 */
export interface CsvPerson {
  /** 1-based line number, for the error message. */
  line: number;
  /** The non-empty cells of the line, any of which may be the login or the e-mail. */
  cells: string[];
}

export const MAX_CSV_LINES = 2000;

const HEADER_WORDS = new Set(['login', 'identifiant', 'id', 'email', 'e-mail', 'mail', 'courriel', 'nom', 'name', 'prenom', 'prénom', 'profil', 'profile']);

export class CsvError extends Error {
  constructor(readonly kind: 'unreadable' | 'tooLong' | 'empty') {
    super(kind);
  }
}

function delimiterOf(text: string): string {
  const firstLine = text.split(/\r?\n/, 1)[0] ?? '';
  const counts = [';', ',', '\t'].map((d) => [d, firstLine.split(d).length - 1] as const);
  counts.sort((a, b) => b[1] - a[1]);
  return counts[0]![1] > 0 ? counts[0]![0] : ';';
}

export function readReferentsCsv(input: string | Buffer): CsvPerson[] {
  let text = typeof input === 'string' ? input : input.toString('utf8');
  text = text.replace(/^\uFEFF/, '');
  let rows: string[][];
  try {
    rows = parse(text, { delimiter: delimiterOf(text), relax_column_count: true, relax_quotes: true, skip_empty_lines: true, trim: true, bom: true });
  } catch {
    throw new CsvError('unreadable');
  }
  if (rows.length > MAX_CSV_LINES + 1) throw new CsvError('tooLong');
  const people: CsvPerson[] = [];
  rows.forEach((row, index) => {
    const cells = row.map((c) => c.trim()).filter(Boolean);
    if (!cells.length) return;
    const isHeader = index === 0 && cells.some((c) => HEADER_WORDS.has(c.toLowerCase()));
    if (!isHeader) people.push({ line: index + 1, cells });
  });
  if (!people.length) throw new CsvError('empty');
  return people;
}

/** Matches each line with a user by login or e-mail (case-insensitive); lines matching nobody are returned apart. */
export function matchPeople<U extends { id: string; login: string; email: string | null }>(people: CsvPerson[], users: U[]): { matched: U[]; unknown: CsvPerson[] } {
  const byKey = new Map<string, U>();
  for (const u of users) {
    byKey.set(u.login.toLowerCase(), u);
    if (u.email) byKey.set(u.email.toLowerCase(), u);
  }
  const matched = new Map<string, U>();
  const unknown: CsvPerson[] = [];
  for (const person of people) {
    const user = person.cells.map((c) => byKey.get(c.toLowerCase())).find(Boolean);
    if (user) matched.set(user.id, user);
    else unknown.push(person);
  }
  return { matched: [...matched.values()], unknown };
}
