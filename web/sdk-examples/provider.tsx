// sdk-examples/provider.tsx
import { FlowMaestroClient } from "@flowmaestro/client";
import { FlowMaestroProvider } from "@flowmaestro/react";
import type { ReactNode } from "react";

// One client (one connection) for the whole app; getToken is asked on every (re)connect and
// HTTP call, and when the gateway says the token is about to expire.
const client = new FlowMaestroClient({
  url: "https://flows.example.com", // unset: the page's own origin
  getToken: async () => (await fetch("/session/flowmaestro-token")).text(),
});

export function Root({ children }: { children: ReactNode }) {
  return (
    <FlowMaestroProvider client={client} store={{ maxEvents: 500, evictFinished: true }}>
      {children}
    </FlowMaestroProvider>
  );
}
