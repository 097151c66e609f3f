/**
 * A local OpenID Connect provider with the demo people, to try the OpenID Connect host without an ENT:
 *
 *   npx tsx test/contract/run-provider.ts --rp http://127.0.0.1:8080 [--rp https://reservations.example] [--port 9443] [--ca-out /tmp/idp-ca.pem]
 *
 * It prints the issuer, the client id and secret; its self-signed certificate is written to --ca-out, to give the host
 * as OIDC_CA_FILE (or NODE_EXTRA_CA_CERTS). Sign in with any demo login (enseignant, direction, referent1, ...) and any
 * password: it is oidc-provider's development login form. Never for production.
 */
import fs from 'node:fs';
import { demoAccounts } from './fixtures';
import { startTestProvider } from './provider';

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const rps: string[] = [];
  let caOut = '/tmp/reservations-test-idp-ca.pem';
  let port = 0;
  for (let i = 0; i < args.length; i++) {
    if (args[i] === '--rp') rps.push(new URL(args[++i]!).origin);
    else if (args[i] === '--ca-out') caOut = args[++i]!;
    else if (args[i] === '--port') port = Number(args[++i]);
  }
  if (!rps.length) rps.push('http://127.0.0.1:8080');
  const accounts = demoAccounts().map((a) => ({ sub: String(a.claims.preferred_username), claims: a.claims }));
  const provider = await startTestProvider({ relyingPartyOrigins: rps, accounts, port });
  fs.writeFileSync(caOut, provider.certificate.cert);
  console.log(
    [
      `OIDC_ISSUER=${provider.issuer}`,
      `OIDC_CLIENT_ID=${provider.clientId}`,
      `OIDC_CLIENT_SECRET=${provider.clientSecret}`,
      `OIDC_CA_FILE=${caOut}`,
      `# relying parties: ${rps.join(', ')}; logins: ${accounts.map((a) => a.sub).join(', ')} (any password)`,
    ].join('\n'),
  );
  const stop = () => void provider.stop().then(() => process.exit(0));
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
