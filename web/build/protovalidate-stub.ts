/**
 * The generated contracts (gen/) import protovalidate's descriptor, `buf/validate/validate.proto`,
 * because their fields carry validation rules as options. The browser never runs protovalidate
 * (the services validate every request), and a file's options decode without the extension's
 * definition, so the 85 kB descriptor (about 17 kB gzipped, an eighth of the initial JavaScript
 * budget) is replaced in the bundle by a descriptor with the same name and package and nothing
 * else: enough for the files that import it to resolve their dependency by name.
 */
import { create, toBinary } from "@bufbuild/protobuf";
import { FileDescriptorProtoSchema } from "@bufbuild/protobuf/wkt";
import type { Plugin } from "vite";

const IMPORTED_AS = "@bufbuild/protovalidate/gen/buf/validate/validate_pb.js";
const VIRTUAL_ID = "\0protovalidate-descriptor-stub";

export function protovalidateDescriptorStub(): Plugin {
  const stub = create(FileDescriptorProtoSchema, { name: "buf/validate/validate.proto", package: "buf.validate", syntax: "proto3" });
  const base64 = Buffer.from(toBinary(FileDescriptorProtoSchema, stub)).toString("base64");
  return {
    name: "protovalidate-descriptor-stub",
    enforce: "pre",
    resolveId(id) {
      return id === IMPORTED_AS ? VIRTUAL_ID : null;
    },
    load(id) {
      if (id !== VIRTUAL_ID) return null;
      return [
        'import { fileDesc } from "@bufbuild/protobuf/codegenv2";',
        `export const file_buf_validate_validate = /*@__PURE__*/ fileDesc(${JSON.stringify(base64)});`,
      ].join("\n");
    },
  };
}
