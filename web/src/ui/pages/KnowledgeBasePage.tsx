import { type FormEvent, useEffect, useState } from "react";
import { useFlowMaestro, useFlowState, useKnowledgeBase } from "@flowmaestro/react";
import type { KnowledgeBaseSummary } from "@flowmaestro/client";
import { kbChannel } from "@flowmaestro/client";
import type { DocumentView, KbStepName } from "@flowmaestro/react";
import { formatDateTime, formatDuration, plural } from "../components/format";
import { ProgressBar } from "../components/ProgressBar";
import { StatusBadge } from "../components/StatusBadge";
import { knowledgeBaseHref } from "../route";

const STEPS: KbStepName[] = ["extraction", "chunking", "embedding", "storage"];

/** The caller's knowledge bases, refreshed when a kb event arrives (a document was added). */
function useKnowledgeBases() {
  const { client } = useFlowMaestro();
  const [list, setList] = useState<KnowledgeBaseSummary[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const documents = useFlowState((s) =>
    Object.values(s.knowledgeBases).reduce((n, kb) => n + kb.view.documentOrder.length, 0),
  );
  const [version, setVersion] = useState(0);
  useEffect(() => {
    let stale = false;
    client.api.listKnowledgeBases().then(
      (l) => !stale && setList(l),
      (err: unknown) => !stale && setError(err instanceof Error ? err.message : String(err)),
    );
    return () => {
      stale = true;
    };
  }, [client, documents, version]);
  return { list, error, refresh: () => setVersion((v) => v + 1) };
}

export function KnowledgeBasePage({ knowledgeBaseId }: { knowledgeBaseId: string | null }) {
  const { list, error, refresh } = useKnowledgeBases();
  if (knowledgeBaseId === null) return <KnowledgeBaseList list={list} error={error} onCreated={refresh} />;
  if (list === null) return error ? <p className="alert alert-error">{error}</p> : <p className="muted">Loading…</p>;
  // Opened by id or by name: a name opens the newest knowledge base of that name.
  const kb = list.find((k) => k.knowledgeBaseId === knowledgeBaseId) ?? list.find((k) => k.name === knowledgeBaseId);
  if (!kb)
    return (
      <section className="card empty-state" data-testid="kb-missing">
        <h1>Knowledge base not found</h1>
        <p>
          You have no knowledge base with the id or name <code>{knowledgeBaseId}</code>.
        </p>
        <a className="btn btn-primary" href="#/knowledge-bases">
          All knowledge bases
        </a>
      </section>
    );
  return <Documents kb={kb} />;
}

function KnowledgeBaseList({
  list,
  error,
  onCreated,
}: {
  list: KnowledgeBaseSummary[] | null;
  error: string | null;
  onCreated: () => void;
}) {
  const { client } = useFlowMaestro();
  const [name, setName] = useState("");
  const [createError, setCreateError] = useState<string | null>(null);
  const create = async (e: FormEvent) => {
    e.preventDefault();
    setCreateError(null);
    try {
      const kb = await client.api.createKnowledgeBase(name.trim());
      onCreated();
      window.location.hash = knowledgeBaseHref(kb.knowledgeBaseId);
    } catch (err) {
      setCreateError(err instanceof Error ? err.message : String(err));
    }
  };
  return (
    <div className="grid-2">
      <section className="card">
        <h1>New knowledge base</h1>
        <form className="form" onSubmit={(e) => void create(e)}>
          <div className="field">
            <label htmlFor="kb-name">Name</label>
            <input id="kb-name" data-testid="kb-name" value={name} onChange={(e) => setName(e.target.value)} required maxLength={200} />
          </div>
          <div className="actions">
            <button type="submit" className="btn btn-primary" data-testid="kb-create" disabled={!name.trim()}>
              Create
            </button>
          </div>
          {createError && <p className="alert alert-error">{createError}</p>}
        </form>
        <p className="hint">
          From a terminal: <code>flowmaestro kb create NAME --user USER</code>.
        </p>
      </section>
      <section className="card primary">
        <h1>Knowledge bases</h1>
        {error && <p className="alert alert-error">{error}</p>}
        {list !== null && list.length === 0 && <p className="muted">No knowledge base yet.</p>}
        {list !== null && list.length > 0 && (
          <div className="table-wrap">
            <table data-testid="knowledge-bases">
              <thead>
                <tr>
                  <th>Name</th>
                  <th>Documents</th>
                  <th className="hide-narrow">Created</th>
                </tr>
              </thead>
              <tbody>
                {list.map((kb) => (
                  <tr key={kb.knowledgeBaseId} data-testid={`kb-${kb.knowledgeBaseId}`}>
                    <td>
                      <a href={knowledgeBaseHref(kb.knowledgeBaseId)}>{kb.name}</a>
                    </td>
                    <td>
                      <span className="count-pill" data-testid="document-count">
                        {kb.documentCount}
                      </span>
                    </td>
                    <td className="hide-narrow muted nowrap">{formatDateTime(kb.createdAt)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
      </section>
    </div>
  );
}

function Documents({ kb }: { kb: KnowledgeBaseSummary }) {
  const { documents, upload } = useKnowledgeBase(kb.knowledgeBaseId);
  const channel = useFlowState((s) => s.channels[kbChannel(kb.knowledgeBaseId)]);
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
    <section className="card" data-testid="knowledge-base" data-kb={kb.knowledgeBaseId}>
      <div className="head-row">
        <div>
          <p className="eyebrow">Knowledge base</p>
          <h1>{kb.name}</h1>
          <p className="muted mono">{kb.knowledgeBaseId}</p>
        </div>
        <label className="btn btn-primary">
          Upload a document
          <input
            type="file"
            className="visually-hidden"
            data-testid="kb-upload"
            accept=".txt,.md,.markdown,.html,.htm,.pdf"
            onChange={(e) => void onFile(e.target.files?.[0])}
          />
        </label>
      </div>
      {error && <p className="alert alert-error">{error}</p>}
      {channel?.error && <p className="alert alert-error">Live updates stopped: {channel.error.message}</p>}
      {documents.length === 0 ? (
        <p className="muted">No document yet: upload a text, Markdown, HTML or PDF file.</p>
      ) : (
        <div className="table-wrap">
          <table data-testid="documents">
            <thead>
              <tr>
                <th>Document</th>
                <th>Status</th>
                {STEPS.map((s) => (
                  <th key={s} className="hide-narrow">
                    {s}
                  </th>
                ))}
                <th>Result</th>
              </tr>
            </thead>
            <tbody>
              {documents.map((d) => (
                <DocumentRow key={d.documentId} doc={d} />
              ))}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}

function DocumentRow({ doc }: { doc: DocumentView }) {
  return (
    <tr data-testid={`document-${doc.documentId}`} data-status={doc.status}>
      <td>
        {doc.fileName ?? doc.documentId}
        {doc.fileSize !== null && <div className="muted small">{doc.fileSize.toLocaleString()} bytes</div>}
      </td>
      <td>
        <StatusBadge status={doc.status} />
        {doc.error && <div className="field-error">{doc.error.message}</div>}
      </td>
      {STEPS.map((s) => (
        <td key={s} className="hide-narrow">
          <ProgressBar value={doc.steps[s] ?? null} label={`${s} of ${doc.fileName ?? doc.documentId}`} />
        </td>
      ))}
      <td className="muted small">
        {doc.chunkCount !== null && `${plural(doc.chunkCount, "chunk")}, ${plural(doc.embeddingCount ?? 0, "embedding")}`}
        {doc.durationMs !== null && ` · ${formatDuration(doc.durationMs)}`}
      </td>
    </tr>
  );
}
