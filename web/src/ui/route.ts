// A hash router: #/executions, #/executions/<id>, #/inbox, #/knowledge-bases[/<id>].
import { useEffect, useState } from "react";

export type Route =
  | { page: "executions" }
  | { page: "inbox" }
  | { page: "execution"; executionId: string }
  | { page: "knowledge-base"; knowledgeBaseId: string | null };

export function parseRoute(hash: string): Route {
  const [, section, id] = hash.replace(/^#/, "").split("/");
  if (section === "executions" && id) return { page: "execution", executionId: decodeURIComponent(id) };
  if (section === "inbox") return { page: "inbox" };
  if (section === "knowledge-bases") return { page: "knowledge-base", knowledgeBaseId: id ? decodeURIComponent(id) : null };
  return { page: "executions" };
}

export const executionHref = (id: string) => `#/executions/${encodeURIComponent(id)}`;
export const knowledgeBaseHref = (id: string) => `#/knowledge-bases/${encodeURIComponent(id)}`;

export function useRoute(): Route {
  const [route, setRoute] = useState(() => parseRoute(window.location.hash));
  useEffect(() => {
    const onChange = () => setRoute(parseRoute(window.location.hash));
    window.addEventListener("hashchange", onChange);
    return () => window.removeEventListener("hashchange", onChange);
  }, []);
  return route;
}
