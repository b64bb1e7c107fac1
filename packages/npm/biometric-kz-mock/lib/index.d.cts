// Types of biometric-kz-mock's Node helpers (lib/index.cjs).
import type { ChildProcess } from 'node:child_process';

/** A session's `metadata` as the vendor's create endpoint takes it. */
export interface Metadata {
  face2face?: { photo1?: string };
  edocument?: {
    iin?: { value: string; changeable?: boolean };
    phone?: { value: string; changeable?: boolean };
    skip_input?: boolean;
  };
  general?: { interchangeable_tech?: string[] };
  extra?: { iin?: string; [key: string]: unknown };
  [key: string]: unknown;
}

/** The vendor's answer to a create: `{session_id, technologies}`. */
export interface CreatedSession {
  session_id: string;
  technologies: string[];
}

/** One request of the mock's journal (`GET /__admin/requests`). */
export interface JournalEntry {
  id: number;
  at: string;
  method: string;
  path: string;
  query: string;
  status: number;
  session_id: string | null;
  api_key: string | null;
  /** The lint warnings' codes: how the request departed from the vendor's docs. */
  lint: string[];
  lint_details: Array<{ code: string; message: string; doc: string }>;
  [key: string]: unknown;
}

export interface FaultOptions {
  /** The status to answer instead (the vendor's error shape). */
  status?: number;
  /** Wait this long before answering. */
  delayMs?: number;
  /** Close the connection without an answer. */
  dropConnection?: boolean;
  /** How many calls meet it (default 1). */
  times?: number;
  detail?: string;
}

export interface CompleteOptions {
  /** A scenario's name, e.g. "liveness-fails". */
  scenario?: string;
  /** Per technology: `{ LDHP: 'passed', F2F: 'failed' }`. */
  outcomes?: Record<string, string>;
}

export interface NewFlowOptions {
  /** Default `['LDHP', 'F2F']`. */
  technologies?: string[];
  scenario?: string;
  /** Makes the flow's ids and values repeat run after run. */
  seed?: number;
  name?: string;
  webhookUrls?: string[];
}

/** A flow with an API key of its own: everything here is scoped to that key. */
export interface Flow {
  readonly apiKey: string;
  /** The mock's base URL, where the code under test sends this flow's calls. */
  readonly url: string;
  readonly name: string;
  readonly technologies: string[];
  createSession(metadata?: Metadata): Promise<CreatedSession>;
  result(sessionId: string): Promise<Record<string, unknown>>;
  complete(sessionId: string, options?: CompleteOptions): Promise<Record<string, unknown>>;
  requests(): Promise<JournalEntry[]>;
  sessions(): Promise<Array<Record<string, unknown>>>;
  fault(endpoint: string, options?: FaultOptions): Promise<Record<string, unknown>>;
  reset(): Promise<void>;
  delete(options?: { purge?: boolean }): Promise<void>;
}

/** A mock at a URL; `stop()` ends it when this process started it. */
export interface Mock {
  readonly url: string;
  newFlow(options?: NewFlowOptions): Promise<Flow>;
  complete(sessionId: string, options?: CompleteOptions): Promise<Record<string, unknown>>;
  requests(): Promise<JournalEntry[]>;
  fault(endpoint: string, options?: FaultOptions): Promise<Record<string, unknown>>;
  reset(): Promise<void>;
  health(): Promise<Record<string, unknown>>;
  stop(): Promise<void>;
}

/** A mock this process started. */
export interface StartedMock extends Mock {
  /** With `tlsPort`: the HTTPS address. */
  readonly tlsUrl?: string;
  /** The last lines the server wrote to its standard error. */
  logs(): string;
  readonly process: ChildProcess;
}

/** `serve` flags in camelCase: `{ seed: 7, strict: true, tlsName: ['a'] }`; `port` defaults to 0. */
export type Flags = Record<string, string | number | boolean | Array<string | number> | undefined>;

export function startMock(flags?: Flags): Promise<StartedMock>;
export function connectMock(url?: string, options?: { adminToken?: string }): Promise<Mock>;
/** The packaged executable's path (or BKZ_MOCK_BIN's); throws ExecutableNotFound elsewhere. */
export function executable(): string;

export class MockError extends Error {
  readonly status?: number;
  readonly body?: unknown;
}
export class ExecutableNotFound extends Error {}
