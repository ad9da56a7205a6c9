/** Harness for directories alone (tests and benchmarks), not part of the package's API. */

export { DirectoryProcess, type SeenEvent } from './directory-process.js';
export type { DirectoryWorkerConfig } from './directory-protocol.js';
export { KeyInIdSigner } from './key-in-id-signer.js';
