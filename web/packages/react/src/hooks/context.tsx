"use client";
// The provider: one client (one connection) and one store for the whole tree.
import { createContext, type ReactNode, useContext, useEffect, useState } from "react";
import { useStore } from "zustand";
import type { FlowMaestroClient } from "@flowmaestro/client";
import { bindClient, createFlowStore, type FlowState, type FlowStore, type StoreOptions } from "../store/store.js";

interface FlowMaestroContext {
  client: FlowMaestroClient;
  store: FlowStore;
}

const Context = createContext<FlowMaestroContext | null>(null);

export interface FlowMaestroProviderProps {
  client: FlowMaestroClient;
  /** The store's memory bounds (read once, at mount). */
  store?: Partial<StoreOptions>;
  children: ReactNode;
}

export function FlowMaestroProvider({ client, store: options, children }: FlowMaestroProviderProps) {
  const [store] = useState(() => createFlowStore(client.state, options));
  useEffect(() => {
    const unbind = bindClient(store, client);
    client.connect();
    return () => {
      unbind();
      client.close();
    };
  }, [client, store]);
  return <Context.Provider value={{ client, store }}>{children}</Context.Provider>;
}

export function useFlowMaestro(): FlowMaestroContext {
  const context = useContext(Context);
  if (context === null) throw new Error("FlowMaestro hooks need a <FlowMaestroProvider> above them");
  return context;
}

export function useFlowState<T>(selector: (state: FlowState) => T): T {
  return useStore(useFlowMaestro().store, selector);
}

/** Join `channel` while the component is mounted (shared, reference-counted); `after` as in
 * `client.subscribe` (left out: an execution starts from its snapshot). */
export function useChannel(channel: string | null, after?: number | null): void {
  const { client } = useFlowMaestro();
  useEffect(() => (channel === null ? undefined : client.subscribe(channel, after)), [client, channel, after]);
}
