import * as http2 from "node:http2";
import { connect } from "node:net";
import { create, toBinary } from "@bufbuild/protobuf";
import { BytesValueSchema } from "@bufbuild/protobuf/wkt";
import { GrpcServer } from "../../packages/sdk/dist/grpc/grpc-server.js";
import { EchoService } from "../gen/bench/v1/echo_pb.js";
void EchoService;
const { createFileRegistry } = await import("@bufbuild/protobuf");
const { FileDescriptorProtoSchema, file_google_protobuf_wrappers } = await import("@bufbuild/protobuf/wkt");
const fileProto = create(FileDescriptorProtoSchema, { name: "c.proto", package: "c", syntax: "proto3", dependency: ["google/protobuf/wrappers.proto"],
  service: [{ name: "S", method: [{ name: "CS", inputType: ".google.protobuf.BytesValue", outputType: ".google.protobuf.BytesValue", clientStreaming: true }] }] });
const reg = createFileRegistry(fileProto, () => file_google_protobuf_wrappers);
const svc = reg.getService("c.S")!;
const g = new GrpcServer({ services: [{ service: svc, implementation: { async cS(reqs: AsyncIterable<unknown>) { let n = 0; try { for await (const _ of reqs) n++; console.log("clean after", n); } catch (e) { console.log("error", (e as Error).message); } return {}; } } as never }], readMaxBytes: 1 << 20, writeMaxBytes: 1 << 20 });
const server = http2.createServer();
server.on("stream", (stream, headers) => {
  for (const ev of ["end", "aborted", "close"]) stream.on(ev, () => console.log("server stream", ev, "rst", stream.rstCode, "aborted", stream.aborted));
  g.handleStream(stream, headers);
});
const sock = "/tmp/exp/dbg.sock"; try { (await import("node:fs")).unlinkSync(sock); } catch {}
await new Promise<void>((r) => server.listen(sock, r));
const one = Buffer.alloc(8); one.writeUInt32BE(3, 1); one.set(toBinary(BytesValueSchema, create(BytesValueSchema, { value: new Uint8Array([1]) })), 5);
const session = http2.connect("http://localhost", { createConnection: () => connect(sock) });
const stream = session.request({ ":method": "POST", ":path": "/c.S/CS", "content-type": "application/grpc", te: "trailers" });
stream.on("error", () => {});
stream.write(Buffer.concat([one, one]), () => setTimeout(() => stream.close(http2.constants.NGHTTP2_CANCEL), 50));
stream.on("close", () => { setTimeout(() => { session.close(); server.close(); }, 100); });
