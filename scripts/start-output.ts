/**
 * `npm start`'s console: every line prefixed with its source (a service, Postgres, Temporal, the web
 * build, start itself) in a colour of its own, and pino's JSON shown as "LEVEL msg {fields}" on a
 * terminal. Piped output is passed through unchanged.
 */
import { SERVICE_NAMES } from "../lib/services";

const useColour = process.stdout.isTTY === true;
const LABEL_WIDTH = Math.max(...[...SERVICE_NAMES, "gateway", "workflows", "postgres", "temporal", "web"].map((n) => n.length));
const PALETTE = [36, 35, 33, 32, 34, 96, 95, 93, 92, 94];
const labelColours = new Map<string, number>();

export function colour(code: number, text: string): string {
  return useColour ? `\x1b[${code}m${text}\x1b[0m` : text;
}

function label(source: string): string {
  if (!labelColours.has(source)) labelColours.set(source, PALETTE[labelColours.size % PALETTE.length]);
  return colour(labelColours.get(source) ?? 0, source.padEnd(LABEL_WIDTH)) + " |";
}

const PINO_LEVELS: Record<number, [string, number]> = {
  10: ["TRACE", 90], 20: ["DEBUG", 90], 30: ["INFO ", 32], 40: ["WARN ", 33], 50: ["ERROR", 31], 60: ["FATAL", 41],
};

/** On a terminal, shows a pino JSON line as "LEVEL msg {other fields}"; otherwise passes it through as is. */
function prettify(line: string): string {
  if (!useColour || !line.startsWith("{")) return line;
  try {
    const { level, msg, time: _time, pid: _pid, hostname: _hostname, ...rest } = JSON.parse(line) as Record<string, unknown>;
    const [name, code] = PINO_LEVELS[Number(level)] ?? [String(level ?? "").padEnd(5), 0];
    const extra = Object.keys(rest).length > 0 ? " " + colour(90, JSON.stringify(rest)) : "";
    return `${colour(code, name)} ${String(msg ?? "")}${extra}`;
  } catch {
    return line;
  }
}

export function printLine(source: string, line: string, stream: "stdout" | "stderr" = "stdout"): void {
  (stream === "stderr" ? process.stderr : process.stdout).write(`${label(source)} ${prettify(line)}\n`);
}

export const say = (message: string): void => printLine("start", message);
export const complain = (message: string): void => printLine("start", colour(31, message), "stderr");

export function elapsed(since: number): string {
  return `${((Date.now() - since) / 1000).toFixed(1)} s`;
}
