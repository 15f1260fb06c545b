// A loopback TCP proxy in front of PostgreSQL or Keystone that a test can
// cut and restore: the dependency "goes away" for the service under test
// without stopping a server other tests share.

import { connect, createServer, type Server, type Socket } from 'node:net';

export class TcpProxy {
  private readonly sockets = new Set<Socket>();
  private readonly upstreams = new Set<Socket>();
  /** Upstream connections whose next answer is lost, together with the connection. */
  private readonly losing = new Set<Socket>();
  /** Text of a statement whose answer is lost, on whichever connection sends it first. */
  private losingOn: Buffer | undefined;
  private cutOff = false;
  /** Bytes are swallowed both ways and new connections are held, unanswered. */
  private frozen = false;

  private constructor(private readonly server: Server) {}

  static async start(targetHost: string, targetPort: number): Promise<TcpProxy> {
    const server = createServer();
    const proxy = new TcpProxy(server);
    server.on('connection', (client) => {
      if (proxy.cutOff) {
        client.destroy();
        return;
      }
      if (proxy.frozen) {
        // A host that no longer answers: the connection is never completed.
        proxy.sockets.add(client);
        client.on('close', () => proxy.sockets.delete(client));
        client.on('error', () => undefined);
        return;
      }
      const upstream = connect(targetPort, targetHost);
      proxy.upstreams.add(upstream);
      upstream.on('close', () => {
        proxy.upstreams.delete(upstream);
        proxy.losing.delete(upstream);
      });
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
      client.on('data', (chunk: Buffer) => {
        if (proxy.frozen) return;
        if (proxy.losingOn && chunk.includes(proxy.losingOn)) {
          proxy.losingOn = undefined;
          proxy.losing.add(upstream);
        }
        upstream.write(chunk);
      });
      client.on('end', () => upstream.end());
      upstream.on('data', (chunk) => {
        if (proxy.frozen) return;
        if (!proxy.losing.has(upstream)) return void client.write(chunk);
        upstream.destroy();
        client.destroy();
      });
      upstream.on('end', () => client.end());
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return proxy;
  }

  /** A proxy in front of the PostgreSQL server that `url` names. */
  static async inFrontOf(url: string): Promise<TcpProxy> {
    const target = new URL(url);
    return TcpProxy.start(target.hostname, Number(target.port || 5432));
  }

  /** `url`, leading through this proxy instead. */
  urlThrough(url: string): string {
    const through = new URL(url);
    through.hostname = '127.0.0.1';
    through.port = String(this.port);
    return through.toString();
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

  /**
   * The answer to the next message that contains `text` (a statement, such
   * as "COMMIT") never arrives: the server runs it, the connection breaks
   * before the client hears back. Once, on whichever connection sends it.
   */
  loseAnswerTo(text: string): void {
    this.losingOn = Buffer.from(text);
  }

  /**
   * The network to the database stalls: open connections carry nothing any
   * more and new ones never complete. Nothing is refused or reset, so only
   * the service's own timeouts can tell.
   */
  freeze(): void {
    this.frozen = true;
  }

  /** The network heals; connections that lost bytes meanwhile are reset. */
  thaw(): void {
    this.frozen = false;
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
