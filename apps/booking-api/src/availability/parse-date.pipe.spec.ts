import { BadRequestException } from '@nestjs/common';
import { describe, expect, it } from '@jest/globals';
import { ParseDatePipe } from './parse-date.pipe.js';

describe('ParseDatePipe', () => {
  const pipe = new ParseDatePipe();

  it.each(['2026-11-23', '2024-02-29', '2000-02-29', '1999-12-31'])('passes the calendar day %s through', (day) => {
    expect(pipe.transform(day)).toBe(day);
  });

  it.each<[unknown, string]>([
    ['2026-02-29', 'not a leap year'],
    ['1900-02-29', 'a century that is not a leap year'],
    ['2026-13-01', 'month 13'],
    ['2026-04-31', 'April 31st'],
    ['2026-1-5', 'unpadded'],
    [' 2026-11-23', 'padded with a space'],
    [42, 'a number'],
    [['2026-11-23'], 'an array'],
  ])('rejects %j (%s) with the ValidationPipe body shape', (value) => {
    expect(() => pipe.transform(value)).toThrow(BadRequestException);
    try {
      pipe.transform(value);
    } catch (error) {
      expect((error as BadRequestException).getResponse()).toEqual({
        statusCode: 400,
        error: 'Bad Request',
        message: ['date must be a calendar date, formatted YYYY-MM-DD'],
      });
    }
  });

  it('says the date is required when it is missing', () => {
    expect(() => pipe.transform(undefined)).toThrow('Bad Request Exception');
  });
});
