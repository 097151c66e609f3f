/**
 * oidc-provider is published as ECMAScript modules only: loaded with a real dynamic import(), which jest.config.js
 * keeps for this file. It ships no TypeScript types; the few parts the tests use are typed in provider.ts.
 */
const OIDC_PROVIDER = 'oidc-provider';

export async function loadOidcProvider(): Promise<{ default: new (issuer: string, configuration: Record<string, unknown>) => unknown }> {
  return import(OIDC_PROVIDER);
}
