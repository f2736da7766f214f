// The development token lives in localStorage so every tab (and a reload) signs in with it.
import { subjectOf } from "@flowmaestro/client";

const KEY = "flowmaestro.token";

export const readToken = (): string | null => localStorage.getItem(KEY);
export const saveToken = (token: string): void => localStorage.setItem(KEY, token.trim());
export const clearToken = (): void => localStorage.removeItem(KEY);

/** The `sub` claim, for display; the server is what checks the token. */
export const tokenSubject = subjectOf;
