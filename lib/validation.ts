import { Code, ConnectError, type Interceptor } from "@connectrpc/connect";
import type { Path } from "@bufbuild/protobuf/reflect";
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

/**
 * Enforces the protovalidate rules declared in the contracts on every request message, before
 * any handler runs. A violation is InvalidArgument (HTTP 400) whose message names each field,
 * with the structured `buf.validate.Violations` as an error detail.
 */
export function validationInterceptor(logger: Logger): Interceptor {
  const validator = createValidator();
  return (next) => async (req) => {
    if (!req.stream) {
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
