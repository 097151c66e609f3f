import { pickLanguage, fromAcceptLanguage } from '../../src/i18n';

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
