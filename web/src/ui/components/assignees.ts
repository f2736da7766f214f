// Who a prompt waits for (docs/teams.md, Assignees), as the page shows it. The gateway and the
// workflow decide who may answer; this only chooses between a form and a read-only line.
import type { UserInputRequiredData } from "@flowmaestro/client";

export interface Viewer {
  user: string | null;
  groups: readonly string[];
}

/** "finance, zoe", or the owner when the prompt names nobody. */
export function waitsFor(prompt: Pick<UserInputRequiredData, "assignees">, owner: string | null): string {
  const assignees = prompt.assignees;
  if (!assignees) return owner ?? "the owner";
  return [...assignees.groups, ...assignees.users].join(", ");
}

/** Whether `viewer` is one the prompt accepts; `owner` null: not known yet (the owner's page). */
export function mayAnswer(prompt: UserInputRequiredData, viewer: Viewer, owner: string | null): boolean {
  const isOwner = owner === null || viewer.user === owner;
  if (prompt.excludeRequester && isOwner) return false;
  const assignees = prompt.assignees;
  if (!assignees) return isOwner;
  return (
    (viewer.user !== null && assignees.users.includes(viewer.user)) ||
    assignees.groups.some((g) => viewer.groups.includes(g))
  );
}
