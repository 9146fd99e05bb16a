import { AirbyteCiError, BaseImagesError, ImageRecipe } from "@airbyte-ci/base-images";
import { describe, expect, it } from "vitest";
import { HooksError, defineBuildCustomization, validateBuildCustomization, type HookContext } from "./index.ts";

const context: HookContext = {
  connector: { technicalName: "source-zendesk-chat", dockerRepository: "airbyte/source-zendesk-chat", dockerImageTag: "0.1.0" },
  platform: "linux/amd64",
  baseImageVersion: "1.0.0",
};

describe("defineBuildCustomization", () => {
  it("returns the customisation, whose hooks transform recipes", async () => {
    const custom = defineBuildCustomization({
      mainFileName: "main_dev.py",
      postConnectorInstall: async (recipe) => recipe.withEnvVariable("AIRBYTE_IMPL_MODULE", "source_zendesk_chat"),
    });
    expect(custom.mainFileName).toBe("main_dev.py");
    const out = await custom.postConnectorInstall?.(ImageRecipe.empty(), context);
    expect(out?.operations).toEqual([{ op: "withEnvVariable", name: "AIRBYTE_IMPL_MODULE", value: "source_zendesk_chat" }]);
  });

  it("refuses unknown keys, bad main files and non-function hooks", () => {
    expect(() => defineBuildCustomization({ postInstall: () => ImageRecipe.empty() } as never)).toThrowError(/unknown key 'postInstall'/);
    expect(() => defineBuildCustomization({ mainFileName: "../main.py" })).toThrowError(/mainFileName must be a Python file name/);
    expect(() => defineBuildCustomization({ preConnectorInstall: "x" as never })).toThrowError(/preConnectorInstall must be a function/);
  });

  it("throws the toolkit's error family: a HooksError with a code, told apart from other classes by its marker", () => {
    let error: unknown;
    try {
      validateBuildCustomization({ mainFileName: 3 }, "connector source-x: build_customization.ts");
    } catch (e) {
      error = e;
    }
    expect(HooksError.isInstance(error)).toBe(true);
    expect(AirbyteCiError.isInstance(error)).toBe(true);
    expect(BaseImagesError.isInstance(error)).toBe(false);
    expect((error as HooksError).code).toBe("INVALID_BUILD_CUSTOMIZATION");
    expect((error as Error).message).toBe("connector source-x: build_customization.ts: mainFileName must be a Python file name such as main.py, got 3");
    expect(HooksError.isInstance(new BaseImagesError("INVALID_RECIPE", "x"))).toBe(false);
  });
});
