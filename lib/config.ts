/**
 * Typed, validated configuration from environment variables.
 *
 * Every variable is declared once with a default and a line of documentation; `readConfig`
 * reads them all at start-up, reports every problem at once, and returns a frozen object.
 * The registry of declarations feeds the README's configuration table (`npm run config:docs`),
 * and a test checks the table against it, so the docs cannot drift from the code.
 */

export interface VarSpec<T> {
  readonly name: string;
  readonly doc: string;
  /** Raw default; undefined means required. */
  readonly default?: string;
  /** True when the default is only fit for development (a marker in docs and logs). */
  readonly devDefault?: boolean;
  readonly parse: (raw: string) => T;
}

interface Options {
  doc: string;
  default?: string;
  devDefault?: boolean;
}

const registry = new Map<string, Omit<VarSpec<unknown>, "parse">>();

function declare<T>(name: string, opts: Options, parse: (raw: string) => T): VarSpec<T> {
  const spec: VarSpec<T> = { name, parse, ...opts };
  const known = registry.get(name);
  if (known && (known.default !== spec.default || known.doc !== spec.doc)) {
    throw new Error(`config variable ${name} is declared twice with different defaults or docs`);
  }
  registry.set(name, { name, doc: spec.doc, default: spec.default, devDefault: spec.devDefault });
  return spec;
}

export function str(name: string, opts: Options): VarSpec<string> {
  return declare(name, opts, (raw) => raw);
}

export function optionalStr(name: string, opts: Omit<Options, "default">): VarSpec<string | undefined> {
  return declare(name, { ...opts, default: "" }, (raw) => (raw === "" ? undefined : raw));
}

export function int(name: string, opts: Options & { min?: number; max?: number }): VarSpec<number> {
  return declare(name, opts, (raw) => {
    if (!/^-?\d+$/.test(raw.trim())) throw new Error(`must be an integer, got "${raw}"`);
    const n = Number(raw);
    if (opts.min !== undefined && n < opts.min) throw new Error(`must be >= ${opts.min}, got ${n}`);
    if (opts.max !== undefined && n > opts.max) throw new Error(`must be <= ${opts.max}, got ${n}`);
    return n;
  });
}

export function bool(name: string, opts: Options): VarSpec<boolean> {
  return declare(name, opts, (raw) => {
    const v = raw.trim().toLowerCase();
    if (["1", "true", "yes", "on"].includes(v)) return true;
    if (["0", "false", "no", "off", ""].includes(v)) return false;
    throw new Error(`must be true or false, got "${raw}"`);
  });
}

export function url(name: string, opts: Options): VarSpec<string> {
  return declare(name, opts, (raw) => {
    try {
      new URL(raw);
    } catch {
      throw new Error(`must be a URL, got "${raw}"`);
    }
    return raw.replace(/\/+$/, "");
  });
}

/** One URL, or several separated by commas (the replicas of a service); each is checked, trailing slashes go. */
export function urlList(name: string, opts: Options): VarSpec<string> {
  return declare(name, opts, (raw) => {
    const list = raw.split(",").map((u) => u.trim()).filter(Boolean);
    if (list.length === 0) throw new Error(`must be a URL or a comma-separated list of URLs, got "${raw}"`);
    for (const u of list) {
      try {
        new URL(u);
      } catch {
        throw new Error(`must be a URL or a comma-separated list of URLs, got "${u}" in "${raw}"`);
      }
    }
    return list.map((u) => u.replace(/\/+$/, "")).join(",");
  });
}

export function oneOf<T extends string>(name: string, values: readonly T[], opts: Options): VarSpec<T> {
  return declare(name, opts, (raw) => {
    if (!(values as readonly string[]).includes(raw)) {
      throw new Error(`must be one of ${values.join(", ")}, got "${raw}"`);
    }
    return raw as T;
  });
}

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`invalid configuration:\n  ${problems.join("\n  ")}`);
    this.name = "ConfigError";
  }
}

type Values<S> = { readonly [K in keyof S]: S[K] extends VarSpec<infer T> ? T : never };

/** Reads every declared variable; throws one ConfigError listing all problems. */
export function readConfig<S extends Record<string, VarSpec<unknown>>>(
  specs: S,
  env: NodeJS.ProcessEnv = process.env,
): Values<S> {
  const out: Record<string, unknown> = {};
  const problems: string[] = [];
  for (const [key, spec] of Object.entries(specs)) {
    const raw = env[spec.name] ?? spec.default;
    if (raw === undefined) {
      problems.push(`${spec.name} is required: ${spec.doc}`);
      continue;
    }
    try {
      out[key] = spec.parse(raw);
    } catch (err) {
      problems.push(`${spec.name} ${(err as Error).message}`);
    }
  }
  if (problems.length) throw new ConfigError(problems);
  return Object.freeze(out) as Values<S>;
}

/** Every variable declared so far (by the modules imported), sorted by name. */
export function declaredVariables(): Array<Omit<VarSpec<unknown>, "parse">> {
  return [...registry.values()].sort((a, b) => a.name.localeCompare(b.name));
}
