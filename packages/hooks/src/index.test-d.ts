import type { ImageRecipe } from "@airbyte-ci/base-images";
import { expectTypeOf, test } from "vitest";
import { defineBuildCustomization, type BuildHook } from "./index.ts";

test("hooks are typed recipe → recipe, sync or async", () => {
  expectTypeOf<BuildHook>().parameter(0).toEqualTypeOf<ImageRecipe>();
  expectTypeOf<ReturnType<BuildHook>>().toEqualTypeOf<ImageRecipe | Promise<ImageRecipe>>();
  // @ts-expect-error a hook must return a recipe
  defineBuildCustomization({ preConnectorInstall: () => "not a recipe" });
  // @ts-expect-error mainFileName is a string
  defineBuildCustomization({ mainFileName: 42 });
});
