import { addressSubject } from "../../lib/client-address.js";
import type { Knex } from "../../lib/db.js";
import { Lockout, type Lock, type LockoutPolicy } from "../../lib/lockout.js";
import type { Logger } from "../../lib/logger.js";
import { RateLimiter, type Limit } from "../../lib/rate-limit.js";

/** The users service's limits (USERS_LOGIN_*, USERS_REGISTRATION* in config.ts). */
export interface UsersLimitSettings {
  loginMaxFailuresPerAccount: number;
  loginMaxFailuresPerAddress: number;
  loginLockoutBaseSeconds: number;
  loginLockoutMaxSeconds: number;
  loginFailureMemorySeconds: number;
  registrationsPerAddress: number;
  registrationWindowSeconds: number;
}

/**
 * Sign-in lock-outs (per account and per client address, exponential: lib/lockout.ts) and
 * registrations per client address (lib/rate-limit.ts), both in the users schema.
 */
export class UsersLimits {
  private readonly lockout: Lockout;
  private readonly limiter: RateLimiter;
  private readonly account: LockoutPolicy;
  private readonly address: LockoutPolicy;
  private readonly registrations: Limit;

  constructor(db: Knex, s: UsersLimitSettings, opts: { clock?: () => Date; logger?: Logger } = {}) {
    this.lockout = new Lockout(db, opts.clock);
    this.limiter = new RateLimiter(db, { clock: opts.clock, logger: opts.logger });
    const policy = (name: string, maxFailures: number): LockoutPolicy => ({
      name,
      maxFailures,
      baseSeconds: s.loginLockoutBaseSeconds,
      maxSeconds: s.loginLockoutMaxSeconds,
      forgetSeconds: s.loginFailureMemorySeconds,
    });
    this.account = policy("login.account", s.loginMaxFailuresPerAccount);
    this.address = policy("login.address", s.loginMaxFailuresPerAddress);
    this.registrations = { name: "register.address", max: s.registrationsPerAddress, windowSeconds: s.registrationWindowSeconds };
  }

  private keys(email: string, address: string) {
    return [
      { policy: this.account, subject: email },
      { policy: this.address, subject: addressSubject(address) },
    ];
  }

  /** 429 when the account or the address is locked out: checked before the password. */
  async beforeLogin(email: string, address: string): Promise<void> {
    await this.lockout.assertUnlocked(this.keys(email, address), (lock: Lock) =>
      lock.policy === this.account
        ? "too many failed sign-ins for this account; it is locked for now"
        : "too many failed sign-ins from your network address; sign-ins from it are locked for now",
    );
  }

  /** Counts a failed sign-in against the account and the address. */
  async loginFailed(email: string, address: string): Promise<void> {
    await this.lockout.fail(this.keys(email, address));
  }

  /** A successful sign-in forgets the account's failures (not the address's). */
  async loginSucceeded(email: string): Promise<void> {
    await this.lockout.succeed({ policy: this.account, subject: email });
  }

  /** Counts a registration attempt from the address; 429 past the limit. */
  async beforeRegister(address: string): Promise<void> {
    await this.limiter.check(
      [{ limit: this.registrations, subject: addressSubject(address) }],
      (l) => `too many registrations from your network address (at most ${l.max} per ${l.windowSeconds} s)`,
    );
  }

  async idle(): Promise<void> {
    await Promise.all([this.lockout.idle(), this.limiter.idle()]);
  }
}
