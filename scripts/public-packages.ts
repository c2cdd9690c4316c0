import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root. */
export const repositoryRoot = fileURLToPath(new URL('..', import.meta.url));

/** The parts of a package.json these scripts read. */
export interface PackageManifest {
  name: string;
  version: string;
  private?: boolean;
  exports?: Record<string, string | Record<string, string>>;
  bin?: string | Record<string, string>;
  dependencies?: Record<string, string>;
}

/** A TypeScript entry point of a package: `.` or a subpath such as `./internal`, with its declaration file. */
export interface EntryPoint {
  subpath: string;
  /** The import specifier, such as `@userplug/core/internal`. */
  specifier: string;
  /** The `types` target, relative to the package folder, such as `./dist/internal.d.ts`. */
  types: string;
}

/** A workspace package that is published (`"private": true` ones are not). */
export interface PublicPackage {
  /** The folder under packages/, such as `core`. */
  folder: string;
  /** Absolute path of the package folder. */
  directory: string;
  manifest: PackageManifest;
  entryPoints: EntryPoint[];
}

/** Every package of `packages/*` without `"private": true`, in folder order. */
export function publicPackages(): PublicPackage[] {
  const packagesDirectory = join(repositoryRoot, 'packages');
  return readdirSync(packagesDirectory)
    .filter((folder) => existsSync(join(packagesDirectory, folder, 'package.json')))
    .sort()
    .flatMap((folder) => {
      const directory = join(packagesDirectory, folder);
      const manifest = JSON.parse(readFileSync(join(directory, 'package.json'), 'utf8')) as PackageManifest;
      if (manifest.private === true) return [];
      const entryPoints = Object.entries(manifest.exports ?? {}).flatMap(([subpath, target]) =>
        typeof target === 'object' && target.types !== undefined
          ? [
              {
                subpath,
                specifier: subpath === '.' ? manifest.name : `${manifest.name}/${subpath.slice(2)}`,
                types: target.types,
              },
            ]
          : [],
      );
      return [{ folder, directory, manifest, entryPoints }];
    });
}
