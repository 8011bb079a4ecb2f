// A client of the hello component: dials its socket, waits until it is
// healthy, asks who it is, and greets.
//
//   npm run client -- run/hello.sock [name]
import { dialSocket } from "@moby-core/sdk";
import { ComponentService } from "@moby-core/component-api/v1";
import { GreeterService } from "../gen/hello/v1/hello_pb.js";

const connection = dialSocket(process.argv[2] ?? "/tmp/moby-hello/hello.sock");
try {
  await connection.waitForHealthy("", 5000);
  const { info } = await connection.client(ComponentService).getInfo({});
  console.log(`${info!.name} ${info!.version} (pid ${info!.pid}) serves ${info!.services.map((s) => s.name).join(", ")}`);

  const greeter = connection.client(GreeterService);
  const { greeting } = await greeter.sayHello({ name: process.argv[3] ?? "world" });
  console.log(greeting);
  for await (const { greeting } of greeter.streamGreetings({ name: process.argv[3] ?? "world", count: 3, interval: { seconds: 0n, nanos: 100_000_000 } })) {
    console.log(greeting);
  }
} finally {
  connection.close();
}
