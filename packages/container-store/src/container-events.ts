/**
 * The events the container store publishes after each committed write:
 * "/containers/create", "/containers/update" and "/containers/delete" with
 * the payloads of moby.events.v1. They go through the SDK's EventPublisher,
 * which queues them and never makes a write wait for the events component.
 */
import { create } from "@bufbuild/protobuf";
import type { EventPublisher } from "@moby-core/sdk";
import { ContainerChangeType } from "@moby-core/container-store-api/v1";
import { ContainerCreateSchema, ContainerDeleteSchema, ContainerUpdateSchema } from "@moby-core/events-api/v1";
import type { ContainerBackend, StoredChange } from "./container-backend.js";

/** Queues the event of one committed change. */
export function publishChange(publisher: EventPublisher, change: StoredChange): void {
  const { container } = change;
  switch (change.type) {
    case ContainerChangeType.CREATE:
      publisher.publish(
        ContainerCreateSchema,
        create(ContainerCreateSchema, {
          id: container.id,
          image: container.image,
          runtimeName: container.runtime?.name ?? "",
          labels: container.labels,
          revision: change.revision,
        }),
      );
      break;
    case ContainerChangeType.UPDATE:
      publisher.publish(
        ContainerUpdateSchema,
        create(ContainerUpdateSchema, { id: container.id, revision: change.revision, updatePaths: change.updatePaths ?? [] }),
      );
      break;
    case ContainerChangeType.DELETE:
      // The revision the container had when it was deleted: that of its last create or update.
      publisher.publish(ContainerDeleteSchema, create(ContainerDeleteSchema, { id: container.id, revision: container.revision }));
      break;
  }
}

/** Publishes an event for every change committed to db from now on; returns the function that stops it. */
export function publishContainerEvents(db: ContainerBackend, publisher: EventPublisher): () => void {
  return db.onCommit((change) => publishChange(publisher, change));
}
