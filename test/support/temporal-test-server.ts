/**
 * Temporal's time-skipping test server for workflow tests with long timers, started here rather
 * than by the SDK: `TestWorkflowEnvironment.createTimeSkipping` gives the server 5 s to start (a
 * constant of the SDK's core), which a 2-core machine running Chromium and a whole stack in the
 * other jest worker does not always meet. Here it gets as long as it needs (up to a minute), and
 * the environment connects to it as an existing server that supports time skipping.
 */
import { spawn } from "node:child_process";
import * as net from "node:net";
import { TestWorkflowEnvironment } from "@temporalio/testing";
import { freePort } from "./ports";

const START_TIMEOUT_MS = 60_000;

function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ port, host: "127.0.0.1" });
    socket.once("connect", () => {
      socket.destroy();
      resolve(true);
    });
    socket.once("error", () => resolve(false));
  });
}

/**
 * The SDK builds every environment with its static `create` (the public factories are thin
 * wrappers); it is private in the type declarations, and no public factory pairs an existing
 * server with time skipping, so it is called directly. The SDK version is pinned by the lockfile;
 * should `create` ever go, this fails loudly here rather than skipping time wrongly.
 */
function connectTimeSkipping(address: string): Promise<TestWorkflowEnvironment> {
  const factory = (TestWorkflowEnvironment as unknown as { create?: (opts: object) => Promise<TestWorkflowEnvironment> }).create;
  if (typeof factory !== "function") throw new Error("@temporalio/testing has no TestWorkflowEnvironment.create any more: update test/support/temporal-test-server.ts");
  return factory.call(TestWorkflowEnvironment, { server: { type: "existing" }, address, supportsTimeSkipping: true });
}

export async function startTimeSkippingEnvironment(executable: string): Promise<{ env: TestWorkflowEnvironment; stop: () => Promise<void> }> {
  const port = await freePort();
  const child = spawn(executable, [String(port)], { stdio: ["ignore", "ignore", "pipe"] });
  let stderr = "";
  child.stderr.on("data", (chunk: Buffer) => (stderr = (stderr + chunk.toString()).slice(-2000)));
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
    await exited;
  };
  const deadline = Date.now() + START_TIMEOUT_MS;
  while (!(await accepts(port))) {
    if (child.exitCode !== null || Date.now() > deadline) {
      await stop();
      throw new Error(`the Temporal test server did not start on port ${port}: ${stderr || "no output"}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  try {
    const env = await connectTimeSkipping(`127.0.0.1:${port}`);
    return {
      env,
      stop: async () => {
        await env.teardown();
        await stop();
      },
    };
  } catch (err) {
    await stop();
    throw err;
  }
}
