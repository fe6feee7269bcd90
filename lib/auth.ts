import { randomUUID, createPrivateKey, createPublicKey, generateKeyPairSync, type KeyObject } from "node:crypto";
import { Code, type Interceptor } from "@connectrpc/connect";
import { getOption, hasOption, type DescMethod } from "@bufbuild/protobuf";
import {
  SignJWT,
  jwtVerify,
  decodeProtectedHeader,
  exportJWK,
  calculateJwkThumbprint,
  createLocalJWKSet,
  createRemoteJWKSet,
  errors as joseErrors,
  type JWK,
  type JWTVerifyGetKey,
} from "jose";
import { Access, access } from "../gen/ticketing/common/v1/auth_pb.js";
import { ANONYMOUS, ROLES, callerKey, type Caller, type Role } from "./context.js";
import { AppError, permissionDenied, unauthenticated } from "./errors.js";

/** User access tokens: asymmetric signatures only. */
export const USER_TOKEN_ALGORITHMS = ["EdDSA"] as const;
/** Service credentials: HMAC with the shared service secret, and their own issuer/audience. */
export const SERVICE_TOKEN_ALGORITHM = "HS256";
export const SERVICE_TOKEN_ISSUER = "ticketing-internal";
export const SERVICE_TOKEN_AUDIENCE = "ticketing-internal";

export interface UserClaims {
  userId: string;
  role: Role;
  sessionId: string;
}

/** Loads an Ed25519 private key (PKCS#8 PEM), or makes an ephemeral one when none is given. */
export function loadSigningKey(pem: string | undefined): { key: KeyObject; ephemeral: boolean } {
  if (pem) return { key: createPrivateKey(pem), ephemeral: false };
  return { key: generateKeyPairSync("ed25519").privateKey, ephemeral: true };
}

/** Issues access tokens (users service only) and publishes the public key as a JWKS. */
export class TokenIssuer {
  private constructor(
    private readonly privateKey: KeyObject,
    private readonly publicJwk: JWK,
    readonly issuer: string,
    readonly audience: string,
    readonly ttlSeconds: number,
  ) {}

  static async create(opts: { privateKey: KeyObject; issuer: string; audience: string; ttlSeconds: number }) {
    const jwk = await exportJWK(createPublicKey(opts.privateKey));
    jwk.kid = await calculateJwkThumbprint(jwk);
    jwk.alg = "EdDSA";
    jwk.use = "sig";
    return new TokenIssuer(opts.privateKey, jwk, opts.issuer, opts.audience, opts.ttlSeconds);
  }

  async issue(claims: UserClaims): Promise<{ token: string; expiresIn: number }> {
    const token = await new SignJWT({ role: claims.role, sid: claims.sessionId })
      .setProtectedHeader({ alg: "EdDSA", kid: this.publicJwk.kid, typ: "at+jwt" })
      .setIssuer(this.issuer)
      .setAudience(this.audience)
      .setSubject(claims.userId)
      .setJti(randomUUID())
      .setIssuedAt()
      .setExpirationTime(`${this.ttlSeconds}s`)
      .sign(this.privateKey);
    return { token, expiresIn: this.ttlSeconds };
  }

  jwks(): { keys: JWK[] } {
    return { keys: [this.publicJwk] };
  }
}

export interface VerifierOptions {
  issuer: string;
  audience: string;
  /** Public keys of the users service: a JWKS URL (fetched and cached) or a local key set. */
  keys: { jwksUrl: string } | { jwks: { keys: JWK[] } };
  /** Secret for internal service credentials. */
  serviceSecret: string;
  /** Tells whether a session was ended by logout; absent = not checked. */
  isSessionActive?: (sessionId: string) => Promise<boolean>;
  /** Most verified tokens remembered (see TokenVerifier). Default 10,000; 0 = none. */
  verifiedCacheSize?: number;
}

/** What a verified token says, kept until the token expires. */
type Verified = { caller: Caller; expiresAtMs: number };

