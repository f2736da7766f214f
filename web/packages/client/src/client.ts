// FlowMaestroClient: one Socket.IO connection per app (docs/protocol.md), with token
// refresh (`auth:refresh` when the gateway warns with `auth:expiring`, and a reconnect
// with a fresh token after `auth:expired`), reconnection with backoff and jitter, batched
// frames, resume of everything it watches with one cursor (the socket's events arrive in
// position order), de-duplication, and a snapshot reload when the server says history was
// pruned. When the
// WebSocket cannot connect or keeps being cut (a proxy refusing upgrades), it falls back to
// the SSE stream of fallback.ts and returns to the WebSocket once a reconnect works again.
import { io, type ManagerOptions, type Socket, type SocketOptions } from "socket.io-client";
import { FlowMaestroApi, type ExecutionSnapshot, type TokenSource } from "./api.js";
import { type BackoffOptions, DEFAULT_BACKOFF, backoffDelay } from "./backoff.js";
import { channelsOf } from "./channels.js";
import { Listeners } from "./emitter.js";
import { FlowMaestroError } from "./errors.js";
import { EventStream, type StreamReady, subjectOf } from "./fallback.js";
import {
  type AuthRefreshResult,
  type ConnectErrorData,
  type ConnectOptions,
  type ErrorBody,
  type EventHandler,
  type EventType,
  type FlowEvent,
  type JsonValue,
  type ProvideInputResult,
  type SubscribeResult,
  isEventType,
} from "./events.js";
import { SeenPositions } from "./positions.js";
import { PresenceBook } from "./presence.js";

export type ConnectionState = "connecting" | "connected" | "reconnecting" | "offline";
export type Transport = "websocket" | "sse";

/** The part of socket.io-client's Socket the client uses (tests pass a fake). */
export type SocketLike = Pick<Socket, "on" | "onAny" | "connect" | "disconnect" | "timeout">;
export type SocketFactory = (
  url: string | undefined,
  options: Partial<ManagerOptions & SocketOptions>,
) => SocketLike;

export interface ClientOptions {
  /** Gateway origin; unset means the page's own origin. */
  url?: string;
  /** A fixed token, or... */
  token?: string;
  /**
   * ...a callback asked for a fresh token on every (re)connection and HTTP call, and when
   * the gateway says the socket's token is about to expire (`auth:expiring`): the fresh one
   * is sent as `auth:refresh`, so the socket stays up across the old token's `exp`.
   */
  getToken?: TokenSource;
  backoff?: BackoffOptions;
  random?: () => number;
  ackTimeoutMs?: number;
  socketFactory?: SocketFactory;
  api?: FlowMaestroApi;
  /**
   * The SSE fallback: after `afterFailures` (default 2) WebSocket attempts in a row that
   * failed to connect or were cut within `stableMs` (default 30 s), events come over
   * `GET /api/stream` and answers over HTTP until a WebSocket reconnect works. `false`: never.
   */
  fallback?: false | { afterFailures?: number; stableMs?: number; fetchImpl?: typeof fetch };
}

export interface ChannelStatus {
  /** Everything of the channel up to this position has been delivered. */
  position: number | null;
  /** The latest subscribe ack has arrived and live events are flowing. */
  live: boolean;
  error: FlowMaestroError | null;
}

interface Channel {
  refs: number;
  position: number | null;
  live: boolean;
  error: FlowMaestroError | null;
  // Bumped on every subscribe sent, so a stale ack (from before a reconnect) is ignored.
  generation: number;
  // Acknowledged on the WebSocket when it dropped: the socket's cursor covers it.
  resumable: boolean;
  // Waiting for its HTTP snapshot: subscribed once it has arrived.
  loading: boolean;
  // Joined with its history asked for: until the ack, its replay is handed out even where a
  // position was seen before (on the user's channel, say, by a store that has since let it go).
  history: boolean;
}

export type Resync = { channel: string; snapshot: ExecutionSnapshot | null };

const CLIENT_CLOSED = "io client disconnect";

