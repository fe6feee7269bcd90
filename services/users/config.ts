import { int, optionalStr, str } from "../../lib/config.js";
import type { UsersLimitSettings } from "./limits.js";
import { readServiceConfig, commonVars, databaseVars, portVar, sessionVars } from "../../lib/common-config.js";

export const usersVars = {
  ...commonVars,
  ...databaseVars,
  port: portVar("users"),
  jwtPrivateKey: optionalStr("JWT_PRIVATE_KEY", {
    doc: "users: Ed25519 private key (PKCS#8 PEM) that signs access tokens; unset = an ephemeral key per start (development only)",
  }),
  jwtPrivateKeyFile: optionalStr("JWT_PRIVATE_KEY_FILE", {
    doc: "users: file holding JWT_PRIVATE_KEY instead (`npm start` generates a development key in .data/)",
  }),
  accessTokenTtlSeconds: int("ACCESS_TOKEN_TTL_SECONDS", {
    default: "900",
    min: 60,
    max: 86_400,
    doc: "users: lifetime of access tokens",
  }),
  ...sessionVars,
  loginMaxFailuresPerAccount: int("USERS_LOGIN_MAX_FAILURES_PER_ACCOUNT", {
    default: "5",
    min: 0,
    max: 1000,
    doc: "users: failed sign-ins of one account (email) before it is locked out (429); 0 = never",
  }),
  loginMaxFailuresPerAddress: int("USERS_LOGIN_MAX_FAILURES_PER_ADDRESS", {
    default: "20",
    min: 0,
    max: 100_000,
    doc: "users: failed sign-ins from one client address (IPv6: its /64) before it is locked out (429); 0 = never",
  }),
  loginLockoutBaseSeconds: int("USERS_LOGIN_LOCKOUT_BASE_SECONDS", {
    default: "30",
    min: 1,
    max: 86_400,
    doc: "users: the first lock-out's length; each further failure after one lifts doubles it",
  }),
  loginLockoutMaxSeconds: int("USERS_LOGIN_LOCKOUT_MAX_SECONDS", {
    default: "900",
    min: 1,
    max: 604_800,
    doc: "users: the longest lock-out",
  }),
  loginFailureMemorySeconds: int("USERS_LOGIN_FAILURE_MEMORY_SECONDS", {
    default: "3600",
    min: 60,
    max: 2_592_000,
    doc: "users: failed sign-ins are forgotten this long after the last one (a successful sign-in forgets the account's at once)",
  }),
  registrationsPerAddress: int("USERS_REGISTRATIONS_PER_ADDRESS", {
    default: "20",
    min: 0,
    max: 1_000_000,
    doc: "users: registrations from one client address (IPv6: its /64) per USERS_REGISTRATION_WINDOW_SECONDS (429 past it); 0 = no limit",
  }),
  registrationWindowSeconds: int("USERS_REGISTRATION_WINDOW_SECONDS", {
    default: "3600",
    min: 1,
    max: 604_800,
    doc: "users: the window of USERS_REGISTRATIONS_PER_ADDRESS",
  }),
  bootstrapAdminEmail: str("BOOTSTRAP_ADMIN_EMAIL", {
    default: "admin@ticketing.local",
    devDefault: true,
    doc: "users: admin account created at start-up when missing",
  }),
  bootstrapAdminPassword: str("BOOTSTRAP_ADMIN_PASSWORD", {
    default: "change-me-admin",
    devDefault: true,
    doc: "users: password of that admin account (only used when creating it)",
  }),
  bootstrapDoorEmail: optionalStr("BOOTSTRAP_DOOR_EMAIL", {
    doc: "users: a door staff account (checks tickets in at /door) created at start-up when missing, with BOOTSTRAP_DOOR_PASSWORD; `npm start` sets door@ticketing.local (development only)",
  }),
  bootstrapDoorPassword: optionalStr("BOOTSTRAP_DOOR_PASSWORD", {
    doc: "users: password of that door account (only used when creating it); `npm start` sets change-me-door (development only)",
  }),
};

export type UsersConfig = ReturnType<typeof readUsersConfig>;

export function readUsersConfig(env: NodeJS.ProcessEnv = process.env) {
  return readServiceConfig(usersVars, env);
}

/** The sign-in and registration limits of a read configuration (services/users/limits.ts). */
export function usersLimitsOf(c: UsersConfig): UsersLimitSettings {
  return {
    loginMaxFailuresPerAccount: c.loginMaxFailuresPerAccount,
    loginMaxFailuresPerAddress: c.loginMaxFailuresPerAddress,
    loginLockoutBaseSeconds: c.loginLockoutBaseSeconds,
    loginLockoutMaxSeconds: c.loginLockoutMaxSeconds,
    loginFailureMemorySeconds: c.loginFailureMemorySeconds,
    registrationsPerAddress: c.registrationsPerAddress,
    registrationWindowSeconds: c.registrationWindowSeconds,
  };
}
