import { describe, expect, it } from 'vitest';
import { decide } from '../../src/decision/decide.js';
import { queuePriorityFor } from '../../src/decision/queue-priority.js';
import type { Priority } from '../../src/decision/types.js';
import { parseStripeEvent } from '../../src/domain/stripe-event.js';
import { listSampleFiles, readSample } from '../../src/samples/fixtures.js';

const RANK: Record<Priority, number> = { low: 0, normal: 1, high: 2, urgent: 3 };

describe('queuePriorityFor', () => {
  it.each(listSampleFiles())('never ranks %s above its decision', (file) => {
    const parsed = parseStripeEvent(JSON.parse(readSample(file).raw));
    if (!parsed.ok) throw new Error(parsed.problem);
    const decision = decide(parsed.event, { livemode: parsed.event.livemode, manualReviewAmount: 100_000 });

    const expected = decision.action === 'ignore_event' ? 'low' : decision.priority;
    // An early fraud warning that is actionable is urgent; the queue cannot read that flag.
    expect(RANK[queuePriorityFor(parsed.event.type)]).toBeLessThanOrEqual(RANK[expected]);
  });

  it('matches the decision for disputes and reviews', () => {
    expect(queuePriorityFor('charge.dispute.created')).toBe('urgent');
    expect(queuePriorityFor('review.opened')).toBe('high');
  });

  it('runs ignored event types last', () => {
    expect(queuePriorityFor('product.created')).toBe('low');
    expect(queuePriorityFor('checkout.session.completed')).toBe('normal');
  });
});
