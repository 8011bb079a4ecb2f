/**
 * The image-store component's configuration (the `config` of its manifest
 * entry): where its state lives, which registries are reached over plain
 * HTTP, where credentials are, and how root filesystems are made.
 */
import { join } from "node:path";
import type { JsonObject } from "@bufbuild/protobuf";
import { InvalidArgumentError } from "@moby-core/sdk";
import { defaultRunDir } from "@moby-core/sdk/internal";

/** The image store's settings. */
export interface StoreConfig {
  /** The directory of blobs, snapshots and root filesystems. */
  root: string;
  /** The SQLite file of the metadata. */
  database: string;
  /** Registry hosts ("host" or "host:port") reached over plain HTTP; localhost always is. */
  insecureRegistries: string[];
  /** A docker-style config.json with "auths", mode 0600; unset: no credentials. */
  credentialsFile: string | undefined;
  /** "auto" (overlayfs, else a copy), "overlayfs" or "copy". */
  rootfs: "auto" | "overlayfs" | "copy";
}

const KEYS = ["root", "database", "insecureRegistries", "credentialsFile", "rootfs"];

/** Reads the configuration, naming the first field that is wrong. */
export function readStoreConfig(config: JsonObject, runDir = defaultRunDir()): StoreConfig {
  for (const key of Object.keys(config)) if (!KEYS.includes(key)) throw new InvalidArgumentError(`config.${key}`, `unknown setting (known: ${KEYS.join(", ")})`);
  for (const key of ["root", "database", "credentialsFile"]) {
    if (config[key] !== undefined && (typeof config[key] !== "string" || config[key] === "")) throw new InvalidArgumentError(`config.${key}`, "must be a path");
  }
  const insecure = config.insecureRegistries ?? [];
  if (!Array.isArray(insecure) || insecure.some((h) => typeof h !== "string" || !/^[A-Za-z0-9.[\]:-]+$/.test(h))) {
    throw new InvalidArgumentError("config.insecureRegistries", 'must be a list of "host" or "host:port"');
  }
  const rootfs = config.rootfs ?? "auto";
  if (rootfs !== "auto" && rootfs !== "overlayfs" && rootfs !== "copy") throw new InvalidArgumentError("config.rootfs", 'must be "auto", "overlayfs" or "copy"');
  const root = (config.root as string | undefined) ?? join(runDir, "state", "image-store");
  return {
    root,
    database: (config.database as string | undefined) ?? join(root, "images.db"),
    insecureRegistries: insecure as string[],
    credentialsFile: config.credentialsFile as string | undefined,
    rootfs,
  };
}
