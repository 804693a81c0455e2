import { WebhookRejectedError } from '../errors.js';

function payloadTooLarge(limitBytes: number): WebhookRejectedError {
  return new WebhookRejectedError(
    'payload_too_large',
    `The request body is larger than the limit of ${limitBytes} bytes. Raise BODY_LIMIT_BYTES if this account's Stripe events are larger.`,
    413,
  );
}

/**
 * Reads the request body as raw bytes, stopping as soon as it passes `limitBytes`. The declared
 * Content-Length is checked first, so an oversized request is rejected before any byte is read.
 * The bytes are counted as well, because a chunked request declares no length.
 * Throws WebhookRejectedError `payload_too_large` (413).
 */
export async function readBodyWithLimit(request: Request, limitBytes: number): Promise<Uint8Array> {
  const declared = request.headers.get('content-length');
  if (declared !== null && /^\d+$/.test(declared) && Number(declared) > limitBytes) {
    throw payloadTooLarge(limitBytes);
  }

  // With a declared length within the limit, one read is enough: Node never delivers more bytes
  // than Content-Length, and skipping the Web stream saves about a fifth of the ingest CPU
  // (measured with scripts/bench.ts). Chunked requests take the counting reader below.
  if (declared !== null && /^\d+$/.test(declared) && request.headers.get('transfer-encoding') === null) {
    const whole = new Uint8Array(await request.arrayBuffer());
    if (whole.byteLength > limitBytes) throw payloadTooLarge(limitBytes);
    return whole;
  }

  const body = request.body;
  if (body === null) return new Uint8Array(0);

  // Request bodies are byte streams; the DOM typings leave the chunk type open.
  const reader = (body as ReadableStream<Uint8Array>).getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > limitBytes) {
      await reader.cancel();
      throw payloadTooLarge(limitBytes);
    }
    chunks.push(value);
  }

  if (chunks.length === 1 && chunks[0] !== undefined) return chunks[0];
  const bytes = new Uint8Array(total);
  let offset = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return bytes;
}

// `fatal` rejects invalid UTF-8 instead of replacing it, and `ignoreBOM` keeps a leading BOM, so
// the stored string encodes back to exactly the bytes that were signed.
const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/** Decodes the body as UTF-8, as Stripe sends it. Throws WebhookRejectedError `invalid_json` (400). */
export function decodeUtf8Body(bytes: Uint8Array): string {
  try {
    return utf8.decode(bytes);
  } catch (error) {
    if (error instanceof TypeError) {
      throw new WebhookRejectedError('invalid_json', 'The request body is not valid UTF-8. Send the event exactly as Stripe delivers it.');
    }
    throw error;
  }
}
