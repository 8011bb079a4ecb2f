/**
 * The events the image store publishes after a name is recorded, re-pointed
 * or removed: "/images/create", "/images/update", "/images/delete" with the
 * payloads of moby.events.v1 (each declares its topic), through the SDK's
 * EventPublisher (never waiting for the events component).
 */
import { create } from "@bufbuild/protobuf";
import { ImageCreateSchema, ImageDeleteSchema, ImageUpdateSchema } from "@moby-core/events-api/v1";
import type { EventPublisher } from "@moby-core/sdk";

/** Publishes the create or update of a name. */
export function publishRecorded(publisher: EventPublisher, name: string, digest: string, isNew: boolean): void {
  if (isNew) publisher.publish(ImageCreateSchema, create(ImageCreateSchema, { name, digest }));
  else publisher.publish(ImageUpdateSchema, create(ImageUpdateSchema, { name, digest }));
}

/** Publishes the removal of a name. */
export function publishDeleted(publisher: EventPublisher, name: string, digest: string): void {
  publisher.publish(ImageDeleteSchema, create(ImageDeleteSchema, { name, digest }));
}
