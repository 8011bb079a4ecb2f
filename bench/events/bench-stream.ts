/**
 * The JetStream stream of the direct JetStream peer and of the relay,
 * configured as the events component configures its own (file storage, one
 * replica, a day's retention and duplicate window).
 */
import { DiscardPolicy, StorageType } from "@nats-io/jetstream";
import type { JetStreamManager } from "@nats-io/jetstream";

/** Makes the stream name, whose one subject is `<name>.events`; returns that subject. */
export async function addBenchStream(jsm: JetStreamManager, name: string): Promise<string> {
  const day = 24 * 60 * 60 * 1e9;
  const subject = `${name}.events`;
  await jsm.streams.add({
    name,
    subjects: [subject],
    storage: StorageType.File,
    discard: DiscardPolicy.Old,
    num_replicas: 1,
    max_msgs: 100_000,
    max_bytes: 256 * 1024 * 1024,
    max_age: day,
    duplicate_window: day,
  });
  return subject;
}
