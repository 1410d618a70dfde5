/** Reading esbuild metafiles: which packages make up a bundle's bytes. */

/** The parts of an esbuild metafile this reads. */
export interface Metafile {
  outputs: Record<string, { bytes: number; inputs: Record<string, { bytesInOutput: number }> }>;
}

export interface PackageShare {
  /** npm package name such as `@aws-sdk/client-s3`, or `(project)` for the project's own files. */
  name: string;
  bytes: number;
}

export const projectPackage = '(project)';

/**
 * Returns the package an esbuild input path belongs to: the name after the last `node_modules/`
 * (scoped names keep their scope), or `(project)` for files outside `node_modules`.
 */
export function packageOfInput(inputPath: string): string {
  const marker = 'node_modules/';
  const index = inputPath.lastIndexOf(marker);
  if (index < 0) {
    return projectPackage;
  }
  const [first = '', second = ''] = inputPath.slice(index + marker.length).split('/');
  return first.startsWith('@') ? `${first}/${second}` : first;
}

/**
 * Sums the bytes each package contributes to the JavaScript outputs of a metafile, largest
 * first. Source maps are outputs too but carry no inputs, so they add nothing.
 */
export function bytesByPackage(metafile: Metafile): PackageShare[] {
  const totals = new Map<string, number>();
  for (const [outputPath, output] of Object.entries(metafile.outputs)) {
    if (outputPath.endsWith('.map')) {
      continue;
    }
    for (const [inputPath, input] of Object.entries(output.inputs)) {
      const name = packageOfInput(inputPath);
      totals.set(name, (totals.get(name) ?? 0) + input.bytesInOutput);
    }
  }
  return [...totals]
    .map(([name, bytes]) => ({ name, bytes }))
    .sort((a, b) => b.bytes - a.bytes || a.name.localeCompare(b.name));
}
