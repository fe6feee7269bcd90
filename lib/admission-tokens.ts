import { errors as joseErrors, jwtVerify, SignJWT } from "jose";
import { str } from "./config.js";
import { permissionDenied } from "./errors.js";

/**
 * Admission tokens of the waiting rooms (services/admission): what an admitted buyer sends in
 * ReserveSeats / ReserveBestSeats `admissionToken`. A JWT signed with HS256 under a secret the
 * admission service (signer) and the booking service (verifier) share, bound by its claims to
 * one user (`sub`) and one showtime (`sid`), expiring at the end of the buyer's admission window
 * (docs/adr/0007-waiting-room.md explains why a shared secret rather than a key pair).
 */
export const ADMISSION_TOKEN_ALGORITHM = "HS256";
export const ADMISSION_TOKEN_ISSUER = "ticketing-admission";
export const ADMISSION_TOKEN_AUDIENCE = "ticketing-booking";

export const DEV_ADMISSION_TOKEN_SECRET = "dev-only-admission-secret-do-not-use-in-production";

/** The shared secret, declared by both services that use it (admission signs, booking verifies). */
export const admissionTokenVars = {
  admissionTokenSecret: str("ADMISSION_TOKEN_SECRET", {
    default: DEV_ADMISSION_TOKEN_SECRET,
    devDefault: true,
    doc: "admission, booking: shared secret (HS256) of the waiting rooms' admission tokens; set the same long random value on both in production",
  }),
};

/** The URL path a buyer queues at, named in every refusal. */
export function queuePath(showtimeId: string): string {
  return `POST /api/v1/showtimes/${showtimeId}/waiting-room/entries`;
}

export interface AdmissionGrant {
  userId: string;
  showtimeId: string;
  /** End of the admission window. */
  expiresAt: Date;
}

export class AdmissionTokens {
  private readonly key: Uint8Array;

  constructor(secret: string) {
    if (secret.length < 16) throw new Error("the admission token secret must be at least 16 characters");
    this.key = new TextEncoder().encode(secret);
  }

  /** A token for the grant, valid until its expiresAt. */
  sign(grant: AdmissionGrant): Promise<string> {
    return new SignJWT({ sid: grant.showtimeId })
      .setProtectedHeader({ alg: ADMISSION_TOKEN_ALGORITHM })
      .setIssuer(ADMISSION_TOKEN_ISSUER)
      .setAudience(ADMISSION_TOKEN_AUDIENCE)
      .setSubject(grant.userId)
      .setIssuedAt()
      .setExpirationTime(Math.floor(grant.expiresAt.getTime() / 1000))
      .sign(this.key);
  }

  /**
   * The check booking runs while a showtime's room is on: the token must be ours, unexpired,
   * and for this user and this showtime. Every refusal is a 403 (PermissionDenied) saying how
   * to queue; none says more than what is wrong with the token.
   */
  async require(userId: string, showtimeId: string, token: string): Promise<AdmissionGrant> {
    const howTo = `this showtime has a waiting room: join it with ${queuePath(showtimeId)} and reserve with the admission token you get once admitted`;
    if (!token) throw permissionDenied(`admissionToken: required; ${howTo}`);
    let payload;
    try {
      ({ payload } = await jwtVerify(token, this.key, {
        algorithms: [ADMISSION_TOKEN_ALGORITHM],
        issuer: ADMISSION_TOKEN_ISSUER,
        audience: ADMISSION_TOKEN_AUDIENCE,
        clockTolerance: 0,
      }));
    } catch (err) {
      if (err instanceof joseErrors.JWTExpired) throw permissionDenied(`admissionToken: expired (your admission window ended); ${howTo}`);
      throw permissionDenied(`admissionToken: invalid; ${howTo}`);
    }
    if (payload.sid !== showtimeId) throw permissionDenied(`admissionToken: issued for another showtime; ${howTo}`);
    if (payload.sub !== userId) throw permissionDenied(`admissionToken: issued to another user; ${howTo}`);
    return { userId, showtimeId, expiresAt: new Date((payload.exp ?? 0) * 1000) };
  }
}
