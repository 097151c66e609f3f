import net from 'node:net';
import { DEMO_STRUCTURES, DEMO_USERS, demoEmail } from '../../src/devhost/demo';

/**
 * The people of the contract suite: the reference host's demo accounts, and the same people as accounts of the test
 * OpenID Connect provider (same logins, names, profiles and schools), so that one suite asks the same of both hosts.
 */
export function subOf(login: string): string {
  return `oidc-${login}`;
}

export function claimsOf(login: string): Record<string, unknown> {
  const user = DEMO_USERS.find((u) => u.login === login);
  if (!user) throw new Error(`no demo user ${login}`);
  return {
    preferred_username: user.login,
    name: user.displayName,
    email: demoEmail(user.login, user.structures[0]!),
    email_verified: true,
    profile: user.profile,
    structures: user.structures.map((id) => ({ id, name: DEMO_STRUCTURES.find((s) => s.id === id)!.name })),
    admin_structures: user.admin ? user.structures : [],
    ...(user.language ? { locale: user.language } : {}),
  };
}

export function demoAccounts(): Array<{ sub: string; claims: Record<string, unknown> }> {
  return DEMO_USERS.map((u) => ({ sub: subOf(u.login), claims: claimsOf(u.login) }));
}

/** A free TCP port on 127.0.0.1 (bound then released; never 3000). */
export async function freePort(): Promise<number> {
  for (;;) {
    const port = await new Promise<number>((resolve, reject) => {
      const server = net.createServer();
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => {
        const p = (server.address() as net.AddressInfo).port;
        server.close(() => resolve(p));
      });
    });
    if (port !== 3000) return port;
  }
}
