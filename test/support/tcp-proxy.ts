// A loopback TCP proxy in front of PostgreSQL that a test can cut and
// restore: the database "goes away" for the service under test without
// stopping a server other tests share.

import { connect, createServer, type Server, type Socket } from 'node:net';

export class TcpProxy {
  private readonly sockets = new Set<Socket>();
  private readonly upstreams = new Set<Socket>();
  /** Upstream connections whose next answer is lost, together with the connection. */
  private readonly losing = new Set<Socket>();
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
      proxy.upstreams.add(upstream);
      upstream.on('close', () => {
        proxy.upstreams.delete(upstream);
        proxy.losing.delete(upstream);
      });
      for (const socket of [client, upstream]) {
        proxy.sockets.add(socket);
        socket.on('close', () => proxy.sockets.delete(socket));
        socket.on('error', () => undefined);
      }
      client.pipe(upstream);
      upstream.on('data', (chunk) => {
        if (!proxy.losing.has(upstream)) return void client.write(chunk);
        upstream.destroy();
        client.destroy();
      });
      upstream.on('end', () => client.end());
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

  /**
   * The next answer on every connection open now never arrives: the
   * connection breaks instead. The database did what it was asked, the
   * client cannot know it. Connections opened later work normally.
   */
  loseNextAnswers(): void {
    for (const upstream of this.upstreams) this.losing.add(upstream);
  }

  restore(): void {
    this.cutOff = false;
  }

  async stop(): Promise<void> {
    this.cut();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}
