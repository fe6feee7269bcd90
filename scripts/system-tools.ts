/**
 * System tools that tests and scripts need beyond Node and Python: Chromium (browser tests),
 * Java with Maven (the embedded OpenSearch and Elasticsearch nodes) and Go (stripe-mock). Each is
 * looked up first; when it is missing, Debian's packages are installed with apt-get (as root, or
 * through passwordless sudo), the way the Temporal CLI is installed with pip. `.ci/run` installs
 * them before the tests, which keeps that out of the test timings.
 */
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";

/** The first executable named `command` on PATH, or undefined. */
export function onPath(command: string): string | undefined {
  for (const dir of (process.env.PATH ?? "").split(path.delimiter)) {
    if (!dir) continue;
    const candidate = path.join(dir, command);
    try {
      fs.accessSync(candidate, fs.constants.X_OK);
      return candidate;
    } catch {
      // not here
    }
  }
  return undefined;
}

/** Installs Debian packages with apt-get; throws with `hint` when that is not possible. */
export function aptInstall(packages: string[], hint: string): void {
  const root = process.getuid?.() === 0;
  const sudo = root ? [] : ["sudo", "-n"];
  const run = (args: string[]) => {
    const [cmd, ...rest] = [...sudo, ...args];
    const r = spawnSync(cmd, rest, { stdio: "inherit", env: { ...process.env, DEBIAN_FRONTEND: "noninteractive" } });
    if (r.status !== 0) throw new Error(`\`${[cmd, ...rest].join(" ")}\` failed (exit code ${r.status}); ${hint}`);
  };
  console.log(`[system-tools] installing ${packages.join(", ")} with apt-get (one time)`);
  run(["apt-get", "update", "-qq"]);
  run(["apt-get", "install", "-y", "-qq", ...packages]);
}

/** Each tool: the commands that must run, and the Debian packages that provide them. */
const TOOLS = {
  /** JDK (java, javac) and Maven, for the embedded search engines. */
  java: { commands: ["java", "javac", "mvn"], packages: ["default-jdk-headless", "maven"] },
  /** Go, to build stripe-mock. */
  go: { commands: ["go"], packages: ["golang-go"] },
} as const;

/**
 * Makes sure the tool's commands run, installing its packages when one is missing. `found`
 * says where a command is when PATH alone does not (e.g. $JAVA_HOME/bin, /usr/local/go/bin).
 */
export function ensureTool(tool: keyof typeof TOOLS, found: (command: string) => string | undefined = onPath): void {
  const { commands, packages } = TOOLS[tool];
  if (commands.every((c) => found(c))) return;
  aptInstall([...packages], `install ${commands.join(", ")} yourself (see the README's "The two commands")`);
  const missing = commands.filter((c) => !found(c));
  if (missing.length > 0) throw new Error(`apt-get installed ${packages.join(", ")}, but ${missing.join(", ")} still cannot be found`);
}