export class FlowMaestroClient {
  readonly api: FlowMaestroApi;
  /** Who else watches each execution and knowledge-base channel, by user. */
  readonly presence = new PresenceBook();
  private readonly socket: SocketLike;
  private readonly tokenSource: TokenSource;
  private readonly refreshable: boolean;
  private readonly backoff: BackoffOptions;
  private readonly random: () => number;
  private readonly ackTimeoutMs: number;
  private readonly channels = new Map<string, Channel>();
  private readonly seen = new SeenPositions();
  private readonly handlers = new Map<EventType, Listeners<[FlowEvent]>>();
  private readonly anyHandlers = new Listeners<[FlowEvent]>();
  private readonly stateListeners = new Listeners<[ConnectionState, FlowMaestroError | null]>();
  private readonly resyncListeners = new Listeners<[Resync]>();
  private readonly channelListeners = new Listeners<[string, ChannelStatus]>();
  private currentState: ConnectionState = "offline";
  private currentError: FlowMaestroError | null = null;
  // The WebSocket's resume point: every event of every channel it had acknowledged, up to
  // it, has arrived over the socket. It moves only while no subscribe is in flight (a replay
  // may still be sending older positions).
  private cursor: number | null = null;
  private inFlight = 0;
  private connection = 0;
  private attempts = 0;
  private retryTimer: ReturnType<typeof setTimeout> | null = null;
  private closed = true;
  private readonly stream: EventStream | null;
  private readonly afterFailures: number;
  private readonly stableMs: number;
  private socketUp = false;
  private connectedAt = 0;
  private socketFailures = 0;
  /** The stream has sent its `ready`: its events are live. */
  private streamLive = false;
  /** Channels whose subscribe the current WebSocket connection has acknowledged. */
  private readonly socketAcked = new Set<string>();
  private userChannel: string | null = null;
  /** The gateway said the token expired: the coming disconnect is that, not a failure. */
  private tokenExpired = false;

  constructor(options: ClientOptions = {}) {
    const { token, getToken } = options;
    if (getToken === undefined && token === undefined) {
      throw new FlowMaestroError("unauthorized", "a token or getToken is required");
    }
    this.tokenSource = getToken ?? (() => token as string);
    this.refreshable = getToken !== undefined;
    this.backoff = options.backoff ?? DEFAULT_BACKOFF;
    this.random = options.random ?? Math.random;
    this.ackTimeoutMs = options.ackTimeoutMs ?? 10_000;
    this.api = options.api ?? new FlowMaestroApi(this.tokenSource, options.url ?? "");
    const fallback = options.fallback ?? {};
    this.afterFailures = fallback === false ? Infinity : (fallback.afterFailures ?? 2);
    this.stableMs = fallback === false ? 0 : (fallback.stableMs ?? 30_000);
    this.stream =
      fallback === false
        ? null
        : new EventStream(
            {
              baseUrl: options.url ?? "",
              token: this.tokenSource,
              fetchImpl: fallback.fetchImpl,
              backoff: this.backoff,
              random: this.random,
            },
            {
              event: (name, payload) => this.onMessage(name, payload),
              ready: (ready) => this.onStreamReady(ready),
              failed: (error) => this.onStreamFailed(error),
            },
          );
    const factory: SocketFactory = options.socketFactory ?? ((url, opts) => (url ? io(url, opts) : io(opts)));
    this.socket = factory(options.url, {
      path: "/socket.io",
      autoConnect: false,
      // The client runs its own reconnection: the manager's does not retry after a server-side
      // disconnect (e.g. reason `slow`) or a refused handshake, and both must be retried here.
      reconnection: false,
      // Long-polling needs sticky sessions, so the gateway refuses it; the fallback is SSE.
      transports: ["websocket"],
      // `batch`: events arrive as `events` messages of several envelopes. `after`: the
      // connect resumes the user channel from the cursor before any live event.
      auth: (cb: (data: object) => void) => {
        const resume: ConnectOptions = { batch: true, ...(this.cursor === null ? {} : { after: this.cursor }) };
        Promise.resolve(this.tokenSource()).then(
          (fresh) => cb({ token: fresh, ...resume }),
          () => cb({}),
        );
      },
    });
    this.socket.on("connect", () => this.onConnect());
    this.socket.on("disconnect", (reason) => this.onDisconnect(reason));
    this.socket.on("connect_error", (err) => this.onConnectError(err));
    this.socket.onAny((name: string, payload: unknown) => this.onSocketMessage(name, payload));
  }

