import type { Logger } from 'pino';
import type { Configuration } from 'openid-client' with { 'resolution-mode': 'import' };
import type { OidcHostConfig } from './config';
import { loadOpenidClient } from './esm';
import type { FetchLike } from './fetch';

/**
 * The relying party: the authorization code flow with PKCE, state and nonce, through openid-client (a certified
 * OpenID Connect client). Tokens stay in this process: the access token is used once for userinfo and dropped; the
 * browser only ever sees the code and the state.
 */

/** Why a sign-in failed, as the refused page explains it (keys of `oidchost:refused`). */
export type RefusalReason = 'expired' | 'providerError' | 'codeRejected' | 'responseInvalid' | 'providerUnavailable' | 'unknownProfile' | 'badStructures' | 'noSubject' | 'loginTaken';

export class SignInRefused extends Error {
  constructor(
    readonly reason: RefusalReason,
    readonly detail: string,
    options?: { cause?: unknown },
  ) {
    super(`${reason}: ${detail}`, options);
    this.name = 'SignInRefused';
  }

  get status(): number {
    return this.reason === 'providerUnavailable' ? 503 : 400;
  }
}

export interface AuthorizationRequest {
  state: string;
  nonce: string;
  codeVerifier: string;
  url: URL;
}

export class RelyingParty {
  private configuration: Promise<Configuration> | null = null;

  constructor(
    private readonly config: OidcHostConfig,
    private readonly logger: Logger,
    private readonly fetch?: FetchLike,
  ) {}

  get redirectUri(): string {
    return `${this.config.publicUrl}/auth/callback`;
  }

  get postLogoutRedirectUri(): string {
    return `${this.config.publicUrl}/auth/signed-out`;
  }

  /** Discovery once per process (retried at the next sign-in after a failure); openid-client caches the JWKS. */
  async discover(): Promise<Configuration> {
    if (!this.configuration) {
      this.configuration = (async () => {
        const client = await loadOpenidClient();
        const auth = this.config.tokenAuth === 'client_secret_post' ? client.ClientSecretPost(this.config.clientSecret) : client.ClientSecretBasic(this.config.clientSecret);
        const options: Record<PropertyKey, unknown> = { timeout: 10 };
        if (this.fetch) options[client.customFetch] = this.fetch;
        return client.discovery(new URL(this.config.issuer), this.config.clientId, { redirect_uris: [this.redirectUri], response_types: ['code'] }, auth, options);
      })();
      this.configuration.catch(() => {
        this.configuration = null;
      });
    }
    try {
      return await this.configuration;
    } catch (error) {
      // Unreachable, or reachable but not the configured issuer (its metadata names another one): both stop here.
      const unreachable = isNetworkError(error) || (error as { code?: string })?.code === 'OAUTH_RESPONSE_IS_NOT_CONFORM';
      throw new SignInRefused(unreachable ? 'providerUnavailable' : 'responseInvalid', `discovery of ${this.config.issuer} failed: ${describe(error)}`, { cause: error });
    }
  }

  async authorizationRequest(options: { language?: string } = {}): Promise<AuthorizationRequest> {
    const configuration = await this.discover();
    const client = await loadOpenidClient();
    const state = client.randomState();
    const nonce = client.randomNonce();
    const codeVerifier = client.randomPKCECodeVerifier();
    const parameters: Record<string, string> = {
      redirect_uri: this.redirectUri,
      scope: this.config.scopes.join(' '),
      state,
      nonce,
      code_challenge: await client.calculatePKCECodeChallenge(codeVerifier),
      code_challenge_method: 'S256',
    };
    if (options.language) parameters.ui_locales = options.language;
    return { state, nonce, codeVerifier, url: client.buildAuthorizationUrl(configuration, parameters) };
  }

  /**
   * Checks the authorization response (state, issuer), redeems the code with the PKCE verifier, checks the ID token
   * (signature, issuer, audience, nonce, expiry) and reads userinfo. Returns the merged claims.
   */
  async finish(currentUrl: URL, expected: { state: string; nonce: string; codeVerifier: string }): Promise<Record<string, unknown>> {
    const configuration = await this.discover();
    const client = await loadOpenidClient();
    try {
      const tokens = await client.authorizationCodeGrant(configuration, currentUrl, {
        expectedState: expected.state,
        expectedNonce: expected.nonce,
        pkceCodeVerifier: expected.codeVerifier,
        idTokenExpected: true,
      });
      const idClaims = tokens.claims();
      if (!idClaims) throw new SignInRefused('responseInvalid', 'no ID token');
      let userinfo: Record<string, unknown> = {};
      if (configuration.serverMetadata().userinfo_endpoint) {
        userinfo = (await client.fetchUserInfo(configuration, tokens.access_token, idClaims.sub)) as Record<string, unknown>;
      }
      // Userinfo is fresher for profile attributes; the signed ID token keeps the last word on who and for whom.
      return { ...idClaims, ...userinfo, sub: idClaims.sub, iss: idClaims.iss, aud: idClaims.aud };
    } catch (error) {
      if (error instanceof SignInRefused) throw error;
      throw classify(client, error);
    }
  }

  /** RP-initiated logout: the provider's end_session_endpoint, when it has one (by client_id, no token in the URL). */
  async endSessionUrl(language?: string): Promise<URL | null> {
    let configuration: Configuration;
    try {
      configuration = await this.discover();
    } catch (error) {
      this.logger.warn({ err: error }, 'no RP-initiated logout: provider unreachable');
      return null;
    }
    if (!configuration.serverMetadata().end_session_endpoint) return null;
    const client = await loadOpenidClient();
    const parameters: Record<string, string> = { client_id: this.config.clientId, post_logout_redirect_uri: this.postLogoutRedirectUri };
    if (language) parameters.ui_locales = language;
    return client.buildEndSessionUrl(configuration, parameters);
  }
}

function describe(error: unknown): string {
  if (error instanceof Error) {
    const code = (error as Error & { code?: string }).code;
    const cause = error.cause instanceof Error ? ` (${error.cause.message})` : '';
    return `${code ? `${code} ` : ''}${error.message}${cause}`;
  }
  return String(error);
}

/** fetch failed, timed out or was refused: the provider is down or unreachable. */
function isNetworkError(error: unknown): boolean {
  const name = (error as { name?: string })?.name;
  const code = (error as { code?: string; cause?: { code?: string } })?.cause?.code ?? (error as { code?: string })?.code;
  return error instanceof TypeError || name === 'AbortError' || name === 'TimeoutError' || /^(ECONNREFUSED|ECONNRESET|ENOTFOUND|ETIMEDOUT|EHOSTUNREACH|ENETUNREACH|EAI_AGAIN|CERT_|DEPTH_ZERO|SELF_SIGNED|UNABLE_TO)/.test(code ?? '');
}

function classify(client: Awaited<ReturnType<typeof loadOpenidClient>>, error: unknown): SignInRefused {
  const detail = describe(error);
  if (error instanceof client.AuthorizationResponseError) return new SignInRefused('providerError', `${error.error}: ${error.error_description ?? ''}`, { cause: error });
  if (error instanceof client.ResponseBodyError) {
    return new SignInRefused(error.error === 'invalid_grant' ? 'codeRejected' : 'providerError', `${error.error}: ${error.error_description ?? ''}`, { cause: error });
  }
  if (error instanceof client.ClientError) return new SignInRefused('responseInvalid', detail, { cause: error });
  if (isNetworkError(error)) return new SignInRefused('providerUnavailable', detail, { cause: error });
  return new SignInRefused('responseInvalid', detail, { cause: error });
}
