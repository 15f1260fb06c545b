// JSON text by hand, for the lines and bodies every request writes.

/** Printable ASCII other than `"` and `\`: JSON.stringify writes these as they are. */
const PLAIN_JSON_TEXT = /^[\x20\x21\x23-\x5b\x5d-\x7e]*$/;

/**
 * JSON.stringify(value) for a string, the same text, with the usual case
 * (short, nothing to escape) done without the call: a refused stop wrote
 * eight of them in its access line, at about 0.3 µs each.
 */
export function jsonString(value: string): string {
  return value.length <= 256 && PLAIN_JSON_TEXT.test(value) ? `"${value}"` : JSON.stringify(value);
}
