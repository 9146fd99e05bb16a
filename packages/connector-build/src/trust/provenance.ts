/**
 * SLSA provenance v1 (https://slsa.dev/spec/v1.0/provenance) of a published connector image, as an
 * in-toto Statement v1: the subject is the index and each platform manifest; the predicate records
 * what was built (connector, platforms), from what (the base image by digest, the connector's input
 * files by sha256, the locked Python artifacts when a connector-build.lock exists), by which builder
 * and when. The JSON is written here: the in-toto and SLSA npm packages are unmaintained or only
 * carry protobuf types, and the shape is small.
 */
import { createHash, randomUUID } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { join } from "node:path";
import type { Platform } from "@airbyte-ci/base-images";
import { LOCK_FILE_NAME, LOCKED_INPUTS, readLock } from "../connector/lock-file.ts";

export const IN_TOTO_STATEMENT_V1 = "https://in-toto.io/Statement/v1";
export const SLSA_PROVENANCE_V1 = "https://slsa.dev/provenance/v1";
/** The payload type of an in-toto statement in a DSSE envelope. */
export const IN_TOTO_PAYLOAD_TYPE = "application/vnd.in-toto+json";
const TOOLKIT_URL = "https://github.com/airbytehq/airbyte-ci-connector-images/tree/main/packages/connector-build";
/** `buildDefinition.buildType`: how to read `externalParameters`. */
export const BUILD_TYPE = `${TOOLKIT_URL}#build-type-v1`;
/** `runDetails.builder.id`. */
export const BUILDER_ID = TOOLKIT_URL;
/** The name of the base image among `resolvedDependencies`. */
export const BASE_IMAGE_DEPENDENCY = "base-image";

/** What the build knows that the provenance records. */
export interface ProvenanceInputs {
  /** The connector's technical name. */
  readonly connector: string;
  /** The connector folder (metadata.yaml, dependency manifests, hooks, connector-build.lock). */
  readonly connectorDir: string;
  readonly platforms: readonly Platform[];
  /** The base image the build started from: `registry/repository:tag` and its index digest. */
  readonly baseImage: { readonly name: string; readonly digest: string };
  /** When the build started. */
  readonly startedOn: Date;
  /** When it finished. Default: now. */
  readonly finishedOn?: Date;
  /** An id of this run (a CI run id). Default: a random UUID. */
  readonly invocationId?: string;
}

/** A subject or resolved dependency digest set. */
/** Digests of one subject or resource, by algorithm (in-toto DigestSet). */
export type DigestSet = Record<string, string>;
/** An in-toto ResourceDescriptor: a file, image or package the build read. */
export interface ResourceDescriptor {
  name?: string;
  uri?: string;
  digest: DigestSet;
}

/** An in-toto Statement v1 holding SLSA provenance v1. */
export interface ProvenanceStatement {
  readonly _type: typeof IN_TOTO_STATEMENT_V1;
  readonly subject: Array<{ name: string; digest: DigestSet }>;
  readonly predicateType: typeof SLSA_PROVENANCE_V1;
  readonly predicate: {
    buildDefinition: {
      buildType: string;
      externalParameters: { connector: string; platforms: string[] };
      resolvedDependencies: ResourceDescriptor[];
    };
    runDetails: {
      builder: { id: string; version: Record<string, string> };
      metadata: { invocationId: string; startedOn: string; finishedOn: string };
    };
  };
}

/** `sha256:<hex>` → `{ sha256: "<hex>" }`. */
export function digestSet(digest: string): DigestSet {
  const at = digest.indexOf(":");
  return { [digest.slice(0, at)]: digest.slice(at + 1) };
}

function fileDigest(path: string): DigestSet {
  return { sha256: createHash("sha256").update(readFileSync(path)).digest("hex") };
}

function toolkitVersion(): string {
  return (createRequire(import.meta.url)("@airbyte-ci/connector-build/package.json") as { version: string }).version;
}

/** The connector's input files and locked artifacts, as resolved dependencies. */
function connectorDependencies(dir: string): ResourceDescriptor[] {
  const deps: ResourceDescriptor[] = [];
  for (const name of ["metadata.yaml", ...LOCKED_INPUTS, LOCK_FILE_NAME]) {
    const path = join(dir, name);
    if (existsSync(path)) deps.push({ name, uri: `file:${name}`, digest: fileDigest(path) });
  }
  if (existsSync(join(dir, LOCK_FILE_NAME))) {
    const lock = readLock(dir);
    const seen = new Set<string>();
    for (const platform of Object.values(lock.platforms)) {
      for (const artifact of [...platform.artifacts, ...platform.buildArtifacts]) {
        if (seen.has(artifact.url)) continue;
        seen.add(artifact.url);
        deps.push({ name: artifact.filename, uri: artifact.url, digest: digestSet(artifact.sha256) });
      }
    }
  }
  return deps;
}

/** The provenance statement of `digests` (index first, then platform manifests) of `repository`. */
export function provenanceStatement(repository: string, digests: readonly string[], inputs: ProvenanceInputs): ProvenanceStatement {
  const base: ResourceDescriptor = { name: BASE_IMAGE_DEPENDENCY, uri: `oci://${inputs.baseImage.name}`, digest: digestSet(inputs.baseImage.digest) };
  return {
    _type: IN_TOTO_STATEMENT_V1,
    subject: [...new Set(digests)].map((digest) => ({ name: repository, digest: digestSet(digest) })),
    predicateType: SLSA_PROVENANCE_V1,
    predicate: {
      buildDefinition: {
        buildType: BUILD_TYPE,
        externalParameters: { connector: inputs.connector, platforms: [...inputs.platforms] },
        resolvedDependencies: [base, ...connectorDependencies(inputs.connectorDir)],
      },
      runDetails: {
        builder: { id: BUILDER_ID, version: { "@airbyte-ci/connector-build": toolkitVersion() } },
        metadata: {
          invocationId: inputs.invocationId ?? randomUUID(),
          startedOn: inputs.startedOn.toISOString(),
          finishedOn: (inputs.finishedOn ?? new Date()).toISOString(),
        },
      },
    },
  };
}
