import { pickLanguage, fromAcceptLanguage, formatDays, tFor } from '../../src/i18n';

describe('language choice', () => {
  it.each([
    [{ userLanguage: 'en', query: 'fr', acceptLanguage: 'fr' }, 'en'],
    [{ userLanguage: null, query: 'en', acceptLanguage: 'fr' }, 'en'],
    [{ userLanguage: 'de', query: undefined, acceptLanguage: 'de-DE,en;q=0.8,fr;q=0.9' }, 'fr'],
    [{ acceptLanguage: 'en-US,en;q=0.9' }, 'en'],
    [{ acceptLanguage: 'es' }, 'fr'],
    [{}, 'fr'],
  ])('%j -> %s', (input, expected) => {
    expect(pickLanguage(input)).toBe(expected);
  });

  it('ranks Accept-Language by quality', () => {
    expect(fromAcceptLanguage('fr;q=0.2, en;q=0.9')).toBe('en');
    expect(fromAcceptLanguage('garbage;;;')).toBeNull();
  });
});

describe('days in messages', () => {
  it('says calendar days in the reader\'s words, as one list', () => {
    expect(formatDays(['2027-11-23'], 'fr')).toBe('mardi 23 novembre 2027');
    expect(formatDays(['2027-11-23', '2027-11-30', '2027-12-07'], 'fr')).toBe('mardi 23 novembre 2027, mardi 30 novembre 2027 et mardi 7 décembre 2027');
    expect(formatDays(['2027-11-23', '2027-11-30'], 'en')).toBe('Tuesday 23 November 2027 and Tuesday 30 November 2027');
  });

  it('a booking conflict names its days that way in both languages', () => {
    expect(tFor('fr')('booking:conflictMany', { dates: ['2027-11-23', '2027-11-30'], count: 2 })).toBe(
      '2 séances de la série sont déjà réservées : mardi 23 novembre 2027 et mardi 30 novembre 2027. Rien n\'a été réservé.',
    );
    expect(tFor('en')('booking:conflict', { dates: ['2027-11-23'] })).toBe('This slot is already booked (Tuesday 23 November 2027).');
  });
});
