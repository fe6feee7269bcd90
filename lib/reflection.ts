import { toBinary, type DescExtension, type DescFile, type DescService } from "@bufbuild/protobuf";
import { nestedTypes } from "@bufbuild/protobuf/reflect";
import { FileDescriptorProtoSchema } from "@bufbuild/protobuf/wkt";
import type { ConnectRouter } from "@connectrpc/connect";
import { ServerReflection as ReflectionV1 } from "../gen/grpc/reflection/v1/reflection_pb.js";
import { ServerReflection as ReflectionV1alpha } from "../gen/grpc/reflection/v1alpha/reflection_pb.js";

/** gRPC status NOT_FOUND, as reflection's error_response carries it. */
const NOT_FOUND = 5;

/** What both reflection versions ask: their request messages have the same fields. */
interface ReflectionRequest {
  messageRequest:
    | { case: "fileByFilename" | "fileContainingSymbol" | "allExtensionNumbersOfType" | "listServices"; value: string }
    | { case: "fileContainingExtension"; value: { containingType: string; extensionNumber: number } }
    | { case: undefined; value?: undefined };
}

/**
 * Serves the gRPC server reflection protocol (grpc.reflection.v1 and v1alpha) for the services
 * on `router`, so `buf curl`, grpcurl and Postman can call any of our services with no .proto at
 * hand. It answers from the descriptors the generated code embeds: each file with the files it
 * imports. Public, like health: the schema is no secret (the contracts are in the repository).
 */
export function serveReflection(router: ConnectRouter): void {
  const index = new ReflectionIndex([...new Set(router.handlers.map((h) => h.service)), ReflectionV1, ReflectionV1alpha]);
  router.service(ReflectionV1, {
    async *serverReflectionInfo(requests) {
      for await (const req of requests) yield { originalRequest: req, ...index.answer(req) };
    },
  });
  router.service(ReflectionV1alpha, {
    async *serverReflectionInfo(requests) {
      for await (const req of requests) yield { originalRequest: req, ...index.answer(req) };
    },
  });
}

class ReflectionIndex {
  private readonly files = new Map<string, DescFile>();
  private readonly symbols = new Map<string, DescFile>();
  private readonly extensions: DescExtension[] = [];

  constructor(private readonly services: DescService[]) {
    for (const s of services) this.addFile(s.file);
  }

  answer(req: ReflectionRequest) {
    const r = req.messageRequest;
    switch (r.case) {
      case "listServices":
        return this.ok("listServicesResponse", { service: this.services.map((s) => ({ name: s.typeName })) });
      case "fileByFilename":
        return this.fileResponse(this.files.get(r.value), `file ${r.value}`);
      case "fileContainingSymbol":
        return this.fileResponse(this.symbols.get(r.value), `symbol ${r.value}`);
      case "fileContainingExtension": {
        const ext = this.extensions.find((e) => e.extendee.typeName === r.value.containingType && e.number === r.value.extensionNumber);
        return this.fileResponse(ext?.file, `extension ${r.value.extensionNumber} of ${r.value.containingType}`);
      }
      case "allExtensionNumbersOfType": {
        if (!this.symbols.has(r.value)) return this.notFound(`type ${r.value}`);
        const numbers = this.extensions.filter((e) => e.extendee.typeName === r.value).map((e) => e.number);
        return this.ok("allExtensionNumbersResponse", { baseTypeName: r.value, extensionNumber: numbers });
      }
      default:
        return { messageResponse: { case: "errorResponse" as const, value: { errorCode: 3, errorMessage: "no request" } } };
    }
  }

  private addFile(file: DescFile): void {
    if (this.files.has(file.name)) return;
    this.files.set(file.name, file);
    for (const type of nestedTypes(file)) {
      this.symbols.set(type.typeName, file);
      if (type.kind === "service") for (const m of type.methods) this.symbols.set(`${type.typeName}.${m.name}`, file);
      if (type.kind === "extension") this.extensions.push(type);
    }
    for (const dep of file.dependencies) this.addFile(dep);
  }

  /** The file and every file it imports, transitively: a client can compile it with no more requests. */
  private fileResponse(file: DescFile | undefined, what: string) {
    if (!file) return this.notFound(what);
    const all = new Map<string, DescFile>();
    const visit = (f: DescFile) => {
      if (all.has(f.name)) return;
      all.set(f.name, f);
      f.dependencies.forEach(visit);
    };
    visit(file);
    const fileDescriptorProto = [...all.values()].map((f) => toBinary(FileDescriptorProtoSchema, f.proto));
    return this.ok("fileDescriptorResponse", { fileDescriptorProto });
  }

  private ok<C extends "listServicesResponse" | "fileDescriptorResponse" | "allExtensionNumbersResponse", V>(kind: C, value: V) {
    return { messageResponse: { case: kind, value } };
  }

  private notFound(what: string) {
    return { messageResponse: { case: "errorResponse" as const, value: { errorCode: NOT_FOUND, errorMessage: `${what} not found` } } };
  }
}
