/**
 * The structural request and reply that `src/http` works with. The Functions `HttpRequest` satisfies
 * HttpRequestLike, and HttpReply is a valid `HttpResponseInit`, so nothing here imports @azure/functions.
 * @module
 */

export interface HttpRequestLike {
  readonly method: string;
  readonly url: string;
  readonly headers: { get(name: string): string | null };
  readonly params: Readonly<Record<string, string>>;
  text(): Promise<string>;
}

export interface HttpReply {
  readonly status: number;
  readonly headers?: Record<string, string>;
  readonly body?: string;
}

export function jsonReply(status: number, value: unknown, headers: Record<string, string> = {}): HttpReply {
  return {
    status,
    headers: { 'content-type': 'application/json; charset=utf-8', ...headers },
    body: JSON.stringify(value),
  };
}
