/**
 * The whole platform started the way a user starts it (scripts/platform-stack.ts launches
 * `npm start`'s script), for end-to-end tests: its output for failure messages, a cleanup that
 * leaves no process behind even after a failure, and helpers to check that a stop left no
 * process or port. Linux only (reads /proc).
 */
import * as fs from "node:fs";
import { launchPlatform, type PlatformProcess } from "../../scripts/platform-stack";
import { isPortFree } from "../../scripts/ports";

export { READY_TIMEOUT_MS } from "../../scripts/platform-stack";

export interface Stack extends PlatformProcess {
  cleanup(): Promise<void>;
}

export async function launchStack(extraEnv: Record<string, string> = {}): Promise<Stack> {
  const p = await launchPlatform(extraEnv);
  const cleanup = async (): Promise<void> => {
    // only after a failure is anything left: do not let it leak into the next test
    const leftovers = processTree(p.child.pid as number);
    if (p.child.exitCode === null && p.child.signalCode === null) {
      p.child.kill("SIGKILL");
      await p.exited;
    }
    for (const proc of leftovers) killIfSame(proc);
    fs.rmSync(p.dataDir, { recursive: true, force: true });
  };
  return { ...p, cleanup };
}

export function withOutput(err: unknown, stack: PlatformProcess): Error {
  const error = err instanceof Error ? err : new Error(String(err));
  error.message +=
    `\n\nstart.ts said:\n${stack.ownOutput.join("\n")}` +
    `\n\nlast output (start.ts and the services):\n${stack.output.join("\n")}`;
  return error;
}

// ───────────────────────────── processes (/proc) ─────────────────────────────

export interface ProcInfo {
  pid: number;
  /** Start time in clock ticks since boot: tells a reused pid from the original. */
  startTime: string;
  command: string;
}

function readStat(pid: number): { ppid: number; state: string; startTime: string; command: string } | undefined {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, "utf8");
    // "pid (comm) state ppid ...": comm may contain spaces and parentheses, so split after the last ")"
    const close = stat.lastIndexOf(")");
    const fields = stat.slice(close + 2).split(" ");
    return { state: fields[0], ppid: Number(fields[1]), startTime: fields[19], command: stat.slice(stat.indexOf("(") + 1, close) };
  } catch {
    return undefined;
  }
}

/** `root` and all its descendants, found by walking parent pids in /proc. */
export function processTree(root: number): ProcInfo[] {
  const children = new Map<number, number[]>();
  for (const entry of fs.readdirSync("/proc")) {
    const pid = Number(entry);
    if (!Number.isInteger(pid)) continue;
    const stat = readStat(pid);
    if (stat) children.set(stat.ppid, [...(children.get(stat.ppid) ?? []), pid]);
  }
  const tree: ProcInfo[] = [];
  const queue = [root];
  while (queue.length > 0) {
    const pid = queue.shift() as number;
    const stat = readStat(pid);
    if (stat) tree.push({ pid, startTime: stat.startTime, command: stat.command });
    queue.push(...(children.get(pid) ?? []));
  }
  return tree;
}

/** The recorded processes that still run (zombies and reused pids do not count). */
export function stillAlive(tree: ProcInfo[]): string[] {
  return tree
    .filter((proc) => {
      const stat = readStat(proc.pid);
      return stat !== undefined && stat.startTime === proc.startTime && stat.state !== "Z";
    })
    .map((proc) => `${proc.pid} ${proc.command}`);
}

export function killIfSame(proc: ProcInfo): void {
  if (readStat(proc.pid)?.startTime !== proc.startTime) return;
  try {
    process.kill(proc.pid, "SIGKILL");
  } catch {
    // gone meanwhile
  }
}

// ───────────────────────────── ports ─────────────────────────────

export async function busyPorts(ports: Record<string, number>): Promise<string[]> {
  const busy: string[] = [];
  for (const [name, port] of Object.entries(ports)) {
    if (!(await isPortFree(port))) busy.push(`${name}=${port}`);
  }
  return busy;
}
