/**
 * The events the image store publishes after a name is recorded, re-pointed
 * or removed: "/images/create", "/images/update", "/images/delete" with the
 * payloads of moby.events.v1, through the SDK's EventPublisher (never
 * waiting for the events component).
 */
import { create } from "@bufbuild/protobuf";
import { ImageCreateSchema, ImageDeleteSchema, ImageUpdateSchema } from "@moby-core/events-api/v1";
import type { EventPublisher } from "@moby-core/sdk";

/** The topic of a new name. */
export const TOPIC_CREATE = "/images/create";
/** The topic of a re-pointed name. */
export const TOPIC_UPDATE = "/images/update";
/** The topic of a removed name. */
export const TOPIC_DELETE = "/images/delete";

/** Publishes the create or update of a name. */
export function publishRecorded(publisher: EventPublisher, name: string, digest: string, isNew: boolean): void {
  if (isNew) publisher.publish(TOPIC_CREATE, ImageCreateSchema, create(ImageCreateSchema, { name, digest }));
  else publisher.publish(TOPIC_UPDATE, ImageUpdateSchema, create(ImageUpdateSchema, { name, digest }));
}

/** Publishes the removal of a name. */
export function publishDeleted(publisher: EventPublisher, name: string, digest: string): void {
  publisher.publish(TOPIC_DELETE, ImageDeleteSchema, create(ImageDeleteSchema, { name, digest }));
}
