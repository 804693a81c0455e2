import type { Kysely, Migration } from 'kysely';

/**
 * The first ledger schema: the applied-event markers, the business tables and the outbox.
 * Portable Kysely only (see `columns.ts`), so the same migration runs on SQLite and PostgreSQL.
 */
async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('ledger_applied_events')
    .addColumn('event_id', 'text', (column) => column.primaryKey())
    .addColumn('event_type', 'text', (column) => column.notNull())
    .addColumn('action', 'text', (column) => column.notNull())
    .addColumn('account', 'text', (column) => column.notNull())
    .addColumn('event_created', 'bigint', (column) => column.notNull())
    .addColumn('applied_at', 'text', (column) => column.notNull())
    .execute();

  await db.schema
    .createTable('ledger_orders')
    .addColumn('id', 'text', (column) => column.primaryKey())
    .addColumn('account', 'text', (column) => column.notNull())
    .addColumn('order_reference', 'text')
    .addColumn('checkout_session', 'text')
    .addColumn('payment_intent', 'text')
    .addColumn('charge', 'text')
    .addColumn('customer', 'text')
    .addColumn('currency', 'text')
    .addColumn('amount_total', 'bigint')
    .addColumn('amount_paid', 'bigint', (column) => column.notNull())
    .addColumn('amount_refunded', 'bigint', (column) => column.notNull())
    .addColumn('charge_amount_refunded', 'bigint', (column) => column.notNull())
    .addColumn('charge_amount_refunded_event_created', 'bigint')
    .addColumn('application_fee_amount', 'bigint')
    .addColumn('payment_outcome', 'text')
    .addColumn('status', 'text', (column) => column.notNull())
    .addColumn('payment_outcome_event_created', 'bigint')
    .addColumn('payment_outcome_event_id', 'text')
    .addColumn('failure_code', 'text')
    .addColumn('decline_code', 'text')
    .addColumn('retryable', 'integer')
    .addColumn('on_hold', 'integer', (column) => column.notNull())
    .addColumn('livemode', 'integer', (column) => column.notNull())
    .addColumn('last_event_created', 'bigint', (column) => column.notNull())
    .addColumn('last_event_id', 'text', (column) => column.notNull())
    .execute();
  // NULLs never collide in a unique index on either database, so an order may lack any of these ids.
  for (const idColumn of ['payment_intent', 'checkout_session', 'charge'] as const) {
    await db.schema
      .createIndex(`ledger_orders_${idColumn}_key`)
      .on('ledger_orders')
      .columns(['account', idColumn])
      .unique()
      .execute();
  }
  await db.schema.createIndex('ledger_orders_reference_idx').on('ledger_orders').columns(['account', 'order_reference']).execute();

  await db.schema
    .createTable('ledger_refunds')
    .addColumn('account', 'text', (column) => column.notNull())
    .addColumn('refund_id', 'text', (column) => column.notNull())
    .addColumn('charge', 'text')
    .addColumn('payment_intent', 'text')
    .addColumn('amount', 'bigint', (column) => column.notNull())
    .addColumn('currency', 'text', (column) => column.notNull())
    .addColumn('status', 'text', (column) => column.notNull())
    .addColumn('reason', 'text')
    .addColumn('failure_reason', 'text')
    .addColumn('refund_created', 'bigint', (column) => column.notNull())
    .addColumn('livemode', 'integer', (column) => column.notNull())
    .addColumn('last_event_created', 'bigint', (column) => column.notNull())
    .addColumn('last_event_id', 'text', (column) => column.notNull())
    .addPrimaryKeyConstraint('ledger_refunds_pk', ['account', 'refund_id'])
    .execute();
  await db.schema.createIndex('ledger_refunds_payment_intent_idx').on('ledger_refunds').columns(['account', 'payment_intent']).execute();
  await db.schema.createIndex('ledger_refunds_charge_idx').on('ledger_refunds').columns(['account', 'charge']).execute();

  await db.schema
    .createTable('ledger_customers')
    .addColumn('account', 'text', (column) => column.notNull())
    .addColumn('customer_id', 'text', (column) => column.notNull())
    .addColumn('email', 'text')
    .addColumn('livemode', 'integer', (column) => column.notNull())
    .addColumn('last_event_created', 'bigint', (column) => column.notNull())
    .addColumn('last_event_id', 'text', (column) => column.notNull())
    .addPrimaryKeyConstraint('ledger_customers_pk', ['account', 'customer_id'])
    .execute();

  await db.schema
    .createTable('ledger_subscriptions')
    .addColumn('account', 'text', (column) => column.notNull())
    .addColumn('subscription_id', 'text', (column) => column.notNull())
    .addColumn('customer', 'text', (column) => column.notNull())
    .addColumn('status', 'text', (column) => column.notNull())
    .addColumn('access', 'integer', (column) => column.notNull())
    .addColumn('price', 'text')
    .addColumn('current_period_start', 'bigint')
    .addColumn('current_period_end', 'bigint')
    .addColumn('default_payment_method', 'text')
    .addColumn('has_payment_method', 'integer', (column) => column.notNull())
    .addColumn('latest_invoice', 'text')
    .addColumn('trial_end', 'bigint')
    .addColumn('cancel_at_period_end', 'integer', (column) => column.notNull())
    .addColumn('canceled_at', 'bigint')
    .addColumn('ended_at', 'bigint')
    .addColumn('cancellation_reason', 'text')
    .addColumn('livemode', 'integer', (column) => column.notNull())
    .addColumn('last_event_created', 'bigint', (column) => column.notNull())
    .addColumn('last_event_id', 'text', (column) => column.notNull())
    .addPrimaryKeyConstraint('ledger_subscriptions_pk', ['account', 'subscription_id'])
    .execute();
  await db.schema.createIndex('ledger_subscriptions_customer_idx').on('ledger_subscriptions').columns(['account', 'customer']).execute();

  await db.schema
    .createTable('ledger_invoices')
    .addColumn('account', 'text', (column) => column.notNull())
    .addColumn('invoice_id', 'text', (column) => column.notNull())
    .addColumn('number', 'text')
    .addColumn('customer', 'text')
    .addColumn('subscription', 'text')
    .addColumn('status', 'text', (column) => column.notNull())
    .addColumn('currency', 'text', (column) => column.notNull())
    .addColumn('amount_due', 'bigint', (column) => column.notNull())
    .addColumn('amount_paid', 'bigint', (column) => column.notNull())
    .addColumn('attempt_count', 'integer', (column) => column.notNull())
    .addColumn('next_payment_attempt', 'bigint')
    .addColumn('billing_reason', 'text')
    .addColumn('invoice_created', 'bigint', (column) => column.notNull())
    .addColumn('livemode', 'integer', (column) => column.notNull())
    .addColumn('last_event_created', 'bigint', (column) => column.notNull())
    .addColumn('last_event_id', 'text', (column) => column.notNull())
    .addPrimaryKeyConstraint('ledger_invoices_pk', ['account', 'invoice_id'])
    .execute();
  await db.schema.createIndex('ledger_invoices_subscription_idx').on('ledger_invoices').columns(['account', 'subscription']).execute();

  await db.schema
    .createTable('ledger_disputes')
    .addColumn('account', 'text', (column) => column.notNull())
    .addColumn('dispute_id', 'text', (column) => column.notNull())
    .addColumn('charge', 'text')
    .addColumn('payment_intent', 'text')
    .addColumn('status', 'text', (column) => column.notNull())
    .addColumn('reason', 'text')
    .addColumn('amount', 'bigint', (column) => column.notNull())
    .addColumn('currency', 'text', (column) => column.notNull())
    .addColumn('evidence_due_by', 'bigint')
    .addColumn('funds_withdrawn', 'bigint', (column) => column.notNull())
    .addColumn('funds_reinstated', 'bigint', (column) => column.notNull())
    .addColumn('dispute_fee', 'bigint', (column) => column.notNull())
    .addColumn('net_loss', 'bigint')
    .addColumn('livemode', 'integer', (column) => column.notNull())
    .addColumn('last_event_created', 'bigint', (column) => column.notNull())
    .addColumn('last_event_id', 'text', (column) => column.notNull())
    .addPrimaryKeyConstraint('ledger_disputes_pk', ['account', 'dispute_id'])
    .execute();
  await db.schema.createIndex('ledger_disputes_charge_idx').on('ledger_disputes').columns(['account', 'charge']).execute();

  await db.schema
    .createTable('ledger_early_fraud_warnings')
    .addColumn('account', 'text', (column) => column.notNull())
    .addColumn('warning_id', 'text', (column) => column.notNull())
    .addColumn('charge', 'text')
    .addColumn('payment_intent', 'text')
    .addColumn('fraud_type', 'text', (column) => column.notNull())
    .addColumn('actionable', 'integer', (column) => column.notNull())
    .addColumn('livemode', 'integer', (column) => column.notNull())
    .addColumn('last_event_created', 'bigint', (column) => column.notNull())
    .addColumn('last_event_id', 'text', (column) => column.notNull())
    .addPrimaryKeyConstraint('ledger_early_fraud_warnings_pk', ['account', 'warning_id'])
    .execute();

  await db.schema
    .createTable('ledger_radar_reviews')
    .addColumn('account', 'text', (column) => column.notNull())
    .addColumn('review_id', 'text', (column) => column.notNull())
    .addColumn('charge', 'text')
    .addColumn('payment_intent', 'text')
    .addColumn('open', 'integer', (column) => column.notNull())
    .addColumn('reason', 'text', (column) => column.notNull())
    .addColumn('opened_reason', 'text')
    .addColumn('closed_reason', 'text')
    .addColumn('livemode', 'integer', (column) => column.notNull())
    .addColumn('last_event_created', 'bigint', (column) => column.notNull())
    .addColumn('last_event_id', 'text', (column) => column.notNull())
    .addPrimaryKeyConstraint('ledger_radar_reviews_pk', ['account', 'review_id'])
    .execute();

  await db.schema
    .createTable('ledger_manual_reviews')
    .addColumn('id', 'text', (column) => column.primaryKey())
    .addColumn('account', 'text', (column) => column.notNull())
    .addColumn('subject_id', 'text', (column) => column.notNull())
    .addColumn('kind', 'text', (column) => column.notNull())
    .addColumn('priority', 'text', (column) => column.notNull())
    .addColumn('reason', 'text', (column) => column.notNull())
    .addColumn('status', 'text', (column) => column.notNull())
    .addColumn('payment_intent', 'text')
    .addColumn('charge', 'text')
    .addColumn('opened_event_id', 'text', (column) => column.notNull())
    .addColumn('opened_event_created', 'bigint', (column) => column.notNull())
    .addColumn('livemode', 'integer', (column) => column.notNull())
    .addColumn('last_event_created', 'bigint', (column) => column.notNull())
    .addColumn('last_event_id', 'text', (column) => column.notNull())
    .addColumn('created_at', 'text', (column) => column.notNull())
    .addUniqueConstraint('ledger_manual_reviews_subject_key', ['account', 'subject_id', 'kind'])
    .execute();

  await db.schema
    .createTable('ledger_outbox')
    .addColumn('id', 'text', (column) => column.primaryKey())
    .addColumn('dedupe_key', 'text', (column) => column.notNull().unique())
    .addColumn('topic', 'text', (column) => column.notNull())
    .addColumn('account', 'text', (column) => column.notNull())
    .addColumn('payload', 'text', (column) => column.notNull())
    .addColumn('status', 'text', (column) => column.notNull())
    .addColumn('attempts', 'integer', (column) => column.notNull())
    .addColumn('created_event_id', 'text', (column) => column.notNull())
    .addColumn('created_at', 'text', (column) => column.notNull())
    .addColumn('sent_at', 'text')
    .execute();
  await db.schema.createIndex('ledger_outbox_status_idx').on('ledger_outbox').columns(['status', 'created_at']).execute();
}

async function down(db: Kysely<unknown>): Promise<void> {
  const tables = [
    'ledger_outbox',
    'ledger_manual_reviews',
    'ledger_radar_reviews',
    'ledger_early_fraud_warnings',
    'ledger_disputes',
    'ledger_invoices',
    'ledger_subscriptions',
    'ledger_customers',
    'ledger_refunds',
    'ledger_orders',
    'ledger_applied_events',
  ];
  for (const table of tables) {
    await db.schema.dropTable(table).ifExists().execute();
  }
}

export const ledgerSchemaMigration: Migration = { up, down };
