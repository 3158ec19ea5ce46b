import type { StreamCommand } from './stream-command.js';
import { asString } from './stream-reply.js';

/** What a `XCLAIM … JUSTID` refresh of a consumer's own entries needs. */
export interface XClaimJustIdInput {
  key: string;
  group: string;
  consumer: string;
  ids: readonly string[];
}

/**
 * `XCLAIM <key> <group> <consumer> 0 <id>… JUSTID`: claims the entries for the consumer that already holds them,
 * which resets their idle time (so no other consumer reclaims an entry still being handled) without counting a
 * delivery. Reply (RESP2 and RESP3): the ids claimed.
 */
export const XCLAIM_JUSTID: StreamCommand<XClaimJustIdInput, string[]> = {
  name: 'XCLAIM',
  args: ({ key, group, consumer, ids }) => [key, group, consumer, 0, ...ids, 'JUSTID'],
  parse: (reply) => (Array.isArray(reply) ? reply.flatMap((id) => asString(id) ?? []) : []),
};
