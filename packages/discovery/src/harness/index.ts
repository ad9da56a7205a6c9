/** Harness for directories alone (tests and benchmarks), not part of the package's API. */

export { DirectoryProcess } from './directory-process.js';
export type { DirectoryWorkerConfig } from './directory-protocol.js';
export { EventLog, type SeenEvent } from './event-log.js';
export { IpcRequests } from './ipc-requests.js';
export { KeyInIdSigner } from './key-in-id-signer.js';
