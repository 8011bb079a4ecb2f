/**
 * The image store as the CLI reaches it: the component serving
 * moby.image.v1.ImageService, found through init's registry, its errors
 * turned into one-line CLI errors naming what was wrong.
 */
import type { Client } from "@connectrpc/connect";
import { ImageService } from "@moby-core/image-api/v1";
import { componentError, dialComponent, locateComponent } from "./container-client.js";

/** A client of the image store. */
export type ImageClient = Client<typeof ImageService>;

/** Runs use with a client of the image store (no deadline: pulls and imports take long); closes it after. */
export async function withImageService<T>(initSocket: string, use: (client: ImageClient) => Promise<T>): Promise<T> {
  let connection: ReturnType<typeof dialComponent> | undefined;
  try {
    connection = dialComponent(await locateComponent(initSocket, ImageService.typeName), { timeoutMs: 0 });
    return await use(connection.client(ImageService));
  } catch (error) {
    throw componentError(error);
  } finally {
    connection?.close();
  }
}
