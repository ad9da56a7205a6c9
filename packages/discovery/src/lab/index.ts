/** Test and benchmark tooling (not part of the package's API): LANs from network namespaces. */

export * from '../harness/index.js';
export { type LabHost, type LabInterface, type Lan, NetLab } from './net-lab.js';
export { RootAddressBusyError } from './root-address-lock.js';
export { hasCommand, LabCommandError, run } from './run.js';
