import { CsvError, matchPeople, readReferentsCsv } from '../../src/domain/referents-csv';

const users = [
  { id: 'u1', login: 'k.benali', email: 'karim.benali@ac.example' },
  { id: 'u2', login: 's.leroy', email: null },
];

describe('reading referents from a CSV file', () => {
  it.each([
    ['one login per line', 'k.benali\ns.leroy\n', [['k.benali'], ['s.leroy']]],
    ['semicolons with a header (a French spreadsheet)', 'Identifiant;Nom\nk.benali;Karim Benali\r\n', [['k.benali', 'Karim Benali']]],
    ['commas, empty cells and blank lines', 'login,email\n,karim.benali@ac.example\n\ns.leroy,\n', [['karim.benali@ac.example'], ['s.leroy']]],
    ['tabs and a UTF-8 BOM', '\uFEFFk.benali\tKarim\n', [['k.benali', 'Karim']]],
    ['quoted cells', '"Benali; Karim";"k.benali"\n', [['Benali; Karim', 'k.benali']]],
  ])('%s', (_label, text, cells) => {
    expect(readReferentsCsv(text).map((p) => p.cells)).toEqual(cells);
  });

  it('numbers the lines as the file does', () => {
    expect(readReferentsCsv('login\nk.benali\ns.leroy').map((p) => p.line)).toEqual([2, 3]);
  });

  it('refuses an empty list and a too long one', () => {
    expect(() => readReferentsCsv('login;nom\n')).toThrow(CsvError);
    expect(() => readReferentsCsv(Array.from({ length: 2100 }, (_, i) => `user${i}`).join('\n'))).toThrow(expect.objectContaining({ kind: 'tooLong' }));
  });

  it('matches by login or e-mail, without case, once per person, and returns the lines that match nobody', () => {
    const people = readReferentsCsv('K.BENALI\nkarim.benali@ac.example\nnobody;Personne\ns.leroy');
    const { matched, unknown } = matchPeople(people, users);
    expect(matched.map((u) => u.id)).toEqual(['u1', 'u2']);
    expect(unknown).toEqual([{ line: 3, cells: ['nobody', 'Personne'] }]);
  });
});
