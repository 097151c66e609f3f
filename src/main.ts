/**
 * The process entry (`npm run start:prod`, `node dist/src/main.js`): picks the host from HOST_ADAPTER.
 *   reference (default) — the reference host with demo data (what `npm start` runs);
 *   oidc                — the production host beside an ENT, signed in through OpenID Connect (src/oidchost).
 */
const adapter = (process.env.HOST_ADAPTER || 'reference').trim().toLowerCase();

if (adapter === 'oidc') {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { runOidcHost } = require('./oidchost/main') as typeof import('./oidchost/main');
  runOidcHost().catch((error: unknown) => {
    console.error(error);
    process.exit(1);
  });
} else if (adapter === 'reference') {
  // The reference host's entry starts itself when loaded.
  require('./devhost/main');
} else {
  console.error(`HOST_ADAPTER must be "reference" (default) or "oidc", not "${process.env.HOST_ADAPTER}"`);
  process.exit(78);
}
