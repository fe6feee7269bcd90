/**
 * The browser app's build for `npm start` (and the browser tests): `vite build` of web/ into
 * web/dist, run only when the build is missing or older than anything it is built from (the
 * app's sources and config, the generated contracts in gen/, the lockfile). The gateway serves
 * web/dist at `/`.
 */
import { spawn } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";

const REPO_ROOT = path.resolve(__dirname, "..");
export const WEB_DIST = path.join(REPO_ROOT, "web", "dist");
/**
 * Written once a build has exited successfully (Vite writes its files in parallel, so none of
 * them says the build finished): its mtime says when web/dist was built. `vite build` empties
 * web/dist first, so an interrupted build leaves no stamp.
 */
const STAMP = path.join(WEB_DIST, ".built");
/** What the build reads, besides node_modules (covered by the lockfile). */
const INPUTS = ["web/src", "web/public", "web/build", "web/index.html", "web/vite.config.ts", "web/tsconfig.json", "gen", "package-lock.json"];

function newestMtime(entry: string): number {
  let stat: fs.Stats;
  try {
    stat = fs.statSync(entry);
  } catch {
    return 0;
  }
  if (!stat.isDirectory()) return stat.mtimeMs;
  let newest = stat.mtimeMs; // a deleted file changes its directory's mtime
  for (const name of fs.readdirSync(entry)) newest = Math.max(newest, newestMtime(path.join(entry, name)));
  return newest;
}

/** Why web/dist must be (re)built, or undefined when it is up to date. */
export function webBuildStaleReason(): string | undefined {
  let built: number;
  try {
    built = fs.statSync(STAMP).mtimeMs;
  } catch {
    return "web/dist is missing or was not built to the end";
  }
  for (const input of INPUTS) {
    if (newestMtime(path.join(REPO_ROOT, input)) > built) return `${input} changed since the last build`;
  }
  return undefined;
}

/**
 * Builds the app when it is missing or stale; each line of Vite's output goes to `onLine`.
 * Resolves with what happened; rejects when the build fails.
 */
export async function ensureWebBuilt(onLine: (line: string) => void, signal?: AbortSignal): Promise<"up to date" | "built"> {
  const reason = webBuildStaleReason();
  if (!reason) return "up to date";
  onLine(`building the web app (${reason})`);
  // vite's package exports do not include its CLI script: find it next to its package.json
  const vite = path.join(path.dirname(require.resolve("vite/package.json", { paths: [REPO_ROOT] })), "bin", "vite.js");
  await new Promise<void>((resolve, reject) => {
    const child = spawn(process.execPath, [vite, "build", "--config", "web/vite.config.ts", "--logLevel", "warn"], {
      cwd: REPO_ROOT,
      // always the production build of React and the app: jest runs with NODE_ENV=test, which
      // Vite would otherwise pass on (a development React: 50 % more JavaScript, 3× slower)
      env: { ...process.env, NODE_ENV: "production" },
      stdio: ["ignore", "pipe", "pipe"],
      signal,
    });
    let tail = "";
    const collect = (chunk: Buffer) => {
      const text = chunk.toString();
      tail = (tail + text).slice(-4000);
      for (const line of text.split("\n")) if (line.trim()) onLine(line);
    };
    child.stdout.on("data", collect);
    child.stderr.on("data", collect);
    child.once("error", reject);
    child.once("exit", (code) => (code === 0 ? resolve() : reject(new Error(`vite build failed (exit code ${code}):\n${tail}`))));
  });
  fs.writeFileSync(STAMP, `${new Date().toISOString()}\n`);
  return "built";
}
