// The zustand store every hook reads: connection state and, per execution, agent and
// knowledge base, the event log and the view folded from it.
import { createStore, type StoreApi } from "zustand/vanilla";
import type { ChannelStatus, ConnectionState, FlowMaestroClient, Resync } from "../sdk/client";
import type { FlowMaestroError } from "../sdk/errors";
import type { FlowEvent } from "../sdk/events";
import { type AgentView, applyAgentEvent, emptyAgent } from "./agent";
import { type ExecutionView, applyEvent, emptyExecution, snapshotView } from "./execution";
import { type KnowledgeBaseView, applyKbEvent, emptyKnowledgeBase } from "./kb";
import { type Folded, fold, ingest } from "./log";

export interface ExecutionEntry extends Folded<ExecutionView> {
  /** The HTTP snapshot the log folds onto after `recovered: false`, and its position. */
  base: ExecutionView | null;
  basePosition: number;
  /** Prompts this tab answered (acked) before their `user_input:received` arrived. */
  answered: string[];
}

export interface FlowState {
  connection: { state: ConnectionState; error: FlowMaestroError | null };
  executions: Record<string, ExecutionEntry>;
  agents: Record<string, Folded<AgentView>>;
  knowledgeBases: Record<string, Folded<KnowledgeBaseView>>;
  /** Each joined channel's latest subscribe outcome (an error such as `forbidden`). */
  channels: Record<string, ChannelStatus>;
  ingest(event: FlowEvent): void;
  resync(resync: Resync): void;
  setConnection(state: ConnectionState, error: FlowMaestroError | null): void;
  setChannel(channel: string, status: ChannelStatus): void;
  markAnswered(executionId: string, inputId: string): void;
}

export type FlowStore = StoreApi<FlowState>;

export const agentKey = (agentId: string, executionId: string) => `${agentId}:${executionId}`;

function emptyEntry(executionId: string): ExecutionEntry {
  return { view: emptyExecution(executionId), events: [], base: null, basePosition: -1, answered: [] };
}

function ingestExecution(entry: ExecutionEntry, event: FlowEvent): ExecutionEntry {
  if (event.position !== null && event.position <= entry.basePosition) return entry;
  const initial = () => entry.base ?? emptyExecution(entry.view.executionId);
  const next = ingest(entry, event, applyEvent, initial);
  return next === entry ? entry : { ...entry, ...next };
}

export function createFlowStore(initial: ConnectionState = "offline"): FlowStore {
  return createStore<FlowState>()((set) => ({
    connection: { state: initial, error: null },
    executions: {},
    agents: {},
    knowledgeBases: {},
    channels: {},

    ingest: (event) =>
      set((s) => {
        const patch: Partial<FlowState> = {};
        const { executionId, agentId, knowledgeBaseId } = event;
        if (executionId !== null) {
          const entry = s.executions[executionId] ?? emptyEntry(executionId);
          const next = ingestExecution(entry, event);
          if (next !== entry) patch.executions = { ...s.executions, [executionId]: next };
          if (agentId !== null) {
            const key = agentKey(agentId, executionId);
            const log = s.agents[key] ?? { view: emptyAgent(agentId, executionId), events: [] };
            const agent = ingest(log, event, applyAgentEvent, () => emptyAgent(agentId, executionId));
            if (agent !== log) patch.agents = { ...s.agents, [key]: agent };
          }
        }
        if (knowledgeBaseId !== null) {
          const log = s.knowledgeBases[knowledgeBaseId] ?? {
            view: emptyKnowledgeBase(knowledgeBaseId),
            events: [],
          };
          const kb = ingest(log, event, applyKbEvent, () => emptyKnowledgeBase(knowledgeBaseId));
          if (kb !== log) patch.knowledgeBases = { ...s.knowledgeBases, [knowledgeBaseId]: kb };
        }
        return patch;
      }),

    resync: ({ snapshot }) =>
      set((s) => {
        // Only executions have an HTTP snapshot; other channels keep what they have.
        if (snapshot === null) return {};
        const entry = s.executions[snapshot.executionId] ?? emptyEntry(snapshot.executionId);
        const base = snapshotView(snapshot);
        const later = entry.events.filter((e) => e.position === null || e.position > snapshot.position);
        const next: ExecutionEntry = {
          ...entry,
          ...fold(later, applyEvent, () => base),
          base,
          basePosition: snapshot.position,
        };
        return { executions: { ...s.executions, [snapshot.executionId]: next } };
      }),

    setConnection: (state, error) => set({ connection: { state, error } }),

    setChannel: (channel, status) => set((s) => ({ channels: { ...s.channels, [channel]: status } })),

    markAnswered: (executionId, inputId) =>
      set((s) => {
        const entry = s.executions[executionId];
        if (!entry || entry.answered.includes(inputId)) return {};
        const next = { ...entry, answered: [...entry.answered, inputId] };
        return { executions: { ...s.executions, [executionId]: next } };
      }),
  }));
}

/** Feed the store from the client; returns the function that stops it. */
export function bindClient(store: FlowStore, client: FlowMaestroClient): () => void {
  const { ingest: ingestEvent, resync, setConnection, setChannel } = store.getState();
  setConnection(client.state, client.error);
  const offs = [
    client.onEvent(ingestEvent),
    client.onResync(resync),
    client.onState(setConnection),
    client.onChannel(setChannel),
  ];
  return () => {
    for (const off of offs) off();
  };
}
