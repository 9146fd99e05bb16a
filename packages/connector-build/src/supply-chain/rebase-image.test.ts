import { describe, expect, it } from "vitest";
import { baseMismatch, rebaseEnv, rebaseLabels, rebasePlatformImage, type PlatformImage } from "./rebase-image.ts";
import { BASE_DIGEST_KEY, BASE_NAME_KEY } from "../connector/published-base.ts";
import { computeDigest } from "../registry/platforms.ts";
import { MEDIA_TYPES, type ImageConfig } from "../registry/oci-types.ts";

const DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json";
const DOCKER_LAYER = "application/vnd.docker.image.rootfs.diff.tar.gzip";
const OCI_LAYER = "application/vnd.oci.image.layer.v1.tar+gzip";

const d = (name: string) => computeDigest(new TextEncoder().encode(name));
const layer = (name: string, mediaType = DOCKER_LAYER) => ({ mediaType, digest: d(`layer ${name}`), size: name.length });

function image(options: {
  layers: string[];
  history: Array<[string, boolean?]>;
  env?: string[];
  labels?: Record<string, string>;
  extra?: Partial<ImageConfig["config"]>;
  mediaType?: string;
  layerType?: string;
}): PlatformImage {
  const mediaType = options.mediaType ?? DOCKER_MANIFEST;
  return {
    mediaType,
    manifest: {
      schemaVersion: 2,
      mediaType,
      config: { mediaType: "application/vnd.docker.container.image.v1+json", digest: d(options.layers.join()), size: 1 },
      layers: options.layers.map((l) => layer(l, options.layerType)),
    },
    config: {
      architecture: "amd64",
      os: "linux",
      created: "2024-01-01T00:00:00Z",
      config: { Env: options.env ?? [], Labels: options.labels ?? {}, ...options.extra },
      rootfs: { type: "layers", diff_ids: options.layers.map((l) => d(`diff ${l}`)) },
      history: options.history.map(([createdBy, empty]) => ({ created_by: createdBy, ...(empty ? { empty_layer: true } : {}) })),
    },
  };
}

const oldBase = image({
  layers: ["root", "tz", "pip"],
  history: [["ADD rootfs"], ["ENV PATH", true], ["RUN tz"], ["RUN pip"], ["LABEL version=1.0.0", true]],
  env: ["PATH=/usr/local/bin:/usr/bin", "LANG=C.UTF-8", "PIP_NO_CACHE=1"],
  labels: { "org.opencontainers.image.version": "1.0.0", "io.airbyte.base-image.version": "1.0.0" },
  extra: { Cmd: ["python3"], WorkingDir: "/" },
});
const newBase = image({
  layers: ["root2", "tz", "pip", "release"],
  history: [["ADD rootfs 2"], ["ENV PATH", true], ["RUN tz"], ["RUN pip"], ["RUN release"], ["LABEL version=1.0.1", true]],
  env: ["PATH=/usr/local/bin:/usr/bin", "LANG=C.UTF-8", "PYTHONDONTWRITEBYTECODE=1"],
  labels: { "org.opencontainers.image.version": "1.0.1", "io.airbyte.base-image.version": "1.0.1" },
  extra: { Cmd: ["python3"], WorkingDir: "/" },
});
const connector = image({
  layers: ["root", "tz", "pip", "workdir", "install", "code"],
  history: [
    ["ADD rootfs"],
    ["ENV PATH", true],
    ["RUN tz"],
    ["RUN pip"],
    ["LABEL version=1.0.0", true],
    ["WORKDIR /airbyte"],
    ["RUN pip install ."],
    ["COPY code"],
    ["ENTRYPOINT", true],
  ],
  env: ["PATH=/usr/local/bin:/usr/bin", "LANG=en_US.UTF-8", "PIP_NO_CACHE=1", "AIRBYTE_ENTRYPOINT=python /airbyte/main.py"],
  labels: {
    "org.opencontainers.image.version": "1.0.0",
    "io.airbyte.base-image.version": "1.0.0",
    "io.airbyte.name": "airbyte/source-hello",
    [BASE_DIGEST_KEY]: d("old index"),
  },
  extra: { Cmd: null, WorkingDir: "/airbyte", Entrypoint: ["python", "/airbyte/main.py"] },
});
const base = { name: "127.0.0.1:5000/base:1.0.1", digest: d("new index") };

describe("rebaseEnv", () => {
  it("takes the new base's variables, keeps what the connector set or added, drops what only the old base had", () => {
    expect(rebaseEnv(connector.config.config?.Env, oldBase.config.config?.Env, newBase.config.config?.Env)).toEqual([
      "PATH=/usr/local/bin:/usr/bin",
      "LANG=en_US.UTF-8", // set by the connector over the base's C.UTF-8
      "PYTHONDONTWRITEBYTECODE=1", // new in the new base
      "AIRBYTE_ENTRYPOINT=python /airbyte/main.py", // the connector's own
    ]); // PIP_NO_CACHE was inherited from the old base and the new base dropped it
  });
});

