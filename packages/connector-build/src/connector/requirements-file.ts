/**
 * True when a requirements.txt only names the connector itself (`-e .`, `.`, `--editable .`),
 * as many Airbyte connectors' do for local development: the connector's own manifest (setup.py
 * or pyproject.toml) already says what to install, so installing the file too would install the
 * connector twice, once editable. Comments, blank lines and `-i`/`--index-url` lines are ignored.
 */
export function requirementsOnlyNameTheConnector(text: string): boolean {
  const requirements = text
    .split(/\r?\n/)
    .map((line) => line.replace(/(^|\s)#.*$/, "").trim())
    .filter((line) => line !== "" && !/^(-i|--index-url|--extra-index-url)\b/.test(line));
  return requirements.length > 0 && requirements.every((line) => /^(?:(?:-e|--editable)\s*)?\.\/?(?:\[[\w,\s-]*\])?$/.test(line));
}
