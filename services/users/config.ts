import { int, optionalStr, str } from "../../lib/config.js";
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
};

export type UsersConfig = ReturnType<typeof readUsersConfig>;

export function readUsersConfig(env: NodeJS.ProcessEnv = process.env) {
  return readServiceConfig(usersVars, env);
}
