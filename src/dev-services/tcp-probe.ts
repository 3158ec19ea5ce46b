import { connect } from 'node:net';

/**
 * Opens a TCP connection to host:port and resolves true when it answers within `timeoutMs`: on connect alone, or,
 * with `send`, once the first reply chunk passes `accept`. Always closes the socket.
 */
export function probeTcp(
  host: string,
  port: number,
  timeoutMs: number,
  dialogue?: { send: string; accept: (reply: string) => boolean },
): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host, port });
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once('error', () => done(false));
    socket.once('connect', () => (dialogue ? socket.write(dialogue.send) : done(true)));
    if (dialogue) socket.once('data', (data) => done(dialogue.accept(data.toString())));
  });
}
