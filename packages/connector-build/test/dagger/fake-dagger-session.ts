/**
 * A local stand-in for a Dagger engine session, for tests: the real `@dagger.io/dagger` SDK talks
 * to it when `DAGGER_SESSION_PORT` and `DAGGER_SESSION_TOKEN` point here (the SDK then spawns
 * nothing). It serves `POST /query` on 127.0.0.1, checks the session token exactly as the SDK sends
 * it (`Authorization: Basic base64("<token>:")`), parses each query with `graphql`, records the
 * chains of fields and arguments it receives, and answers with data of the right shape from a
 * small model of container state (env, labels, entrypoint, mounts, secrets, last exec).
 */
import { createHash, randomBytes } from "node:crypto";
import { writeFileSync } from "node:fs";
import { createServer } from "node:http";
import type { IncomingMessage, Server, ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { posix } from "node:path";
import { Kind, parse, valueFromASTUntyped } from "graphql";
import type { FieldNode, SelectionSetNode } from "graphql";

/** What a recorded id stands for: the same shapes as `DaggerObjectArg` in the lowering, plus containers. */
export type FakeDescriptor =
  | { readonly container: string; readonly platform: string }
  | { readonly hostFile: string }
  | { readonly hostDirectory: string }
  | { readonly tarballOf: readonly string[] }
  | { readonly cacheVolume: string }
  | { readonly secret: string }
  | { readonly envVariable: string }
  | { readonly label: string };

/** One field of a received chain, with its arguments (ids replaced by {@link FakeDescriptor}s, enums by their names). */
export interface RecordedCall {
  readonly field: string;
  readonly args: Record<string, unknown>;
  /** The type of the inline fragment that follows (`node(id:) { ... on Container { … } }`). */
  readonly on?: string;
}

/** One HTTP request the endpoint received. */
export interface RecordedRequest {
  /** The raw request body, as sent. */
  readonly body: string;
  /** The GraphQL document. */
  readonly query: string;
  /** Root-to-leaf chains of the document. */
  readonly chains: RecordedCall[][];
  /** HTTP status answered. */
  readonly status: number;
}

/** What the fake engine is told about one exec. */
export interface FakeExec {
  readonly args: readonly string[];
  readonly platform: string;
  readonly env: Readonly<Record<string, string>>;
  /** Names of the secret variables set (values are never modelled). */
  readonly secretVariables: readonly string[];
  readonly mounts: readonly string[];
  readonly workdir: string;
  readonly user: string;
}

/** The outcome of an exec. Missing fields: empty output, exit code 0. */
export interface FakeExecResult {
  readonly stdout?: string;
  readonly stderr?: string;
  readonly exitCode?: number;
}

/** The config a base image starts with. */
export interface FakeImageConfig {
  readonly env?: Readonly<Record<string, string>>;
  readonly labels?: Readonly<Record<string, string>>;
  readonly entrypoint?: readonly string[];
  readonly defaultArgs?: readonly string[];
  readonly workdir?: string;
  readonly user?: string;
}

/** Options of {@link FakeDaggerSession.start}. */
export interface FakeDaggerSessionOptions {
  /** Session token. Default: random. */
  readonly token?: string;
  /** Answer of `version`. Default: `v0.21.8`. */
  readonly version?: string;
  /** Decides each exec's outcome. Default: success with empty output. */
  readonly exec?: (exec: FakeExec) => FakeExecResult | undefined;
  /** Config of a base image by address. Default: a PATH only. */
  readonly imageConfig?: (address: string) => FakeImageConfig | undefined;
}

class FakeGraphQLError extends Error {
  constructor(
    message: string,
    readonly extensions?: Record<string, unknown>,
  ) {
    super(message);
  }
}

interface ContainerState {
  readonly calls: string;
  readonly platform: string;
  readonly from?: string;
  readonly env: ReadonlyArray<readonly [string, string]>;
  readonly labels: ReadonlyArray<readonly [string, string]>;
  readonly entrypoint: readonly string[];
  readonly defaultArgs: readonly string[];
  readonly workdir: string;
  readonly user: string;
  readonly files: Readonly<Record<string, string>>;
  readonly mounts: ReadonlyArray<{ readonly path: string; readonly cache: string; readonly sharing?: string }>;
  readonly secretVariables: ReadonlyArray<{ readonly name: string; readonly secret: string }>;
  readonly lastExec?: { readonly args: readonly string[]; readonly stdout: string; readonly stderr: string; readonly exitCode: number };
  readonly failure?: { readonly message: string; readonly extensions: Record<string, unknown> };
}

type FakeObject =
  | { readonly type: "Query" }
  | { readonly type: "Host" }
  | { readonly type: "Container"; readonly state: ContainerState }
  | { readonly type: "File"; readonly hostPath?: string; readonly tarballOf?: readonly ContainerState[] }
  | { readonly type: "Directory"; readonly hostPath: string }
  | { readonly type: "CacheVolume"; readonly key: string }
  | { readonly type: "Secret"; readonly name: string; readonly digest: string }
  | { readonly type: "EnvVariable" | "Label"; readonly name: string; readonly value: string; readonly owner: string };

type Resolved = FakeObject | FakeObject[] | string | number | boolean | null | readonly string[];

const DEFAULT_PLATFORM = "linux/amd64";
const DEFAULT_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

function sha256(text: string): string {
  return createHash("sha256").update(text).digest("hex");
}

function isFakeObject(value: unknown): value is FakeObject {
  return typeof value === "object" && value !== null && !Array.isArray(value) && typeof (value as { type?: unknown }).type === "string";
}

/** The fake endpoint. Start it with {@link FakeDaggerSession.start}. */
export class FakeDaggerSession {
  /** Every request received, in order. */
  readonly requests: RecordedRequest[] = [];
  /** Every address published, with the platforms of its variants. */
  readonly published: Array<{ address: string; platforms: string[] }> = [];
  private readonly objects = new Map<string, FakeObject>();

  private constructor(
    private readonly server: Server,
    /** The port it listens on (127.0.0.1). */
    readonly port: number,
    /** The session token it accepts. */
    readonly token: string,
    private readonly options: FakeDaggerSessionOptions,
  ) {}

  /** Starts the endpoint on 127.0.0.1, on a random free port. */
  static async start(options: FakeDaggerSessionOptions = {}): Promise<FakeDaggerSession> {
    const token = options.token ?? randomBytes(16).toString("hex");
    // eslint-disable-next-line prefer-const -- assigned once the server listens; the handler reads it later.
    let session: FakeDaggerSession | undefined;
    const server = createServer((req, res) => {
      void session?.handle(req, res);
    });
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(0, "127.0.0.1", () => resolve());
    });
    session = new FakeDaggerSession(server, (server.address() as AddressInfo).port, token, options);
    return session;
  }

  /** The environment that points the SDK here. */
  get env(): { DAGGER_SESSION_PORT: string; DAGGER_SESSION_TOKEN: string } {
    return { DAGGER_SESSION_PORT: String(this.port), DAGGER_SESSION_TOKEN: this.token };
  }

  /** All recorded chains, in order. */
  chains(): RecordedCall[][] {
    return this.requests.flatMap((r) => r.chains);
  }

  /** Forgets the recorded requests (objects stay loadable). */
  clearRecords(): void {
    this.requests.length = 0;
    this.published.length = 0;
  }

  /** What an id stands for, when this endpoint handed it out. */
  describe(id: string): FakeDescriptor | undefined {
    const object = this.objects.get(id);
    return object ? this.descriptorOf(object) : undefined;
  }

  /** Stops the endpoint. */
  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const body = Buffer.concat(chunks).toString("utf8");
    const send = (status: number, payload: unknown, query = "", chains: RecordedCall[][] = []) => {
      this.requests.push({ body, query, chains, status });
      const text = typeof payload === "string" ? payload : JSON.stringify(payload);
      res.writeHead(status, { "content-type": typeof payload === "string" ? "text/plain" : "application/json" });
      res.end(text);
    };
    if (req.method !== "POST" || req.url?.split("?")[0] !== "/query") return send(404, "not found");
    const expected = `Basic ${Buffer.from(`${this.token}:`).toString("base64")}`;
    if (req.headers.authorization !== expected) return send(401, "Unauthorized");

    let query: string;
    try {
      query = (JSON.parse(body) as { query?: unknown }).query as string;
      if (typeof query !== "string") throw new Error("no query");
    } catch {
      return send(400, { errors: [{ message: "the request body must be JSON with a query" }] });
    }
    let selectionSet: SelectionSetNode;
    try {
      const document = parse(query);
      const operation = document.definitions[0];
      if (document.definitions.length !== 1 || operation?.kind !== Kind.OPERATION_DEFINITION || operation.operation !== "query") {
        throw new Error("expected one query operation");
      }
      selectionSet = operation.selectionSet;
    } catch (error) {
      return send(400, { errors: [{ message: `cannot parse the query: ${(error as Error).message}` }] }, query);
    }

    const chains: RecordedCall[][] = [];
    try {
      const data = this.evaluate(selectionSet, { type: "Query" }, [], [], chains);
      send(200, { data }, query, chains);
    } catch (error) {
      const e = error as FakeGraphQLError & { path?: string[] };
      send(200, { data: null, errors: [{ message: e.message, path: e.path ?? [], ...(e.extensions ? { extensions: e.extensions } : {}) }] }, query, chains);
    }
  }

  private evaluate(set: SelectionSetNode, object: FakeObject, path: string[], chain: RecordedCall[], chains: RecordedCall[][]): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    for (const selection of set.selections) {
      if (selection.kind === Kind.INLINE_FRAGMENT) {
        const on = selection.typeCondition?.name.value;
        if (on !== undefined && on !== object.type) continue;
        const last = chain[chain.length - 1];
        const marked = last && on !== undefined ? [...chain.slice(0, -1), { ...last, on }] : chain;
        Object.assign(out, this.evaluate(selection.selectionSet, object, path, marked, chains));
        continue;
      }
      if (selection.kind !== Kind.FIELD) throw new FakeGraphQLError("fragments are not supported by this fake");
      const field: FieldNode = selection;
      const key = field.alias?.value ?? field.name.value;
      const args: Record<string, unknown> = {};
      for (const arg of field.arguments ?? []) args[arg.name.value] = valueFromASTUntyped(arg.value);
      const here = [...path, key];
      const call: RecordedCall = { field: field.name.value, args: this.recordable(field.name.value, args) };
      const nextChain = [...chain, call];
      let value: Resolved;
      try {
        value = this.resolve(object, field.name.value, args);
      } catch (error) {
        chains.push(nextChain);
        throw Object.assign(error as Error, { path: (error as { path?: string[] }).path ?? here });
      }
      if (field.selectionSet) {
        if (Array.isArray(value)) {
          const items = value as FakeObject[];
          if (items.length === 0) chains.push(nextChain);
          out[key] = items.map((item, i) => this.evaluate(field.selectionSet as SelectionSetNode, item, [...here, String(i)], nextChain, i === 0 ? chains : []));
        } else if (isFakeObject(value)) {
          out[key] = this.evaluate(field.selectionSet, value, here, nextChain, chains);
        } else {
          throw Object.assign(new FakeGraphQLError(`field "${field.name.value}" of type ${object.type} has no subfields`), { path: here });
        }
      } else {
        if (isFakeObject(value) || (Array.isArray(value) && value.some(isFakeObject))) {
          throw Object.assign(new FakeGraphQLError(`field "${field.name.value}" of type ${object.type} must have a selection of subfields`), { path: here });
        }
        chains.push(nextChain);
        out[key] = value;
      }
    }
    return out;
  }

  /** Arguments as recorded: ids → descriptors; the plaintext of setSecret is never kept. */
  private recordable(field: string, args: Record<string, unknown>): Record<string, unknown> {
    const map = (value: unknown): unknown => {
      if (typeof value === "string") {
        const object = this.objects.get(value);
        return object ? this.descriptorOf(object) : value;
      }
      if (Array.isArray(value)) return value.map(map);
      return value;
    };
    const out: Record<string, unknown> = {};
    for (const [name, value] of Object.entries(args)) {
      out[name] = field === "setSecret" && name === "plaintext" ? "<plaintext not recorded>" : map(value);
    }
    return out;
  }

  private idOf(object: FakeObject): string {
    let key: string;
    switch (object.type) {
      case "Container":
        key = object.state.calls;
        break;
      case "File":
        key = object.hostPath !== undefined ? `host:${object.hostPath}` : `tarball:${(object.tarballOf ?? []).map((s) => s.calls).join("|")}`;
        break;
      case "Directory":
        key = `host:${object.hostPath}`;
        break;
      case "CacheVolume":
        key = object.key;
        break;
      case "Secret":
        key = `${object.name}:${object.digest}`;
        break;
      case "EnvVariable":
      case "Label":
        key = `${object.owner}:${object.name}`;
        break;
      default:
        key = object.type;
    }
    const id = `fake-${object.type}-${sha256(key).slice(0, 24)}`;
    this.objects.set(id, object);
    return id;
  }

  private descriptorOf(object: FakeObject): FakeDescriptor {
    switch (object.type) {
      case "Container":
        return { container: this.idOf(object), platform: object.state.platform };
      case "File":
        return object.hostPath !== undefined
          ? { hostFile: object.hostPath }
          : { tarballOf: (object.tarballOf ?? []).map((state) => this.idOf({ type: "Container", state })) };
      case "Directory":
        return { hostDirectory: object.hostPath };
      case "CacheVolume":
        return { cacheVolume: object.key };
      case "Secret":
        return { secret: object.name };
      case "EnvVariable":
        return { envVariable: object.name };
      case "Label":
        return { label: object.name };
      default:
        throw new FakeGraphQLError(`${object.type} has no id`);
    }
  }

  private load(id: unknown, type?: FakeObject["type"]): FakeObject {
    const object = typeof id === "string" ? this.objects.get(id) : undefined;
    if (!object) throw new FakeGraphQLError(`failed to load ${type ?? "object"} from id: unknown id ${JSON.stringify(id)}`);
    if (type && object.type !== type) throw new FakeGraphQLError(`id ${JSON.stringify(id)} is a ${object.type}, expected a ${type}`);
    return object;
  }

  private resolve(object: FakeObject, field: string, args: Record<string, unknown>): Resolved {
    if (field === "id" && object.type !== "Query" && object.type !== "Host") return this.idOf(object);
    switch (object.type) {
      case "Query":
        return this.resolveQuery(field, args);
      case "Host":
        if (field === "file") return { type: "File", hostPath: this.hostPath(args.path) };
        if (field === "directory") return { type: "Directory", hostPath: this.hostPath(args.path) };
        break;
      case "Container":
        return this.resolveContainer(object.state, field, args);
      case "File":
        if (field === "export") {
          for (const state of object.tarballOf ?? []) this.force(state);
          const target = String(args.path);
          writeFileSync(target, JSON.stringify({ fake: "dagger file export", of: this.descriptorOf(object) }));
          return target;
        }
        break;
      case "EnvVariable":
      case "Label":
        if (field === "name") return object.name;
        if (field === "value") return object.value;
        break;
      default:
        break;
    }
    throw new FakeGraphQLError(`Cannot query field "${field}" on type "${object.type}".`);
  }

  private hostPath(path: unknown): string {
    if (typeof path !== "string" || path === "") throw new FakeGraphQLError("a host path is required");
    return path;
  }

  private resolveQuery(field: string, args: Record<string, unknown>): Resolved {
    switch (field) {
      case "version":
        return this.options.version ?? "v0.21.8";
      case "defaultPlatform":
        return DEFAULT_PLATFORM;
      case "host":
        return { type: "Host" };
      case "container": {
        const platform = typeof args.platform === "string" ? args.platform : DEFAULT_PLATFORM;
        return {
          type: "Container",
          state: {
            calls: `container(${platform})`,
            platform,
            env: [],
            labels: [],
            entrypoint: [],
            defaultArgs: [],
            workdir: "",
            user: "",
            files: {},
            mounts: [],
            secretVariables: [],
          },
        };
      }
      case "cacheVolume":
        return { type: "CacheVolume", key: String(args.key) };
      case "setSecret":
        return { type: "Secret", name: String(args.name), digest: sha256(String(args.plaintext)) };
      case "node":
        return this.load(args.id);
      case "loadContainerFromID":
        return this.load(args.id, "Container");
      case "loadFileFromID":
        return this.load(args.id, "File");
      case "loadDirectoryFromID":
        return this.load(args.id, "Directory");
      case "loadSecretFromID":
        return this.load(args.id, "Secret");
      case "loadCacheVolumeFromID":
        return this.load(args.id, "CacheVolume");
      default:
        throw new FakeGraphQLError(`Cannot query field "${field}" on type "Query".`);
    }
  }

  /** Raises the deferred failure of a container, as the engine does when its result is needed. */
  private force(state: ContainerState): void {
    if (state.failure) throw new FakeGraphQLError(state.failure.message, state.failure.extensions);
  }

  private resolveContainer(state: ContainerState, field: string, args: Record<string, unknown>): Resolved {
    const abs = (p: unknown) => {
      const path = String(p);
      return path.startsWith("/") ? posix.normalize(path) : posix.resolve(state.workdir || "/", path);
    };
    const next = (changes: Partial<ContainerState>): FakeObject => ({
      type: "Container",
      state: { ...state, ...changes, calls: `${state.calls}.${field}(${JSON.stringify(args)})` },
    });
    const strings = (value: unknown) => (Array.isArray(value) ? value.map(String) : []);
    switch (field) {
      case "from": {
        const address = String(args.address);
        const config = this.options.imageConfig?.(address) ?? {};
        return next({
          from: address,
          env: Object.entries(config.env ?? { PATH: DEFAULT_PATH }),
          labels: Object.entries(config.labels ?? {}),
          entrypoint: [...(config.entrypoint ?? [])],
          defaultArgs: [...(config.defaultArgs ?? [])],
          workdir: config.workdir ?? "",
          user: config.user ?? "",
        });
      }
      case "withEnvVariable":
        return next({ env: [...state.env.filter(([n]) => n !== args.name), [String(args.name), String(args.value)]] });
      case "withLabel":
        return next({ labels: [...state.labels.filter(([n]) => n !== args.name), [String(args.name), String(args.value)]] });
      case "withWorkdir":
        return next({ workdir: abs(args.path) });
      case "withUser":
        return next({ user: String(args.name) });
      case "withEntrypoint":
        return next({ entrypoint: strings(args.args), ...(args.keepDefaultArgs === true ? {} : { defaultArgs: [] }) });
      case "withDefaultArgs":
        return next({ defaultArgs: strings(args.args) });
      case "withFile": {
        const source = this.load(args.source, "File");
        return next({ files: { ...state.files, [abs(args.path)]: JSON.stringify(this.descriptorOf(source)) } });
      }
      case "withDirectory": {
        const source = this.load(args.source, "Directory");
        return next({ files: { ...state.files, [abs(args.path)]: JSON.stringify(this.descriptorOf(source)) } });
      }
      case "withNewFile":
        return next({ files: { ...state.files, [abs(args.path)]: `${String(args.contents).length} bytes` } });
      case "withMountedCache": {
        const cache = this.load(args.cache, "CacheVolume") as { key: string };
        const path = abs(args.path);
        const sharing = typeof args.sharing === "string" ? args.sharing : undefined;
        return next({ mounts: [...state.mounts.filter((m) => m.path !== path), { path, cache: cache.key, ...(sharing ? { sharing } : {}) }] });
      }
      case "withoutMount": {
        const path = abs(args.path);
        return next({ mounts: state.mounts.filter((m) => m.path !== path) });
      }
      case "withSecretVariable": {
        const secret = this.load(args.secret, "Secret") as { name: string };
        return next({ secretVariables: [...state.secretVariables.filter((s) => s.name !== args.name), { name: String(args.name), secret: secret.name }] });
      }
      case "withoutSecretVariable":
        return next({ secretVariables: state.secretVariables.filter((s) => s.name !== args.name) });
      case "withExec":
        return next(this.exec(state, strings(args.args), args));
      case "sync":
        this.force(state);
        return this.idOf({ type: "Container", state });
      case "stdout":
      case "stderr":
      case "exitCode":
      case "combinedOutput": {
        this.force(state);
        if (!state.lastExec) throw new FakeGraphQLError("no command has been set");
        if (field === "exitCode") return state.lastExec.exitCode;
        if (field === "combinedOutput") return state.lastExec.stdout + state.lastExec.stderr;
        return state.lastExec[field];
      }
      case "envVariables":
        return state.env.map(([name, value]) => ({ type: "EnvVariable" as const, name, value, owner: state.calls }));
      case "labels":
        return state.labels.map(([name, value]) => ({ type: "Label" as const, name, value, owner: state.calls }));
      case "envVariable":
        return state.env.find(([n]) => n === args.name)?.[1] ?? null;
      case "label":
        return state.labels.find(([n]) => n === args.name)?.[1] ?? null;
      case "entrypoint":
        return [...state.entrypoint];
      case "defaultArgs":
        return [...state.defaultArgs];
      case "workdir":
        return state.workdir;
      case "user":
        return state.user;
      case "platform":
        return state.platform;
      case "mounts":
        return state.mounts.map((m) => m.path);
      case "publish": {
        const variants = this.variants(state, args.platformVariants);
        const address = String(args.address);
        const digest = sha256(JSON.stringify([address, variants.map((v) => v.calls)]));
        this.published.push({ address, platforms: variants.map((v) => v.platform) });
        return `${address}@sha256:${digest}`;
      }
      case "export": {
        const variants = this.variants(state, args.platformVariants);
        const target = String(args.path);
        writeFileSync(
          target,
          JSON.stringify({ fake: "dagger container export", platforms: variants.map((v) => v.platform), mediaTypes: args.mediaTypes ?? "OCIMediaTypes" }),
        );
        return target;
      }
      case "asTarball":
        return { type: "File", tarballOf: this.variants(state, args.platformVariants) };
      default:
        throw new FakeGraphQLError(`Cannot query field "${field}" on type "Container".`);
    }
  }

  /** The receiver (unless it is an empty container) and the platform variants, all forced. */
  private variants(state: ContainerState, platformVariants: unknown): ContainerState[] {
    const variants = (Array.isArray(platformVariants) ? platformVariants : []).map((id) => (this.load(id, "Container") as { state: ContainerState }).state);
    const all = state.from === undefined && variants.length > 0 ? variants : [state, ...variants];
    for (const s of all) this.force(s);
    return all;
  }

  private exec(state: ContainerState, args: string[], options: Record<string, unknown>): Partial<ContainerState> {
    if (state.failure) return {};
    const argv = options.useEntrypoint === true ? [...state.entrypoint, ...args] : args;
    const result = this.options.exec?.({
      args: argv,
      platform: state.platform,
      env: Object.fromEntries(state.env),
      secretVariables: state.secretVariables.map((s) => s.name),
      mounts: state.mounts.map((m) => m.path),
      workdir: state.workdir,
      user: state.user,
    });
    const lastExec = { args: argv, stdout: result?.stdout ?? "", stderr: result?.stderr ?? "", exitCode: result?.exitCode ?? 0 };
    const expect = typeof options.expect === "string" ? options.expect : "SUCCESS";
    const code = lastExec.exitCode;
    const allowed =
      expect === "ANY" ? code < 128 || code > 191 : expect === "FAILURE" ? code !== 0 && (code < 128 || code > 191) : code === 0;
    if (allowed) return { lastExec };
    return {
      lastExec,
      failure: {
        message: `process "${argv.join(" ")}" did not complete successfully: exit code: ${code}`,
        extensions: { _type: "EXEC_ERROR", cmd: argv, exitCode: code, stdout: lastExec.stdout, stderr: lastExec.stderr },
      },
    };
  }
}
