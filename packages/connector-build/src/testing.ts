/**
 * `@airbyte-ci/connector-build/testing`: test doubles for pipelines built on the library. The
 * in-memory engine runs recipes without containers: a pipeline's own tests can build, verify and
 * publish on it in milliseconds, with the same results and errors a real engine gives.
 *
 * @packageDocumentation
 */
export { FakeEngine, type FakeEngineOptions, type FakeImage, type FakePublication, type FakeRunHandler } from "./engines/fake/fake-engine.ts";
/** Secret names of the build's index settings, for benches and tests that build the rendered Dockerfile of a recipe themselves (`docker build --secret id=<name>`). */
export { PIP_INDEX_SECRETS } from "./connector/pip-index.ts";