/**
 * Verifies bearer tokens: user access tokens (EdDSA against the users service's JWKS, with
 * issuer, audience, expiry and an algorithm allow-list) and internal service credentials
 * (HS256 with the service secret, internal issuer/audience). Anything else is refused.
 *
 * A token whose signature and claims were verified is remembered, by its exact text, until it
 * expires: a client sends the same access token on every request, and the Ed25519 check was a
 * few percent of a service's CPU under load. The session check (logout) still runs on every
 * request. The price: a token signed by a key later removed from the JWKS stays accepted by this
 * process until it expires (access tokens live minutes); rotate keys by adding the new one first.
 */
export class TokenVerifier {
  private readonly keySet: JWTVerifyGetKey;
  private readonly serviceKey: Uint8Array;
  private readonly verified = new Map<string, Verified>();

  constructor(private readonly opts: VerifierOptions) {
    this.keySet =
      "jwksUrl" in opts.keys
        ? createRemoteJWKSet(new URL(opts.keys.jwksUrl), { cacheMaxAge: 10 * 60_000, cooldownDuration: 5_000 })
        : createLocalJWKSet(opts.keys.jwks);
    this.serviceKey = new TextEncoder().encode(opts.serviceSecret);
  }

  async verify(token: string): Promise<Caller> {
    const known = this.verified.get(token);
    if (known && known.expiresAtMs > Date.now()) return this.checkSession(known.caller);
    if (known) this.verified.delete(token);
    const verified = await this.verifySignature(token);
    this.remember(token, verified);
    return this.checkSession(verified.caller);
  }

  private remember(token: string, verified: Verified): void {
    const max = this.opts.verifiedCacheSize ?? 10_000;
    if (max <= 0) return;
    if (this.verified.size >= max) this.verified.delete(this.verified.keys().next().value as string);
    this.verified.set(token, verified);
  }

  private async checkSession(caller: Caller): Promise<Caller> {
    if (caller.kind !== "user" || !this.opts.isSessionActive) return caller;
    let active: boolean;
    try {
      active = await this.opts.isSessionActive(caller.sessionId);
    } catch {
      throw new AppError(Code.Unavailable, "cannot verify tokens right now");
    }
    if (!active) throw unauthenticated("session has ended; sign in again");
    return caller;
  }

  /** Signature and claims; the session is checked apart, on every request. */
  private async verifySignature(token: string): Promise<Verified> {
    let alg: string | undefined;
    try {
      alg = decodeProtectedHeader(token).alg;
    } catch {
      throw unauthenticated("malformed bearer token");
    }
    try {
      if (alg === SERVICE_TOKEN_ALGORITHM) {
        const { payload } = await jwtVerify(token, this.serviceKey, {
          algorithms: [SERVICE_TOKEN_ALGORITHM],
          issuer: SERVICE_TOKEN_ISSUER,
          audience: SERVICE_TOKEN_AUDIENCE,
          requiredClaims: ["exp", "sub"],
        });
        return { caller: { kind: "service", service: String(payload.sub).replace(/^service:/, "") }, expiresAtMs: Number(payload.exp) * 1000 };
      }
      const { payload } = await jwtVerify(token, this.keySet, {
        algorithms: [...USER_TOKEN_ALGORITHMS],
        issuer: this.opts.issuer,
        audience: this.opts.audience,
        requiredClaims: ["exp", "sub", "sid", "role"],
      });
      const role = payload.role as Role;
      if (!ROLES.includes(role)) throw unauthenticated("token has an unknown role");
      return {
        caller: { kind: "user", userId: String(payload.sub), role, sessionId: String(payload.sid) },
        expiresAtMs: Number(payload.exp) * 1000,
      };
    } catch (err) {
      if (err instanceof AppError) throw err;
      if (err instanceof joseErrors.JWTExpired) throw unauthenticated("token expired");
      if (err instanceof joseErrors.JOSEError) throw unauthenticated(`invalid token (${err.code})`);
      throw new AppError(Code.Unavailable, "cannot verify tokens right now");
    }
  }
}

