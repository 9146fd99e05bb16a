import type { BuildRequest, BuiltImage, Engine, EngineName, ImageRunConfig, PublishOptions, PublishResult, ResolveImageOptions, ResolvedImage, RunResult } from "@airbyte-ci/connector-build";

// An engine wrapper that times `build` alone (buildConnectors also loads hooks, runs `spec` and tags).

export class TimedEngine implements Engine {
  readonly name: EngineName;
  /** Build wall time by image reference. */
  readonly buildMs = new Map<string, number>();
  constructor(private readonly inner: Engine) {
    this.name = inner.name;
  }
  async build(request: BuildRequest): Promise<BuiltImage> {
    const started = performance.now();
    const image = await this.inner.build(request);
    this.buildMs.set(image.ref, performance.now() - started);
    return image;
  }
  resolveImage(reference: string, options?: ResolveImageOptions): Promise<ResolvedImage> {
    return this.inner.resolveImage(reference, options);
  }
  run(image: BuiltImage, argv: readonly string[], options?: { useEntrypoint?: boolean }): Promise<RunResult> {
    return this.inner.run(image, argv, options);
  }
  inspect(image: BuiltImage): Promise<ImageRunConfig> {
    return this.inner.inspect(image);
  }
  exportOci(images: readonly BuiltImage[], file: string): Promise<void> {
    return this.inner.exportOci(images, file);
  }
  loadIntoDocker(image: BuiltImage, tag: string): Promise<string> {
    return this.inner.loadIntoDocker(image, tag);
  }
  publish(images: readonly BuiltImage[], reference: string, options?: PublishOptions): Promise<PublishResult> {
    return this.inner.publish(images, reference, options);
  }
  close(): Promise<void> {
    return this.inner.close();
  }
}
