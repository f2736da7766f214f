// The zustand store every hook reads: connection state and, per execution, agent and
// knowledge base, a bounded event log and the view folded from it.
//
// Memory stays bounded in a long-lived tab: each log keeps at most `maxEvents` events (older
// ones live on in the view), an agent's tokens are forgotten once `agent:streaming_end` brings
// its full text, and an execution that has ended is evicted once nothing watches it. Time too:
// an event costs one fold step and O(1) bookkeeping, so the maps are updated in place and only
// the entry an event touches is replaced (which is what selectors compare).
import type { ChannelStatus, ConnectionState, FlowEvent, FlowMaestroClient, FlowMaestroError, Resync } from "@flowmaestro/client";
import { createStore, type StoreApi } from "zustand/vanilla";
import { type AgentView, applyAgentEvent, emptyAgent } from "./agent.js";
import { type ExecutionView, applyEvent, emptyExecution, snapshotView } from "./execution.js";
import { type KnowledgeBaseView, applyKbEvent, emptyKnowledgeBase } from "./kb.js";
import { EventLog } from "./log.js";

export interface StoreOptions {
  /** Events kept per execution, agent and knowledge base; older ones are folded into the view. */
  maxEvents: number;
  /** Evict an execution that has ended (with its agents) once nothing watches it. */
  evictFinished: boolean;
  /** Statuses remembered for the executions list, evicted executions included. */
  maxStatuses: number;
}

export const DEFAULT_STORE_OPTIONS: StoreOptions = { maxEvents: 500, evictFinished: true, maxStatuses: 1000 };

/** A log's state as of one change: a new object per change, so selectors see it. */
export interface Entry<V> {
  readonly view: V;
  /** The kept events, oldest first (at most `maxEvents`). */
  events(): readonly FlowEvent[];
  readonly version: number;
}

export interface ExecutionEntry extends Entry<ExecutionView> {
  /** Prompts this tab answered (acked) before their `user_input:received` arrived. */
  readonly answered: readonly string[];
}

export interface FlowState {
  connection: { state: ConnectionState; error: FlowMaestroError | null };
  /** By execution id. Updated in place: select an entry, not the whole map. */
  executions: Readonly<Record<string, ExecutionEntry>>;
  /** By `agentKey(agentId, executionId)`. */
  agents: Readonly<Record<string, Entry<AgentView>>>;
  knowledgeBases: Readonly<Record<string, Entry<KnowledgeBaseView>>>;
  /** Each execution's latest status (a new object whenever one changes). */
  statuses: Readonly<Record<string, string>>;
  /** Each joined channel's latest subscribe outcome (an error such as `forbidden`). */
  channels: Record<string, ChannelStatus>;
  ingest(event: FlowEvent): void;
  resync(resync: Resync): void;
  setConnection(state: ConnectionState, error: FlowMaestroError | null): void;
  setChannel(channel: string, status: ChannelStatus): void;
  markAnswered(executionId: string, inputId: string): void;
  /** Keep `executionId` while the returned release has not been called (hooks do this). */
  watch(executionId: string): () => void;
}

export type FlowStore = StoreApi<FlowState>;

export const agentKey = (agentId: string, executionId: string) => `${agentId}:${executionId}`;

const ENDED = new Set(["completed", "failed", "cancelled"]);

function entryOf<V>(log: EventLog<V>): Entry<V> {
  return { view: log.view, version: log.version, events: () => log.events() };
}

