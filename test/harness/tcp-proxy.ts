import { type AddressInfo, type Server, type Socket, connect, createServer } from 'node:net';
import { freePort } from './free-port.js';

/** One direction of one proxied connection: chunks waiting for their delivery time, in arrival order. */
class Pipe {
  private readonly queue: { chunk: Buffer; at: number }[] = [];
  private timer?: NodeJS.Timeout;

  constructor(
    private readonly from: Socket,
    private readonly to: Socket,
    private readonly proxy: TcpProxy,
    private readonly connection: { blackHoled: boolean },
  ) {
    from.on('data', (chunk: Buffer) => {
      this.queue.push({ chunk, at: Date.now() + proxy.delayMs });
      this.pump();
    });
  }

  /** Writes every chunk whose time has come, unless the proxy black-holes; re-arms itself for the next one. */
  pump(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    if (this.proxy.mode !== 'pass' || this.connection.blackHoled || this.to.destroyed) return;
    while (this.queue.length > 0 && this.queue[0].at <= Date.now()) {
      const { chunk } = this.queue.shift()!;
      this.proxy.forwardedBytes += chunk.length;
      this.to.write(chunk);
    }
    if (this.queue.length > 0) this.timer = setTimeout(() => this.pump(), this.queue[0].at - Date.now());
  }

  stop(): void {
    clearTimeout(this.timer);
    this.queue.length = 0;
  }
}

interface ProxiedConnection {
  client: Socket;
  upstream: Socket;
  pipes: Pipe[];
  /** This connection alone is black-holed (`blackHoleConnection`). */
  blackHoled: boolean;
}

/**
 * A TCP proxy on 127.0.0.1 between the code under test and a server (Redis), to inject network faults that a
 * process signal cannot:
 *
 * - `blackHole()`: a partition. Sockets stay open on both sides and nothing is forwarded in either direction; the
 *   proxy stops reading, so the kernel buffers fill and TCP waits, as with packets dropped on the path. No side sees
 *   a close or a reset. New connections are accepted but get no bytes through either.
 * - `delay(ms)`: every chunk is forwarded `ms` after it arrived, in order.
 * - `cut()`: destroys every open connection on both sides (a reset); later connections pass.
 * - `heal()`: back to passing with no delay; what waited during a black hole is delivered, in order, as TCP would
 *   retransmit it once the path is back.
 * - `blackHoleConnection(port)` / `cutConnection(port)`: the same faults for one connection only, named by the port
 *   its upstream socket uses on 127.0.0.1, which is the `addr` Redis shows for it in `CLIENT LIST` (so a test can
 *   partition one connection of an application, such as its subscriber, by the connection's name).
 *
 * Always `close()` it (in `afterAll`/`afterEach`).
 */
export class TcpProxy {
  /** What the proxy does with bytes now. */
  mode: 'pass' | 'black-hole' = 'pass';
  /** Added to every chunk's delivery time, in milliseconds. */
  delayMs = 0;
  /** Bytes forwarded so far, both directions together. */
  forwardedBytes = 0;
  private readonly connections = new Set<ProxiedConnection>();

  private constructor(
    private readonly server: Server,
    /** The proxy's port on 127.0.0.1. */
    readonly port: number,
    private readonly target: { host: string; port: number },
  ) {
    server.on('connection', (client) => this.accept(client));
  }

  /** Listens on a free port of 127.0.0.1 and forwards every connection to `target`. */
  static async start(target: { host?: string; port: number }): Promise<TcpProxy> {
    const port = await freePort();
    const server = createServer({ pauseOnConnect: true });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen({ port, host: '127.0.0.1', exclusive: true }, () => resolve());
    });
    return new TcpProxy(server, (server.address() as AddressInfo).port, {
      host: target.host ?? '127.0.0.1',
      port: target.port,
    });
  }

  get host(): string {
    return '127.0.0.1';
  }

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  /** Connections open now (a client socket and its upstream socket count as one). */
  get openConnections(): number {
    return this.connections.size;
  }

  /** Stops forwarding in both directions while keeping every socket open. */
  blackHole(): void {
    this.mode = 'black-hole';
    for (const { client, upstream } of this.connections) {
      client.pause();
      upstream.pause();
    }
  }

  /** Forwards every chunk `ms` after it arrived. */
  delay(ms: number): void {
    this.delayMs = ms;
  }

  /** Destroys every open connection, both sides, at once. */
  cut(): void {
    for (const connection of [...this.connections]) this.drop(connection);
  }

  /**
   * Black-holes the one connection whose upstream socket has local port `upstreamPort` (the port of its `addr` in
   * Redis' `CLIENT LIST`); the others pass. `heal()` ends it.
   * @throws Error when no open connection uses that port
   */
  blackHoleConnection(upstreamPort: number): void {
    const connection = this.byUpstreamPort(upstreamPort);
    connection.blackHoled = true;
    connection.client.pause();
    connection.upstream.pause();
  }

  /**
   * Destroys the one connection whose upstream socket has local port `upstreamPort`, both sides (a reset).
   * @throws Error when no open connection uses that port
   */
  cutConnection(upstreamPort: number): void {
    this.drop(this.byUpstreamPort(upstreamPort));
  }

  /** Passes traffic again, without delay, delivering what waited. */
  heal(): void {
    this.mode = 'pass';
    this.delayMs = 0;
    for (const connection of this.connections) connection.blackHoled = false;
    for (const { client, upstream, pipes } of this.connections) {
      client.resume();
      upstream.resume();
      for (const pipe of pipes) pipe.pump();
    }
  }

  /** Closes every connection and the listener. */
  async close(): Promise<void> {
    this.cut();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private accept(client: Socket): void {
    const upstream = connect({ host: this.target.host, port: this.target.port });
    upstream.pause();
    const connection: ProxiedConnection = { client, upstream, pipes: [], blackHoled: false };
    connection.pipes = [new Pipe(client, upstream, this, connection), new Pipe(upstream, client, this, connection)];
    this.connections.add(connection);
    // An end or error on one side ends the other, as a direct connection would; during a black hole nothing of
    // this reaches the other side, because neither socket is read.
    for (const socket of [client, upstream]) {
      socket.setNoDelay(true);
      socket.on('error', () => this.drop(connection));
      socket.on('close', () => this.drop(connection));
    }
    if (this.mode === 'pass') {
      client.resume();
      upstream.resume();
    }
  }

  private byUpstreamPort(port: number): ProxiedConnection {
    for (const connection of this.connections) if (connection.upstream.localPort === port) return connection;
    throw new Error(`TcpProxy: no open connection uses upstream port ${port}`);
  }

  private drop(connection: ProxiedConnection): void {
    if (!this.connections.delete(connection)) return;
    for (const pipe of connection.pipes) pipe.stop();
    connection.client.destroy();
    connection.upstream.destroy();
  }
}
