import Stripe from 'stripe';

export interface Delivery {
  /** Exact bytes to post; the signature covers them. */
  readonly raw: string;
  /** Label for reports, such as the sample file name. */
  readonly label: string;
}

export interface DeliveryResult {
  readonly label: string;
  readonly eventId: string;
  readonly status: number;
  readonly body: string;
}

/**
 * Signs `raw` the way Stripe does (`t=…,v1=…` over `timestamp.payload` with the endpoint secret)
 * and posts it. Network errors are returned as status 0 so a caller can report every delivery.
 */
export async function deliverEvent(options: { url: string; secret: string; delivery: Delivery; timestampSeconds?: number }): Promise<DeliveryResult> {
  const { delivery } = options;
  const header = Stripe.webhooks.generateTestHeaderString({
    payload: delivery.raw,
    secret: options.secret,
    timestamp: options.timestampSeconds ?? Math.floor(Date.now() / 1000),
  });
  const eventId = readEventId(delivery.raw);
  try {
    const response = await fetch(options.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'stripe-signature': header },
      body: delivery.raw,
    });
    return { label: delivery.label, eventId, status: response.status, body: await response.text() };
  } catch (error) {
    return { label: delivery.label, eventId, status: 0, body: error instanceof Error ? error.message : String(error) };
  }
}

/** Delivers events in order, at most `concurrency` at a time. */
export async function deliverAll(options: {
  url: string;
  secret: string;
  deliveries: readonly Delivery[];
  concurrency?: number;
}): Promise<DeliveryResult[]> {
  const results: DeliveryResult[] = new Array<DeliveryResult>(options.deliveries.length);
  let next = 0;
  const lanes = Array.from({ length: Math.max(1, options.concurrency ?? 1) }, async () => {
    while (next < options.deliveries.length) {
      const index = next;
      next += 1;
      const delivery = options.deliveries[index];
      if (delivery === undefined) break;
      results[index] = await deliverEvent({ url: options.url, secret: options.secret, delivery });
    }
  });
  await Promise.all(lanes);
  return results;
}

function readEventId(raw: string): string {
  try {
    const parsed = JSON.parse(raw) as { id?: unknown };
    return typeof parsed.id === 'string' ? parsed.id : '(no id)';
  } catch {
    return '(invalid JSON)';
  }
}
