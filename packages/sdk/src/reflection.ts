/**
 * grpc.reflection.v1.ServerReflection, served by every component, so that
 * `buf curl`, grpcurl and other reflection clients call it with no schema.
 */
import { create, toBinary } from "@bufbuild/protobuf";
import type { DescFile, DescService, MessageInitShape } from "@bufbuild/protobuf";
import { nestedTypes } from "@bufbuild/protobuf/reflect";
import { FileDescriptorProtoSchema } from "@bufbuild/protobuf/wkt";
import { Code } from "@connectrpc/connect";
import type { ServiceImpl } from "@connectrpc/connect";
import { ServerReflection, ServerReflectionResponseSchema } from "@moby-core/grpc-reflection-api/v1";
import type { ServerReflectionRequest, ServerReflectionResponse } from "@moby-core/grpc-reflection-api/v1";

/** The files, symbols and extensions of a set of served services, indexed for reflection. */
export class DescriptorIndex {
  private readonly files = new Map<string, DescFile>();
  private readonly symbols = new Map<string, DescFile>();
  private readonly extensions = new Map<string, Map<number, DescFile>>();
  /** The fully qualified names of the served services, sorted. */
  readonly serviceNames: string[];

  /** Indexes the files of services, and extra files whose types travel in Any fields. */
  constructor(services: DescService[], extraFiles: DescFile[] = []) {
    this.serviceNames = services.map((s) => s.typeName).sort();
    for (const service of services) this.addFile(service.file);
    for (const file of extraFiles) this.addFile(file);
  }

  private addFile(file: DescFile): void {
    // Index by the name in the descriptor ("google/protobuf/timestamp.proto"):
    // that is what importing files and reflection clients use.
    if (this.files.has(file.proto.name)) return;
    this.files.set(file.proto.name, file);
    for (const type of nestedTypes(file)) {
      this.symbols.set(type.typeName, file);
      if (type.kind === "service") {
        for (const method of type.methods) this.symbols.set(`${type.typeName}.${method.name}`, file);
      }
      if (type.kind === "extension") {
        const byNumber = this.extensions.get(type.extendee.typeName) ?? new Map<number, DescFile>();
        byNumber.set(type.number, file);
        this.extensions.set(type.extendee.typeName, byNumber);
      }
    }
    for (const dependency of file.dependencies) this.addFile(dependency);
  }

  /** The file with this name, if served. */
  fileByName(name: string): DescFile | undefined {
    return this.files.get(name);
  }

  /** The file that defines a message, enum, service, method or extension. */
  fileContainingSymbol(symbol: string): DescFile | undefined {
    return this.symbols.get(symbol);
  }

  /** The file that defines extension number of type extendee. */
  fileContainingExtension(extendee: string, number: number): DescFile | undefined {
    return this.extensions.get(extendee)?.get(number);
  }

  /** The extension numbers of a message type, or undefined when the type is unknown. */
  extensionNumbers(extendee: string): number[] | undefined {
    if (!this.symbols.has(extendee)) return undefined;
    return [...(this.extensions.get(extendee)?.keys() ?? [])].sort((a, b) => a - b);
  }
}

/** A file and every file it imports, transitively, the file first, each once, encoded. */
function encodeWithDependencies(file: DescFile): Uint8Array[] {
  const ordered: DescFile[] = [];
  const seen = new Set<string>();
  const visit = (f: DescFile) => {
    if (seen.has(f.proto.name)) return;
    seen.add(f.proto.name);
    ordered.push(f);
    f.dependencies.forEach(visit);
  };
  visit(file);
  return ordered.map((f) => toBinary(FileDescriptorProtoSchema, f.proto));
}

/** Answers one reflection request from the index. */
export function answerReflection(index: DescriptorIndex, request: ServerReflectionRequest): ServerReflectionResponse {
  const reply = (messageResponse: MessageInitShape<typeof ServerReflectionResponseSchema>["messageResponse"]) =>
    create(ServerReflectionResponseSchema, { validHost: request.host, originalRequest: request, messageResponse });
  const files = (file: DescFile | undefined, what: string) =>
    file === undefined
      ? reply({ case: "errorResponse", value: { errorCode: Code.NotFound, errorMessage: `${what} not found` } })
      : reply({ case: "fileDescriptorResponse", value: { fileDescriptorProto: encodeWithDependencies(file) } });

  const message = request.messageRequest;
  switch (message.case) {
    case "fileByFilename":
      return files(index.fileByName(message.value), `file ${message.value}`);
    case "fileContainingSymbol":
      return files(index.fileContainingSymbol(message.value), `symbol ${message.value}`);
    case "fileContainingExtension":
      return files(
        index.fileContainingExtension(message.value.containingType, message.value.extensionNumber),
        `extension ${message.value.extensionNumber} of ${message.value.containingType}`,
      );
    case "allExtensionNumbersOfType": {
      const numbers = index.extensionNumbers(message.value);
      if (numbers === undefined) {
        return reply({ case: "errorResponse", value: { errorCode: Code.NotFound, errorMessage: `type ${message.value} not found` } });
      }
      return reply({ case: "allExtensionNumbersResponse", value: { baseTypeName: message.value, extensionNumber: numbers } });
    }
    case "listServices":
      return reply({ case: "listServicesResponse", value: { service: index.serviceNames.map((name) => ({ name })) } });
    default:
      return reply({ case: "errorResponse", value: { errorCode: Code.InvalidArgument, errorMessage: "empty reflection request" } });
  }
}

/** The implementation of grpc.reflection.v1.ServerReflection for the given index. */
export function reflectionService(index: DescriptorIndex): Partial<ServiceImpl<typeof ServerReflection>> {
  return {
    async *serverReflectionInfo(requests) {
      for await (const request of requests) yield answerReflection(index, request);
    },
  };
}
