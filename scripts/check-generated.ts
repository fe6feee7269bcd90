/**
 * Fails when gen/ differs from what proto/ generates: regenerates into a temporary folder with
 * the same buf.gen.yaml and compares file by file (CI runs this through `npm test`).
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative, resolve } from "node:path";
import { vendorProtos } from "./vendor-protos";

const root = resolve(__dirname, "..");

function listFiles(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    for (const name of readdirSync(d)) {
      const p = join(d, name);
      if (statSync(p).isDirectory()) walk(p);
      else out.push(relative(dir, p));
    }
  };
  walk(dir);
  return out.sort();
}

vendorProtos();
const tmp = mkdtempSync(join(tmpdir(), "gen-check-"));
try {
  execFileSync(join(root, "node_modules", ".bin", "buf"), ["generate", "-o", tmp], { cwd: root, stdio: "inherit" });
  const fresh = join(tmp, "gen");
  const committed = join(root, "gen");
  const a = listFiles(fresh);
  const b = listFiles(committed);
  const problems: string[] = [];
  for (const f of a) if (!b.includes(f)) problems.push(`missing in gen/: ${f}`);
  for (const f of b) if (!a.includes(f)) problems.push(`not generated from proto/ (stale): gen/${f}`);
  for (const f of a.filter((x) => b.includes(x))) {
    if (!readFileSync(join(fresh, f)).equals(readFileSync(join(committed, f)))) problems.push(`differs: gen/${f}`);
  }
  if (problems.length) {
    console.error(`gen/ is out of date with proto/ — run \`npm run generate\` and commit:\n  ${problems.join("\n  ")}`);
    process.exit(1);
  }
  console.log(`gen/ matches proto/ (${a.length} files)`);
} finally {
  rmSync(tmp, { recursive: true, force: true });
}
