import { defineBuildCustomization } from "@airbyte-ci/hooks";

// source-zendesk-chat's old Dockerfile ran main_dev.py and set the module/class the CDK entrypoint
// imports. The common build does neither by itself; these hooks keep the image behaving the same.
export default defineBuildCustomization({
  mainFileName: "main_dev.py",
  postConnectorInstall: (recipe) =>
    recipe
      .withEnvVariable("AIRBYTE_IMPL_MODULE", "source_zendesk_chat")
      .withEnvVariable("AIRBYTE_IMPL_PATH", "SourceZendeskChat"),
});
