import { describe, expect, it } from "vitest";
import { DependencyGates } from "./dependency-gates.ts";

describe("DependencyGates", () => {
  it("lets one build of a layer run at a time: the others start when the first is done; other layers do not wait", async () => {
    const gates = new DependencyGates();
    const events: string[] = [];
    const build = async (name: string, key: string | undefined, ms: number) => {
      const open = await gates.enter(key);
      events.push(`start ${name}`);
      await new Promise((r) => setTimeout(r, ms));
      events.push(`end ${name}`);
      open();
    };
    await Promise.all([build("a", "deps-1", 30), build("b", "deps-1", 1), build("c", "deps-2", 1), build("d", undefined, 1)]);
    expect(events.indexOf("start b")).toBeGreaterThan(events.indexOf("end a"));
    expect(events.indexOf("start c")).toBeLessThan(events.indexOf("end a"));
    expect(events.indexOf("start d")).toBeLessThan(events.indexOf("end a"));
  });
});