  get state(): ConnectionState {
    return this.currentState;
  }

  get error(): FlowMaestroError | null {
    return this.currentError;
  }

  /** How events arrive now: the WebSocket, the SSE fallback, or null (neither, yet). */
  get transport(): Transport | null {
    if (this.socketUp && !this.stream?.running) return "websocket";
    return this.streamLive ? "sse" : null;
  }

  connect(): void {
    if (!this.closed) return;
    this.closed = false;
    this.attempts = 0;
    this.setState("connecting", null);
    this.socket.connect();
  }

  close(): void {
    this.closed = true;
    this.clearRetry();
    this.stopStream();
    this.socket.disconnect();
    this.setState("offline", this.currentError);
  }

  /** Typed handler for one event name; returns its removal. */
  on<T extends EventType>(type: T, handler: EventHandler<T>): () => void {
    let set = this.handlers.get(type);
    if (!set) {
      set = new Listeners<[FlowEvent]>();
      this.handlers.set(type, set);
    }
    return set.add(handler as (event: FlowEvent) => void);
  }

  onEvent(handler: (event: FlowEvent) => void): () => void {
    return this.anyHandlers.add(handler);
  }

  onState(listener: (state: ConnectionState, error: FlowMaestroError | null) => void): () => void {
    return this.stateListeners.add(listener);
  }

  /** Called when a subscribe answered `recovered: false`, with the HTTP snapshot if any. */
  onResync(listener: (resync: Resync) => void): () => void {
    return this.resyncListeners.add(listener);
  }

  onChannel(listener: (channel: string, status: ChannelStatus) => void): () => void {
    return this.channelListeners.add(listener);
  }

  channelStatus(channel: string): ChannelStatus | undefined {
    const c = this.channels.get(channel);
    return c && { position: c.position, live: c.live, error: c.error };
  }

