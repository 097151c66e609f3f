/**
 * openid-client 6 is published as ECMAScript modules only, and this package compiles to CommonJS: it is loaded with a
 * real dynamic `import()` (kept as is by tsc with `module: node16`, and by the jest transform set for this file in
 * jest.config.js), once per process.
 */
export type OpenidClient = typeof import('openid-client', { with: { 'resolution-mode': 'import' } });

let loading: Promise<OpenidClient> | undefined;

export function loadOpenidClient(): Promise<OpenidClient> {
  loading ??= import('openid-client');
  return loading;
}
