// How the bench's raw node:http servers (the two yardsticks) listen and end:
// on PORT and HOST from the environment, with the "Listening on host:port"
// line processes.ts waits for, and on SIGTERM closed with their pool.

import type { Server } from 'node:http';
import type pg from 'pg';

export function serveUntilStopped(server: Server, label: string, pool: pg.Pool): void {
  server.listen(Number(process.env.PORT ?? '0'), process.env.HOST ?? '127.0.0.1', () => {
    const address = server.address();
    const port = typeof address === 'object' && address ? address.port : 0;
    console.log(`Listening on 127.0.0.1:${port} (${label})`);
  });
  process.on('SIGTERM', () => {
    server.close();
    server.closeAllConnections();
    void pool.end().then(() => process.exit(0));
  });
}
