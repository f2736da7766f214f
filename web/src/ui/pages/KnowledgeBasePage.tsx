import { type FormEvent, useState } from "react";
import { useFlowMaestro, useKnowledgeBase } from "../../react";
import type { DocumentView, KbStepName } from "../../store/kb";
import { ProgressBar } from "../components/ProgressBar";
import { StatusBadge } from "../components/StatusBadge";
import { knowledgeBaseHref } from "../route";

const STEPS: KbStepName[] = ["extraction", "chunking", "embedding", "storage"];

export function KnowledgeBasePage({ knowledgeBaseId }: { knowledgeBaseId: string | null }) {
  const { client } = useFlowMaestro();
  const [name, setName] = useState(knowledgeBaseId ?? "");
  const [error, setError] = useState<string | null>(null);
  const open = (e: FormEvent) => {
    e.preventDefault();
    if (name.trim()) window.location.hash = knowledgeBaseHref(name.trim());
  };
  const create = async () => {
    setError(null);
    try {
      const kb = await client.api.createKnowledgeBase(name.trim() || "documents");
      window.location.hash = knowledgeBaseHref(kb.knowledgeBaseId);
    } catch (err) {
      setError(err instanceof Error ? err.message : String(err));
    }
  };
  return (
    <>
      <section>
        <h2>Knowledge base</h2>
        <form className="start" onSubmit={open}>
          <label>
            Id or name
            <input data-testid="kb-id" value={name} onChange={(e) => setName(e.target.value)} />
          </label>
          <button type="submit">Open</button>
          <button type="button" data-testid="kb-create" onClick={() => void create()}>
            Create
          </button>
          {error && <p className="error">{error}</p>}
        </form>
        <p className="hint">
          Or create one with <code>flowmaestro kb create NAME</code>.
        </p>
      </section>
      {knowledgeBaseId && <Documents knowledgeBaseId={knowledgeBaseId} />}
    </>
  );
}

function Documents({ knowledgeBaseId }: { knowledgeBaseId: string }) {
  const { documents, upload } = useKnowledgeBase(knowledgeBaseId);
  const [error, setError] = useState<string | null>(null);
  const onFile = async (file: File | undefined) => {
    if (!file) return;
    setError(null);
    try {
      await upload(file);
    } catch (err) {
      setError(err instanceof Error ? err.message : String(err));
    }
  };
  return (
    <section>
      <h3>
        Documents of <code>{knowledgeBaseId}</code>
      </h3>
      <input type="file" data-testid="kb-upload" onChange={(e) => void onFile(e.target.files?.[0])} />
      {error && <p className="error">{error}</p>}
      <table data-testid="documents">
        <thead>
          <tr>
            <th>Document</th>
            <th>Status</th>
            {STEPS.map((s) => (
              <th key={s}>{s}</th>
            ))}
            <th>Chunks</th>
          </tr>
        </thead>
        <tbody>
          {documents.map((d) => (
            <DocumentRow key={d.documentId} doc={d} />
          ))}
        </tbody>
      </table>
    </section>
  );
}

function DocumentRow({ doc }: { doc: DocumentView }) {
  return (
    <tr data-testid={`document-${doc.documentId}`} data-status={doc.status}>
      <td>
        {doc.fileName ?? doc.documentId}
        {doc.fileSize !== null && <span className="small"> ({doc.fileSize} B)</span>}
      </td>
      <td>
        <StatusBadge status={doc.status} />
        {doc.error && <div className="error small">{doc.error.message}</div>}
      </td>
      {STEPS.map((s) => (
        <td key={s}>
          <ProgressBar value={doc.steps[s] ?? null} label={s} />
        </td>
      ))}
      <td>{doc.chunkCount ?? ""}</td>
    </tr>
  );
}
