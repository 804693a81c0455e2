import type { Redis } from 'ioredis';
import type { Logger } from '../../logger.js';
import type { Clock } from '../ports.js';
import type { RedisConnectionWatch } from './failures.js';
import type { StoreKeys } from './keys.js';
import type { JobProducer } from './producer.js';

/** Dependencies shared by the parts of the Redis backend. */
export interface StoreContext {
  /** Fail-fast client for the store's scripts, the BullMQ producer and the locks. */
  readonly redis: Redis;
  /** Follows the client's connection, so failures name their cause and the server's address. */
  readonly connection: RedisConnectionWatch;
  readonly keys: StoreKeys;
  readonly clock: Clock;
  readonly logger: Logger;
  /** How long a record is kept after its last change. */
  readonly retentionMs: number;
  /**
   * How long an ingest or a replay may take between writing the record and confirming its job
   * before a redelivery or the sweeper enqueues the event in its place.
   */
  readonly enqueueGraceMs: number;
  readonly producer: JobProducer;
}
