// A knowledge base's documents and the progress of each ingestion step.
import type { FlowEvent } from "@flowmaestro/client";

export type KbStepName = "extraction" | "chunking" | "embedding" | "storage";

export interface DocumentView {
  documentId: string;
  fileName: string | null;
  fileSize: number | null;
  status: "uploading" | "processing" | "completed" | "failed";
  step: KbStepName | null;
  steps: Partial<Record<KbStepName, number>>;
  chunkCount: number | null;
  embeddingCount: number | null;
  durationMs: number | null;
  error: { message: string; type: string } | null;
}

export interface KnowledgeBaseView {
  knowledgeBaseId: string;
  documents: Record<string, DocumentView>;
  documentOrder: string[];
}

export function emptyKnowledgeBase(knowledgeBaseId: string): KnowledgeBaseView {
  return { knowledgeBaseId, documents: {}, documentOrder: [] };
}

function emptyDocument(documentId: string): DocumentView {
  return {
    documentId,
    fileName: null,
    fileSize: null,
    status: "uploading",
    step: null,
    steps: {},
    chunkCount: null,
    embeddingCount: null,
    durationMs: null,
    error: null,
  };
}

function withDocument(view: KnowledgeBaseView, documentId: string, patch: (d: DocumentView) => Partial<DocumentView>): KnowledgeBaseView {
  const existing = view.documents[documentId];
  const doc = existing ?? emptyDocument(documentId);
  return {
    ...view,
    documents: { ...view.documents, [documentId]: { ...doc, ...patch(doc) } },
    documentOrder: existing ? view.documentOrder : [...view.documentOrder, documentId],
  };
}

export function applyKbEvent(view: KnowledgeBaseView, event: FlowEvent): KnowledgeBaseView {
  switch (event.type) {
    case "kb:upload_started":
      return withDocument(view, event.data.documentId, () => ({
        fileName: event.data.fileName,
        fileSize: event.data.fileSize,
        status: "uploading",
      }));
    case "kb:processing":
      return withDocument(view, event.data.documentId, (d) => ({
        status: "processing",
        step: event.data.step,
        steps: { ...d.steps, [event.data.step]: event.data.progress },
      }));
    case "kb:upload_completed":
      return withDocument(view, event.data.documentId, (d) => ({
        status: "completed",
        step: null,
        steps: Object.fromEntries(Object.keys(d.steps).map((k) => [k, 100])),
        chunkCount: event.data.chunkCount,
        embeddingCount: event.data.embeddingCount,
        durationMs: event.data.durationMs,
      }));
    case "kb:upload_failed":
      return withDocument(view, event.data.documentId, () => ({
        status: "failed",
        step: event.data.step,
        error: event.data.error,
      }));
    default:
      return view;
  }
}
