import { Code } from "@connectrpc/connect";
import { RateLimitedError } from "../../../lib/errors.js";
import { JoinGate } from "../domain/join-gate.js";

describe("the waiting room's front door", () => {
  it("works on at most `max` joins at once, refuses the rest with 429 and Retry-After, and frees a slot when a join ends, even a failed one", async () => {
    const gate = new JoinGate(2, 3);
    const release: Array<() => void> = [];
    const pending = () => new Promise<string>((resolve) => release.push(() => resolve("joined")));
    const a = gate.run(pending);
    const b = gate.run(pending);
    expect(gate.busy).toBe(2);

    const refused = await gate.run(pending).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(RateLimitedError);
    expect((refused as RateLimitedError).code).toBe(Code.ResourceExhausted);
    expect((refused as RateLimitedError).retryAfterSeconds).toBe(3);
    expect(release).toHaveLength(2); // the refused join never started

    release[0]();
    await expect(a).resolves.toBe("joined");
    expect(gate.busy).toBe(1);
    await expect(gate.run(() => Promise.reject(new Error("database down")))).rejects.toThrow("database down");
    expect(gate.busy).toBe(1);
    const c = gate.run(pending);
    release[1]();
    release[2]();
    await expect(Promise.all([b, c])).resolves.toEqual(["joined", "joined"]);
    expect(gate.busy).toBe(0);
  });
});
