// The HTTP client both pages use: JSON calls with a bearer token, errors as ApiError with
// the server's stable code, and the chat's server-sent events read from a fetch body.

/** An error the server answered with (or a network failure, code "network"). */
export class ApiError extends Error {
  readonly status: number;
  readonly code: string;
  readonly field?: string;
  readonly resetsAt?: string;
  readonly retryAfter?: number;
  readonly requestId?: string;

  constructor(init: {
    status: number;
    code: string;
    message: string;
    field?: string;
    resetsAt?: string;
    retryAfter?: number;
    requestId?: string;
  }) {
    super(init.message);
    this.name = 'ApiError';
    this.status = init.status;
    this.code = init.code;
    this.field = init.field;
    this.resetsAt = init.resetsAt;
    this.retryAfter = init.retryAfter;
    this.requestId = init.requestId;
  }
}

interface ErrorBody {
  error?: { code?: string; message?: string; field?: string; resets_at?: string; request_id?: string };
}

/** Builds the ApiError for a non-2xx response (its body is read here). */
export async function errorFrom(response: Response): Promise<ApiError> {
  let body: ErrorBody = {};
  try {
    body = (await response.json()) as ErrorBody;
  } catch {
    // Not JSON (a proxy's page, say): the status alone must do.
  }
  const retryHeader = response.headers.get('Retry-After');
  const retryAfter = retryHeader !== null && /^\d+$/.test(retryHeader) ? Number(retryHeader) : undefined;
  const error = body.error ?? {};
  return new ApiError({
    status: response.status,
    code: error.code ?? codeForStatus(response.status),
    message: error.message ?? response.statusText,
    field: error.field,
    resetsAt: error.resets_at,
    retryAfter,
    requestId: error.request_id ?? response.headers.get('X-Request-Id') ?? undefined,
  });
}

function codeForStatus(status: number): string {
  switch (status) {
    case 400:
      return 'bad_request';
    case 401:
      return 'unauthorized';
    case 402:
      return 'premium_required';
    case 403:
      return 'forbidden';
    case 404:
      return 'not_found';
    case 413:
      return 'payload_too_large';
    case 415:
      return 'unsupported_media_type';
    case 429:
      return 'rate_limited';
    case 502:
    case 504:
      return 'upstream_unavailable';
    case 503:
      return 'service_unavailable';
    default:
      return 'internal';
  }
}

/** A failed fetch: the server could not be reached at all. */
export function networkError(): ApiError {
  return new ApiError({ status: 0, code: 'network', message: 'network error' });
}

/** Calls the API; resolves to the parsed JSON (or null for 204), rejects with ApiError. */
export class ApiClient {
  private token: string | null = null;
  private onUnauthorized: ((error: ApiError) => void) | null = null;
  private refresher: (() => Promise<string | null>) | null = null;
  private refreshing: Promise<string | null> | null = null;

  setToken(token: string | null): void {
    this.token = token;
  }

  hasToken(): boolean {
    return this.token !== null;
  }

  /** Called when a request with a token gets 401 (expired or revoked token). */
  setUnauthorizedHandler(handler: (error: ApiError) => void): void {
    this.onUnauthorized = handler;
  }

  /** Gets a new token when one is refused (the Mini App signs in again from its init data). */
  setTokenRefresher(refresher: (() => Promise<string | null>) | null): void {
    this.refresher = refresher;
  }

  /** One refresh at a time, shared by the requests that were refused together. */
  private refresh(): Promise<string | null> {
    const refresher = this.refresher;
    if (refresher === null) {
      return Promise.resolve(null);
    }
    if (this.refreshing === null) {
      this.refreshing = refresher()
        .catch(() => null)
        .finally(() => {
          this.refreshing = null;
        });
    }
    return this.refreshing;
  }

  async raw(
    method: string,
    path: string,
    body?: unknown,
    extraHeaders: Record<string, string> = {},
    retried = false,
  ): Promise<Response> {
    const headers: Record<string, string> = { Accept: 'application/json', ...extraHeaders };
    if (this.token !== null) {
      headers.Authorization = `Bearer ${this.token}`;
    }
    let payload: string | undefined;
    if (body !== undefined) {
      headers['Content-Type'] = 'application/json';
      payload = JSON.stringify(body);
    }
    let response: Response;
    try {
      response = await fetch(path, { method, headers, body: payload });
    } catch {
      throw networkError();
    }
    if (!response.ok) {
      const error = await errorFrom(response);
      if (response.status === 401 && this.token !== null) {
        if (!retried && this.refresher !== null) {
          const fresh = await this.refresh();
          if (fresh !== null) {
            this.token = fresh;
            return this.raw(method, path, body, extraHeaders, true);
          }
        }
        this.onUnauthorized?.(error);
      }
      throw error;
    }
    return response;
  }

  async json<T>(method: string, path: string, body?: unknown): Promise<T> {
    const response = await this.raw(method, path, body);
    if (response.status === 204) {
      return null as T;
    }
    return (await response.json()) as T;
  }

  get<T>(path: string): Promise<T> {
    return this.json<T>('GET', path);
  }

  post<T>(path: string, body?: unknown): Promise<T> {
    return this.json<T>('POST', path, body ?? {});
  }

  patch<T>(path: string, body: unknown): Promise<T> {
    return this.json<T>('PATCH', path, body);
  }

  put<T>(path: string, body: unknown): Promise<T> {
    return this.json<T>('PUT', path, body);
  }

  delete<T>(path: string): Promise<T> {
    return this.json<T>('DELETE', path);
  }

  /** A binary answer (audio, a download) as a Blob. */
  async blob(method: string, path: string, body?: unknown): Promise<Blob> {
    const response = await this.raw(method, path, body, { Accept: '*/*' });
    return response.blob();
  }
}

/** One server-sent event. */
export interface StreamEvent {
  event: string;
  data: string;
}

/** Reads `text/event-stream` from a response body, calling `onEvent` per complete event. */
export async function readEventStream(response: Response, onEvent: (event: StreamEvent) => void): Promise<void> {
  if (response.body === null) {
    return;
  }
  const reader = response.body.getReader();
  const decoder = new TextDecoder();
  let buffer = '';
  let event = 'message';
  let data: string[] = [];
  const flushLine = (line: string): void => {
    if (line === '') {
      if (data.length > 0) {
        onEvent({ event, data: data.join('\n') });
      }
      event = 'message';
      data = [];
      return;
    }
    if (line.startsWith(':')) {
      return;
    }
    const colon = line.indexOf(':');
    const name = colon < 0 ? line : line.slice(0, colon);
    let value = colon < 0 ? '' : line.slice(colon + 1);
    if (value.startsWith(' ')) {
      value = value.slice(1);
    }
    if (name === 'event') {
      event = value;
    } else if (name === 'data') {
      data.push(value);
    }
  };
  for (;;) {
    let chunk: ReadableStreamReadResult<Uint8Array>;
    try {
      chunk = await reader.read();
    } catch {
      throw networkError();
    }
    if (chunk.done) {
      break;
    }
    buffer += decoder.decode(chunk.value, { stream: true });
    let newline = buffer.search(/\r\n|\n|\r/);
    while (newline >= 0) {
      const line = buffer.slice(0, newline);
      const width = buffer.startsWith('\r\n', newline) ? 2 : 1;
      buffer = buffer.slice(newline + width);
      flushLine(line);
      newline = buffer.search(/\r\n|\n|\r/);
    }
  }
  if (buffer !== '') {
    flushLine(buffer);
  }
  flushLine('');
}
