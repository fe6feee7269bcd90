#!/usr/bin/env node
/**
 * Orphan guard: a tiny watchdog that stops the process groups of the development stack when the process that
 * started them (scripts/start.ts, or the jest global setup) dies without cleaning up, e.g. after `kill -9`.
 *
 * Why a separate process: Postgres, the Temporal dev server and the services run in their own process groups
 * (so that one Ctrl-C in the terminal reaches only the orchestrator, which then stops them in order). The
 * price is that nothing kills them if the orchestrator itself is killed. Linux can tie a child's life to its
 * parent (PR_SET_PDEATHSIG) but Node cannot set it, and we do not own the services' code, so this guard
 * watches the orchestrator instead: its stdin is a pipe from the orchestrator, and the kernel closes that pipe
 * however the orchestrator ends.
 *
 * Protocol, one command per line on stdin:
 *   watch <pgid> <SIGNAL> <name>   on end of input, send SIGNAL to process group <pgid>, SIGKILL it later
 *   release <pgid>                 the orchestrator stopped that group itself; forget it
 * End of input with no watched group (a clean shutdown) makes the guard exit at once.
 *
 * Plain CommonJS with no dependencies so that it starts in a few milliseconds without tsx.
 */
"use strict";

/** How long a group gets to stop on its own signal before the guard sends SIGKILL. */
const GRACE_MS = 10_000;
const POLL_MS = 100;

/** @type {Map<number, {signal: NodeJS.Signals, name: string}>} */
const watched = new Map();
let reaping = false;

// Detached from the terminal's process group already; ignoring these as well means a Ctrl-C or a closed
// terminal cannot take the guard down before it has done its job.
process.on("SIGINT", () => {});
process.on("SIGHUP", () => {});
process.on("SIGTERM", () => void reap("SIGTERM"));

function log(message) {
  process.stderr.write(`[orphan-guard] ${message}\n`);
}

function handleLine(line) {
  const [command, pgidText, signal, ...nameParts] = line.trim().split(/\s+/);
  const pgid = Number(pgidText);
  if (!Number.isInteger(pgid) || pgid <= 1) return;
  if (command === "watch") {
    watched.set(pgid, { signal: signal || "SIGTERM", name: nameParts.join(" ") || String(pgid) });
  } else if (command === "release") {
    watched.delete(pgid);
  }
}

/** True while any process of the group exists. */
function groupAlive(pgid) {
  try {
    process.kill(-pgid, 0);
    return true;
  } catch (err) {
    return err.code === "EPERM";
  }
}

function signalGroup(pgid, signal) {
  try {
    process.kill(-pgid, signal);
  } catch {
    // already gone
  }
}

async function reap(reason) {
  if (reaping) return;
  reaping = true;
  const groups = [...watched.entries()].filter(([pgid]) => groupAlive(pgid));
  if (groups.length > 0) {
    log(`${reason}: the orchestrator is gone; stopping ${groups.map(([, g]) => g.name).join(", ")}`);
    for (const [pgid, group] of groups) signalGroup(pgid, group.signal);
    const deadline = Date.now() + GRACE_MS;
    while (Date.now() < deadline && groups.some(([pgid]) => groupAlive(pgid))) {
      await new Promise((resolve) => setTimeout(resolve, POLL_MS));
    }
    for (const [pgid, group] of groups) {
      if (groupAlive(pgid)) {
        log(`${group.name} did not stop within ${GRACE_MS} ms; sending SIGKILL`);
        signalGroup(pgid, "SIGKILL");
      }
    }
  }
  process.exit(0);
}

let pending = "";
process.stdin.setEncoding("utf8");
process.stdin.on("data", (chunk) => {
  pending += chunk;
  const lines = pending.split("\n");
  pending = lines.pop() ?? "";
  lines.forEach(handleLine);
});
process.stdin.on("end", () => void reap("end of input"));
process.stdin.on("error", () => void reap("input error"));
