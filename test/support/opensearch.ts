import { execFile, spawn, type ChildProcess } from "node:child_process";
import { createHash } from "node:crypto";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { promisify } from "node:util";
import { ensureTool, onPath } from "./system-tools.js";
import { freePort } from "./ports.js";

/**
 * Real search engines for tests, started from Maven Central artifacts with the machine's Java 17
 * and Maven (no download outside the package registries):
 *
 *   - OpenSearch 2.19 (`startOpenSearch`): the server jar and the netty4 transport plugin,
 *     loaded as a classpath plugin by OpenSearchNode.java;
 *   - Elasticsearch 8.17 (`startElasticsearch`): the server module on the module path and the
 *     netty4 transport laid out as the node's `modules/transport-netty4`.
 *
 * For each: (1) `mvn dependency:copy-dependencies` with test/support/opensearch[/elasticsearch]/
 * pom.xml into .build/<engine>/lib-<hash>/ (first run only; Maven caches in ~/.m2 too);
 * (2) javac compiles the launcher into .build/<engine>/classes-<hash>/ (only when it changed);
 * (3) the node runs in its own JVM on two free 127.0.0.1 ports with a throw-away data folder and
 * stops when `stop()` closes its standard input (or when this process dies: the pipe closes then
 * too). Set TEST_OPENSEARCH_URL / TEST_ELASTICSEARCH_URL to use a running node instead.
 */

const REPO_ROOT = path.resolve(__dirname, "..", "..");
const SUPPORT_DIR = path.join(REPO_ROOT, "test", "support", "opensearch");

const run = promisify(execFile);

export type EngineKind = "opensearch" | "elasticsearch";

export interface RunningEngine {
  engine: EngineKind;
  /** http://127.0.0.1:<port> */
  url: string;
  /** Milliseconds from spawning the JVM to a yellow cluster (0 for an external node). */
  startMs: number;
  /** Milliseconds spent preparing jars and classes (0 when cached). */
  prepareMs: number;
  stop(): Promise<void>;
}


export interface EngineOptions {
  /** JVM heap, default 512m. */
  heap?: string;
  /** How long the node may take to start, default 120 s. */
  startTimeoutMs?: number;
  /**
   * "quick" (default) stops the JIT at its first tier: faster start, fine for tests. "full" for
   * benchmarks, where steady-state speed matters.
   */
  jit?: "quick" | "full";
}

interface EngineSpec {
  kind: EngineKind;
  dir: string;
  mainClass: string;
  readyLine: string;
  externalEnv: string;
  /** After Maven: moves jars into place (e.g. modules) inside the fresh lib folder. */
  layout?(libDir: string): void;
  /** JVM arguments that put the jars and classes in reach. */
  classArgs(libDir: string, classesDir: string): string[];
  /** Prepares the node's home folder. */
  home?(home: string, libDir: string): void;
}

const ES_MODULE = "transport-netty4";

const SPECS: Record<EngineKind, EngineSpec> = {
  opensearch: {
    kind: "opensearch",
    dir: SUPPORT_DIR,
    mainClass: "OpenSearchNode",
    readyLine: "OPENSEARCH_READY",
    externalEnv: "TEST_OPENSEARCH_URL",
    classArgs: (lib, classes) => ["-cp", [classes, path.join(lib, "*")].join(path.delimiter)],
  },
  elasticsearch: {
    kind: "elasticsearch",
    dir: path.join(SUPPORT_DIR, "elasticsearch"),
    mainClass: "ElasticsearchNode",
    readyLine: "ELASTICSEARCH_READY",
    externalEnv: "TEST_ELASTICSEARCH_URL",
    layout(lib) {
      // the transport is a module of the node (its own class loader); its jars must not be on the
      // server's path too (the node refuses duplicate classes)
      const moduleDir = path.join(lib, "modules", ES_MODULE);
      fs.mkdirSync(moduleDir, { recursive: true });
      for (const jar of fs.readdirSync(lib)) {
        if (/^(netty-|transport-netty4-).*\.jar$/.test(jar)) fs.renameSync(path.join(lib, jar), path.join(moduleDir, jar));
      }
      const version = /^transport-netty4-(.+)\.jar$/.exec(fs.readdirSync(moduleDir).find((j) => j.startsWith("transport-netty4-")) ?? "")?.[1];
      if (!version) throw new Error("transport-netty4 jar missing from the Maven output");
      fs.writeFileSync(
        path.join(moduleDir, "plugin-descriptor.properties"),
        [
          "description=Netty 4 based transport implementation",
          `version=${version}`,
          `name=${ES_MODULE}`,
          "classname=org.elasticsearch.transport.netty4.Netty4Plugin",
          "java.version=17",
          `elasticsearch.version=${version}`,
          "extended.plugins=",
          "has.native.controller=false",
          "",
        ].join("\n"),
      );
    },
    classArgs: (lib, classes) => [
      "--module-path",
      lib,
      "--add-modules",
      "ALL-MODULE-PATH",
      "-cp",
      classes,
    ],
    home(home, lib) {
      fs.mkdirSync(path.join(home, "config"), { recursive: true });
      fs.mkdirSync(path.join(home, "plugins"), { recursive: true });
      fs.symlinkSync(path.join(lib, "modules"), path.join(home, "modules"));
    },
  },
};

