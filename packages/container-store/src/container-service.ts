/**
 * moby.container.store.v1.ContainerStoreService over a backend (SQLite or
 * etcd, container-backend.ts): each handler checks its request
 * (container-rules.ts, update-mask.ts, container-filter.ts) before anything
 * is written, and each write advances the store revision and is answered
 * once it is durable.
 */
import { create } from "@bufbuild/protobuf";
import type { DescField, Message } from "@bufbuild/protobuf";
import type { GenMessage } from "@bufbuild/protobuf/codegenv2";
import { Code, ConnectError } from "@connectrpc/connect";
import type { ServiceImpl } from "@connectrpc/connect";
import { AlreadyExistsError, InvalidArgumentError, NotFoundError, RevisionConflictError } from "@moby-core/sdk";
import { PageTokens, checkId } from "@moby-core/sdk/list";
import {
  ContainerChangeType,
  ContainerStoreService,
  CreateContainerResponseSchema,
  DeleteContainerResponseSchema,
  GetContainerResponseSchema,
  UpdateContainerResponseSchema,
} from "@moby-core/container-store-api/v1";
import type { Container } from "@moby-core/container-store-api/v1";
import { parseContainerFilter } from "./container-filter.js";
import type { ContainerBackend, StoredChange, WatchOptions, WriteContext } from "./container-backend.js";
import { DEFAULT_SNAPSHOT_LIFETIME_MS, listPage, streamContainers } from "./container-listing.js";
import { SnapshotSlots } from "./container-snapshot.js";
import { withRecords } from "./encoded-records.js";
import { storedRecord } from "./container-record.js";
import { checkContainer } from "./container-rules.js";
import { applyUpdateMask, parseUpdateMask, sortedPaths } from "./update-mask.js";

/** The container with id as stored, or NOT_FOUND. */
function existing(context: WriteContext, id: string): Container {
  const container = context.get(id);
  if (container === undefined) throw new NotFoundError(`container ${JSON.stringify(id)} not found`);
  return container;
}

/** ABORTED unless expected is 0 or the container's current revision. */
function checkExpectedRevision(container: Container, expected: bigint): void {
  if (expected !== 0n && expected !== container.revision) {
    throw new RevisionConflictError(
      `container ${JSON.stringify(container.id)} is at revision ${container.revision}, not the expected ${expected}: read it again and retry`,
    );
  }
}

/** A response whose container field holds the written container: its encoded bytes where the backend has them, or the message. */
function withWritten<T extends Message>(schema: GenMessage<T>, field: DescField, change: StoredChange, init: Record<string, unknown> = {}): T {
  if (change.record === undefined) return create(schema, { ...init, [field.localName]: change.container } as never);
  return withRecords(create(schema, init as never), field, [change.record]);
}

/** The implementation of ContainerStoreService. */
export function containerStoreService(
  db: ContainerBackend,
  watchOptions: WatchOptions = {},
  snapshots: SnapshotSlots = new SnapshotSlots(),
): Partial<ServiceImpl<typeof ContainerStoreService>> {
  const tokens = new PageTokens(db.tokenKey);
  return {
    async createContainer(request) {
      const input = request.container;
      if (input === undefined) throw new InvalidArgumentError("container", "required");
      checkId(input.id, "container.id");
      const change = await db.write(input.id, (context) => {
        const record = storedRecord(input, { createdAt: context.now, updatedAt: context.now, revision: context.revision });
        const stored = checkContainer(record);
        if (context.get(record.id) !== undefined) throw new AlreadyExistsError(`container ${JSON.stringify(record.id)} already exists`);
        return { type: ContainerChangeType.CREATE, container: record, stored };
      }, { likelyAbsent: true });
      return withWritten(CreateContainerResponseSchema, CreateContainerResponseSchema.field.container!, change);
    },

    async getContainer(request) {
      checkId(request.id, "id");
      const record = await db.record(request.id);
      if (record === undefined) throw new NotFoundError(`container ${JSON.stringify(request.id)} not found`);
      return withRecords(create(GetContainerResponseSchema), GetContainerResponseSchema.field.container!, [record]);
    },

    listContainers(request) {
      const filter = parseContainerFilter(request.filter);
      return listPage(db, tokens, { filter, filterText: request.filter, pageSize: request.pageSize, pageToken: request.pageToken });
    },

    streamContainers(request, context) {
      const filter = parseContainerFilter(request.filter);
      return streamContainers(db, filter, context.signal, DEFAULT_SNAPSHOT_LIFETIME_MS, snapshots);
    },

    async updateContainer(request) {
      const input = request.container;
      checkId(input?.id ?? "", "container.id");
      const paths = parseUpdateMask(request.updateMask);
      const change = await db.write(input!.id, (context) => {
        const current = existing(context, input!.id);
        checkExpectedRevision(current, request.expectedRevision);
        const next = applyUpdateMask(current, input!, paths);
        next.updatedAt = context.now;
        next.revision = context.revision;
        const stored = checkContainer(next);
        return { type: ContainerChangeType.UPDATE, container: next, stored, previous: current, updatePaths: sortedPaths(paths) };
      });
      return withWritten(UpdateContainerResponseSchema, UpdateContainerResponseSchema.field.container!, change);
    },

    async deleteContainer(request) {
      checkId(request.id, "id");
      const change = await db.write(request.id, (context) => {
        const current = existing(context, request.id);
        checkExpectedRevision(current, request.expectedRevision);
        return { type: ContainerChangeType.DELETE, container: current };
      });
      return withWritten(DeleteContainerResponseSchema, DeleteContainerResponseSchema.field.container!, change, { revision: change.revision });
    },

    async *watchContainers(request, context) {
      const filter = parseContainerFilter(request.filter);
      const stats = watchOptions.stats;
      if (stats !== undefined) stats.open++;
      try {
        yield* await db.watch(filter, request.startRevision, context.signal, watchOptions);
      } catch (error) {
        if (stats !== undefined && error instanceof ConnectError && error.code === Code.ResourceExhausted) stats.cutOff++;
        throw error;
      } finally {
        if (stats !== undefined) stats.open--;
      }
    },
  };
}
