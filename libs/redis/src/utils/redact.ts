const REDACTED = '***';

/**
 * Returns `url` with its password (and any `password`/`pass` query parameter) replaced by `***`.
 * Input that is not a URL is returned as `<invalid url>` rather than echoed: it might be a secret pasted in the
 * wrong field.
 */
export function redactUrl(url: string): string {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return '<invalid url>';
  }
  if (parsed.password) parsed.password = REDACTED;
  for (const key of [...parsed.searchParams.keys()]) {
    if (/^(password|pass|pwd|auth)$/i.test(key)) parsed.searchParams.set(key, REDACTED);
  }
  return parsed.toString();
}

/**
 * Removes every occurrence of the given secrets from a message (e.g. an error text from a driver), so it can be
 * logged or rethrown safely.
 */
export function redactSecrets(message: string, secrets: Array<string | undefined>): string {
  let out = message;
  for (const secret of secrets) {
    if (secret && secret.length > 0) out = out.split(secret).join(REDACTED);
  }
  return out;
}
