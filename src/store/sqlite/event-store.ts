import type Database from 'better-sqlite3';
import type { Logger } from '../../logger.js';
import {
  type Clock,
  type EventFilter,
  type EventRecord,
  type EventStatus,
  type EventStore,
  type IncomingEvent,
  type IngestOutcome,
} from '../ports.js';
import { assertLimit } from './arguments.js';
import { EVENT_COLUMNS, isEventStatus, toEventRecord, type EventRow } from './event-row.js';
import { guardSqlite } from './store-errors.js';

interface InsertParams {
  readonly id: string;
  readonly type: string;
  readonly created: number;
  readonly livemode: number;
  readonly account: string | null;
  readonly payload: string;
  readonly now: number;
}

interface ListParams {
  readonly status?: string;
  readonly type?: string;
  readonly limit: number;
}

/**
 * Event store of the embedded backend. An event row is also its job: ingest inserts it as
 * `received` and due now in one statement, so an event is never recorded without being queued.
 */
export class SqliteEventStore implements EventStore {
  private readonly database: Database.Database;
  private readonly clock: Clock;
  private readonly logger: Logger;

  private readonly insertEvent: Database.Statement<[InsertParams]>;
  private readonly selectStatus: Database.Statement<[string], { status: string }>;
  private readonly selectEvent: Database.Statement<[string], EventRow>;
  private readonly listStatements: Readonly<Record<'all' | 'status' | 'type' | 'statusAndType', Database.Statement<[ListParams], EventRow>>>;
  private readonly countStatuses: Database.Statement<[], { status: string; count: number }>;
  private readonly selectOne: Database.Statement<[], { ok: number }>;
  private readonly ingestTransaction: Database.Transaction<(event: IncomingEvent) => IngestOutcome>;

  constructor(database: Database.Database, options: { clock: Clock; logger: Logger }) {
    this.database = database;
    this.clock = options.clock;
    this.logger = options.logger;

    // ON CONFLICT DO NOTHING leaves an existing row untouched, so a redelivery changes nothing.
    this.insertEvent = database.prepare(
      `INSERT INTO pipeline_events (id, type, created, livemode, account, payload, status, attempts, received_at, updated_at, due_at)
       VALUES (@id, @type, @created, @livemode, @account, @payload, 'received', 0, @now, @now, @now)
       ON CONFLICT (id) DO NOTHING`,
    );
    this.selectStatus = database.prepare('SELECT status FROM pipeline_events WHERE id = ?');
    this.selectEvent = database.prepare(`SELECT ${EVENT_COLUMNS} FROM pipeline_events WHERE id = ?`);

    // One statement per filter shape, so each can use the index that matches it.
    const order = 'ORDER BY received_at DESC, rowid DESC LIMIT @limit';
    const select = `SELECT ${EVENT_COLUMNS} FROM pipeline_events`;
    this.listStatements = {
      all: database.prepare(`${select} ${order}`),
      status: database.prepare(`${select} WHERE status = @status ${order}`),
      type: database.prepare(`${select} WHERE type = @type ${order}`),
      statusAndType: database.prepare(`${select} WHERE status = @status AND type = @type ${order}`),
    };
    this.countStatuses = database.prepare('SELECT status, count(*) AS count FROM pipeline_events GROUP BY status');
    this.selectOne = database.prepare('SELECT 1 AS ok');

    this.ingestTransaction = database.transaction((event: IncomingEvent): IngestOutcome => {
      const inserted = this.insertEvent.run({
        id: event.id,
        type: event.type,
        created: event.created,
        livemode: event.livemode ? 1 : 0,
        account: event.account,
        payload: event.payload,
        now: this.clock(),
      });
      if (inserted.changes === 1) return { kind: 'accepted' };

      // Read in the same transaction, so the status belongs to the row that caused the conflict.
      const existing = this.selectStatus.get(event.id);
      if (existing === undefined || !isEventStatus(existing.status)) {
        throw new TypeError(`Event ${event.id} conflicted on insert but has no readable status in pipeline_events.`);
      }
      return { kind: 'duplicate', status: existing.status };
    });
  }

  ingest(event: IncomingEvent): Promise<IngestOutcome> {
    return guardSqlite(this.database, this.logger, 'record the event', { eventId: event.id, eventType: event.type }, () =>
      this.ingestTransaction(event),
    );
  }

  get(eventId: string): Promise<EventRecord | null> {
    return guardSqlite(this.database, this.logger, 'read the event', { eventId }, () => {
      const row = this.selectEvent.get(eventId);
      return row === undefined ? null : toEventRecord(row, this.logger);
    });
  }

  list(filter: EventFilter): Promise<EventRecord[]> {
    return guardSqlite(this.database, this.logger, 'list events', {}, () => {
      assertLimit(filter.limit);
      const rows = this.listStatementFor(filter).all({
        limit: filter.limit,
        ...(filter.status === undefined ? {} : { status: filter.status }),
        ...(filter.type === undefined ? {} : { type: filter.type }),
      });
      return rows.map((row) => toEventRecord(row, this.logger));
    });
  }

  countByStatus(): Promise<Record<EventStatus, number>> {
    return guardSqlite(this.database, this.logger, 'count events by status', {}, () => {
      const counts: Record<EventStatus, number> = { received: 0, processing: 0, processed: 0, failed: 0, dead: 0 };
      for (const row of this.countStatuses.all()) {
        if (isEventStatus(row.status)) counts[row.status] = row.count;
      }
      return counts;
    });
  }

  ping(): Promise<void> {
    return guardSqlite(this.database, this.logger, 'answer a ping', {}, () => {
      this.selectOne.get();
    });
  }

  private listStatementFor(filter: EventFilter): Database.Statement<[ListParams], EventRow> {
    if (filter.status !== undefined && filter.type !== undefined) return this.listStatements.statusAndType;
    if (filter.status !== undefined) return this.listStatements.status;
    if (filter.type !== undefined) return this.listStatements.type;
    return this.listStatements.all;
  }
}
