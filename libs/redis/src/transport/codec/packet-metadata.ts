/**
 * Metadata a packet carries across a hop (`ClientProxy#setOnDispatchHook` on the client, read from the RPC context on
 * the server): Nest 12's `PacketMetadata`, declared here because `@nestjs/microservices` 11 does not export it, so
 * the published declarations type-check in Nest 11 apps as well.
 */
export type PacketMetadata = Record<string, string>;
