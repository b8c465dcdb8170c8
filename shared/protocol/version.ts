/** Bumped on any change to proto/ddp.proto that an older peer could not read. */
export const PROTOCOL_VERSION = 1;
