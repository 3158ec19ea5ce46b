import { describe, expect, it } from '@jest/globals';
import { judgeAuditReport, parseAuditExceptions, type NpmAuditReport } from './audit-report.js';

/** What npm 11 prints with --json when the registry has no audit endpoint (as on this machine's mirror). */
const ENDPOINT_MISSING: NpmAuditReport = JSON.parse(`{
  "message": "405 Method Not Allowed - POST https://registry.npmjs.org/-/npm/v1/security/advisories/bulk",
  "method": "POST",
  "statusCode": 405,
  "body": "",
  "error": { "summary": "", "detail": "" }
}`);

/** A report in npm's auditReportVersion 2 shape: one advisory reached through a direct dependency. */
const WITH_FINDINGS: NpmAuditReport = JSON.parse(`{
  "auditReportVersion": 2,
  "vulnerabilities": {
    "path-to-regexp": {
      "name": "path-to-regexp", "severity": "high", "isDirect": false,
      "via": [{
        "source": 1101850, "name": "path-to-regexp", "dependency": "path-to-regexp",
        "title": "path-to-regexp outputs backtracking regular expressions",
        "url": "https://github.com/advisories/GHSA-9wv6-86v2-598j", "severity": "high", "range": "<0.1.10"
      }],
      "effects": ["express"], "range": "<0.1.10", "nodes": ["node_modules/path-to-regexp"], "fixAvailable": true
    },
    "express": {
      "name": "express", "severity": "high", "isDirect": true,
      "via": ["path-to-regexp", {
        "source": 1096820, "name": "express", "dependency": "express",
        "title": "Open redirect in malformed URLs", "url": "https://github.com/advisories/GHSA-rv95-896h-c2vc",
        "severity": "moderate", "range": "<4.19.2"
      }],
      "effects": [], "range": "<=4.21.0", "nodes": ["node_modules/express"], "fixAvailable": true
    },
    "shell-quote": {
      "name": "shell-quote", "severity": "critical", "isDirect": false,
      "via": [{
        "source": 1088573, "name": "shell-quote", "dependency": "shell-quote",
        "title": "Improper Neutralization of Special Elements", "url": "https://github.com/advisories/GHSA-g4rg-993r-mgx7",
        "severity": "critical", "range": "<=1.7.2"
      }],
      "effects": [], "range": "<=1.7.2", "nodes": ["node_modules/shell-quote"], "fixAvailable": true
    }
  },
  "metadata": { "vulnerabilities": { "info": 0, "low": 0, "moderate": 1, "high": 2, "critical": 1, "total": 4 } }
}`);

const CLEAN: NpmAuditReport = JSON.parse(`{
  "auditReportVersion": 2, "vulnerabilities": {},
  "metadata": { "vulnerabilities": { "info": 0, "low": 0, "moderate": 0, "high": 0, "critical": 0, "total": 0 } }
}`);

describe('judgeAuditReport', () => {
  it('says the audit could not run, with the registry answer, when npm printed an error instead of a report', () => {
    expect(judgeAuditReport(ENDPOINT_MISSING, [])).toEqual({
      kind: 'unavailable',
      reason: '405 Method Not Allowed - POST https://registry.npmjs.org/-/npm/v1/security/advisories/bulk',
    });
  });

  it('passes a report without advisories', () => {
    expect(judgeAuditReport(CLEAN, [])).toEqual({
      kind: 'checked',
      unexplained: [],
      explained: [],
      staleExceptions: [],
    });
  });

  it('lists each high and critical advisory once, by GHSA id, and ignores moderate ones and package references', () => {
    const verdict = judgeAuditReport(WITH_FINDINGS, []);
    expect(
      verdict.kind === 'checked' && verdict.unexplained.map((f) => `${f.severity} ${f.package} ${f.advisory}`),
    ).toEqual(['high path-to-regexp GHSA-9wv6-86v2-598j', 'critical shell-quote GHSA-g4rg-993r-mgx7']);
  });

  it('accepts an advisory explained for that package, and reports exceptions that match nothing any more', () => {
    const explained = {
      advisory: 'GHSA-9wv6-86v2-598j',
      package: 'path-to-regexp',
      reason: 'routes are fixed strings',
      reviewed: '2026-11-23',
    };
    const stale = { advisory: 'GHSA-0000-0000-0000', package: 'left-pad', reason: 'gone', reviewed: '2026-01-01' };
    const verdict = judgeAuditReport(WITH_FINDINGS, [explained, stale]);
    expect(verdict.kind === 'checked' && verdict.explained.map((f) => f.advisory)).toEqual(['GHSA-9wv6-86v2-598j']);
    expect(verdict.kind === 'checked' && verdict.unexplained.map((f) => f.package)).toEqual(['shell-quote']);
    expect(verdict.kind === 'checked' && verdict.staleExceptions).toEqual([stale]);
  });

  it('does not let an exception for one package explain the same advisory in another', () => {
    const other = { advisory: 'GHSA-g4rg-993r-mgx7', package: 'not-shell-quote', reason: 'x', reviewed: '2026-11-23' };
    const verdict = judgeAuditReport(WITH_FINDINGS, [other]);
    expect(verdict.kind === 'checked' && verdict.unexplained.map((f) => f.package)).toContain('shell-quote');
  });
});

describe('parseAuditExceptions', () => {
  it('reads a valid file', () => {
    const entry = { advisory: 'GHSA-1', package: 'a', reason: 'not reachable', reviewed: '2026-11-23' };
    expect(parseAuditExceptions([entry])).toEqual([entry]);
  });

  it.each([
    ['not an array', {}, 'expected a JSON array'],
    ['a missing reason', [{ advisory: 'GHSA-1', package: 'a', reviewed: '2026-11-23' }], 'exceptions[0].reason'],
    ['a blank package', [{ advisory: 'GHSA-1', package: ' ', reason: 'r', reviewed: '2026-11-23' }], '[0].package'],
    [
      'a date in another format',
      [{ advisory: 'G', package: 'a', reason: 'r', reviewed: '23/11/2026' }],
      '[0].reviewed',
    ],
  ])('rejects %s, naming the field', (_, json, message) => {
    expect(() => parseAuditExceptions(json)).toThrow(message);
  });
});
