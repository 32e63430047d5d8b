/**
 * The tokens an HTTP target task carries (Cloud Tasks `oidcToken` / `oauthToken`), made by pushq
 * itself so a worker can check them locally, as it checks Google's in production:
 *
 * - an OIDC token is an RS256-signed ID token (a JWT) with the claims Cloud Tasks' tokens have:
 *   `iss` (pushq's issuer URL, not Google's), `aud` (the task's audience, else its URL), `sub` and
 *   `azp` (a stable numeric id derived from the service account, as Google gives a service
 *   account's unique id), `email`, `email_verified: true`, `iat`, `exp` = `iat` + 1 hour;
 * - its key is an RSA key pair made by this server (node:crypto, at its first use) and never written anywhere; the public
 *   half is served as a JWKS, and `/.well-known/openid-configuration` points to it, so a standard
 *   library pointed at pushq's issuer verifies the token (docs/serve.md, "OIDC tokens");
 * - an OAuth token cannot be checked that way (Google's are opaque): pushq's names itself
 *   (`pushq-local-access-token.` and its claims in base64url JSON) so nobody mistakes it for a
 *   real one.
 *
 * The clock is the wall clock (tokens are made when the request is sent, not in the engine).
 */
import { createHash, generateKeyPairSync, sign, type KeyObject } from 'node:crypto';
import type { TokenMinter } from './attempt-wire.js';

/** How long a token is valid, as Google's ID tokens. */
const ID_TOKEN_LIFETIME_SECONDS = 3600;
/** The first part of every access token pushq makes. */
const ACCESS_TOKEN_PREFIX = 'pushq-local-access-token.';
export const JWKS_PATH = '/.well-known/jwks.json';
export const OPENID_CONFIGURATION_PATH = '/.well-known/openid-configuration';

function base64url(value: string | Buffer): string {
  return Buffer.from(value).toString('base64url');
}

/** A service account's stable numeric id (21 digits, as Google's), derived from its email. */
function serviceAccountId(email: string): string {
  const digest = createHash('sha256').update(email).digest();
  let digits = '1';
  for (let i = 0; digits.length < 21; i++) digits += String((digest[i % digest.length] as number) % 10);
  return digits;
}

interface SigningKey {
  key: KeyObject;
  publicJwk: { kty: string; n: string; e: string };
  /** The key's id: its RFC 7638 thumbprint. */
  kid: string;
}

export class IdTokenIssuer implements TokenMinter {
  private signing: SigningKey | undefined;

  constructor(
    /** pushq's issuer URL (`iss`), e.g. `http://127.0.0.1:8123`: where its discovery document is served. */
    readonly issuer: string,
    private readonly nowSeconds: () => number = () => Math.floor(Date.now() / 1000),
  ) {}

  /** The key pair, made at its first use (a 2048-bit RSA key takes tens of milliseconds; most servers never need it). */
  private get keys(): SigningKey {
    if (this.signing === undefined) {
      const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
      const jwk = publicKey.export({ format: 'jwk' }) as { kty: string; n: string; e: string };
      const kid = base64url(createHash('sha256').update(JSON.stringify({ e: jwk.e, kty: jwk.kty, n: jwk.n })).digest());
      this.signing = { key: privateKey, publicJwk: { kty: jwk.kty, n: jwk.n, e: jwk.e }, kid };
    }
    return this.signing;
  }

  idToken(email: string, audience: string): string {
    const iat = this.nowSeconds();
    const sub = serviceAccountId(email);
    const { key, kid } = this.keys;
    const header = { alg: 'RS256', kid, typ: 'JWT' };
    const claims = { aud: audience, azp: sub, email, email_verified: true, exp: iat + ID_TOKEN_LIFETIME_SECONDS, iat, iss: this.issuer, sub };
    const signed = `${base64url(JSON.stringify(header))}.${base64url(JSON.stringify(claims))}`;
    return `${signed}.${sign('sha256', Buffer.from(signed), key).toString('base64url')}`;
  }

  accessToken(email: string, scope: string): string {
    const iat = this.nowSeconds();
    const claims = { note: 'made by pushq for local testing; not a Google token', iss: this.issuer, email, scope, iat, exp: iat + ID_TOKEN_LIFETIME_SECONDS };
    return `${ACCESS_TOKEN_PREFIX}${base64url(JSON.stringify(claims))}`;
  }

  /** The public key set (`GET /.well-known/jwks.json`). */
  jwks(): { keys: Record<string, string>[] } {
    const { publicJwk, kid } = this.keys;
    return { keys: [{ ...publicJwk, alg: 'RS256', use: 'sig', kid }] };
  }

  /** The OpenID Provider metadata (`GET /.well-known/openid-configuration`). */
  openidConfiguration(): Record<string, unknown> {
    return {
      issuer: this.issuer,
      jwks_uri: `${this.issuer}${JWKS_PATH}`,
      response_types_supported: ['id_token'],
      subject_types_supported: ['public'],
      id_token_signing_alg_values_supported: ['RS256'],
      claims_supported: ['aud', 'azp', 'email', 'email_verified', 'exp', 'iat', 'iss', 'sub'],
    };
  }
}
