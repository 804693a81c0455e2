import type { BackendFactory } from './backend.js';
import { describeEventStoreContract } from './event-store.contract.js';
import { describeJobQueueContract } from './job-queue.contract.js';
import { describeLeaseContract } from './leases.contract.js';
import { describeObjectLocksContract } from './object-locks.contract.js';

export type { BackendFactory, ContractBackend } from './backend.js';
export { describeEventStoreContract } from './event-store.contract.js';
export { describeJobQueueContract } from './job-queue.contract.js';
export { describeLeaseContract } from './leases.contract.js';
export { describeObjectLocksContract } from './object-locks.contract.js';

/** Runs every storage contract suite against one backend. */
export function describeStoreContract(name: string, factory: BackendFactory): void {
  describeEventStoreContract(name, factory);
  describeJobQueueContract(name, factory);
  describeLeaseContract(name, factory);
  describeObjectLocksContract(name, factory);
}
