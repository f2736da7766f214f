const LABEL: Record<string, string> = { waiting: "waiting for input", retrying: "retrying" };

export function StatusBadge({ status, label }: { status: string; label?: string }) {
  return (
    <span className={`badge status-${status}`} data-status={status}>
      <span className="dot" aria-hidden="true" />
      {label ?? LABEL[status] ?? status}
    </span>
  );
}
