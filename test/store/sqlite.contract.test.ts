import { describeStoreContract } from '../contract/index.js';
import { openSqliteTestBackend } from './sqlite-backend.js';

describeStoreContract('sqlite', () => Promise.resolve(openSqliteTestBackend()));
