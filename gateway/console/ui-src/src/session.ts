// Who is signed in: the key's owner and role, as the gateway's /v1/me reports them.

import { call, currentKey, forgetKey, Me, rememberKey } from "./api";

let me: Me | null = null;

export function signedIn(): Me | null {
  return me;
}

export function isAdmin(): boolean {
  return me?.role === "admin";
}

/** Check ``key`` with the gateway; keep it for this tab only when it is good. */
export async function signIn(key: string): Promise<Me> {
  const who = await call<Me>("/v1/me", { key });
  rememberKey(key);
  me = who;
  return who;
}

/** Re-read who the kept key belongs to (after a reload); null when there is none. */
export async function restore(): Promise<Me | null> {
  const key = currentKey();
  if (!key) return null;
  try {
    me = await call<Me>("/v1/me", { key });
  } catch {
    signOut();
  }
  return me;
}

export function signOut(): void {
  forgetKey();
  me = null;
}
