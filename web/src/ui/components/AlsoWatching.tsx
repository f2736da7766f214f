// "also watching: …" beside an execution or an open prompt: who else has it open, by user.
import { usePresence } from "@flowmaestro/react";
import { readToken, tokenSubject } from "../auth";

export function AlsoWatching({ channel }: { channel: string }) {
  const users = usePresence(channel);
  if (users.length === 0) return null;
  const token = readToken();
  const self = token === null ? null : tokenSubject(token);
  const names = users.map((u) => (u === self ? "you, elsewhere" : u));
  return (
    <p className="muted small also-watching" data-testid="also-watching">
      also watching: {names.join(", ")}
    </p>
  );
}
