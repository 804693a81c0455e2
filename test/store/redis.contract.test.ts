import { describeStoreContract } from '../contract/index.js';
import { openRedisContractBackend } from './redis-support.js';

describeStoreContract('redis', openRedisContractBackend);
