/**
 * One build per dependency layer at a time: connectors of a fleet that install the same dependency
 * set on the same base (the same leading recipe operations) would each run the same install at
 * once, N times the work on the same cores. The first to arrive builds; the others wait until it is
 * done and then find the layer in the engine's cache. A failed first build lets the others build
 * theirs (they fail or succeed on their own).
 */
export class DependencyGates {
  private readonly gates = new Map<string, Promise<void>>();

  /** Waits for an earlier build of the same layer; returns the function that opens the gate for the next ones. */
  async enter(key: string | undefined): Promise<() => void> {
    if (key === undefined) return () => {};
    const earlier = this.gates.get(key);
    if (earlier !== undefined) {
      await earlier;
      return () => {};
    }
    let open: () => void = () => {};
    this.gates.set(key, new Promise<void>((resolve) => (open = resolve)));
    return open;
  }
}