/** True when the token claims to be an internal service credential (the gateway refuses those). */
export function looksLikeServiceCredential(token: string): boolean {
  try {
    return decodeProtectedHeader(token).alg !== USER_TOKEN_ALGORITHMS[0];
  } catch {
    return false;
  }
}

/**
 * Mints this service's own credential for internal calls, cached until shortly before expiry.
 */
export function serviceCredential(secret: string, service: string, ttlSeconds = 300): () => Promise<string> {
  const key = new TextEncoder().encode(secret);
  let cached: { token: string; renewAt: number } | undefined;
  return async () => {
    if (cached && Date.now() < cached.renewAt) return cached.token;
    const token = await new SignJWT({})
      .setProtectedHeader({ alg: SERVICE_TOKEN_ALGORITHM })
      .setIssuer(SERVICE_TOKEN_ISSUER)
      .setAudience(SERVICE_TOKEN_AUDIENCE)
      .setSubject(`service:${service}`)
      .setIssuedAt()
      .setExpirationTime(`${ttlSeconds}s`)
      .sign(key);
    cached = { token, renewAt: Date.now() + (ttlSeconds - 60) * 1000 };
    return token;
  };
}

/**
 * The access level an RPC declares in its contract; undeclared means internal only. The
 * standard gRPC health and server reflection services are public, for probes and operators'
 * tools.
 */
const PUBLIC_STANDARD_SERVICES = new Set(["grpc.health.v1.Health", "grpc.reflection.v1.ServerReflection", "grpc.reflection.v1alpha.ServerReflection"]);

const accessLevels = new WeakMap<DescMethod, Access>();

/** Read once per method: getOption decodes the option from the descriptor's bytes on every call. */
export function accessOf(method: DescMethod): Access {
  let level = accessLevels.get(method);
  if (level === undefined) {
    if (PUBLIC_STANDARD_SERVICES.has(method.parent.typeName)) level = Access.PUBLIC;
    else level = hasOption(method, access) ? getOption(method, access) : Access.UNSPECIFIED;
    accessLevels.set(method, level);
  }
  return level;
}

export function bearerToken(header: string | null | undefined): string | undefined {
  if (!header) return undefined;
  const m = /^Bearer\s+(\S+)\s*$/i.exec(header);
  if (!m) throw unauthenticated("Authorization header must be 'Bearer <token>'");
  return m[1];
}

/** Decides whether `caller` may call an RPC with `level`; throws 401/403 otherwise. */
export function authorize(level: Access, caller: Caller): void {
  if (caller.kind === "service") return; // internal credentials pass every level
  switch (level) {
    case Access.PUBLIC:
      return;
    case Access.USER:
      if (caller.kind === "user") return;
      throw unauthenticated("sign in required");
    case Access.ADMIN:
      if (caller.kind === "anonymous") throw unauthenticated("sign in required");
      if (caller.role === "admin") return;
      throw permissionDenied("admin role required");
    case Access.DOOR:
      if (caller.kind === "anonymous") throw unauthenticated("sign in required");
      if (caller.role === "door" || caller.role === "admin") return;
      throw permissionDenied("door or admin role required");
    default:
      if (caller.kind === "anonymous") throw unauthenticated("internal endpoint: service credential required");
      throw permissionDenied("internal endpoint");
  }
}

/**
 * The one auth interceptor every service uses: verifies the bearer token itself (no service
 * trusts the gateway blindly), enforces the RPC's declared access level, and puts the caller
 * into the handler context (`callerOf(ctx)`).
 */
export function authInterceptor(verifier: TokenVerifier): Interceptor {
  return (next) => async (req) => {
    const token = bearerToken(req.header.get("authorization"));
    const caller = token ? await verifier.verify(token) : ANONYMOUS;
    authorize(accessOf(req.method), caller);
    req.contextValues.set(callerKey, caller);
    return next(req);
  };
}
