export function ProgressBar({ value, label }: { value: number | null; label: string }) {
  const pct = Math.round(Math.max(0, Math.min(100, value ?? 0)));
  return (
    <div className="progress" role="progressbar" aria-valuenow={pct} aria-valuemin={0} aria-valuemax={100} aria-label={label}>
      <div className="fill" style={{ width: `${pct}%` }} />
    </div>
  );
}
