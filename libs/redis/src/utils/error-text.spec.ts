import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { errorText, toError } from './error-text.js';

describe('errorText()', () => {
  it('gives an Error its message, a string itself, an RpcException-like payload its message, others JSON', () => {
    expect(errorText(new Error('boom'))).toBe('boom');
    expect(errorText('plain')).toBe('plain');
    expect(errorText({ message: 'payload message', code: 1 })).toBe('payload message');
    expect(errorText({ code: 'E_FULL' })).toBe('{"code":"E_FULL"}');
    expect(errorText(42)).toBe('42');
    expect(errorText(undefined)).toBe('undefined');
  });

  it('never throws, whatever is thrown (cycles, BigInt, throwing getters)', () => {
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    const hostile = Object.defineProperty({}, 'message', {
      get() {
        throw new Error('no');
      },
    });
    expect(errorText(cyclic)).toBe('[object Object]');
    expect(errorText({ n: 1n })).toBe('[object Object]');
    expect(errorText(hostile)).toBe('[object Object]');
    fc.assert(fc.property(fc.anything(), (value) => typeof errorText(value) === 'string'));
  });

  it('toError() keeps an Error and wraps anything else with its text', () => {
    const error = new Error('boom');
    expect(toError(error)).toBe(error);
    expect(toError({ message: 'payload' }).message).toBe('payload');
    expect(toError(7)).toBeInstanceOf(Error);
  });
});
