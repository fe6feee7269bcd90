import { Code, ConnectError, type Interceptor } from "@connectrpc/connect";
import { ScalarType, type DescMessage, type Message } from "@bufbuild/protobuf";
import { reflect, type Path, type ReflectMessage } from "@bufbuild/protobuf/reflect";
import { createValidator, violationsToProto, type Violation } from "@bufbuild/protovalidate";
import type { Logger } from "./logger.js";

/** `seatLayout.sections[0].rows[1].seats[2].id`: the JSON names a REST caller sent. */
export function jsonPath(path: Path): string {
  let out = "";
  for (const el of path) {
    switch (el.kind) {
      case "field":
        out += (out ? "." : "") + el.jsonName;
        break;
      case "extension":
        out += (out ? "." : "") + `[${el.typeName}]`;
        break;
      case "oneof":
        out += (out ? "." : "") + el.name;
        break;
      case "list_sub":
        out += `[${el.index}]`;
        break;
      case "map_sub":
        out += `[${JSON.stringify(typeof el.key === "bigint" ? el.key.toString() : el.key)}]`;
        break;
    }
  }
  return out;
}

export function describeViolations(violations: Violation[]): string {
  return violations.map((v) => `${jsonPath(v.field) || "request"}: ${v.message}`).join("; ");
}

const hasNul = (v: unknown) => typeof v === "string" && v.includes("\u0000");

/**
 * The JSON path of the first string in the message that holds a NUL character, if any. Postgres
 * cannot store NUL in text, and no name, city or id of ours has a use for it: such input is the
 * caller's mistake (400), never a database error (500), wherever the string ends up.
 */
export function nulStringField(desc: DescMessage, message: Message): string | undefined {
  return nulIn(reflect(desc, message), "");
}

const IDENTIFIER = /^[A-Za-z_$][\w$]*$/;

/**
 * The same rule for parsed JSON that is not a request message (e.g. a webhook's raw body): the
 * path, under `path`, of the first string or key holding a NUL character, e.g.
 * `payload.data.object.metadata.bookingId`.
 */
export function nulStringInJson(value: unknown, path: string): string | undefined {
  if (typeof value === "string") return hasNul(value) ? path : undefined;
  if (typeof value !== "object" || value === null) return undefined;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const found = nulStringInJson(value[i], `${path}[${i}]`);
      if (found) return found;
    }
    return undefined;
  }
  for (const [key, v] of Object.entries(value)) {
    const at = IDENTIFIER.test(key) ? `${path}.${key}` : `${path}[${JSON.stringify(key)}]`;
    if (hasNul(key)) return at;
    const found = nulStringInJson(v, at);
    if (found) return found;
  }
  return undefined;
}

/** Well-known types whose JSON form hides their own fields: `{"lang": "en"}`, not `fields["lang"].stringValue`. */
const TRANSPARENT = new Set(["google.protobuf.Struct", "google.protobuf.Value", "google.protobuf.ListValue", "google.protobuf.StringValue"]);

function nulIn(msg: ReflectMessage, prefix: string): string | undefined {
  const transparent = TRANSPARENT.has(msg.desc.typeName);
  for (const field of msg.fields) {
    if (!msg.isSet(field)) continue;
    const name = transparent ? prefix : prefix ? `${prefix}.${field.jsonName}` : field.jsonName;
    switch (field.fieldKind) {
      case "scalar":
        if (field.scalar === ScalarType.STRING && hasNul(msg.get(field))) return name;
        break;
      case "message": {
        const found = nulIn(msg.get(field), name);
        if (found) return found;
        break;
      }
      case "list": {
        let i = 0;
        for (const item of msg.get(field)) {
          const at = `${name}[${i++}]`;
          if (hasNul(item)) return at;
          if (field.listKind === "message") {
            const found = nulIn(item as ReflectMessage, at);
            if (found) return found;
          }
        }
        break;
      }
      case "map":
        for (const [key, value] of msg.get(field)) {
          const at = transparent ? `${name}.${String(key)}` : `${name}[${JSON.stringify(String(key))}]`;
          if (hasNul(key) || hasNul(value)) return at;
          if (field.mapKind === "message") {
            const found = nulIn(value as ReflectMessage, at);
            if (found) return found;
          }
        }
        break;
    }
  }
  return undefined;
}

/**
 * Enforces the protovalidate rules declared in the contracts on every request message, before
 * any handler runs. A violation is InvalidArgument (HTTP 400) whose message names each field,
 * with the structured `buf.validate.Violations` as an error detail. A string holding a NUL
 * character is refused the same way, whatever the field (see nulStringField).
 */
export function validationInterceptor(logger: Logger): Interceptor {
  const validator = createValidator();
  return (next) => async (req) => {
    if (!req.stream) {
      const nul = nulStringField(req.method.input, req.message);
      if (nul) throw new ConnectError(`${nul}: must not contain a NUL character`, Code.InvalidArgument);
      const result = validator.validate(req.method.input, req.message);
      if (result.kind === "invalid") {
        const [value, desc] = violationsToProto(result.violations);
        throw new ConnectError(describeViolations(result.violations), Code.InvalidArgument, undefined, [
          { desc, value },
        ]);
      }
      if (result.kind === "error") {
        // a rule that cannot be compiled is a bug in our contract, not the caller's fault
        logger.error({ err: result.error, method: req.method.name }, "validation rules failed to evaluate");
        throw new ConnectError("internal error", Code.Internal);
      }
    }
    return next(req);
  };
}
