import { readFileSync } from "node:fs";
import { loadSigningKey, TokenIssuer } from "../../lib/auth.js";
import { openDatabase } from "../../lib/db.js";
import { createLogger } from "../../lib/logger.js";
import { runMain } from "../../lib/server.js";
import { readUsersConfig, usersLimitsOf } from "./config.js";
import { migrations, SCHEMA } from "./db/migrations.js";
import { UsersRepo } from "./db/repo.js";
import { hashPassword } from "./domain/passwords.js";
import { normalizeEmail } from "./domain/tokens.js";
import { build } from "./server.js";

const config = readUsersConfig();
const logger = createLogger("users", config.logLevel);

runMain(logger, async () => {
  const pem = config.jwtPrivateKey ?? (config.jwtPrivateKeyFile ? readFileSync(config.jwtPrivateKeyFile, "utf8") : undefined);
  const { key, ephemeral } = loadSigningKey(pem);
  if (ephemeral) {
    if (config.nodeEnv === "production") throw new Error("JWT_PRIVATE_KEY or JWT_PRIVATE_KEY_FILE is required in production");
    logger.warn("no JWT_PRIVATE_KEY: signing with an ephemeral key (development only; tokens die with this process)");
  }
  const issuer = await TokenIssuer.create({
    privateKey: key,
    issuer: config.jwtIssuer,
    audience: config.jwtAudience,
    ttlSeconds: config.accessTokenTtlSeconds,
  });
  const db = await openDatabase({ url: config.databaseUrl, schema: SCHEMA, migrations, poolMax: config.databasePoolMax });
  const repo = new UsersRepo(db);
  await repo.ensureAccount(normalizeEmail(config.bootstrapAdminEmail), "admin", () => hashPassword(config.bootstrapAdminPassword), "Administrator");
  if (config.bootstrapDoorEmail && config.bootstrapDoorPassword) {
    const { bootstrapDoorEmail: email, bootstrapDoorPassword: password } = config;
    await repo.ensureAccount(normalizeEmail(email), "door", () => hashPassword(password), "Door staff");
  }
  const server = await build({
    db,
    issuer,
    logger,
    host: config.host,
    port: config.port,
    serviceAuthSecret: config.serviceAuthSecret,
    refreshTokenTtlSeconds: config.refreshTokenTtlSeconds,
    limits: usersLimitsOf(config),
  });
  return {
    async close() {
      await server.close();
      await db.destroy();
    },
  };
});