export function createFlowStore(initial: ConnectionState = "offline", options: Partial<StoreOptions> = {}): FlowStore {
  const { maxEvents, evictFinished, maxStatuses } = { ...DEFAULT_STORE_OPTIONS, ...options };
  const executionLogs = new Map<string, EventLog<ExecutionView>>();
  const agentLogs = new Map<string, EventLog<AgentView>>();
  const kbLogs = new Map<string, EventLog<KnowledgeBaseView>>();
  const agentsOf = new Map<string, Set<string>>();
  const watchers = new Map<string, number>();
  const executions: Record<string, ExecutionEntry> = {};
  const agents: Record<string, Entry<AgentView>> = {};
  const knowledgeBases: Record<string, Entry<KnowledgeBaseView>> = {};

  return createStore<FlowState>()((set, get) => {
    const executionLog = (executionId: string) => {
      let log = executionLogs.get(executionId);
      if (!log) {
        log = new EventLog(applyEvent, emptyExecution(executionId), maxEvents);
        executionLogs.set(executionId, log);
      }
      return log;
    };
    const publish = (executionId: string, log: EventLog<ExecutionView>) => {
      executions[executionId] = { ...entryOf(log), answered: executions[executionId]?.answered ?? [] };
    };
    const evictIfDone = (executionId: string): boolean => {
      const log = executionLogs.get(executionId);
      if (!evictFinished || !log || !ENDED.has(log.view.status) || (watchers.get(executionId) ?? 0) > 0) return false;
      executionLogs.delete(executionId);
      delete executions[executionId];
      for (const key of agentsOf.get(executionId) ?? []) {
        agentLogs.delete(key);
        delete agents[key];
      }
      agentsOf.delete(executionId);
      return true;
    };
    const withStatus = (statuses: Readonly<Record<string, string>>, executionId: string, status: string) => {
      if (statuses[executionId] === status) return statuses;
      const { [executionId]: _, ...rest }: Record<string, string> = statuses;
      const keys = Object.keys(rest);
      // The oldest first (insertion order): past the bound, forget those.
      for (const key of keys.slice(0, Math.max(0, keys.length + 1 - maxStatuses))) delete rest[key];
      return { ...rest, [executionId]: status };
    };

    const ingestAgent = (event: FlowEvent, agentId: string, executionId: string, log: EventLog<ExecutionView>) => {
      const key = agentKey(agentId, executionId);
      let agentLog = agentLogs.get(key);
      if (!agentLog) {
        agentLog = new EventLog(applyAgentEvent, emptyAgent(agentId, executionId), maxEvents);
        agentLogs.set(key, agentLog);
        agentsOf.set(executionId, (agentsOf.get(executionId) ?? new Set()).add(key));
      }
      if (!agentLog.ingest(event)) return false;
      if (event.type === "agent:streaming_end") {
        // The full response is in the view now: its tokens need not be kept as events.
        const token = (e: FlowEvent) => e.type === "agent:token" && e.agentId === agentId;
        agentLog.forget(token);
        log.forget(token);
      }
      agents[key] = entryOf(agentLog);
      return true;
    };

    return {
      connection: { state: initial, error: null },
      executions,
      agents,
      knowledgeBases,
      statuses: {},
      channels: {},
      ingest: (event) => {
        let changed = false;
        let { statuses } = get();
        const { executionId, agentId, knowledgeBaseId } = event;
        if (executionId !== null) {
          const log = executionLog(executionId);
          const agentChanged = agentId !== null && ingestAgent(event, agentId, executionId, log);
          if (log.ingest(event) || agentChanged) {
            publish(executionId, log);
            statuses = withStatus(statuses, executionId, log.view.status);
            evictIfDone(executionId);
            changed = true;
          }
        }
        if (knowledgeBaseId !== null) {
          let log = kbLogs.get(knowledgeBaseId);
          if (!log) {
            log = new EventLog(applyKbEvent, emptyKnowledgeBase(knowledgeBaseId), maxEvents);
            kbLogs.set(knowledgeBaseId, log);
          }
          if (log.ingest(event)) {
            knowledgeBases[knowledgeBaseId] = entryOf(log);
            changed = true;
          }
        }
        if (changed) set({ statuses, executions, agents, knowledgeBases });
      },
      resync: ({ snapshot }) => {
        // Only executions have an HTTP snapshot; other channels keep what they have.
        if (snapshot === null) return;
        const log = executionLog(snapshot.executionId);
        log.rebase(snapshotView(snapshot), snapshot.position);
        publish(snapshot.executionId, log);
        const statuses = withStatus(get().statuses, snapshot.executionId, log.view.status);
        evictIfDone(snapshot.executionId);
        set({ statuses, executions });
      },
      setConnection: (state, error) => set({ connection: { state, error } }),
      setChannel: (channel, status) => set((s) => ({ channels: { ...s.channels, [channel]: status } })),
      markAnswered: (executionId, inputId) => {
        const entry = executions[executionId];
        if (!entry || entry.answered.includes(inputId)) return;
        executions[executionId] = { ...entry, answered: [...entry.answered, inputId] };
        set({ executions });
      },
      watch: (executionId) => {
        watchers.set(executionId, (watchers.get(executionId) ?? 0) + 1);
        let released = false;
        return () => {
          if (released) return;
          released = true;
          const left = (watchers.get(executionId) ?? 1) - 1;
          if (left > 0) watchers.set(executionId, left);
          else watchers.delete(executionId);
          if (evictIfDone(executionId)) set({ executions, agents });
        };
      },
    };
  });
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
