// Reads a V8 CPU profile (node --cpu-prof) and says where the time went:
// self time by package (or by part of the service and of Node), and the
// busiest functions. Idle time is left out of the shares.
//
// The profiler samples wall-clock time: on a machine with fewer cores than
// busy processes, a thread that wakes another (a socket write) is often
// descheduled inside that call, so native calls such as writev carry time
// the process spent waiting for a core, not only working.

import { readFileSync } from 'node:fs';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
}

interface CpuProfile {
  endTime: number;
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

export interface ProfileSummary {
  readonly busyMs: number;
  readonly byPlace: readonly { place: string; share: number }[];
  readonly byFunction: readonly { name: string; place: string; share: number }[];
}

/** Native calls that write to a socket (HTTP answers, PostgreSQL messages). */
const SOCKET_WRITES = new Set(['writev', 'writeLatin1String', 'writeUtf8String', 'writeBuffer']);

/** Where a function belongs, grouped by what it does for a request. */
function placeOf(url: string, functionName: string): string {
  if (url === '') {
    if (SOCKET_WRITES.has(functionName)) return 'socket writes (wall time, see above)';
    return functionName.startsWith('(') ? functionName : '(native)';
  }
  if (/class-validator|class-transformer|validation\.pipe/.test(url)) {
    return 'ValidationPipe (class-transformer, class-validator)';
  }
  const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url)?.[1];
  if (pkg?.startsWith('@nestjs/')) return 'Nest';
  if (pkg && /^(fastify|@fastify\/|find-my-way|avvio|light-my-request|fast-)/.test(pkg)) {
    return 'Fastify';
  }
  if (pkg && /^(pg|pg-.*|postgres-.*)$/.test(pkg)) return 'pg';
  if (pkg) return pkg;
  const own = /\/dist\/(src\/[^/]+)\//.exec(url);
  if (own) return `service: ${own[1]}`;
  if (/^node:(internal\/)?crypto/.test(url)) return 'node: crypto';
  if (url.startsWith('node:')) return 'node: http, net, streams, events, timers';
  return url;
}

/**
 * Summarises the last `lastMs` of the profile (the load, not the start-up
 * before it: loading modules would otherwise take a good share).
 */
export function summarizeProfile(file: string, lastMs: number, top = 15): ProfileSummary {
  const profile = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const from = profile.endTime - lastMs * 1000;
  // Timestamps are the running sum of the deltas; a sample's time is the
  // delta to the next one.
  const selfMicros = new Map<number, number>();
  let timestamp = profile.endTime - profile.timeDeltas.reduce((sum, d) => sum + d, 0);
  profile.samples.forEach((id, i) => {
    const delta = profile.timeDeltas[i + 1] ?? 0;
    timestamp += profile.timeDeltas[i];
    if (timestamp >= from) selfMicros.set(id, (selfMicros.get(id) ?? 0) + delta);
  });
  const places = new Map<string, number>();
  const functions = new Map<string, { place: string; micros: number }>();
  let busy = 0;
  for (const [id, micros] of selfMicros) {
    const { functionName, url, lineNumber } = byId.get(id)!.callFrame;
    if (functionName === '(idle)') continue;
    busy += micros;
    const place = placeOf(url, functionName);
    places.set(place, (places.get(place) ?? 0) + micros);
    const name = `${functionName || '(anonymous)'} ${url.split('/').pop()}:${lineNumber + 1}`;
    const entry = functions.get(name) ?? { place, micros: 0 };
    entry.micros += micros;
    functions.set(name, entry);
  }
  const share = (micros: number) => (busy === 0 ? 0 : micros / busy);
  return {
    busyMs: busy / 1000,
    byPlace: [...places]
      .sort((a, b) => b[1] - a[1])
      .slice(0, top)
      .map(([place, micros]) => ({ place, share: share(micros) })),
    byFunction: [...functions]
      .sort((a, b) => b[1].micros - a[1].micros)
      .slice(0, top)
      .map(([name, { place, micros }]) => ({ name, place, share: share(micros) })),
  };
}
