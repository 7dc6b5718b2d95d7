/**
 * Whether the tests run in CI: any non-empty `CI` other than `false` or `0` (GitHub sets `true`,
 * others `1` or `yes`). In CI a test that needs a tool (go, git, openssl, unzip) fails when the
 * tool is missing, never skips: .ci/run installs them all.
 */
export const IN_CI = ((): boolean => {
  const value = process.env['CI'];
  return value !== undefined && value !== '' && value !== 'false' && value !== '0';
})();

/** A skip reason outside CI; in CI, an error (the tool must be there). */
export function missingTool(what: string): string {
  if (IN_CI) throw new Error(`${what} is required in CI (CI=${process.env['CI']}) but was not found`);
  return `${what} is not installed (it is in CI)`;
}