describe("rebaseLabels", () => {
  it("moves inherited labels to the new base's values and names the new base", () => {
    expect(rebaseLabels(connector.config.config?.Labels, oldBase.config.config?.Labels, newBase.config.config?.Labels, base)).toEqual({
      "org.opencontainers.image.version": "1.0.1",
      "io.airbyte.base-image.version": "1.0.1",
      "io.airbyte.name": "airbyte/source-hello",
      [BASE_DIGEST_KEY]: base.digest,
      [BASE_NAME_KEY]: base.name,
    });
  });
});

describe("rebasePlatformImage", () => {
  it("swaps the base's layers, diff ids and history and keeps the connector's byte for byte", () => {
    const result = rebasePlatformImage(connector, oldBase, newBase, base, "test");
    expect(result.manifest.layers.map((l) => l.digest)).toEqual([...newBase.manifest.layers, ...connector.manifest.layers.slice(3)].map((l) => l.digest));
    expect(result.connectorLayers).toEqual(connector.manifest.layers.slice(3));
    expect(result.config.rootfs.diff_ids).toEqual([...newBase.config.rootfs.diff_ids, ...connector.config.rootfs.diff_ids.slice(3)]);
    expect(result.config.history?.map((h) => h.created_by)).toEqual([
      "ADD rootfs 2",
      "ENV PATH",
      "RUN tz",
      "RUN pip",
      "RUN release",
      "LABEL version=1.0.1",
      "WORKDIR /airbyte",
      "RUN pip install .",
      "COPY code",
      "ENTRYPOINT",
    ]);
    expect(result.config.config).toMatchObject({ Cmd: null, WorkingDir: "/airbyte", Entrypoint: ["python", "/airbyte/main.py"] });
    expect(result.config.created).toBe(connector.config.created);
    expect(result.manifest.config).toEqual({ mediaType: connector.manifest.config.mediaType, digest: computeDigest(result.configBytes), size: result.configBytes.byteLength });
    expect(result.manifestDigest).toBe(computeDigest(result.manifestBytes));
    expect(JSON.parse(Buffer.from(result.manifestBytes).toString())).toEqual(result.manifest);
  });

  it("inherited settings follow the new base; the connector's stay", () => {
    const moved = image({ ...{ layers: ["root2", "tz", "pip", "release"], history: [["ADD rootfs 2"], ["ENV PATH", true], ["RUN tz"], ["RUN pip"], ["RUN release"], ["LABEL version=1.0.1", true]] }, extra: { Cmd: ["python3.12"], WorkingDir: "/srv" } });
    const onOld = image({ layers: ["root", "tz", "pip", "code"], history: [["ADD rootfs"], ["ENV PATH", true], ["RUN tz"], ["RUN pip"], ["LABEL version=1.0.0", true], ["COPY code"]], extra: { Cmd: ["python3"], WorkingDir: "/" } });
    const result = rebasePlatformImage(onOld, oldBase, moved, base, "test");
    expect(result.config.config).toMatchObject({ Cmd: ["python3.12"], WorkingDir: "/srv" });
  });

  it("lists the new base's layers with the media types of the image's manifest format", () => {
    const ociBase = image({ ...{ layers: ["root2"], history: [["ADD rootfs 2"]] }, mediaType: MEDIA_TYPES.ociManifest, layerType: OCI_LAYER });
    const result = rebasePlatformImage(connector, oldBase, ociBase, base, "test");
    expect(result.manifest.layers.map((l) => l.mediaType)).toEqual(new Array(4).fill(DOCKER_LAYER));
  });

  it("refuses an image that does not start with its base's layers, saying where they differ", () => {
    const other = image({ layers: ["root", "other", "pip", "code"], history: [["ADD rootfs"]] });
    expect(baseMismatch(other, oldBase)).toBe(`layer 1 is ${d("layer other")} where the base has ${d("layer tz")}`);
    expect(() => rebasePlatformImage(other, oldBase, newBase, base, "rebase x (linux/amd64)")).toThrowError(
      /^rebase x \(linux\/amd64\): the image does not start with its base image's layers \(layer 1 is sha256:\w+ where the base has sha256:\w+\): expected an image built FROM that base$/,
    );
    const rewritten = { ...connector, config: { ...connector.config, history: connector.config.history?.map((h, i) => (i === 2 ? { created_by: "RUN something else" } : h)) } };
    expect(baseMismatch(rewritten, oldBase)).toBe("history entry 2 is 'RUN something else' where the base has 'RUN tz'");
  });

  it("refuses a base of another platform", () => {
    const arm = { ...newBase, config: { ...newBase.config, architecture: "arm64" } };
    expect(() => rebasePlatformImage(connector, oldBase, arm, base, "x")).toThrowError(/the new base is linux\/arm64 but the image is linux\/amd64/);
  });
});
