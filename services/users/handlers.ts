import type { HandlerContext, ServiceImpl } from "@connectrpc/connect";
import { UsersService } from "../../gen/ticketing/users/v1/users_pb.js";
import type { TokenIssuer } from "../../lib/auth.js";
import { callerOf, clientAddressOf } from "../../lib/context.js";
import { alreadyExists, invalidArgument, notFound, unauthenticated } from "../../lib/errors.js";
import type { Logger } from "../../lib/logger.js";
import { EmailTakenError, type Account, type Role, type UsersRepo } from "./db/repo.js";
import type { UsersLimits } from "./limits.js";
import { decoyHash, hashPassword, verifyPassword } from "./domain/passwords.js";
import { hashRefreshToken, newRefreshToken, normalizeEmail } from "./domain/tokens.js";

export interface UsersDeps {
  repo: UsersRepo;
  issuer: TokenIssuer;
  refreshTokenTtlSeconds: number;
  logger: Logger;
  /** Sign-in lock-outs and registrations per address (limits.ts). */
  limits: UsersLimits;
}

const profile = (a: Account) => ({
  userId: a.id,
  email: a.email,
  displayName: a.displayName,
  phone: a.phone,
  role: a.role,
});

/** The signed-in user's id; the access level USER guarantees a user or a service caller. */
function userIdOf(ctx: HandlerContext): string {
  const caller = callerOf(ctx);
  if (caller.kind !== "user") throw unauthenticated("a user token is required");
  return caller.userId;
}

export function usersHandlers(deps: UsersDeps): ServiceImpl<typeof UsersService> {
  const { repo, issuer } = deps;

  async function tokensFor(account: Account, sessionId: string, refreshToken: string) {
    const { token, expiresIn } = await issuer.issue({ userId: account.id, role: account.role, sessionId });
    return { accessToken: token, tokenType: "Bearer", expiresIn, refreshToken, userId: account.id, role: account.role };
  }

  return {
    async register(req, ctx) {
      // before the password's hash, which is what costs
      await deps.limits.beforeRegister(clientAddressOf(ctx));
      const passwordHash = await hashPassword(req.password);
      try {
        const account = await repo.createAccount({
          email: normalizeEmail(req.email),
          passwordHash,
          displayName: req.displayName.trim(),
          phone: req.phone,
          role: "user",
        });
        deps.logger.info({ userId: account.id }, "account registered");
        return { userId: account.id, email: account.email, displayName: account.displayName, role: account.role };
      } catch (err) {
        if (err instanceof EmailTakenError) throw alreadyExists("email: an account with this email already exists");
        throw err;
      }
    },

    async login(req, ctx) {
      const email = normalizeEmail(req.email);
      const address = clientAddressOf(ctx);
      // a locked-out account or address is refused even with the right password, and before
      // the password is checked (an attacker's guesses cost us no hashing meanwhile); unknown
      // emails are counted and locked like known ones, so a lock-out does not tell which exist
      await deps.limits.beforeLogin(email, address);
      const account = await repo.findByEmail(email);
      const ok = await verifyPassword(req.password, account?.passwordHash ?? (await decoyHash()));
      if (!account || !ok) {
        await deps.limits.loginFailed(email, address);
        throw unauthenticated("wrong email or password");
      }
      await deps.limits.loginSucceeded(email);
      const refreshToken = newRefreshToken();
      const sessionId = await repo.openSession(account.id, hashRefreshToken(refreshToken), deps.refreshTokenTtlSeconds);
      return tokensFor(account, sessionId, refreshToken);
    },

    async refresh(req) {
      const next = newRefreshToken();
      const result = await repo.rotateRefreshToken(hashRefreshToken(req.refreshToken), hashRefreshToken(next));
      if (!result.ok) {
        if (result.reason === "reused") deps.logger.warn("refresh token reused; session revoked");
        throw unauthenticated("refresh token is invalid, used or expired; sign in again");
      }
      return tokensFor(result.account, result.sessionId, next);
    },

    async logout(_req, ctx) {
      const caller = callerOf(ctx);
      if (caller.kind !== "user") throw unauthenticated("a user token is required");
      await repo.revokeSession(caller.sessionId);
      return {};
    },

    async getMe(_req, ctx) {
      const id = userIdOf(ctx);
      const account = await repo.findById(id);
      if (!account) throw notFound("user", id);
      return profile(account);
    },

    async updateMe(req, ctx) {
      const id = userIdOf(ctx);
      const account = await repo.updateProfile(id, {
        displayName: req.displayName?.trim(),
        phone: req.phone,
      });
      if (!account) throw notFound("user", id);
      return profile(account);
    },

    async setUserRole(req, ctx) {
      if (userIdOf(ctx) === req.userId) throw invalidArgument("userId", "an admin cannot change their own role");
      const account = await repo.setRole(req.userId, req.role as Role);
      if (!account) throw notFound("user", req.userId);
      deps.logger.info({ userId: account.id, role: account.role }, "role changed");
      return { userId: account.id, email: account.email, displayName: account.displayName, role: account.role };
    },

    async getUser(req) {
      const account = await repo.findById(req.userId);
      if (!account) throw notFound("user", req.userId);
      return { user: profile(account) };
    },

    async isSessionActive(req) {
      return { active: await repo.isSessionActive(req.sessionId) };
    },
  };
}
