// A loopback TCP proxy in front of PostgreSQL or Keystone that a test can
// cut and restore: the dependency "goes away" for the service under test
// without stopping a server other tests share.

import { connect, createServer, type Server, type Socket } from 'node:net';

export class TcpProxy {
  private readonly sockets = new Set<Socket>();
  private cutOff = false;

  private constructor(private readonly server: Server) {}

  static async start(targetHost: string, targetPort: number): Promise<TcpProxy> {
    const server = createServer();
    const proxy = new TcpProxy(server);
    server.on('connection', (client) => {
      if (proxy.cutOff) {
        client.destroy();
        return;
      }
      const upstream = connect(targetPort, targetHost);
      for (const [socket, peer] of [
        [client, upstream],
        [upstream, client],
      ]) {
        proxy.sockets.add(socket);
        // A side that closes takes the other with it, as a direct connection
        // would: a half-open client socket would swallow the next request
        // (a kept-alive connection to a server that closes after each answer).
        socket.on('close', () => {
          proxy.sockets.delete(socket);
          peer.destroy();
        });
        socket.on('error', () => undefined);
      }
      client.pipe(upstream).pipe(client);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return proxy;
  }

  get port(): number {
    const address = this.server.address();
    return typeof address === 'object' && address ? address.port : 0;
  }

  /** Drops every open connection and refuses new ones. */
  cut(): void {
    this.cutOff = true;
    for (const socket of this.sockets) socket.destroy();
  }

  restore(): void {
    this.cutOff = false;
  }

  async stop(): Promise<void> {
    this.cut();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}
