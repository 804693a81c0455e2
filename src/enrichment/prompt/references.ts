/**
 * Stripe object ids look like `ch_3xFXae…`, `pi_…`, `cus_…`, `acct_…`, `cs_test_…`: a lowercase
 * prefix, an underscore, then ten or more letters and digits with at least one of each. Requiring
 * a digit keeps enum values such as `needs_response` out.
 */
const STRIPE_ID = /\b[a-z]{2,10}_(?:test_|live_)?(?=[A-Za-z0-9]*\d)(?=[A-Za-z0-9]*[A-Za-z])[A-Za-z0-9]{10,}\b/g;

/**
 * Replaces Stripe ids with opaque references (`ref_1`, `ref_2`, …) for one prompt. The same id
 * always gets the same reference within one prompt, so the model can still tell that a dispute
 * and a charge point at one PaymentIntent, but the provider never receives the real ids.
 */
export class ReferenceMap {
  private readonly references = new Map<string, string>();

  /** Returns the reference for one id value. */
  referenceFor(id: string): string {
    let reference = this.references.get(id);
    if (reference === undefined) {
      reference = `ref_${this.references.size + 1}`;
      this.references.set(id, reference);
    }
    return reference;
  }

  /** Replaces every Stripe id inside free text with its reference. */
  replaceIdsIn(text: string): string {
    return text.replace(STRIPE_ID, (id) => this.referenceFor(id));
  }

  get size(): number {
    return this.references.size;
  }
}
