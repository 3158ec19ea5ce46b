import { describe, expect, it } from '@jest/globals';
import { XAUTOCLAIM } from './xautoclaim.command.js';
import { XCLAIM_JUSTID } from './xclaim.command.js';
import { XINFO_CONSUMERS, XINFO_GROUPS } from './xinfo.command.js';
import { XPENDING_RANGE, XPENDING_SUMMARY } from './xpending.command.js';
import { XREADGROUP } from './xreadgroup.command.js';

/**
 * Replies as ioredis hands them over, recorded from Redis 7.0 with ioredis 5 (RESP2) and ioredis 6 (RESP3, which
 * flattens RESP3 maps into `[key, value, …]` arrays), plus the Map/object shapes other clients use.
 */
const STREAM = 'pfx:stream:{evt.created}';
const ENTRY_1 = ['1796599715243-0', ['p', '{"a":1}', 'x', 'y']];
const ENTRY_2 = ['1796599715245-0', ['other', 'z']];
const PARSED = [
  { id: '1796599715243-0', fields: ['p', '{"a":1}', 'x', 'y'] },
  { id: '1796599715245-0', fields: ['other', 'z'] },
];

describe('stream commands (no server)', () => {
  describe('XREADGROUP', () => {
    it('sends GROUP, COUNT, BLOCK and STREAMS … >', () => {
      expect(XREADGROUP.args({ group: 'g', consumer: 'c', count: 16, blockMs: 5_000, key: STREAM })).toEqual([
        'GROUP',
        'g',
        'c',
        'COUNT',
        16,
        'BLOCK',
        5_000,
        'STREAMS',
        STREAM,
        '>',
      ]);
    });

    it.each([
      ['RESP2 [[stream, entries]]', [[STREAM, [ENTRY_1, ENTRY_2]]]],
      ['RESP3 via ioredis 6 [stream, entries]', [STREAM, [ENTRY_1, ENTRY_2]]],
      ['RESP3 as a Map', new Map([[STREAM, [ENTRY_1, ENTRY_2]]])],
      ['RESP3 as an object', { [STREAM]: [ENTRY_1, ENTRY_2] }],
    ])('parses the entries of %s', (_shape, reply) => {
      expect(XREADGROUP.parse(reply)).toEqual(PARSED);
    });

    it('parses a timed-out read (null) and junk replies as no entries, never throwing', () => {
      for (const reply of [null, undefined, [], 'OK', 42, [[STREAM, 'junk']], [STREAM, [null, 5, ['id-only']]]]) {
        expect(XREADGROUP.parse(reply)).toEqual([]);
      }
    });

    it('keeps an entry deleted while pending as fields null, and turns Buffer values into strings', () => {
      const reply = [
        [
          STREAM,
          [
            ['1-0', null],
            ['2-0', [Buffer.from('p'), Buffer.from([0xff, 0x41])]],
          ],
        ],
      ];
      expect(XREADGROUP.parse(reply)).toEqual([
        { id: '1-0', fields: null },
        { id: '2-0', fields: ['p', '\uFFFDA'] },
      ]);
    });
  });

  describe('XAUTOCLAIM', () => {
    it('sends key, group, consumer, min-idle, cursor and COUNT', () => {
      expect(
        XAUTOCLAIM.args({ key: STREAM, group: 'g', consumer: 'c', minIdleMs: 30_000, cursor: '0-0', count: 4 }),
      ).toEqual([STREAM, 'g', 'c', 30_000, '0-0', 'COUNT', 4]);
    });

    it('parses [next, entries, deleted] (the same on RESP2 and RESP3)', () => {
      expect(XAUTOCLAIM.parse(['0-0', [ENTRY_1], ['1796599715245-0']])).toEqual({
        next: '0-0',
        entries: [PARSED[0]],
        deleted: ['1796599715245-0'],
      });
    });

    it('parses Redis 6.2 replies: no deleted list, null placeholders and [id, null] for deleted entries', () => {
      expect(XAUTOCLAIM.parse(['5-0', [null, ENTRY_1, ['9-0', null]]])).toEqual({
        next: '5-0',
        entries: [PARSED[0]],
        deleted: [],
      });
    });

    it('parses junk as an empty round from the start', () => {
      expect(XAUTOCLAIM.parse('junk')).toEqual({ next: '0-0', entries: [], deleted: [] });
      expect(XAUTOCLAIM.parse([7, 'x', 'y'])).toEqual({ next: '7', entries: [], deleted: [] });
    });
  });

  describe('XPENDING', () => {
    it('extended form: sends the range and consumer, parses id → deliveries (RESP2 and RESP3 alike)', () => {
      expect(
        XPENDING_RANGE.args({ key: STREAM, group: 'g', start: '1-0', end: '9-0', count: 8, consumer: 'c' }),
      ).toEqual([STREAM, 'g', '1-0', '9-0', 8, 'c']);
      expect(XPENDING_RANGE.parse([['1796599715243-0', 'c2', 1, 2], ['2-0', 'c2', 0, '7'], 'junk', ['3-0']])).toEqual(
        new Map([
          ['1796599715243-0', 2],
          ['2-0', 7],
        ]),
      );
      expect(XPENDING_RANGE.parse(null)).toEqual(new Map());
    });

    it('summary form: the pending count, 0 for an empty group or junk', () => {
      expect(XPENDING_SUMMARY.args({ key: STREAM, group: 'g' })).toEqual([STREAM, 'g']);
      expect(XPENDING_SUMMARY.parse([1, '1-0', '1-0', [['c2', '1']]])).toBe(1);
      expect(XPENDING_SUMMARY.parse([0, null, null, null])).toBe(0);
      expect(XPENDING_SUMMARY.parse('junk')).toBe(0);
    });
  });

  describe('XINFO', () => {
    const consumersResp2 = [
      ['name', 'c1', 'pending', 0, 'idle', 18],
      ['name', 'c2', 'pending', 1, 'idle', 2],
    ];
    const expected = [
      { name: 'c1', pending: 0, idleMs: 18 },
      { name: 'c2', pending: 1, idleMs: 2 },
    ];

    it('CONSUMERS: parses flat arrays (RESP2, and RESP3 via ioredis 6), Maps and objects', () => {
      expect(XINFO_CONSUMERS.args({ key: STREAM, group: 'g' })).toEqual(['CONSUMERS', STREAM, 'g']);
      expect(XINFO_CONSUMERS.parse(consumersResp2)).toEqual(expected);
      expect(
        XINFO_CONSUMERS.parse([
          new Map<string, unknown>([
            ['name', 'c1'],
            ['pending', 0],
            ['idle', 18],
          ]),
          { name: 'c2', pending: 1, idle: 2 },
        ]),
      ).toEqual(expected);
    });

    it('CONSUMERS: leaves out entries it cannot read (the pruner deletes consumers by these numbers)', () => {
      expect(XINFO_CONSUMERS.parse([['name', 'c1'], ['pending', 0, 'idle', 1], 'junk', ...consumersResp2])).toEqual(
        expected,
      );
      expect(XINFO_CONSUMERS.parse(null)).toEqual([]);
    });

    it('GROUPS: name and lag, null lag when Redis cannot tell', () => {
      expect(XINFO_GROUPS.args({ key: STREAM })).toEqual(['GROUPS', STREAM]);
      expect(
        XINFO_GROUPS.parse([
          ['name', 'g', 'consumers', 2, 'pending', 1, 'last-delivered-id', '1-0', 'entries-read', 2, 'lag', 0],
          ['name', 'old', 'lag', null],
          ['name', 'redis6'],
        ]),
      ).toEqual([
        { name: 'g', lag: 0 },
        { name: 'old', lag: null },
        { name: 'redis6', lag: null },
      ]);
    });
  });

  describe('XCLAIM … JUSTID', () => {
    it('claims with min-idle 0 and JUSTID, parses the ids', () => {
      expect(XCLAIM_JUSTID.args({ key: STREAM, group: 'g', consumer: 'c', ids: ['1-0', '2-0'] })).toEqual([
        STREAM,
        'g',
        'c',
        0,
        '1-0',
        '2-0',
        'JUSTID',
      ]);
      expect(XCLAIM_JUSTID.parse(['1-0', '2-0'])).toEqual(['1-0', '2-0']);
      expect(XCLAIM_JUSTID.parse(null)).toEqual([]);
    });
  });
});
