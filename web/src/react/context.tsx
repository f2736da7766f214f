// The provider: one client (one connection) and one store for the whole tree.
import { createContext, type ReactNode, useContext, useEffect, useState } from "react";
import { useStore } from "zustand";
import type { FlowMaestroClient } from "../sdk/client";
import { bindClient, createFlowStore, type FlowState, type FlowStore } from "../store/store";

interface FlowMaestroContext {
  client: FlowMaestroClient;
  store: FlowStore;
}

const Context = createContext<FlowMaestroContext | null>(null);

export function FlowMaestroProvider({ client, children }: { client: FlowMaestroClient; children: ReactNode }) {
  const [store] = useState(() => createFlowStore(client.state));
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

/** Join `channel` while the component is mounted (shared, reference-counted). */
export function useChannel(channel: string | null): void {
  const { client } = useFlowMaestro();
  useEffect(() => (channel === null ? undefined : client.subscribe(channel)), [client, channel]);
}
