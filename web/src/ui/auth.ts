// The development token lives in localStorage so every tab (and a reload) signs in with it.
import { subjectOf } from "@flowmaestro/client";

const KEY = "flowmaestro.token";

export const readToken = (): string | null => localStorage.getItem(KEY);
export const saveToken = (token: string): void => localStorage.setItem(KEY, token.trim());
export const clearToken = (): void => localStorage.removeItem(KEY);

/** The `sub` claim, for display; the server is what checks the token. */
export const tokenSubject = subjectOf;

/** The `groups` claim (the default claim name), for what the page offers; the server is what
 * decides who may answer. */
export function tokenGroups(token: string): string[] {
  try {
    const part = token.split(".")[1] ?? "";
    const json = atob(part.replace(/-/g, "+").replace(/_/g, "/").padEnd(Math.ceil(part.length / 4) * 4, "="));
    const groups = (JSON.parse(json) as { groups?: unknown }).groups;
    return Array.isArray(groups) ? groups.filter((g): g is string => typeof g === "string") : [];
  } catch {
    return [];
  }
}
