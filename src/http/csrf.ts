import crypto from 'node:crypto';

/**
 * Synchronizer tokens without server state: the token is an HMAC of the host's session id, so it is the same on
 * every web process, changes at each sign-in and cannot be made without the module's secret.
 */
export function csrfTokenFor(secret: string, sessionId: string): string {
  return crypto.createHmac('sha256', secret).update(`csrf:${sessionId}`).digest('base64url');
}

export function csrfTokenValid(secret: string, sessionId: string | null, token: unknown): boolean {
  if (!sessionId || typeof token !== 'string' || token.length === 0 || token.length > 200) return false;
  const expected = Buffer.from(csrfTokenFor(secret, sessionId));
  const given = Buffer.from(token);
  return expected.length === given.length && crypto.timingSafeEqual(expected, given);
}
