import { randomUUID } from "node:crypto";
import type { Knex } from "../../../lib/db.js";
import { isUniqueViolation } from "../../../lib/db.js";
import { notifySessionRevoked } from "../../../lib/session-revocations.js";

import type { Role } from "../../../lib/context.js";

export type { Role };

export interface Account {
  id: string;
  email: string;
  passwordHash: string;
  displayName: string;
  phone: string;
  role: Role;
}

interface AccountRow {
  id: string;
  email: string;
  password_hash: string;
  display_name: string;
  phone: string;
  role: Role;
}

const toAccount = (r: AccountRow): Account => ({
  id: r.id,
  email: r.email,
  passwordHash: r.password_hash,
  displayName: r.display_name,
  phone: r.phone,
  role: r.role,
});

export class EmailTakenError extends Error {}

/** The users service's queries. Nothing else touches the `users` schema. */
export class UsersRepo {
  constructor(private readonly db: Knex) {}

  async createAccount(a: Omit<Account, "id">): Promise<Account> {
    try {
      const [row] = await this.db<AccountRow>("accounts")
        .insert({
          id: randomUUID(),
          email: a.email,
          password_hash: a.passwordHash,
          display_name: a.displayName,
          phone: a.phone,
          role: a.role,
        })
        .returning("*");
      return toAccount(row as AccountRow);
    } catch (err) {
      if (isUniqueViolation(err)) throw new EmailTakenError(a.email);
      throw err;
    }
  }

  /**
   * Creates a bootstrap account (the admin, the development door account) when no account has
   * that email; an existing one is given the role.
   */
  async ensureAccount(email: string, role: Role, passwordHash: () => Promise<string>, displayName: string): Promise<void> {
    const existing = await this.findByEmail(email);
    if (existing) {
      if (existing.role !== role) await this.db("accounts").where({ id: existing.id }).update({ role });
      return;
    }
    try {
      await this.createAccount({ email, passwordHash: await passwordHash(), displayName, phone: "", role });
    } catch (err) {
      if (!(err instanceof EmailTakenError)) throw err; // another replica created it meanwhile
    }
  }

  /** Sets an account's role; undefined for an unknown account. */
  async setRole(id: string, role: Role): Promise<Account | undefined> {
    const [row] = await this.db("accounts").where({ id }).update({ role, updated_at: this.db.fn.now() }).returning("*");
    return row ? toAccount(row as AccountRow) : undefined;
  }

  async findByEmail(email: string): Promise<Account | undefined> {
    const row = await this.db<AccountRow>("accounts").where({ email }).first();
    return row ? toAccount(row) : undefined;
  }

  async findById(id: string): Promise<Account | undefined> {
    const row = await this.db<AccountRow>("accounts").where({ id }).first();
    return row ? toAccount(row) : undefined;
  }

  async updateProfile(id: string, patch: { displayName?: string; phone?: string }): Promise<Account | undefined> {
    const changes: Record<string, unknown> = { updated_at: this.db.fn.now() };
    if (patch.displayName !== undefined) changes.display_name = patch.displayName;
    if (patch.phone !== undefined) changes.phone = patch.phone;
    const [row] = await this.db<AccountRow>("accounts").where({ id }).update(changes).returning("*");
    return row ? toAccount(row as AccountRow) : undefined;
  }

  /** Opens a session with its first refresh token. */
  async openSession(accountId: string, refreshTokenHash: string, ttlSeconds: number): Promise<string> {
    const sessionId = randomUUID();
    await this.db.transaction(async (trx) => {
      await trx("sessions").insert({
        id: sessionId,
        account_id: accountId,
        expires_at: trx.raw(`now() + make_interval(secs => ?)`, [ttlSeconds]),
      });
      await trx("refresh_tokens").insert({ token_hash: refreshTokenHash, session_id: sessionId });
    });
    return sessionId;
  }

  /**
   * Rotates a refresh token in one transaction: marks the presented token used (only if it was
   * unused, so two concurrent refreshes with one token cannot both win) and stores its
   * successor. A token that was already used means it leaked: the whole session is revoked.
   */
  async rotateRefreshToken(
    presentedHash: string,
    nextHash: string,
  ): Promise<{ ok: true; sessionId: string; account: Account } | { ok: false; reason: "unknown" | "reused" | "ended" }> {
    return this.db.transaction(async (trx) => {
      const used = await trx("refresh_tokens")
        .where({ token_hash: presentedHash })
        .whereNull("used_at")
        .update({ used_at: trx.fn.now() })
        .returning(["session_id"]);
      if (used.length === 0) {
        const known = await trx("refresh_tokens").where({ token_hash: presentedHash }).first("session_id");
        if (!known) return { ok: false as const, reason: "unknown" as const };
        await trx("sessions").where({ id: known.session_id }).whereNull("revoked_at").update({ revoked_at: trx.fn.now() });
        await notifySessionRevoked(trx, known.session_id);
        return { ok: false as const, reason: "reused" as const };
      }
      const sessionId: string = used[0].session_id;
      const session = await trx("sessions")
        .where({ id: sessionId })
        .whereNull("revoked_at")
        .where("expires_at", ">", trx.fn.now())
        .first("account_id");
      if (!session) return { ok: false as const, reason: "ended" as const };
      await trx("refresh_tokens").insert({ token_hash: nextHash, session_id: sessionId });
      const row = await trx<AccountRow>("accounts").where({ id: session.account_id }).first();
      return { ok: true as const, sessionId, account: toAccount(row as AccountRow) };
    });
  }

  /** Ends a session; the other services hear it when it commits (lib/session-revocations.ts). */
  async revokeSession(sessionId: string): Promise<void> {
    await this.db.transaction(async (trx) => {
      await trx("sessions").where({ id: sessionId }).whereNull("revoked_at").update({ revoked_at: trx.fn.now() });
      await notifySessionRevoked(trx, sessionId);
    });
  }

  async isSessionActive(sessionId: string): Promise<boolean> {
    const row = await this.db("sessions")
      .where({ id: sessionId })
      .whereNull("revoked_at")
      .where("expires_at", ">", this.db.fn.now())
      .first("id");
    return row !== undefined;
  }
}
