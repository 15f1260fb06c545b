// Bytes onto a socket, and whatever comes back: an HTTP answer, a closed
// connection, or nothing within a bound. For hostile clients, whose requests
// no HTTP library would send and whose sockets may be cut before an answer.

import { connect, type Socket } from 'node:net';

export type RawOutcome =
  | {
      kind: 'answer';
      status: number;
      /** Lower-case names; a repeated header keeps every value. */
      headers: Record<string, string[]>;
      /** The body, as long as Content-Length says (or what arrived). */
      body: string;
      /** Milliseconds from the first byte sent to the close. */
      ms: number;
    }
  | { kind: 'closed'; ms: number }
  | { kind: 'timeout'; ms: number };

export interface RawExchangeOptions {
  /** Sent as they are, one after another. */
  chunks: Buffer[];
  /** Pause between chunks: a slow client. */
  gapMs?: number;
  /** Give up (and call it a hang) after this long. */
  timeoutMs: number;
}

export function rawExchange(port: number, options: RawExchangeOptions): Promise<RawOutcome> {
  const { chunks, gapMs = 0, timeoutMs } = options;
  return new Promise((resolve) => {
    const started = Date.now();
    const received: Buffer[] = [];
    let timer: NodeJS.Timeout | undefined;
    const socket: Socket = connect(port, '127.0.0.1', () => void send(0));
    const send = async (i: number) => {
      for (; i < chunks.length && !socket.destroyed; i++) {
        if (i > 0 && gapMs > 0) await new Promise((r) => (timer = setTimeout(r, gapMs)));
        if (!socket.destroyed) socket.write(chunks[i]);
      }
    };
    const deadline = setTimeout(() => {
      socket.destroy();
      finish({ kind: 'timeout', ms: Date.now() - started });
    }, timeoutMs);
    let done = false;
    const finish = (outcome: RawOutcome) => {
      if (done) return;
      done = true;
      clearTimeout(deadline);
      clearTimeout(timer);
      resolve(outcome);
    };
    socket.on('data', (chunk) => received.push(chunk));
    socket.on('error', () => undefined); // a reset is an outcome like a close
    socket.on('close', () => {
      const ms = Date.now() - started;
      const answer = parseAnswer(Buffer.concat(received).toString('latin1'));
      finish(answer ? { kind: 'answer', ms, ...answer } : { kind: 'closed', ms });
    });
  });
}

function parseAnswer(
  raw: string,
): Omit<Extract<RawOutcome, { kind: 'answer' }>, 'kind' | 'ms'> | undefined {
  // Interim answers (100 Continue) come before the one that counts.
  while (/^HTTP\/1\.[01] 1\d\d /.test(raw) && raw.includes('\r\n\r\n')) {
    raw = raw.slice(raw.indexOf('\r\n\r\n') + 4);
  }
  const split = raw.indexOf('\r\n\r\n');
  if (!raw.startsWith('HTTP/') || split < 0) return undefined;
  const [statusLine, ...lines] = raw.slice(0, split).split('\r\n');
  const headers: Record<string, string[]> = {};
  for (const line of lines) {
    const colon = line.indexOf(':');
    const name = line.slice(0, colon).trim().toLowerCase();
    (headers[name] ??= []).push(line.slice(colon + 1).trim());
  }
  const rest = raw.slice(split + 4);
  const length = Number(headers['content-length']?.[0] ?? rest.length);
  const body = Buffer.from(rest, 'latin1').subarray(0, length).toString('utf8');
  return { status: Number(statusLine.split(' ')[1]), headers, body };
}
