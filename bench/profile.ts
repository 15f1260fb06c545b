// Reads a V8 CPU profile (node --cpu-prof) and says where the time went:
// self time by package (or by part of the service and of Node), and the
// busiest functions. Idle time is left out of the shares.

import { readFileSync } from 'node:fs';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
}

interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

export interface ProfileSummary {
  readonly busyMs: number;
  readonly byPlace: readonly { place: string; share: number }[];
  readonly byFunction: readonly { name: string; place: string; share: number }[];
}

/** node_modules/<package>, the service's own folders, or Node's internals. */
function placeOf(url: string, functionName: string): string {
  if (url === '') return functionName.startsWith('(') ? functionName : '(native)';
  const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (pkg) return pkg[1];
  const own = /\/dist\/(src\/[^/]+)\//.exec(url);
  if (own) return `service: ${own[1]}`;
  if (url.startsWith('node:')) return `node: ${url.slice(5).split('/').slice(0, 2).join('/')}`;
  return url;
}

export function summarizeProfile(file: string, top = 15): ProfileSummary {
  const profile = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  // A sample's time is the delta to the next sample.
  const selfMicros = new Map<number, number>();
  profile.samples.forEach((id, i) => {
    const delta = profile.timeDeltas[i + 1] ?? 0;
    selfMicros.set(id, (selfMicros.get(id) ?? 0) + delta);
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
