import { describe, expect, it } from '@jest/globals';
import { DatabaseUnavailableError, asUnavailable, unavailableReason } from './database-unavailable.error.js';

const withCode = (message: string, code: string) => Object.assign(new Error(message), { code });

describe('unavailableReason', () => {
  it.each([
    [withCode('connect ECONNREFUSED 127.0.0.1:5432', 'ECONNREFUSED'), 'ECONNREFUSED'],
    [withCode('terminating connection due to administrator command', '57P01'), 'SQLSTATE 57P01'],
    [withCode('the database system is starting up', '57P03'), 'SQLSTATE 57P03'],
    [withCode('sorry, too many clients already', '53300'), 'SQLSTATE 53300'],
    [withCode('connection failure', '08006'), 'SQLSTATE 08006'],
    [new Error('timeout exceeded when trying to connect'), 'no pooled connection in time'],
    [new Error('Connection terminated unexpectedly'), 'connection terminated'],
  ])('%s means unavailable (%s)', (error, reason) => {
    expect(unavailableReason(error)).toBe(reason);
    const wrapped = asUnavailable(error);
    expect(wrapped).toBeInstanceOf(DatabaseUnavailableError);
    expect((wrapped as DatabaseUnavailableError).cause).toBe(error);
  });

  it.each([
    withCode('duplicate key value violates unique constraint', '23505'),
    withCode('new row violates check constraint', '23514'),
    withCode('syntax error', '42601'),
    new Error('boom'),
    'not an error',
  ])('leaves %s as it is', (error) => {
    expect(unavailableReason(error)).toBeUndefined();
    expect(asUnavailable(error)).toBe(error);
  });
});