export function startOpenSearch(opts: EngineOptions = {}): Promise<RunningEngine> {
  return startEngine("opensearch", opts);
}

export function startElasticsearch(opts: EngineOptions = {}): Promise<RunningEngine> {
  return startEngine("elasticsearch", opts);
}

export async function startEngine(kind: EngineKind, opts: EngineOptions = {}): Promise<RunningEngine> {
  const spec = SPECS[kind];
  const external = process.env[spec.externalEnv];
  if (external) return { engine: kind, url: external.replace(/\/+$/, ""), startMs: 0, prepareMs: 0, stop: async () => undefined };

  const prepared = Date.now();
  const { libDir, classesDir } = await prepareEngine(kind);
  const prepareMs = Date.now() - prepared;

  const home = fs.mkdtempSync(path.join(os.tmpdir(), `${kind}-test-`));
  spec.home?.(home, libDir);
  const httpPort = await freePort();
  const transportPort = await freePort();
  const heap = opts.heap ?? "512m";
  const started = Date.now();
  const child = spawn(
    javaBinary("java"),
    [
      `-Xms${heap}`,
      `-Xmx${heap}`,
      // start-up over peak speed: tests are short, the JIT's second tier rarely pays off
      ...(opts.jit === "full" ? ["-XX:+UseG1GC"] : ["-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1"]),
      "-Xss1m",
      "-Djava.awt.headless=true",
      "-Dfile.encoding=UTF-8",
      "-Dlog4j2.disable.jmx=true",
      "-Dlog4j.shutdownHookEnabled=false",
      `-D${kind === "opensearch" ? "opensearch" : "es"}.set.netty.runtime.available.processors=false`,
      ...spec.classArgs(libDir, classesDir),
      spec.mainClass,
      home,
      String(httpPort),
      String(transportPort),
    ],
    { stdio: ["pipe", "pipe", "pipe"], cwd: home },
  );
  const output: string[] = [];
  const remember = (chunk: Buffer) => {
    for (const line of chunk.toString("utf8").split("\n")) if (line.trim()) output.push(line);
    if (output.length > 200) output.splice(0, output.length - 200);
  };
  child.stdout!.on("data", remember);
  child.stderr!.on("data", remember);
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));

  const url = `http://127.0.0.1:${httpPort}`;
  try {
    await waitUntilReady(spec, child, url, output, opts.startTimeoutMs ?? 120_000);
  } catch (err) {
    child.kill("SIGKILL");
    await exited;
    fs.rmSync(home, { recursive: true, force: true });
    throw err;
  }
  const startMs = Date.now() - started;

  let stopping: Promise<void> | undefined;
  return {
    engine: kind,
    url,
    startMs,
    prepareMs,
    stop() {
      stopping ??= (async () => {
        child.stdin!.end();
        const timer = setTimeout(() => child.kill("SIGKILL"), 15_000);
        await exited;
        clearTimeout(timer);
        fs.rmSync(home, { recursive: true, force: true });
      })();
      return stopping;
    },
  };
}