  /**
   * Join a channel (reference-counted: many hooks may share one). `after` asks for the events
   * after that position first (0: the channel's whole retained history; null: live only).
   * Left out, an execution channel starts from the execution's HTTP snapshot: it is handed to
   * the `onResync` listeners (the store folds later events onto it) and the subscribe resumes
   * from its position, so a mount costs one snapshot, not a replay of the whole history
   * (should the snapshot fail, the history is replayed). Other channels replay from 0.
   * A replay asked for is handed out whole, even events handed out before (e.g. on the
   * user's channel to a store that has since evicted them). Returns the release function.
   */
  subscribe(channel: string, after?: number | null): () => void {
    let c = this.channels.get(channel);
    if (c) {
      c.refs += 1;
    } else {
      const fromSnapshot = after === undefined && channel.startsWith("execution:");
      c = {
        refs: 1,
        position: fromSnapshot || after === undefined ? (fromSnapshot ? null : 0) : after,
        live: false,
        error: null,
        generation: 0,
        resumable: false,
        loading: fromSnapshot,
        history: !fromSnapshot && after !== null,
      };
      this.channels.set(channel, c);
      if (fromSnapshot) void this.loadSnapshot(channel, c);
      else this.joined(channel, c);
    }
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.release(channel);
    };
  }

  /** Subscribe `channel` on whatever transport is up (or at the next connect). */
  private joined(channel: string, c: Channel): void {
    if (this.socketUp) void this.sendSubscribe(channel, c);
    if (this.stream?.running) this.openStream();
  }

  private async loadSnapshot(channel: string, c: Channel): Promise<void> {
    let snapshot: ExecutionSnapshot | null = null;
    try {
      snapshot = await this.api.getExecution(channel.slice("execution:".length));
    } catch {
      snapshot = null; // the subscribe replays the history instead (and says why if refused)
    }
    if (this.channels.get(channel) !== c) return;
    c.loading = false;
    c.position = snapshot?.position ?? 0;
    c.history = snapshot === null;
    if (snapshot !== null) this.resyncListeners.emit({ channel, snapshot });
    this.joined(channel, c);
  }

  async provideInput(executionId: string, inputId: string, value: JsonValue): Promise<ProvideInputResult> {
    if (!this.socketUp && this.stream !== null) {
      // No WebSocket: the same answer over HTTP (same checks and codes).
      try {
        await this.api.answerInput(executionId, inputId, value);
        return { ok: true };
      } catch (err) {
        const error = err instanceof FlowMaestroError ? err : new FlowMaestroError("network", String(err));
        const code = error.code === "network" ? "internal" : error.code;
        return { ok: false, error: { code, message: error.message, details: error.details as JsonValue } };
      }
    }
    try {
      return (await this.socket
        .timeout(this.ackTimeoutMs)
        .emitWithAck("user_input:provide", { executionId, inputId, value })) as ProvideInputResult;
    } catch {
      return { ok: false, error: { code: "internal", message: "no answer from the server", details: null } };
    }
  }

  private release(channel: string): void {
    const c = this.channels.get(channel);
    if (!c) return;
    c.refs -= 1;
    if (c.refs > 0) return;
    this.channels.delete(channel);
    this.socketAcked.delete(channel);
    this.presence.forget(channel);
    if (this.stream?.running) this.openStream();
    if (this.socketUp) {
      void this.socket
        .timeout(this.ackTimeoutMs)
        .emitWithAck("unsubscribe", { channel })
        .catch(() => undefined);
    }
  }

  private async sendSubscribe(channel: string, c: Channel): Promise<void> {
    await this.sendSubscribes([[channel, c]], c.position);
  }

  /** One subscribe for `entries`, resumed from `after` (one cursor for all of them). */
  private async sendSubscribes(entries: Array<[string, Channel]>, after: number | null): Promise<void> {
    const generations = entries.map(([, c]) => {
      c.generation += 1;
      c.live = false;
      return c.generation;
    });
    const names = entries.map(([channel]) => channel);
    const target = names.length === 1 ? { channel: names[0] } : { channels: names };
    const request = after === null ? target : { ...target, after };
    let ack: SubscribeResult;
    const connection = this.connection;
    this.inFlight += 1;
    try {
      ack = (await this.socket.timeout(this.ackTimeoutMs).emitWithAck("subscribe", request)) as SubscribeResult;
    } catch {
      // No ack in time: the connection is probably gone; the reconnect resubscribes.
      return;
    } finally {
      if (connection === this.connection) this.inFlight -= 1;
    }
    if (ack.ok && connection === this.connection && this.inFlight === 0) {
      this.cursor = Math.max(this.cursor ?? 0, ack.position);
    }
    const resyncs: string[] = [];
    for (const [i, [channel, c]] of entries.entries()) {
      if (this.channels.get(channel) !== c || c.generation !== generations[i]) continue;
      if (!ack.ok) {
        c.error = FlowMaestroError.from(ack.error);
        this.setError(c.error);
        this.channelListeners.emit(channel, this.channelStatus(channel) as ChannelStatus);
        continue;
      }
      c.position = Math.max(c.position ?? 0, ack.position);
      c.live = true;
      c.history = false;
      c.error = null;
      this.socketAcked.add(channel);
      this.presence.acked(channel, (names.length === 1 ? ack.presence : ack.presences?.[channel]) ?? null);
      this.channelListeners.emit(channel, this.channelStatus(channel) as ChannelStatus);
      if (!ack.recovered) resyncs.push(channel);
    }
    this.returnToSocket();
    for (const channel of resyncs) await this.resync(channel);
  }

  private async resync(channel: string): Promise<void> {
    const executionId = channel.startsWith("execution:") ? channel.slice("execution:".length) : null;
    let snapshot: ExecutionSnapshot | null = null;
    if (executionId !== null) {
      try {
        snapshot = await this.api.getExecution(executionId);
      } catch (err) {
        this.setError(err instanceof FlowMaestroError ? err : new FlowMaestroError("network", String(err)));
      }
    }
    this.resyncListeners.emit({ channel, snapshot });
  }

  /** A fresh token for the live socket (`auth:refresh`); refused, the socket is cut at its
   * old `exp` and the reconnect asks getToken again. */
  private async refreshToken(): Promise<void> {
    if (!this.refreshable || !this.socketUp) return;
    let ack: AuthRefreshResult;
    try {
      const token = await this.tokenSource();
      ack = (await this.socket
        .timeout(this.ackTimeoutMs)
        .emitWithAck("auth:refresh", { token })) as AuthRefreshResult;
    } catch (err) {
      this.setError(err instanceof FlowMaestroError ? err : new FlowMaestroError("network", String(err)));
      return;
    }
    if (!ack.ok) this.setError(FlowMaestroError.from(ack.error));
  }

  private onSocketMessage(name: string, payload: unknown): void {
    if (name === "events") {
      // A batch: envelopes in position order, each handled as if it came alone.
      if (!Array.isArray(payload)) return;
      for (const event of payload as FlowEvent[]) {
        if (event !== null && typeof event === "object") this.onSocketMessage(event.type, event);
      }
      return;
    }
    const position = (payload as { position?: unknown } | null)?.position;
    if (typeof position === "number" && this.inFlight === 0 && this.socketUp) {
      this.cursor = Math.max(this.cursor ?? 0, position);
    }
    this.onMessage(name, payload);
  }

  private onMessage(name: string, payload: unknown): void {
    if (name === "auth:expiring") {
      void this.refreshToken();
      return;
    }
    if (name === "auth:expired") {
      // From the WebSocket: its disconnect follows. (The SSE stream just ends and reopens.)
      if (this.socketUp) this.tokenExpired = true;
      return;
    }
    if (this.presence.message(name, payload)) return;
    if (name === "error") {
      const body = (payload as { error?: ErrorBody } | null)?.error;
      if (body) this.setError(FlowMaestroError.from(body));
      return;
    }
    if (!isEventType(name) || payload === null || typeof payload !== "object") return;
    const event = payload as FlowEvent;
    if (event.position !== null) {
      const channels = channelsOf(event);
      if (!this.seen.add(event.position) && !channels.some((ch) => this.channels.get(ch)?.history)) return;
      for (const channel of channels) {
        const c = this.channels.get(channel);
        // Before the subscribe ack the channel may still be replaying older events, so only
        // a live channel's position moves: a reconnect resumes from a point with no gap.
        if (c?.live && (c.position === null || event.position > c.position)) c.position = event.position;
      }
    }
    this.handlers.get(event.type)?.emit(event);
    this.anyHandlers.emit(event);
  }

  private onConnect(): void {
    this.connection += 1;
    this.inFlight = 0;
    this.attempts = 0;
    this.socketUp = true;
    this.connectedAt = Date.now();
    this.socketAcked.clear();
    this.clearRetry();
    this.setState("connected", null);
    // Channels the socket had acknowledged resume together from its cursor (the connect
    // already resumed the user channel from it, so the socket stays in position order); any
    // other asks from its own position. While the stream runs, it keeps delivering until
    // every channel is resubscribed here: the seen positions drop what both transports send.
    const resumable: Array<[string, Channel]> = [];
    for (const [channel, c] of this.channels) {
      if (c.loading) continue;
      if (this.cursor !== null && c.resumable) resumable.push([channel, c]);
      else void this.sendSubscribe(channel, c);
    }
    if (resumable.length > 0) void this.sendSubscribes(resumable, this.cursor);
    this.returnToSocket();
  }

  private onDisconnect(reason: string): void {
    this.socketUp = false;
    for (const [channel, c] of this.channels) c.resumable = this.socketAcked.has(channel);
    if (!this.streamLive) for (const c of this.channels.values()) c.live = false;
    if (this.closed || reason === CLIENT_CLOSED) {
      this.setState("offline", this.currentError);
      return;
    }
    if (this.tokenExpired) {
      // Cut for its token, not by the network: reconnect with a fresh one, no fallback.
      this.tokenExpired = false;
      this.socketFailures = 0;
      this.attempts = 0;
      this.scheduleReconnect(null);
      return;
    }
    // A connection cut soon after it opened (a proxy that drops upgraded connections)
    // counts as a failed attempt; one that lasted is a plain drop.
    this.socketFailures = Date.now() - this.connectedAt < this.stableMs ? this.socketFailures + 1 : 1;
    this.maybeFallBack();
    this.scheduleReconnect(null);
  }

  // -- the SSE fallback ---------------------------------------------------------------

  private maybeFallBack(): void {
    if (this.stream === null || this.stream.running || this.socketFailures < this.afterFailures) return;
    void this.startStream();
  }

  private async startStream(): Promise<void> {
    if (this.userChannel === null) {
      try {
        const subject = subjectOf(await this.tokenSource());
        // The WebSocket joins the user's channel by itself; the stream asks for it.
        this.userChannel = subject === null ? null : `user:${subject}`;
      } catch {
        this.userChannel = null;
      }
    }
    if (this.closed || this.socketUp || this.stream?.running) return;
    this.openStream();
  }

  /** (Re)open the stream with every channel, from the oldest channel position. */
  private openStream(): void {
    if (this.stream === null) return;
    const joined = [...this.channels].filter(([, c]) => !c.loading);
    const names = joined.map(([channel]) => channel);
    if (this.userChannel !== null && !this.channels.has(this.userChannel)) names.push(this.userChannel);
    const positions = joined.flatMap(([, c]) => (c.position === null ? [] : [c.position]));
    this.streamLive = false;
    this.stream.open(names, positions.length ? Math.min(...positions) : null);
  }

  private onStreamReady(ready: StreamReady): void {
    this.streamLive = true;
    const resyncs: string[] = [];
    for (const channel of ready.channels) {
      const c = this.channels.get(channel);
      if (!c) continue;
      c.position = Math.max(c.position ?? 0, ready.position);
      c.live = true;
      c.history = false;
      c.error = null;
      this.channelListeners.emit(channel, this.channelStatus(channel) as ChannelStatus);
      if (!ready.recovered) resyncs.push(channel);
    }
    if (!this.socketUp) this.setState("connected", null);
    for (const channel of resyncs) void this.resync(channel);
  }

  private onStreamFailed(error: FlowMaestroError): void {
    this.streamLive = false;
    if (!this.socketUp && !this.closed) this.setState("reconnecting", error);
  }

  /** Back on the WebSocket once it has acknowledged every channel: the stream can stop. */
  private returnToSocket(): void {
    if (!this.stream?.running || !this.socketUp) return;
    for (const [channel, c] of this.channels) if (!c.loading && !this.socketAcked.has(channel)) return;
    this.stopStream();
  }

  private stopStream(): void {
    this.stream?.stop();
    this.streamLive = false;
  }

  private onConnectError(err: Error & { data?: Partial<ConnectErrorData> }): void {
    const code = err.data?.code ?? "network";
    const error = new FlowMaestroError(code, err.data?.message ?? err.message, err.data ?? null);
    if (this.closed) return;
    if (code !== "unauthorized") {
      this.socketFailures += 1;
      this.maybeFallBack();
    }
    if (code === "unauthorized" && !this.refreshable) {
      // A fixed token will be refused again; only a getToken callback can fix this.
      this.closed = true;
      this.setState("offline", error);
      return;
    }
    this.scheduleReconnect(error);
  }

  private scheduleReconnect(error: FlowMaestroError | null): void {
    this.clearRetry();
    this.attempts += 1;
    // On the fallback the application stays connected; the retries probe the WebSocket.
    if (this.streamLive) {
      if (error !== null && error.code !== "network") this.setError(error);
    } else {
      this.setState("reconnecting", error);
    }
    const delay = backoffDelay(this.attempts, this.backoff, this.random);
    this.retryTimer = setTimeout(() => {
      this.retryTimer = null;
      if (!this.closed) this.socket.connect();
    }, delay);
  }

  private clearRetry(): void {
    if (this.retryTimer !== null) clearTimeout(this.retryTimer);
    this.retryTimer = null;
  }

  private setError(error: FlowMaestroError): void {
    this.currentError = error;
    this.stateListeners.emit(this.currentState, error);
  }

  private setState(state: ConnectionState, error: FlowMaestroError | null): void {
    this.currentState = state;
    this.currentError = error;
    this.stateListeners.emit(state, error);
  }
}
