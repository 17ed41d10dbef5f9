// The console's only way to the gateway: its public HTTP API, with the signed-in key.
// The key lives in sessionStorage (this tab only, gone when it closes), never in a URL,
// localStorage or a log.

const KEY = "loragate.key";

export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly param: string | null = null,
    readonly code: string | null = null,
  ) {
    super(message);
  }
}

export function currentKey(): string | null {
  return sessionStorage.getItem(KEY);
}

export function rememberKey(key: string): void {
  sessionStorage.setItem(KEY, key);
}

export function forgetKey(): void {
  sessionStorage.removeItem(KEY);
}

export function authHeaders(key: string | null = currentKey()): Record<string, string> {
  return key ? { Authorization: `Bearer ${key}` } : {};
}

export async function errorOf(response: Response): Promise<ApiError> {
  let message = `${response.status} ${response.statusText}`;
  let param: string | null = null;
  let code: string | null = null;
  try {
    const body = await response.json();
    const error = body?.error;
    if (error?.message) message = String(error.message);
    param = error?.param ?? null;
    code = error?.code ?? null;
  } catch {
    // not JSON: keep the status line (never show a raw body)
  }
  return new ApiError(response.status, message, param, code);
}

export interface CallOptions {
  method?: string;
  json?: unknown;
  form?: FormData;
  key?: string | null;
}

export async function call<T>(path: string, options: CallOptions = {}): Promise<T> {
  const headers: Record<string, string> = authHeaders(options.key ?? currentKey());
  let body: BodyInit | undefined;
  if (options.json !== undefined) {
    headers["Content-Type"] = "application/json";
    body = JSON.stringify(options.json);
  } else if (options.form) {
    body = options.form;
  }
  let response: Response;
  try {
    response = await fetch(path, { method: options.method ?? "GET", headers, body });
  } catch {
    throw new ApiError(0, "The gateway cannot be reached. Is it running?");
  }
  if (!response.ok) {
    const error = await errorOf(response);
    if (response.status === 401 && options.key === undefined) {
      window.dispatchEvent(new CustomEvent("loragate:signed-out", { detail: error.message }));
    }
    throw error;
  }
  return (await response.json()) as T;
}

export interface Me {
  key_id: string;
  owner: string | null;
  role: string;
  rpm: number | null;
  tpm: number | null;
}

export interface ListOf<T> {
  data: T[];
  has_more?: boolean;
}