/** Resolves the jars (Maven) and compiles the launcher (javac), both cached under .build/. */
export async function prepareEngine(kind: EngineKind): Promise<{ libDir: string; classesDir: string }> {
  const spec = SPECS[kind];
  const pomPath = path.join(spec.dir, "pom.xml");
  const sourcePath = path.join(spec.dir, `${spec.mainClass}.java`);
  const pom = fs.readFileSync(pomPath, "utf8");
  const source = fs.readFileSync(sourcePath, "utf8");
  const buildDir = path.join(REPO_ROOT, ".build", kind);
  const libDir = path.join(buildDir, `lib-${hash(pom + (spec.layout?.toString() ?? ""))}`);
  const classesDir = path.join(buildDir, `classes-${hash(pom + source)}`);
  fs.mkdirSync(buildDir, { recursive: true });

  // java, javac and mvn, installed from Debian's packages when the machine has none
  ensureTool("java", (command) => {
    const fromHome = command === "java" || command === "javac" ? javaBinary(command) : command;
    return path.isAbsolute(fromHome) ? fromHome : onPath(command);
  });
  if (!fs.existsSync(path.join(libDir, ".complete"))) {
    const tmp = fs.mkdtempSync(path.join(buildDir, "lib-tmp-"));
    try {
      await run(
        "mvn",
        ["-q", "-B", "-f", pomPath, "dependency:copy-dependencies", `-DoutputDirectory=${tmp}`, "-DincludeScope=runtime"],
        { cwd: spec.dir, maxBuffer: 16 * 1024 * 1024, timeout: 15 * 60_000 },
      );
      spec.layout?.(tmp);
      fs.writeFileSync(path.join(tmp, ".complete"), new Date().toISOString());
      renameIntoPlace(tmp, libDir);
    } catch (err) {
      fs.rmSync(tmp, { recursive: true, force: true });
      throw new Error(`could not resolve the ${kind} jars with Maven: ${describe(err)}`, { cause: err });
    }
  }

  if (!fs.existsSync(path.join(classesDir, `${spec.mainClass}.class`))) {
    const tmp = fs.mkdtempSync(path.join(buildDir, "classes-tmp-"));
    try {
      await run(javaBinary("javac"), ["-d", tmp, "-cp", path.join(libDir, "*"), sourcePath], { timeout: 5 * 60_000 });
      renameIntoPlace(tmp, classesDir);
    } catch (err) {
      fs.rmSync(tmp, { recursive: true, force: true });
      throw new Error(`could not compile the ${kind} launcher: ${describe(err)}`, { cause: err });
    }
  }
  return { libDir, classesDir };
}

async function waitUntilReady(spec: EngineSpec, child: ChildProcess, url: string, output: string[], timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  const failure = (why: string) =>
    new Error(`${spec.kind} did not start (${why}); last output:\n${output.slice(-40).join("\n")}`);
  while (!output.some((l) => l.startsWith(spec.readyLine))) {
    if (child.exitCode !== null || child.signalCode !== null) throw failure(`the JVM exited with ${child.exitCode ?? child.signalCode}`);
    if (Date.now() > deadline) throw failure(`no ready line after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
  for (;;) {
    try {
      const res = await fetch(`${url}/_cluster/health?wait_for_status=yellow&timeout=5s`);
      if (res.ok) return;
    } catch {
      // not listening yet
    }
    if (child.exitCode !== null) throw failure(`the JVM exited with ${child.exitCode}`);
    if (Date.now() > deadline) throw failure("the cluster never turned yellow");
    await new Promise((r) => setTimeout(r, 100));
  }
}

function javaBinary(name: "java" | "javac"): string {
  const home = process.env.JAVA_HOME;
  const candidate = home ? path.join(home, "bin", name) : undefined;
  return candidate && fs.existsSync(candidate) ? candidate : name;
}

/** Another run may have finished the same folder meanwhile: then theirs stays and ours goes. */
function renameIntoPlace(tmp: string, target: string): void {
  try {
    fs.renameSync(tmp, target);
  } catch {
    fs.rmSync(tmp, { recursive: true, force: true });
    if (!fs.existsSync(target)) throw new Error(`could not move ${tmp} to ${target}`);
  }
}

function hash(text: string): string {
  return createHash("sha256").update(text).digest("hex").slice(0, 12);
}

function describe(err: unknown): string {
  const e = err as { message?: string; stderr?: string; stdout?: string };
  return [e.message, e.stderr, e.stdout].filter(Boolean).join("\n").slice(0, 4000);
}
