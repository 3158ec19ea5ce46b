import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { type AddressInfo, type Server, type Socket, connect, createServer } from 'node:net';
import { eventually } from './client-list.js';
import { TcpProxy } from './tcp-proxy.js';

/** A TCP echo server recording what it received, and whether its side of each connection saw a close. */
class EchoServer {
  received = '';
  closes = 0;
  /** The remote port of each accepted connection: the proxy's upstream socket's local port. */
  readonly peers: number[] = [];
  private constructor(readonly server: Server) {}

  static async start(): Promise<EchoServer> {
    const server = createServer();
    const echo = new EchoServer(server);
    server.on('connection', (socket) => {
      echo.peers.push(socket.remotePort!);
      socket.on('data', (chunk: Buffer) => {
        echo.received += chunk.toString();
        socket.write(chunk);
      });
      socket.on('error', () => undefined);
      socket.on('close', () => echo.closes++);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
    return echo;
  }

  get port(): number {
    return (this.server.address() as AddressInfo).port;
  }

  close(): Promise<void> {
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}

/** A client socket through the proxy, collecting what comes back and whether it closed. */
async function dial(proxy: TcpProxy): Promise<{ socket: Socket; echoed: () => string; closed: () => boolean }> {
  const socket = connect({ host: proxy.host, port: proxy.port });
  let echoed = '';
  let closed = false;
  socket.on('data', (chunk: Buffer) => (echoed += chunk.toString()));
  socket.on('error', () => undefined);
  socket.on('close', () => (closed = true));
  await new Promise<void>((resolve) => socket.once('connect', () => resolve()));
  return { socket, echoed: () => echoed, closed: () => closed };
}

const settle = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('TcpProxy', () => {
  let echo: EchoServer;
  let proxy: TcpProxy;
  const sockets: Socket[] = [];

  beforeEach(async () => {
    echo = await EchoServer.start();
    proxy = await TcpProxy.start({ port: echo.port });
  });

  afterEach(async () => {
    for (const socket of sockets.splice(0)) socket.destroy();
    await proxy.close();
    await echo.close();
  });

  it('passes bytes both ways', async () => {
    const client = await dial(proxy);
    sockets.push(client.socket);
    client.socket.write('ping');
    expect(await eventually(() => client.echoed() === 'ping', 2_000)).toBe(true);
    expect(proxy.forwardedBytes).toBe(8);
  });

  it('black-holes: sockets stay open on both sides, nothing is forwarded; heal delivers what waited, in order', async () => {
    const client = await dial(proxy);
    sockets.push(client.socket);
    client.socket.write('a');
    expect(await eventually(() => client.echoed() === 'a', 2_000)).toBe(true);

    proxy.blackHole();
    client.socket.write('b');
    client.socket.write('c');
    await settle(500);
    expect(echo.received).toBe('a');
    expect(client.echoed()).toBe('a');
    expect(client.closed()).toBe(false);
    expect(echo.closes).toBe(0);
    expect(proxy.openConnections).toBe(1);

    proxy.heal();
    expect(await eventually(() => client.echoed() === 'abc', 2_000)).toBe(true);
    expect(echo.received).toBe('abc');
  });

  it('black-holes connections opened during the partition too, until heal', async () => {
    proxy.blackHole();
    const client = await dial(proxy);
    sockets.push(client.socket);
    client.socket.write('late');
    await settle(300);
    expect(echo.received).toBe('');
    expect(client.closed()).toBe(false);
    proxy.heal();
    expect(await eventually(() => client.echoed() === 'late', 2_000)).toBe(true);
  });

  it('delays every chunk by the given time, in order', async () => {
    const client = await dial(proxy);
    sockets.push(client.socket);
    proxy.delay(300);
    const sentAt = Date.now();
    client.socket.write('x');
    client.socket.write('y');
    expect(await eventually(() => client.echoed() === 'xy', 3_000)).toBe(true);
    // Two hops (to the server and back), each delayed by 300 ms.
    expect(Date.now() - sentAt).toBeGreaterThanOrEqual(590);
  });

  it('cuts: both sides see their connection close; new connections pass again', async () => {
    const client = await dial(proxy);
    sockets.push(client.socket);
    client.socket.write('a');
    expect(await eventually(() => client.echoed() === 'a', 2_000)).toBe(true);
    proxy.cut();
    expect(await eventually(() => client.closed() && echo.closes === 1, 2_000)).toBe(true);
    expect(proxy.openConnections).toBe(0);

    const next = await dial(proxy);
    sockets.push(next.socket);
    next.socket.write('b');
    expect(await eventually(() => next.echoed() === 'b', 2_000)).toBe(true);
  });

  it('black-holes or cuts one connection, named by its upstream port, while the others pass', async () => {
    const first = await dial(proxy);
    sockets.push(first.socket);
    first.socket.write('1');
    expect(await eventually(() => first.echoed() === '1', 2_000)).toBe(true);
    const second = await dial(proxy);
    sockets.push(second.socket);
    second.socket.write('2');
    expect(await eventually(() => second.echoed() === '2', 2_000)).toBe(true);
    const [firstPort, secondPort] = echo.peers;

    proxy.blackHoleConnection(firstPort);
    first.socket.write('a');
    second.socket.write('b');
    expect(await eventually(() => second.echoed() === '2b', 2_000)).toBe(true);
    await settle(300);
    expect(first.echoed()).toBe('1');
    expect(first.closed()).toBe(false);
    proxy.heal();
    expect(await eventually(() => first.echoed() === '1a', 2_000)).toBe(true);

    proxy.cutConnection(secondPort);
    expect(await eventually(() => second.closed(), 2_000)).toBe(true);
    expect(first.closed()).toBe(false);
    expect(proxy.openConnections).toBe(1);
    expect(() => proxy.cutConnection(secondPort)).toThrow(`no open connection uses upstream port ${secondPort}`);
  });
});
