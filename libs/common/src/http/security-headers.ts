import helmet, { type HelmetOptions } from 'helmet';

/**
 * Helmet's defaults (CSP, HSTS, nosniff, frame denial, ...), minus
 * upgrade-insecure-requests: it would send the Swagger UI's own scripts to
 * https:// on a plain-HTTP deployment; HSTS covers real HTTPS deployments.
 */
export const HELMET_OPTIONS: Readonly<HelmetOptions> = {
  contentSecurityPolicy: { directives: { upgradeInsecureRequests: null } },
};

/**
 * The headers helmet would set, computed once. Helmet (and @fastify/helmet,
 * which parses the CSP directives again on every request) costs a middleware
 * and a dozen header calls per request for values that never change, since
 * none of our directives depends on the request; the app sets this map on
 * every response instead, in one call, on both platforms.
 */
export function securityHeaders(
  options: Readonly<HelmetOptions> = HELMET_OPTIONS,
): Map<string, string> {
  const headers = new Map<string, string>();
  const response = {
    setHeader: (name: string, value: unknown) => void headers.set(name, String(value)),
    // X-Powered-By: never set in the first place (see app.setup.ts).
    removeHeader: () => undefined,
  };
  let finished = false;
  helmet(options)({} as never, response as never, (error?: unknown) => {
    if (error) throw error instanceof Error ? error : new Error('helmet failed');
    finished = true;
  });
  // Helmet's middleware is synchronous; if a version ever is not, fail at start-up, not silently.
  if (!finished) throw new Error('helmet did not set its headers synchronously');
  return headers;
}
