/**
 * Reads the JSON that `npm audit --json` prints and decides whether the production dependencies pass: every high or
 * critical advisory must be explained in the exceptions file, or the audit fails. Kept free of I/O so the decision
 * can be tested on npm's own report format.
 */

export type Severity = 'info' | 'low' | 'moderate' | 'high' | 'critical';

/** One advisory as npm lists it in a vulnerability's `via` (the other `via` entries name another package). */
interface NpmAdvisory {
  source?: number;
  name: string;
  title?: string;
  url?: string;
  severity: Severity;
  range?: string;
}

/** The part of an `npm audit --json` report (auditReportVersion 2, npm 7 and later) this reads. */
export interface NpmAuditReport {
  auditReportVersion?: number;
  vulnerabilities?: Record<string, { name: string; severity: Severity; via: Array<string | NpmAdvisory> }>;
  /** Present instead of `vulnerabilities` when npm could not run the audit. */
  error?: { code?: string; summary?: string; detail?: string };
  message?: string;
}

/** An accepted high or critical advisory, with why it does not affect this project. */
export interface AuditException {
  /** The advisory's id: its GHSA id (the last part of its URL) or npm's numeric source id. */
  advisory: string;
  package: string;
  reason: string;
  /** When someone last checked the reason still holds (YYYY-MM-DD). */
  reviewed: string;
}

export interface Finding {
  advisory: string;
  package: string;
  severity: Severity;
  title: string;
  range: string;
}

export type AuditVerdict =
  | { kind: 'unavailable'; reason: string }
  | { kind: 'checked'; unexplained: Finding[]; explained: Finding[]; staleExceptions: AuditException[] };

const BLOCKING: ReadonlySet<Severity> = new Set(['high', 'critical']);

/** `GHSA-xxxx-xxxx-xxxx` from an advisory URL, else npm's numeric id. */
function advisoryId(advisory: NpmAdvisory): string {
  const ghsa = advisory.url ? /GHSA-[\w-]+/i.exec(advisory.url)?.[0] : undefined;
  return ghsa ?? String(advisory.source ?? advisory.url ?? advisory.title ?? 'unknown');
}

/**
 * Classifies a report: `unavailable` when npm printed an error instead of a report (e.g. the registry has no audit
 * endpoint), otherwise each distinct high/critical advisory as explained or not, plus exceptions that no longer
 * match anything (to be removed).
 */
export function judgeAuditReport(report: NpmAuditReport, exceptions: readonly AuditException[]): AuditVerdict {
  if (!report.vulnerabilities) {
    const reason = report.error?.summary || report.message || 'npm audit printed no report';
    return { kind: 'unavailable', reason: reason.split('\n')[0]! };
  }
  const findings = new Map<string, Finding>();
  for (const vulnerability of Object.values(report.vulnerabilities)) {
    for (const via of vulnerability.via) {
      if (typeof via === 'string' || !BLOCKING.has(via.severity)) continue;
      const advisory = advisoryId(via);
      findings.set(`${advisory} ${via.name}`, {
        advisory,
        package: via.name,
        severity: via.severity,
        title: via.title ?? '',
        range: via.range ?? '',
      });
    }
  }
  const isExplained = (finding: Finding) =>
    exceptions.some((e) => e.advisory === finding.advisory && e.package === finding.package);
  const all = [...findings.values()];
  return {
    kind: 'checked',
    unexplained: all.filter((f) => !isExplained(f)),
    explained: all.filter(isExplained),
    staleExceptions: exceptions.filter((e) => !all.some((f) => f.advisory === e.advisory && f.package === e.package)),
  };
}

/** Validates the exceptions file, naming the entry and field that is wrong. */
export function parseAuditExceptions(json: unknown): AuditException[] {
  if (!Array.isArray(json)) throw new Error('audit exceptions: expected a JSON array of exceptions');
  return json.map((entry: unknown, i) => {
    const e = entry as Partial<Record<keyof AuditException, unknown>>;
    for (const field of ['advisory', 'package', 'reason', 'reviewed'] as const) {
      if (typeof e?.[field] !== 'string' || (e[field] as string).trim() === '') {
        throw new Error(`audit exceptions[${i}].${field}: expected a non-empty string`);
      }
    }
    if (!/^\d{4}-\d{2}-\d{2}$/.test(e.reviewed as string)) {
      throw new Error(`audit exceptions[${i}].reviewed: expected a date as YYYY-MM-DD`);
    }
    return e as AuditException;
  });
}
