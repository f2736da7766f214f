"use client";
import { useCallback, useMemo } from "react";
import { kbChannel } from "@flowmaestro/client";
import { type DocumentView, emptyKnowledgeBase } from "../store/kb.js";
import { useChannel, useFlowMaestro, useFlowState } from "./context.js";

/** A knowledge base's documents with per-step ingestion progress, and an upload. */
export function useKnowledgeBase(knowledgeBaseId: string | null) {
  const { client } = useFlowMaestro();
  useChannel(knowledgeBaseId === null ? null : kbChannel(knowledgeBaseId));
  const log = useFlowState((s) => (knowledgeBaseId === null ? undefined : s.knowledgeBases[knowledgeBaseId]));
  const documents = useMemo(() => {
    const view = log?.view ?? emptyKnowledgeBase(knowledgeBaseId ?? "");
    return view.documentOrder.map((id) => view.documents[id] as DocumentView);
  }, [log, knowledgeBaseId]);
  const upload = useCallback(
    (file: File) => {
      if (knowledgeBaseId === null) throw new Error("no knowledge base selected");
      return client.api.uploadDocument(knowledgeBaseId, file);
    },
    [client, knowledgeBaseId],
  );
  return { documents, upload };
}
