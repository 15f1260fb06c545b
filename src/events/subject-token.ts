// NATS subjects are tokens separated by dots, and a token may not hold a
// dot, a wildcard (`*`, `>`) or whitespace; project, task and group ids
// come from clients and may hold any of these, or any Unicode. Each token is
// therefore encoded on its own, reversibly: every byte of its UTF-8 outside
// [A-Za-z0-9_-] becomes `%XX` (upper-case hex), `%` itself included. What
// is left is ASCII a subscriber can match exactly, and decodeURIComponent
// gives the id back. An empty id (which the API never accepts, but a row
// written by hand might hold) becomes a lone `%`, which no encoding of a
// non-empty value can produce.

const PLAIN = /^[A-Za-z0-9_-]+$/;

export function encodeSubjectToken(value: string): string {
  if (value === '') return '%';
  if (PLAIN.test(value)) return value; // the common case: no copy
  let encoded = '';
  for (const byte of Buffer.from(value, 'utf8')) {
    const char = String.fromCharCode(byte);
    encoded +=
      byte < 0x80 && PLAIN.test(char)
        ? char
        : `%${byte.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return encoded;
}

export function decodeSubjectToken(token: string): string {
  if (token === '%') return '';
  return Buffer.from(
    token.replace(/%([0-9A-F]{2})/g, (_, hex: string) => String.fromCharCode(parseInt(hex, 16))),
    'latin1',
  ).toString('utf8');
}
