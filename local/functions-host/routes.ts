/**
 * Azure Functions route templates (`{name}`, `{name:constraint}`, `{name?}`, `{*name}`) and the choice of the
 * function that serves a request, as the Functions host routes with ASP.NET Core routing:
 * https://learn.microsoft.com/azure/azure-functions/functions-bindings-http-webhook-trigger#customize-the-http-endpoint
 * @module
 */

export interface CompiledRoute {
  /** The route's parameters (percent-decoded) for a request path, or undefined when it does not match. */
  readonly match: (path: string) => Record<string, string> | undefined;
  /** How many segments are literals: the route with more of them wins (see `installCoreModule`). */
  readonly literalSegments: number;
}

interface Part {
  /** A literal segment, lower-cased; undefined for a parameter. */
  readonly literal: string | undefined;
  readonly name: string;
  readonly catchAll: boolean;
  readonly optional: boolean;
}

/**
 * Compiles a route template: `{name}`, `{name:constraint}` (the constraint is not checked), `{name?}` (last
 * segment) and `{*name}` (catch-all). Literal segments compare case-insensitively, as ASP.NET routing does.
 */
export function compileRoute(template: string): CompiledRoute {
  const parts: Part[] = segments(template).map((part) => {
    const param = /^\{(\*)?([A-Za-z0-9_]+)(?::[^}?]+)?(\?)?\}$/.exec(part);
    return param
      ? { literal: undefined, name: param[2]!, catchAll: Boolean(param[1]), optional: Boolean(param[3]) }
      : { literal: part.toLowerCase(), name: '', catchAll: false, optional: false };
  });
  const match = (path: string): Record<string, string> | undefined => {
    const segs = segments(path);
    const params: Record<string, string> = {};
    for (const [i, part] of parts.entries()) {
      const seg = segs[i];
      if (part.literal !== undefined) {
        if (seg?.toLowerCase() !== part.literal) return undefined;
      } else if (part.catchAll) {
        const rest = segs.slice(i).map(safeDecode);
        if (rest.some((s) => s === undefined)) return undefined;
        params[part.name] = rest.join('/');
        return params;
      } else if (seg === undefined || seg === '') {
        if (!part.optional) return undefined;
      } else {
        const decoded = safeDecode(seg);
        if (decoded === undefined) return undefined;
        params[part.name] = decoded;
      }
    }
    return segs.length <= parts.length ? params : undefined;
  };
  return { match, literalSegments: parts.filter((p) => p.literal !== undefined).length };
}

/**
 * The function that serves a method and path, with its parameters: the first whose route matches and that was
 * registered with the method (the list is in precedence order).
 */
export function findRoute<F extends CompiledRoute & { readonly methods: readonly string[] }>(
  functions: readonly F[],
  method: string,
  path: string,
): { readonly f: F; readonly params: Record<string, string> } | undefined {
  for (const f of functions) {
    if (!f.methods.includes(method)) continue;
    const params = f.match(path);
    if (params) return { f, params };
  }
  return undefined;
}

/** A path's segments: without leading and trailing slashes, split at each other one. */
function segments(path: string): string[] {
  return path.replace(/^\/+|\/+$/g, '').split('/');
}

function safeDecode(s: string): string | undefined {
  try {
    return decodeURIComponent(s);
  } catch {
    return undefined;
  }
}
